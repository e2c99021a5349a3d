"""`factbot backup DEST` (a consistent copy of the state store while it is written), restoring it,
and what an index or a state store written by another version of factbot becomes."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading

from store.state import State, state_url
from tests.slack_standin import copy_seeds, factbot_argv


def run(tmp_path, *args, env_extra=None):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FACTBOT_", "DATABASE_URL"))}
    env.update(env_extra or {})
    return subprocess.run(factbot_argv(*args), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def unanswered(path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM unanswered_queries").fetchone()[0]
    finally:
        conn.close()


def test_a_backup_taken_while_questions_are_recorded_is_whole_and_restores(tmp_path):
    from store.records import Records

    db = tmp_path / "factbot.db"
    state = State.open(state_url(None, db))
    records = Records(state.engine)
    for n in range(200):
        records.record_unanswered(f"question {n}", "U0ASKER", "C0GENERAL")
    stop, written = threading.Event(), [200]

    def writer():  # factbot at work: a question recorded every moment, each in its own transaction
        while not stop.is_set():
            records.record_unanswered(f"question {written[0]}", "U0ASKER", "C0GENERAL")
            written[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        before = written[0]
        result = run(tmp_path, "backup", "backups/state.db")
        after = written[0]
    finally:
        stop.set()
        thread.join()
        state.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("backed up factbot.state.db -> backups/state.db (") and "integrity ok" in result.stdout
    copy = tmp_path / "backups" / "state.db"
    assert before <= unanswered(copy) <= after + 1  # one moment's state, the rows of every commit before it
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    assert not list((tmp_path / "backups").glob("*.partial"))
    # restoring: the copy in place of a (lost) state store, beside a new index
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(copy, restored / "factbot.state.db")
    report = run(tmp_path, "report", "--db", str(restored / "factbot.db"), "--json", "--limit", "1000")
    assert report.returncode == 0, report.stderr
    import json

    assert len(json.loads(report.stdout)["unanswered"]) == min(1000, unanswered(copy))


def test_backup_says_what_it_cannot_do(tmp_path):
    result = run(tmp_path, "backup", "x.db")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: there is nothing to back up at factbot.state.db: no such file")
    result = run(tmp_path, "backup", "x.db", env_extra={"DATABASE_URL": "postgresql://factbot@127.0.0.1:1/factbot"})
    assert result.returncode == 1
    assert result.stderr.startswith("Error: the state store is PostgreSQL (DATABASE_URL): back it up with pg_dump")
    State.open(state_url(None, tmp_path / "factbot.db")).close()
    result = run(tmp_path, "backup", "factbot.state.db")
    assert result.returncode == 1 and "is the file being backed up" in result.stderr


def test_backup_with_the_index_into_a_folder(tmp_path):
    copy_seeds(tmp_path / "seeds")
    assert run(tmp_path, "ask", "ipo", "seres").returncode == 0
    assert run(tmp_path, "report").returncode == 0  # creates the state store
    result = run(tmp_path, "backup", "--index", "out")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "factbot.state.db").exists() and "facts 31" in result.stdout
    assert run(tmp_path, "ask", "--db", "out/factbot.db", "--seeds", "nowhere", "ipo", "seres").returncode == 0


# --- upgrades -----------------------------------------------------------------------------


def test_an_index_of_an_older_version_is_rebuilt_and_keeps_its_audit_trail(tmp_path):
    copy_seeds(tmp_path / "seeds")
    assert run(tmp_path, "reload").returncode == 0
    conn = sqlite3.connect(tmp_path / "factbot.db")
    with conn:  # what an older factbot left: another schema version, a table it did not have yet
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
        conn.execute("DROP TABLE vocab")
        conn.execute("UPDATE reloads SET actor = 'cli:old-version'")
    conn.close()
    result = run(tmp_path, "ask", "ipo", "seres")
    assert result.returncode == 0 and "Seres Automotive raised 14 billion HKD" in result.stdout
    conn = sqlite3.connect(tmp_path / "factbot.db")
    try:
        from store.index import SCHEMA_VERSION

        assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == SCHEMA_VERSION
        assert [r[0] for r in conn.execute("SELECT actor FROM reloads ORDER BY id")] == ["cli:old-version", "startup"]
        assert conn.execute("SELECT count(*) FROM vocab").fetchone()[0] > 0
    finally:
        conn.close()


def test_a_state_store_of_a_newer_factbot_is_refused_in_one_line_and_left_alone(tmp_path):
    path = tmp_path / "factbot.state.db"
    State.open(state_url(None, tmp_path / "factbot.db")).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE schema_version SET version = 99")
    conn.close()
    before = path.read_bytes()
    result = run(tmp_path, "report")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    from store.state import schema_target

    assert result.stderr.strip() == ("Error: the state database (factbot.state.db) has schema version 99, newer than"
                                     f" this factbot's {schema_target()}: upgrade factbot")
    assert path.read_bytes() == before


def test_a_state_store_of_an_older_factbot_gets_the_tables_it_lacked(tmp_path):
    from store.records import Records

    path = tmp_path / "factbot.state.db"
    state = State.open(state_url(None, tmp_path / "factbot.db"))
    Records(state.engine).record_unanswered("kept question", "U1", "C1")
    state.close()
    conn = sqlite3.connect(path)
    with conn:  # an older factbot had no votes yet
        conn.execute("DROP TABLE answer_votes")
    conn.close()
    result = run(tmp_path, "report", "--json")
    assert result.returncode == 0, result.stderr
    assert '"query": "kept question"' in result.stdout
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM answer_votes").fetchone()[0] == 0
    finally:
        conn.close()


def test_a_state_store_of_schema_1_is_migrated_and_keeps_its_rows(tmp_path):
    """What factbot before the uploads' origins left: corpus_files without origin and folder, version 1."""
    from store.records import Records
    from store.state import schema_target

    path = tmp_path / "factbot.state.db"
    state = State.open(state_url(None, tmp_path / "factbot.db"))
    Records(state.engine).record_unanswered("kept question", "U1", "C1")
    state.close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("ALTER TABLE corpus_files DROP COLUMN origin")
        conn.execute("ALTER TABLE corpus_files DROP COLUMN folder")
        conn.execute("UPDATE schema_version SET version = 1")
    conn.close()
    result = run(tmp_path, "report", "--json")
    assert result.returncode == 0, result.stderr
    assert '"query": "kept question"' in result.stdout
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT version FROM schema_version").fetchone()[0] == schema_target() >= 2
        columns = {row[1] for row in conn.execute("PRAGMA table_info(corpus_files)")}
        assert {"origin", "folder"} <= columns
    finally:
        conn.close()
