"""Reloads that change a little of a big index: the lock across processes, the vocabulary and
aliases kept in step by deltas, unchanged files skipped by their stat."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.generated import generator
from store import Index, ReloadBusy, vocab
from store.index import RACY_NS, Reloader, SeedFolder, _ReloadLock, connect, learn_aliases


def test_a_reload_in_another_process_makes_this_one_busy(index, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from store.index import _ReloadLock
            with _ReloadLock({str(index.db_path)!r}, wait=True):
                print("held", flush=True)
                sys.stdin.readline()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ReloadBusy):
            Index(index.db_path, seeds=index.seeds).reload(wait=False)
    finally:
        holder.communicate("\n", timeout=30)
    assert holder.returncode == 0
    assert index.reload(wait=False).ok


# --------------------------------------------------------------------------- generated corpora

gen = generator()
COMPANIES = gen.companies(7, 3000)


def write_export(folder, number: int, facts: int = 300):
    """A generated export of about `facts` facts."""
    path = folder / f"{number:04d}.txt"
    path.write_text(gen.FileWriter(7, number, COMPANIES).file_text(facts)[0], encoding="utf-8")
    return path


class CountingFolder(SeedFolder):
    """The seeds folder, counting the files a reload reads; `settle_ns=0` trusts a file's stat at
    once (the default waits two seconds after a change, which a test would have to sleep)."""

    def __init__(self, root, settle_ns=0):
        super().__init__(root, settle_ns=settle_ns)
        self.reads: list[str] = []

    def read(self, name):
        self.reads.append(name)
        return super().read(name)


def reload_counting(db, folder, settle_ns=0):
    source = CountingFolder(folder, settle_ns)
    with _ReloadLock(db, wait=True):
        report = Reloader(db, source, "test").run()
    return report, source.reads


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for n in range(1, 9):
        write_export(folder, n)
    return folder


def vocab_and_aliases(db):
    """(vocab as stored, vocab as FTS5 counts it now, aliases as stored, aliases learned afresh)."""
    conn = connect(db)
    try:
        stored = dict(conn.execute("SELECT term, df FROM vocab"))
        counted = dict(conn.execute("SELECT term, doc FROM facts_terms"))
        aliases = set(conn.execute("SELECT cjk, english, articles FROM aliases"))
        conn.execute("BEGIN")
        learn_aliases(conn)
        relearned = set(conn.execute("SELECT cjk, english, articles FROM aliases"))
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    return stored, counted, aliases, relearned


def test_small_reloads_move_vocabulary_and_aliases_exactly_as_a_rebuild_would(corpus, tmp_path, monkeypatch):
    db = tmp_path / "g.db"
    first, _ = reload_counting(db, corpus)
    assert first.ok and first.facts > 2000
    stored, counted, aliases, relearned = vocab_and_aliases(db)
    assert stored == counted and aliases == relearned and aliases

    def no_rebuild(conn):
        raise AssertionError("a small reload rebuilt the whole vocabulary")

    monkeypatch.setattr(vocab, "rebuild", no_rebuild)
    steps = [
        ("added", lambda: write_export(corpus, 20, 250)),
        ("changed", lambda: (corpus / "0003.txt").write_text(
            gen.FileWriter(7, 33, COMPANIES).file_text(280)[0], encoding="utf-8")),
        ("removed", lambda: (corpus / "0005.txt").unlink()),
        ("turned bad", lambda: (corpus / "0002.txt").write_bytes(b"\x00binary")),
        ("added small", lambda: write_export(corpus, 21, 12)),
    ]
    for what, change in steps:
        change()
        report, _ = reload_counting(db, corpus)
        stored, counted, aliases, relearned = vocab_and_aliases(db)
        assert stored == counted, what
        assert aliases == relearned, what
    assert report.count("failed") == 1 and report.facts > 2000


def test_a_bulk_load_leaves_fts5_settings_as_fts5_has_them(corpus, tmp_path):
    """A bulk load turns merging off and writes bigger segments; what it leaves behind is FTS5's
    own defaults (no row, or the default value), so that later small reloads merge as usual."""
    index = Index(tmp_path / "g.db", seeds=corpus)
    index.reload()
    conn = connect(index.db_path)
    config = dict(conn.execute("SELECT k, v FROM facts_fts_config WHERE k != 'version'"))
    conn.close()
    assert config == {"automerge": 4, "crisismerge": 16, "hashsize": 1 << 20}



def test_unchanged_files_are_known_by_their_stat_and_not_read(corpus, tmp_path):
    db = tmp_path / "g.db"
    report, reads = reload_counting(db, corpus)
    assert report.count("loaded") == 8 and len(reads) == 8
    report, reads = reload_counting(db, corpus)
    assert report.count("unchanged") == 8 and reads == []

    (corpus / "0004.txt").write_text(gen.FileWriter(7, 44, COMPANIES).file_text(200)[0], encoding="utf-8")
    report, reads = reload_counting(db, corpus)
    assert reads == ["0004.txt"] and report.count("loaded") == 1
    report, reads = reload_counting(db, corpus)
    assert reads == [] and report.count("unchanged") == 8


def test_a_file_changed_within_two_seconds_is_read_again_until_it_settles(corpus, tmp_path):
    """Its timestamp could hide a second change made within the same tick (git's racy files)."""
    db = tmp_path / "g.db"
    report, reads = reload_counting(db, corpus, settle_ns=RACY_NS)  # every file was written just now
    assert report.count("loaded") == 8 and len(reads) == 8
    report, reads = reload_counting(db, corpus, settle_ns=RACY_NS)
    assert report.count("unchanged") == 8 and len(reads) == 8
    report, reads = reload_counting(db, corpus)  # settled: read once more, and its stamp stored
    assert report.count("unchanged") == 8 and len(reads) == 8
    report, reads = reload_counting(db, corpus)
    assert report.count("unchanged") == 8 and reads == []
