"""A `factbot reload` killed (SIGKILL) at any point of a first build or of a reload over a few
thousand facts: the next `ask` answers from the old index or the new one, never errors, never
from a half-built one.

Where the process is when it is killed is observed from outside: the `.building` file appearing,
and the progress line the reload writes on a terminal (a pseudo-terminal here): "indexing: …"
while files stream in, "vocabulary…" once every fact is written and the transaction is about to
end. A kill that comes too late (the reload already done) does not count; the case is tried again."""
from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store import Index
from tests.store.conftest import SEED

EXE = Path(sys.executable).with_name("factbot")
QUERIES = ["fairwater 2", "seres ipo", "revenue", "margins", "investors expect margins to improve",
           "net profit growth", "data center"]
ATTEMPTS = 5
DEADLINE = 60.0  # seconds for one reload to reach its point (it takes about one)


def _answers(db: Path, seeds: Path) -> list[list[dict]]:
    """`factbot ask` in a new process, as a user runs it after the crash."""
    proc = subprocess.run([str(EXE), "ask", "--json", "--limit", "5", "--seeds", str(seeds), "--db", str(db),
                           "--queries", "-"], input="\n".join(QUERIES) + "\n", capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return [json.loads(line)["results"] for line in proc.stdout.splitlines()]


def _reference(seeds: Path, db: Path) -> tuple[tuple[int, int], list[list[dict]]]:
    idx = Index.open(db, seeds=seeds)
    answers = [[h.to_json() for h in idx.search(q, limit=5).hits] for q in QUERIES]
    counts = idx.counts()
    idx.close()
    return counts, answers


def _kill_at(point: str, seeds: Path, db: Path) -> bool:
    """Start `factbot reload` on a pseudo-terminal and SIGKILL it when `point` is observed.
    True when it was killed there, False when it finished first."""
    controller, worker = pty.openpty()
    proc = subprocess.Popen([str(EXE), "reload", "--seeds", str(seeds), "--db", str(db)],
                            stdin=worker, stdout=worker, stderr=worker, close_fds=True, start_new_session=True)
    os.close(worker)
    building = Path(str(db) + ".building")
    screen = b""
    deadline = time.monotonic() + DEADLINE
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.002)
            if ready:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # the process is gone and its terminal closed
                    chunk = b""
                screen += chunk
            seen = {"building": building.exists(), "indexing": b"indexing: " in screen,
                    "vocabulary": "vocabulary…".encode() in screen}[point]
            if seen:
                proc.send_signal(signal.SIGKILL)
                break
            if proc.poll() is not None:
                break
        else:
            raise AssertionError(f"the reload did not reach {point!r} within {DEADLINE} s: {screen[-500:]!r}")
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        os.close(controller)
    return proc.returncode == -signal.SIGKILL


def _integrity(db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        try:  # FTS5 checks its index against itself and raises when they disagree (SQLITE_CORRUPT_VTAB)
            conn.execute("INSERT INTO facts_fts(facts_fts, rank) VALUES ('integrity-check', 0)")
        except sqlite3.DatabaseError as exc:
            raise AssertionError(f"the full-text index is damaged: {exc}") from None
        return conn.execute("SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM facts)").fetchone()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def corpora(generated, tmp_path_factory):
    """`old`: the seed alone; `new`: the seed and the generated exports; with reference answers."""
    work = tmp_path_factory.mktemp("crash")
    old, new = work / "old", work / "new"
    old.mkdir()
    shutil.copy(SEED, old)
    shutil.copytree(generated, new)
    shutil.copy(SEED, new)
    return {"old": (old, *_reference(old, work / "old.db")), "new": (new, *_reference(new, work / "new.db"))}


@pytest.mark.parametrize("point", ["building", "indexing", "vocabulary"])
def test_a_first_build_killed_midway_is_never_served(corpora, tmp_path, point):
    seeds, counts, answers = corpora["new"]
    for attempt in range(ATTEMPTS):
        db = tmp_path / f"first{attempt}.db"
        if _kill_at(point, seeds, db):
            break
    else:
        pytest.fail(f"the reload finished before it could be killed at {point!r} in {ATTEMPTS} attempts")
    assert not db.exists() or _integrity(db) == counts  # not there yet, or whole
    assert _answers(db, seeds) == answers  # `ask` builds it again, whole
    assert _integrity(db) == counts
    assert not Path(str(db) + ".building").exists()


@pytest.mark.parametrize("point", ["indexing", "vocabulary"])
def test_a_reload_killed_midway_leaves_the_old_index_or_the_new_one(corpora, tmp_path, point):
    old_seeds, old_counts, old_answers = corpora["old"]
    seeds, new_counts, new_answers = corpora["new"]
    for attempt in range(ATTEMPTS):
        db = tmp_path / f"reload{attempt}.db"
        Index.open(db, seeds=old_seeds).close()  # the index before: the seed alone
        if _kill_at(point, seeds, db):
            break
    else:
        pytest.fail(f"the reload finished before it could be killed at {point!r} in {ATTEMPTS} attempts")
    counts = _integrity(db)
    assert counts in (old_counts, new_counts)
    answers = _answers(db, seeds)  # an index exists, so `ask` answers from it as it is
    assert answers == (old_answers if counts == old_counts else new_answers)
    assert any(answers) and _integrity(db) == counts


@pytest.mark.parametrize("keep", [0.5, 0.1])
def test_an_index_file_cut_short_is_set_aside_and_rebuilt(tmp_path, keep):
    """What a power cut can leave of a file renamed before its bytes reached the disk: the next
    `ask` sets it aside (nothing deleted) and builds the index again."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds)
    db = tmp_path / "factbot.db"
    Index.open(db, seeds=seeds).close()
    data = db.read_bytes()
    db.write_bytes(data[:int(len(data) * keep)])
    answers = _answers(db, seeds)
    assert answers[0] and answers[0][0]["citations"] == [5, 13]
    assert _integrity(db) == (2, 31)
    assert Path(str(db) + ".corrupt").read_bytes() == data[:int(len(data) * keep)]


def test_a_file_that_is_no_database_is_not_touched(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds)
    db = tmp_path / "notes.txt"
    db.write_text("my notes, not an index\n" * 100, encoding="utf-8")
    proc = subprocess.run([str(EXE), "ask", "--seeds", str(seeds), "--db", str(db), "ipo"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "not a factbot index" in proc.stderr and "Traceback" not in proc.stderr
    assert db.read_text(encoding="utf-8") == "my notes, not an index\n" * 100
