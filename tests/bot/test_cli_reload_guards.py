"""`factbot reload` and `ask`'s first build refuse to empty the index; a new --db folder is made;
every command that opens the index rebuilds one of another version."""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "000_d15f99b5a61b95c3.txt"


def invoke(*args, input=None):
    return CliRunner().invoke(main, list(args), env={}, input=input, catch_exceptions=False)


def _seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder)
    return folder


def test_reload_of_a_missing_or_empty_folder_exits_non_zero_and_keeps_the_index(tmp_path):
    seeds, db = _seeds(tmp_path), tmp_path / "g.db"
    assert invoke("reload", "--seeds", str(seeds), "--db", str(db)).exit_code == 0
    for folder in (tmp_path / "seedz", tmp_path / "empty"):
        if folder.name == "empty":
            folder.mkdir()
        result = invoke("reload", "--seeds", str(folder), "--db", str(db))
        assert result.exit_code == 1
        assert "refused" in result.output and str(folder) in result.output and "Traceback" not in result.output
        answer = json.loads(invoke("ask", "--json", "--seeds", str(folder), "--db", str(db), "ipo", "seres").output)
        assert answer["results"] and "Seres" in answer["results"][0]["text"]
    assert len(sqlite3.connect(db).execute("SELECT * FROM reloads").fetchall()) == 1  # nothing recorded


def test_asks_first_build_without_seeds_exits_non_zero(tmp_path):
    db = tmp_path / "g.db"
    result = invoke("ask", "--seeds", str(tmp_path / "nowhere"), "--db", str(db), "ipo")
    assert result.exit_code == 1 and "refused" in result.output and "does not exist" in result.output
    assert not db.exists()


def test_db_in_a_folder_that_does_not_exist(tmp_path):
    seeds = _seeds(tmp_path)
    db = tmp_path / "new" / "dir" / "g.db"
    result = invoke("reload", "--seeds", str(seeds), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2 articles, 31 facts (31 unique) indexed")
    db2 = tmp_path / "other" / "g.db"
    result = invoke("ask", "--json", "--seeds", str(seeds), "--db", str(db2), "fairwater", "2")
    assert result.exit_code == 0 and json.loads(result.output)["results"]


def _old_index(tmp_path: Path) -> tuple[Path, Path]:
    seeds, db = _seeds(tmp_path), tmp_path / "old.db"
    assert invoke("reload", "--seeds", str(seeds), "--db", str(db)).exit_code == 0
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    conn.execute("DELETE FROM facts")
    conn.commit()
    conn.close()
    return seeds, db


def _rebuilt(db: Path) -> None:
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] != "1"
    assert conn.execute("SELECT count(*) FROM facts").fetchone()[0] == 31
    assert len(conn.execute("SELECT * FROM reloads").fetchall()) == 2  # the trail kept, the rebuild added


def test_ask_rebuilds_an_index_of_another_version(tmp_path):
    seeds, db = _old_index(tmp_path)
    result = invoke("ask", "--json", "--seeds", str(seeds), "--db", str(db), "fairwater", "2")
    assert json.loads(result.output)["results"][0]["citations"] == [5, 13]
    _rebuilt(db)


def test_reload_rebuilds_an_index_of_another_version(tmp_path):
    seeds, db = _old_index(tmp_path)
    result = invoke("reload", "--json", "--seeds", str(seeds), "--db", str(db))
    assert json.loads(result.output)["files"][0]["status"] == "loaded"
    _rebuilt(db)


def test_shell_rebuilds_an_index_of_another_version(tmp_path):
    seeds, db = _old_index(tmp_path)
    result = invoke("shell", "--seeds", str(seeds), "--db", str(db), input="fairwater 2\n")
    assert result.exit_code == 0 and "Fairwater 2 Data Center" in result.output
    _rebuilt(db)


def test_serve_rebuilds_an_index_of_another_version(tmp_path, slack_api):
    from tests.slack_standin import HttpBot, bot_env

    seeds, db = _old_index(tmp_path)
    bot = HttpBot(bot_env(slack_api, db, seeds), tmp_path)
    try:
        assert bot.health()["facts"] == 31
    finally:
        bot.stop()
    _rebuilt(db)


def test_socket_rebuilds_an_index_of_another_version(tmp_path, slack_api, socket_mode_server):
    from tests.slack_standin import APP_TOKEN, BotProcess, bot_env

    seeds, db = _old_index(tmp_path)
    slack_api.ws_url = socket_mode_server.url
    bot = BotProcess(["socket"], bot_env(slack_api, db, seeds, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET=""),
                     tmp_path)
    try:
        bot.wait_until(socket_mode_server.connected.is_set)  # connected: the index was opened before
    finally:
        bot.stop()
    _rebuilt(db)
