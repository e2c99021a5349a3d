"""Reloads that would lose the index are refused; an index of another version is rebuilt on open;
a changed file is read once; a database folder that does not exist yet is made."""
from __future__ import annotations

import hashlib
import pathlib
import shutil
import sqlite3

import pytest

from store import Index, ReloadRefused
from tests.store.conftest import SEED, article

EXTRA = article("英伟达财报超预期", "Xin Lang Cai Jing", "2025-11-20 09:30",
                "Core Viewpoint - Nvidia reported record data center revenue of 51 billion USD [1][2]. "
                "Group 1: Guidance - The company guided fourth quarter revenue to 65 billion USD [3].")


def _state(db: pathlib.Path) -> tuple:
    """Everything a reload may change, to prove that a refused one changed nothing."""
    conn = sqlite3.connect(db)
    try:
        return tuple(conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                     for t in ("files", "articles", "facts", "vocab", "reloads"))
    finally:
        conn.close()


# --- 1. refusals -------------------------------------------------------------------------

@pytest.mark.parametrize("breakage", ["missing", "empty", "hidden files only"])
def test_a_reload_that_finds_no_seed_files_is_refused_and_changes_nothing(index, seeds, breakage):
    before = _state(index.db_path)
    shutil.rmtree(seeds)
    if breakage != "missing":
        seeds.mkdir()
    if breakage == "hidden files only":
        (seeds / ".DS_Store").write_bytes(b"\0")
    with pytest.raises(ReloadRefused) as refused:
        index.reload(actor="cli")
    reason = str(refused.value)
    assert str(seeds) in reason and "no seed files" in reason
    assert ("does not exist" in reason) == (breakage == "missing")
    assert _state(index.db_path) == before
    assert index.search("fairwater 2").hits


def test_a_reload_that_would_remove_every_file_it_knew_is_refused(index, seeds):
    (seeds / "nvidia.txt").write_text(EXTRA, encoding="utf-8")
    index.reload()
    before = _state(index.db_path)
    for p in list(seeds.iterdir()):
        p.unlink()
    (seeds / "other.txt").write_text(EXTRA.replace("英伟达", "英特尔"), encoding="utf-8")
    with pytest.raises(ReloadRefused) as refused:
        index.reload()
    assert "every file" in str(refused.value) and "2" in str(refused.value)
    assert _state(index.db_path) == before


def test_removing_some_files_on_purpose_still_works(index, seeds):
    (seeds / "nvidia.txt").write_text(EXTRA, encoding="utf-8")
    index.reload()
    (seeds / "nvidia.txt").unlink()
    report = index.reload()
    assert report.removed == ["nvidia.txt"] and (report.articles, report.facts) == (2, 31)


def test_a_first_build_without_seed_files_is_refused_and_writes_no_index(tmp_path):
    with pytest.raises(ReloadRefused) as refused:
        Index.open(tmp_path / "x.db", seeds=tmp_path / "nowhere")
    assert "does not exist" in str(refused.value)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == []


# --- 4. schema version on open --------------------------------------------------------------

def _make_old(db: pathlib.Path) -> None:
    """Turn an index into one written by an older version: another schema, another layout."""
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    conn.execute("DROP TABLE vocab")
    conn.execute("CREATE TABLE vocab (word TEXT PRIMARY KEY, n INTEGER)")  # an older layout
    conn.execute("DELETE FROM facts")  # what that version held differs from what this one builds
    conn.commit()
    conn.close()


def test_opening_an_index_of_another_version_rebuilds_it_and_keeps_the_audit_trail(index, seeds):
    index.reload(actor="U0ADMIN")
    db = index.db_path
    index.close()
    _make_old(db)
    reopened = Index.open(db, seeds=seeds)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] != "1"
    assert reopened.counts() == (2, 31)
    assert reopened.search("fairwater 2").hits[0].citations == [5, 13]
    assert [r["actor"] for r in reopened.reloads()][1:] == ["U0ADMIN", "startup"]  # the trail survives
    assert reopened.reloads()[0]["loaded"] == 1
    reopened.close()


def test_opening_an_index_of_this_version_does_not_reload(index, seeds):
    db = index.db_path
    index.close()
    again = Index.open(db, seeds=seeds)
    assert len(again.reloads()) == 1
    again.close()


# --- 6. read once, folder made ---------------------------------------------------------------

def test_a_changed_file_is_read_once_and_stored_with_the_hash_of_what_was_indexed(index, seeds, monkeypatch):
    """A file being rewritten during a reload: whatever version is indexed, its hash is the one stored."""
    path = seeds / "nvidia.txt"
    first = EXTRA.encode("utf-8")
    second = EXTRA.replace("51 billion", "57 billion").encode("utf-8")
    path.write_bytes(second)  # what the disk holds once the writer is done
    reads = []
    real = pathlib.Path.read_bytes

    def read_bytes(self):
        if self.name == "nvidia.txt":
            reads.append(self)
            return first if len(reads) == 1 else second  # the writer finishes after the first read
        return real(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    report = index.reload()
    assert {f.path: f.status for f in report.files}["nvidia.txt"] == "loaded"
    assert len(reads) == 1
    text = index.search("nvidia data center revenue").hits[0].text
    indexed = first if "51 billion" in text else second
    stored = sqlite3.connect(index.db_path).execute("SELECT hash FROM files WHERE path = 'nvidia.txt'").fetchone()[0]
    assert stored == hashlib.blake2b(indexed, digest_size=16).hexdigest()
    monkeypatch.undo()
    # the next reload sees the file as it is now and, if that differs from what was indexed, loads it
    status = {f.path: f.status for f in index.reload().files}["nvidia.txt"]
    assert status == ("unchanged" if indexed == second else "loaded")
    assert "57 billion" in index.search("nvidia data center revenue").hits[0].text


def test_db_in_a_folder_that_does_not_exist_yet(seeds, tmp_path):
    db = tmp_path / "not" / "yet" / "factbot.db"
    idx = Index.open(db, seeds=seeds)
    assert idx.counts() == (2, 31) and db.exists()
    assert idx.reload().ok
    idx.close()


def test_seed_folder_source_lists_and_reads_files(seeds):
    from store.index import SeedFolder

    (seeds / "sub").mkdir()
    (seeds / "sub" / "b.txt").write_bytes(b"b")
    (seeds / ".hidden").write_bytes(b"h")
    source = SeedFolder(seeds)
    assert [name for name, _size in source.files()] == [SEED.name, "sub/b.txt"]
    assert source.read("sub/b.txt") == b"b"
