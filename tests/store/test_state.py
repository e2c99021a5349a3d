"""The state store (store/state.py) on both backends: the embedded SQLite file and a real PostgreSQL."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Column, Text, inspect, select

from store import state as state_mod
from store.index import FileReport, ReloadReport
from store.state import State, StateError, StateUnavailable, add_column, schema_target, state_url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return state_url(None, tmp_path / "factbot.db")
    return request.getfixturevalue("database_url")


def _report(actor: str, facts: int = 31) -> ReloadReport:
    files = [FileReport("a.txt", 2, facts, "loaded"), FileReport("b.txt", 0, 0, "failed", ["b.txt:1: not UTF-8"])]
    return ReloadReport(2, facts, files, took_ms=12.34, actor=actor)


def test_the_embedded_store_is_a_file_beside_the_index_not_the_index(tmp_path):
    assert state_url(None, tmp_path / "factbot.db") == f"sqlite:///{tmp_path / 'factbot.state.db'}"
    assert state_url(None, tmp_path / "idx") == f"sqlite:///{tmp_path / 'idx.state.db'}"
    assert state_url("postgresql://u@h/db", tmp_path / "factbot.db") == "postgresql://u@h/db"
    s = State.open(state_url(None, tmp_path / "sub" / "factbot.db"))
    try:
        assert not s.shared and (tmp_path / "sub" / "factbot.state.db").exists()
    finally:
        s.close()


def test_postgresql_urls_use_psycopg_3_and_other_urls_are_refused():
    engine = state_mod._engine("postgresql://u:secret@db.example:6543/factbot")
    assert engine.url.drivername == "postgresql+psycopg"
    assert State(engine).where == "db.example:6543/factbot"  # no password
    with pytest.raises(StateError, match="postgresql://"):
        state_mod._engine("mysql://u@h/db")


def test_a_new_store_has_every_table_and_the_current_schema_version(url):
    s = State.open(url)
    try:
        assert s.version() == schema_target()
        tables = set(inspect(s.engine).get_table_names())
        assert {"schema_version", "reloads"} <= tables
        assert set(state_mod.metadata.tables) <= tables
        assert s.reloads() == []
    finally:
        s.close()


def test_the_audit_trail_round_trips_newest_first_and_survives_reopening(url):
    s = State.open(url)
    s.record_reload(_report("cli:ana"))
    s.record_reload(_report("slack:U1", facts=40), version=7)
    s.close()
    s = State.open(url)
    try:
        newest, oldest = s.reloads()
        assert (newest["actor"], newest["facts"], newest["version"]) == ("slack:U1", 40, 7)
        assert (oldest["actor"], oldest["loaded"], oldest["failed"], oldest["version"]) == ("cli:ana", 1, 1, None)
        assert oldest["errors"] == '["b.txt:1: not UTF-8"]' and oldest["took_ms"] == 12.3
        assert newest["at"].endswith("Z") and len(s.reloads(limit=1)) == 1
    finally:
        s.close()


def test_migrations_run_once_on_older_stores_and_are_idempotent(url, monkeypatch):
    State.open(url).close()  # a store at this factbot's schema
    calls = []
    target = schema_target() + 1

    def step(conn):
        calls.append(1)
        add_column(conn, "reloads", Column("note", Text))
        add_column(conn, "reloads", Column("note", Text))  # already there: nothing happens

    monkeypatch.setitem(state_mod._MIGRATIONS, target, ("reloads.note", step))
    s = State.open(url)
    try:
        assert s.version() == target and calls == [1]
        assert "note" in {c["name"] for c in inspect(s.engine).get_columns("reloads")}
    finally:
        s.close()
    State.open(url).close()
    assert calls == [1]  # not again


def test_a_store_written_by_a_newer_factbot_is_refused(url):
    s = State.open(url)
    with s.begin() as conn:
        conn.execute(state_mod.schema_version.update().values(version=schema_target() + 5))
    s.close()
    with pytest.raises(StateError, match=f"schema version {schema_target() + 5}, newer than this factbot's"):
        State.open(url)


def test_processes_opening_a_new_store_at_once_do_not_trip_over_each_other(url):
    errors, opened = [], []

    def open_it():
        try:
            opened.append(State.open(url))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and len(opened) == 4
    with opened[0].begin() as conn:
        assert conn.execute(select(state_mod.schema_version.c.version)).scalars().all() == [schema_target()]
    for s in opened:
        s.close()


def test_an_unreachable_postgresql_is_state_unavailable_without_the_password():
    from tests.pg import _free_port

    s = State(state_mod._engine(f"postgresql://factbot:hunter2@127.0.0.1:{_free_port()}/factbot"))
    with pytest.raises(StateUnavailable, match="PostgreSQL is unreachable") as err:
        s.reloads()
    assert "hunter2" not in str(err.value)
    s.close()


def test_a_new_sqlite_store_opened_while_another_connection_writes_waits_for_it(tmp_path):
    """Switching a new file to WAL needs it to itself, and SQLite answers "locked" at once (not after
    its busy timeout) while another connection writes: opening must wait for the writer instead."""
    import sqlite3

    path = tmp_path / "factbot.state.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("CREATE TABLE other(a)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO other VALUES (1)")
    outcome = []

    def open_it():
        try:
            State.open(f"sqlite:///{path}").close()
            outcome.append("opened")
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome.append(exc)

    thread = threading.Thread(target=open_it)
    thread.start()
    thread.join(0.5)
    assert outcome == [] and thread.is_alive()  # still waiting for the writer, not failed
    writer.execute("COMMIT")
    thread.join(30)
    writer.close()
    assert outcome == ["opened"]


def test_the_test_clusters_folder_goes_when_initdb_fails(tmp_path, monkeypatch):
    import os
    import tempfile

    from tests import pg

    bindir = Path(tempfile.mkdtemp(prefix="factbot-fake-bin-"))
    try:
        os.chmod(bindir, 0o755)
        (bindir / "initdb").write_text("#!/bin/sh\necho 'initdb: broken on purpose' >&2\nexit 1\n")
        os.chmod(bindir / "initdb", 0o755)
        clusters = tmp_path / "clusters"  # the cluster's temporary folder goes here, and nobody else's
        clusters.mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(clusters))
        with pytest.raises(RuntimeError, match="initdb failed"):
            pg.Cluster(bindir)
        assert list(clusters.iterdir()) == []
    finally:
        import shutil

        shutil.rmtree(bindir, ignore_errors=True)
