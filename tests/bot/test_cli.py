"""The command line contract of `factbot reload` and `factbot ask` (other tools rely on it)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "000_d15f99b5a61b95c3.txt"


@pytest.fixture
def seeds(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder)
    return folder


def invoke(*args, env=None, input=None):
    result = CliRunner().invoke(main, list(args), env=env or {}, input=input, catch_exceptions=False)
    return result


def test_reload_json_contract(seeds, tmp_path):
    db = tmp_path / "f.db"
    result = invoke("reload", "--seeds", str(seeds), "--db", str(db), "--json")
    assert result.exit_code == 0
    assert json.loads(result.output) == {"articles": 2, "facts": 31, "unique_facts": 31, "files": [
        {"path": SEED.name, "articles": 2, "facts": 31, "status": "loaded", "errors": []}]}
    again = json.loads(invoke("reload", "--seeds", str(seeds), "--db", str(db), "--json").output)
    assert again["files"][0]["status"] == "unchanged" and again["facts"] == 31
    from store import Index

    trail = Index(db).reloads()
    assert len(trail) == 2 and all(r["actor"].startswith("cli:") for r in trail)  # the audit trail


def test_reload_exits_1_and_names_the_bad_file(seeds, tmp_path):
    (seeds / "broken.txt").write_text("just some words\nwith no export structure\n", encoding="utf-8")
    db = tmp_path / "f.db"
    result = invoke("reload", "--seeds", str(seeds), "--db", str(db), "--json")
    assert result.exit_code == 1
    out = json.loads(result.output)
    bad = [f for f in out["files"] if f["path"] == "broken.txt"][0]
    assert bad["status"] == "failed" and bad["errors"][0].startswith("broken.txt:1:")
    assert out["facts"] == 31
    text = invoke("reload", "--seeds", str(seeds), "--db", str(db))
    assert text.exit_code == 1 and "FAILED broken.txt" in text.output and "31 facts" in text.output


def test_ask_json_contract_and_figures(seeds, tmp_path):
    db = tmp_path / "f.db"
    result = invoke("ask", "--seeds", str(seeds), "--db", str(db), "--json", "--limit", "2", "fairwater", "2")
    assert result.exit_code == 0
    out = json.loads(result.output)
    assert out["query"] == "fairwater 2" and isinstance(out["took_ms"], float)
    first = out["results"][0]
    assert set(first) == {"text", "section", "citations", "score", "article", "matched", "also"}
    assert first["also"] == []  # the seed alone has no reprints
    assert {"word": "fairwater", "how": "exact", "as": "fairwater"} in first["matched"]  # why it matched
    assert first["citations"] == [5, 13] and first["section"] == "Fairwater 2 Data Center"
    assert first["article"] == {"title": first["article"]["title"], "source": "Hua Er Jie Jian Wen",
                                "published": "2025-11-13T08:37", "file": SEED.name}
    assert len(out["results"]) <= 2


def test_ask_builds_the_index_only_when_the_db_is_missing(seeds, tmp_path):
    db = tmp_path / "new.db"
    assert not db.exists()
    assert invoke("ask", "--seeds", str(seeds), "--db", str(db), "ipo", "seres").exit_code == 0
    assert db.exists()
    (seeds / SEED.name).unlink()  # ask answers from the index as is, without reloading
    out = json.loads(invoke("ask", "--seeds", str(seeds), "--db", str(db), "--json", "ipo seres").output)
    assert out["results"]


def test_ask_readable_answer_says_where_it_comes_from(seeds, tmp_path):
    result = invoke("ask", "--seeds", str(seeds), "--db", str(tmp_path / "f.db"), "ipo", "seres")
    assert "14 billion HKD" in result.output
    assert "赛力斯为何突然暴跌?" in result.output and "3 6 Ke" in result.output
    assert "2025-11-07 02:14" in result.output and "Group 1: IPO Performance" in result.output
    assert "[1]" in result.output
    nothing = invoke("ask", "--seeds", str(seeds), "--db", str(tmp_path / "f.db"), "banana bread recipe")
    assert "No confident match" in nothing.output


def test_ask_readable_answer_names_the_other_outlets_reports(seeds, tmp_path):
    """The seed and another outlet's reprint of it (other source and day, a few words changed):
    the IPO fact is answered once, the other report named under it, as Slack and --json do."""
    reprint = SEED.read_text(encoding="utf-8").replace("3 6 Ke·", "Xin Lang Cai Jing·").replace(
        "2025-11-07", "2025-11-08").replace("raised 14 billion HKD", "secured HKD 14 billion")
    (seeds / "001_reprint.txt").write_text(reprint, encoding="utf-8")
    result = invoke("ask", "--seeds", str(seeds), "--db", str(tmp_path / "f.db"), "-n", "1", "seres", "ipo")
    lines = result.output.splitlines()
    also = [line for line in lines if line.strip().startswith("also reported by")]
    assert len(also) == 1 and "14 billion" in result.output
    named = "3 6 Ke" if "Xin Lang Cai Jing · 2025-11-08" in result.output else "Xin Lang Cai Jing"
    assert named in also[0] and "赛力斯为何突然暴跌?" in also[0] and "[1]" in also[0]


def test_queries_file_answers_every_line_in_order_blank_lines_too(seeds, tmp_path):
    qf = tmp_path / "q.txt"
    qf.write_text("ipo seres\n\nazure margins\r\nrecipe for banana bread\n", encoding="utf-8")
    result = invoke("ask", "--seeds", str(seeds), "--db", str(tmp_path / "f.db"), "--json", "--queries", str(qf))
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [o["query"] for o in lines] == ["ipo seres", "", "azure margins\r", "recipe for banana bread"]
    assert lines[0]["results"] and lines[1]["results"] == [] and lines[2]["results"] and lines[3]["results"] == []


def test_queries_from_stdin(seeds, tmp_path):
    result = invoke("ask", "--seeds", str(seeds), "--db", str(tmp_path / "f.db"), "--json", "--queries", "-",
                    input="openai\nwinner's curse")
    assert [json.loads(x)["query"] for x in result.output.splitlines()] == ["openai", "winner's curse"]


def test_settings_from_the_environment(seeds, tmp_path):
    env = {"FACTBOT_SEEDS": str(seeds), "FACTBOT_DB": str(tmp_path / "env.db")}
    result = invoke("ask", "--json", "openai", env=env)
    assert json.loads(result.output)["results"]
    assert (tmp_path / "env.db").exists()


def test_ask_without_a_query_is_a_usage_error(seeds, tmp_path):
    result = CliRunner().invoke(main, ["ask", "--db", str(tmp_path / "f.db")])
    assert result.exit_code == 2 and "QUERY" in result.output


def test_reload_progress_only_on_a_terminal(seeds, tmp_path):
    """Piped output gets no progress line (the console script, as a user runs it)."""
    exe = Path(sys.executable).with_name("factbot")
    proc = subprocess.run([str(exe), "reload", "--seeds", str(seeds), "--db", str(tmp_path / "p.db")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "\r" not in proc.stderr and "indexing" not in proc.stderr
    assert proc.stdout.startswith("2 articles, 31 facts (31 unique) indexed")


def test_progress_bar_describes_files_facts_rate_and_time_left():
    import io

    from bot.progress import ReloadProgress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = ReloadProgress(stream)
    progress.update(stage="index", files=10, total_files=40, done=25, total=100, facts=5000)
    progress.update(stage="index", files=20, total_files=40, done=50, total=100, facts=10000)
    line = stream.getvalue().split("\r")[-1]
    assert "indexing:" in line and "50%" in line
    assert "20/40 files" in line and "10,000 facts" in line and "facts/s" in line
    progress.update(stage="vocabulary")
    assert "vocabulary…" in stream.getvalue().split("\r")[-1]
    progress.finish()
    assert stream.getvalue().endswith("\n")


def test_progress_bar_draws_nothing_when_not_a_terminal():
    import io

    from bot.progress import ReloadProgress

    stream = io.StringIO()
    progress = ReloadProgress(stream)
    progress.update(stage="index", files=1, total_files=2, done=1, total=2, facts=3)
    progress.finish()
    assert stream.getvalue() == ""


def test_reload_shows_progress_on_a_terminal(seeds, tmp_path):
    """On a terminal (a pseudo-terminal here) the reload writes its progress line, then clears it."""
    import pty

    for i in range(5):
        shutil.copy(SEED, seeds / f"copy{i}.txt")
    exe = Path(sys.executable).with_name("factbot")
    controller, worker = pty.openpty()
    proc = subprocess.Popen([str(exe), "reload", "--seeds", str(seeds), "--db", str(tmp_path / "t.db")],
                            stdin=worker, stdout=worker, stderr=worker, close_fds=True)
    os.close(worker)
    chunks = []
    while True:
        try:
            data = os.read(controller, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=60) == 0
    os.close(controller)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "indexing: " in screen and "/6 files" in screen and "facts/s" in screen and "100%" in screen
    assert "2 articles, 31 facts (31 unique) indexed; 6 files loaded" in screen  # six copies of one export: indexed once


def test_ask_json_names_the_words_no_fact_holds(seeds, tmp_path):
    db = str(tmp_path / "f.db")
    # a name no fact holds beside a common word: no confident match, and the name is said
    out = json.loads(invoke("ask", "--seeds", str(seeds), "--db", db, "--json", "xiaomi ipo").output)
    assert out["missing"] == ["xiaomi"] and out["results"] == []
    out = json.loads(invoke("ask", "--seeds", str(seeds), "--db", db, "--json", "seres flotation").output)
    assert out["missing"] == ["flotation"] and out["results"]
    out = json.loads(invoke("ask", "--seeds", str(seeds), "--db", db, "--json", "seres ipo").output)
    assert out["missing"] == []
    text = invoke("ask", "--seeds", str(seeds), "--db", db, "seres flotation").output
    assert text.startswith("No fact mentions 'flotation'.\n1. ")


def test_own_glossary_comes_from_the_settings_and_a_missing_one_is_named(seeds, tmp_path):
    glossary = tmp_path / "mine.txt"
    glossary.write_text("flotation, ipo\n", encoding="utf-8")
    env = {"FACTBOT_GLOSSARY": str(glossary)}
    db = str(tmp_path / "f.db")
    out = json.loads(invoke("ask", "--seeds", str(seeds), "--db", db, "--json", "seres flotation", env=env).output)
    assert out["missing"] == [] and "IPO" in out["results"][0]["text"]
    bad = invoke("ask", "--seeds", str(seeds), "--db", db, "seres", env={"FACTBOT_ALIASES": str(tmp_path / "gone.txt")})
    assert bad.exit_code == 1 and "FACTBOT_ALIASES" in bad.output and "gone.txt" in bad.output


def test_an_option_wins_over_the_environment_which_wins_over_dotenv_and_the_default(seeds, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"FACTBOT_SEEDS={seeds}\nFACTBOT_DB=from-dotenv.db\n", "utf-8")
    base = {k: None for k in ("FACTBOT_SEEDS", "FACTBOT_DB")}
    assert invoke("reload", "--json", env=base).exit_code == 0  # both from .env
    assert (tmp_path / "from-dotenv.db").exists()
    assert invoke("reload", "--json", env=dict(base, FACTBOT_DB=str(tmp_path / "from-env.db"))).exit_code == 0
    assert (tmp_path / "from-env.db").exists()  # the environment wins over .env
    result = invoke("reload", "--json", "--db", str(tmp_path / "from-option.db"),
                    env=dict(base, FACTBOT_DB=str(tmp_path / "from-env.db")))
    assert result.exit_code == 0 and (tmp_path / "from-option.db").exists()  # the option wins
    (tmp_path / ".env").write_text("", "utf-8")
    assert invoke("reload", "--json", env=dict(base, FACTBOT_SEEDS=str(seeds))).exit_code == 0
    assert (tmp_path / "factbot.db").exists()  # the default: ./factbot.db, whatever the seeds folder
    help_text = invoke("ask", "--help").output
    assert "FACTBOT_SEEDS" in help_text and "FACTBOT_DB" in help_text


def test_a_reload_with_no_shared_store_does_not_load_sqlalchemy(seeds, tmp_path):
    """`factbot reload` is run by hand and by cron after every new digest: without DATABASE_URL it
    needs no state store, and importing SQLAlchemy would cost a third of its time."""
    code = ("import sys\nfrom bot.cli import main\n"
            "try:\n    main(['reload', '--seeds', sys.argv[1], '--db', sys.argv[2]])\nexcept SystemExit as e:\n"
            "    print(e.code, 'sqlalchemy' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    out = subprocess.run([sys.executable, "-c", code, str(seeds), str(tmp_path / "f.db")], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.split()[-2:] == ["0", "False"], out.stdout + out.stderr
