"""The entities learned at reload (store/entities.py): a reload that changes a few files moves the
name finder's counts by those files' facts, and learns exactly what a full rebuild learns."""
from __future__ import annotations

import shutil
import time

from tests.generated import followups

NEW = """Search documents
泽图安为何突然暴跌?
3 6 Ke· 2025-11-30 10:00
Core Viewpoint - Zentrix raised 3 billion HKD in its IPO, with Quuxly as its cornerstone investor [1]. - Zentrix's net profit fell 2% in the quarter [2]. - Analysts at Lumora said Zentrix is cheap [3].
"""


def _settled(seeds) -> None:
    """Wait until every seed file has a stamp the reload trusts (written more than a timestamp
    tick ago): then a reload re-reads only the files that change (a file written this very moment
    is read in any case, and so many would make the reload a bulk one)."""
    from store.seeds import SeedFolder

    deadline = time.monotonic() + 10
    while not all(entry.stamp for entry in SeedFolder(seeds).stamped()):
        assert time.monotonic() < deadline, "seed files never settled"
        time.sleep(0.02)


def _bulk(monkeypatch) -> list[bool]:
    from store import reload

    seen: list[bool] = []
    real = reload._Changes.__init__

    def init(self, conn, bulk):
        seen.append(bulk)
        real(self, conn, bulk)

    monkeypatch.setattr(reload._Changes, "__init__", init)
    return seen


def _learned(db) -> tuple:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return tuple(sorted(conn.execute(f"SELECT * FROM {table}")) for table in ("entities", "name_tokens"))
    finally:
        conn.close()


def _fact_names(db) -> list:
    import sqlite3

    conn = sqlite3.connect(db)
    try:  # fact ids of the two builds differ: compare each fact's words by its text
        return sorted(conn.execute("SELECT f.text, n.words FROM fact_names n JOIN facts f ON f.id = n.fact_id"))
    finally:
        conn.close()


def test_a_reload_of_a_few_files_learns_what_a_full_rebuild_learns(tmp_path, monkeypatch):
    from store.index import Index

    seeds = tmp_path / "seeds"
    followups().write_corpus(seeds, 20, seed=3)
    _settled(seeds)
    index = Index.open(tmp_path / "factbot.db", seeds, semantic=False)
    bulk = _bulk(monkeypatch)
    before = _learned(index.db_path)
    assert "zentrix" not in dict((k, n) for k, n, _ in before[0])
    # a few files change: one added (a new company), one removed, one rewritten
    (seeds / "zz_new.txt").write_text(NEW, encoding="utf-8")
    files = sorted(seeds.glob("followups_*.txt"))
    files[0].unlink()
    files[1].write_text(files[1].read_text(encoding="utf-8").replace("Despite", "Despite strong"), encoding="utf-8")
    _settled(seeds)
    report = index.reload()
    assert report.count("loaded") == 2 and len(report.removed) == 1
    assert bulk == [False], "the counts were moved, not rebuilt"
    index.close()
    incremental = _learned(tmp_path / "factbot.db")
    assert dict((k, n) for k, n, _ in incremental[0]).get("zentrix") == "Zentrix"
    # the same seeds built from nothing
    fresh_seeds = tmp_path / "fresh-seeds"
    shutil.copytree(seeds, fresh_seeds)
    fresh = Index.open(tmp_path / "fresh.db", fresh_seeds, semantic=False)
    fresh.close()
    assert incremental == _learned(tmp_path / "fresh.db")
    assert _fact_names(tmp_path / "factbot.db") == _fact_names(tmp_path / "fresh.db")


def test_an_incremental_reload_reads_only_the_facts_it_changes(tmp_path, monkeypatch):
    from store import entities
    from store.index import Index

    seeds = tmp_path / "seeds"
    followups().write_corpus(seeds, 20, seed=3)
    _settled(seeds)
    index = Index.open(tmp_path / "factbot.db", seeds, semantic=False)
    seen: list[int] = []
    real = entities.tokens
    monkeypatch.setattr(entities, "tokens", lambda text, *counts: (seen.append(1), real(text, *counts))[1])
    (seeds / "zz_new.txt").write_text(NEW, encoding="utf-8")
    _settled(seeds)
    index.reload()
    index.close()
    assert len(seen) == 3  # the new export's three facts, not the index's hundreds


def test_an_incremental_reload_reads_the_runs_of_its_own_facts_only(tmp_path, monkeypatch):
    """The names' runs are read of the facts a reload adds and removes, not of every fact the
    index holds (that read grows with the corpus: seconds at a million facts)."""
    from store import entities
    from store.index import Index
    from store.overview import Names

    seeds = tmp_path / "seeds"
    followups().write_corpus(seeds, 20, seed=3)
    _settled(seeds)
    index = Index.open(tmp_path / "factbot.db", seeds, semantic=False)
    held = index.conn().execute("SELECT count(*) FROM fact_names").fetchone()[0]
    assert held > 100
    runs: list[int] = []
    real = Names.runs_of
    monkeypatch.setattr(Names, "runs_of", lambda self, i, words: (runs.append(i), real(self, i, words))[1])
    (seeds / "zz_new.txt").write_text(NEW, encoding="utf-8")
    _settled(seeds)
    index.reload()
    assert len(runs) == 3  # the new export's three facts
    assert index.conn().execute("SELECT name FROM entities WHERE key = 'zentrix'").fetchone() == ("Zentrix",)
    (seeds / "zz_new.txt").unlink()
    _settled(seeds)
    runs.clear()
    index.reload()
    assert len(runs) == 3
    assert index.conn().execute("SELECT name FROM entities WHERE key = 'zentrix'").fetchone() is None
    index.close()
