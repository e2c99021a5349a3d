"""Rough edges a newcomer met, each a one-line error or a clear word now (each test failed first)."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from store.parse import parse_text
from tests.slack_standin import copy_seeds, factbot_argv

EXPORT = """Search documents
宁德时代匈牙利工厂
Cai Lian She· 2025-11-21 09:30
Core Insights - Contemporary Amperex expands its Hungarian battery plant in Debrecen [1][2]. - The Debrecen factory starts production next year [3].
"""


def run(cwd, *args, stdin=None, **env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FACTBOT_", "DATABASE_URL"))}
    env.update(env_extra)
    return subprocess.run(factbot_argv(*args), cwd=cwd, env=env, input=stdin, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("command", [["ask", "seres"], ["reload"], ["report"], ["shell"], ["backup", "out.db"]])
def test_a_db_under_a_regular_file_is_a_one_line_error(tmp_path, command):
    copy_seeds(tmp_path / "seeds")
    (tmp_path / "afile").write_text("not a folder")
    result = run(tmp_path, *command, "--db", "afile/factbot.db", stdin="")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "Error: --db afile/factbot.db: afile is a file, not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_a_db_in_an_unwritable_folder_is_a_one_line_error(tmp_path):
    copy_seeds(tmp_path / "seeds")
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    try:
        result = run(tmp_path, "reload", "--db", "ro/factbot.db")
    finally:
        (tmp_path / "ro").chmod(0o755)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "Error: --db ro/factbot.db: the folder ro is not writable"


def test_a_first_ask_where_every_file_fails_says_why_and_exits_1(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_bytes(b"\xff\xfe broken")
    (seeds / "b.txt").write_text("just some notes\nwithout any article\n", "utf-8")
    result = run(tmp_path, "ask", "seres")
    assert result.returncode == 1
    err = result.stderr
    assert "a.txt:1: not UTF-8" in err and "b.txt:1: no article found" in err
    assert err.strip().endswith("Error: no facts were indexed from seeds: every seed file failed (above);"
                                " fix them and run `factbot reload`")
    # some files fail, some load: the answer comes, the failures are said on stderr
    (seeds / "c.txt").write_text(EXPORT, "utf-8")
    (tmp_path / "factbot.db").unlink()
    result = run(tmp_path, "ask", "debrecen", "factory")
    assert result.returncode == 0 and "Debrecen factory" in result.stdout
    assert "2 of 3 seed files failed to load" in result.stderr and "a.txt:1: not UTF-8" in result.stderr


def test_only_txt_files_are_exports_and_the_others_are_named_not_failed(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    (seeds / "README.md").write_text("# Our digests\n\nDrop the exports here.\n", "utf-8")
    (seeds / "notes").write_text("call the broker\n", "utf-8")
    result = run(tmp_path, "reload")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAILED" not in result.stdout
    assert result.stderr.strip() == "note: not exports, so not read (only *.txt files are): README.md, notes"
    data = json.loads(run(tmp_path, "reload", "--json").stdout)
    assert [f["path"] for f in data["files"]] == ["000_d15f99b5a61b95c3.txt"]
    for name in ("000_d15f99b5a61b95c3.txt",):
        (seeds / name).unlink()
    result = run(tmp_path, "reload")
    assert result.returncode == 1 and "found no seed files in seeds: no *.txt file" in result.stderr


def test_a_file_cut_mid_sentence_says_so_and_keeps_what_it_had(tmp_path):
    cut = EXPORT.rstrip("\n")[:-40]  # the download stopped in the middle of the last fact
    result = parse_text(cut, "cut.txt")
    assert not result.articles
    (error,) = result.errors
    assert str(error).startswith("cut.txt:4: the file ends in the middle of a sentence (")
    whole = parse_text(EXPORT.rstrip("\n"), "whole.txt")  # exports end without a newline
    assert whole.errors == [] and len(whole.articles[0].facts) == 2
    seeds = copy_seeds(tmp_path / "seeds", ("030_catl.txt", EXPORT))
    assert run(tmp_path, "reload").returncode == 0
    (seeds / "030_catl.txt").write_text(cut, "utf-8")  # a copy still under way
    result = run(tmp_path, "reload")
    assert result.returncode == 1 and "030_catl.txt:4: the file ends in the middle of a sentence" in result.stdout
    answer = run(tmp_path, "ask", "debrecen", "factory")
    assert "The Debrecen factory starts production next year." in answer.stdout  # the whole version stays


def test_manifest_refuses_what_slack_would_reject(tmp_path):
    result = run(tmp_path, "manifest", "--url", "notaurl")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("Error: Invalid value for --url: must be factbot's public https:// address"
                                          " (such as https://factbot.example.com), got 'notaurl'")
    assert run(tmp_path, "manifest", "--url", "http://factbot.example.com").returncode == 2
    assert run(tmp_path, "manifest", "--url", "https://factbot.example.com/base").returncode == 0
    result = run(tmp_path, "manifest", FACTBOT_COMMANDS="/ipo,/bad command")
    assert result.returncode == 1
    assert result.stderr.strip() == ("Error: FACTBOT_COMMANDS: '/bad command' is not a Slack command name (a / and up to 31"
                                     " lower-case letters, digits, - or _, no spaces)")
    assert run(tmp_path, "manifest", FACTBOT_COMMANDS="/IPO").returncode == 1
    assert run(tmp_path, "manifest", FACTBOT_COMMANDS="/" + "x" * 32).returncode == 1
    assert run(tmp_path, "manifest", FACTBOT_COMMANDS="ipo,/azure-2").returncode == 0  # "ipo" is read as /ipo


def test_counts_in_words_and_no_stray_lock_after_a_refused_first_build(tmp_path):
    copy_seeds(tmp_path / "seeds")
    result = run(tmp_path, "reload")
    assert "; 1 file loaded;" in result.stdout
    result = run(tmp_path, "reload", "--seeds", "seedz", "--db", "other.db")
    assert result.returncode == 1 and "reload refused" in result.stderr
    assert not (tmp_path / "other.db").exists() and not (tmp_path / "other.db.lock").exists()


def test_a_huge_question_is_cut_and_says_so(tmp_path):
    copy_seeds(tmp_path / "seeds")
    question = "seres ipo " * 11_200  # 112 KB
    result = run(tmp_path, "ask", "--json", question, FACTBOT_SEMANTIC="off")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert len(data["query"]) <= 2000 and data["results"]
    assert result.stderr.strip() == "note: the question was cut to its first 2,000 characters (of 112,000)"
