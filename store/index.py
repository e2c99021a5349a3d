"""The index of one SQLite database file: opening (building it when new), reloading, reading.

The pieces live in modules of their own: the file and its tables in store/schema.py, the seeds
folder in store/seeds.py, the reload (Reloader, its reports and errors) in store/reload.py, search
in store/search.py. The names other code imports from here are re-exported below.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Iterable

from store import groups
from store.model import ArticleInfo
from store.reload import (  # noqa: F401 (FileReport and the rest: re-exported)
    FileReport, ReloadBusy, ReloadFailed, ReloadRefused, ReloadReport, Reloader, _ReloadLock, learn_aliases,
)
from store.schema import INDEXES, SCHEMA_VERSION, connect, is_sqlite_file, schema_version, set_aside  # noqa: F401
from store.seeds import FINE_RACY_NS, RACY_NS, SeedFile, SeedFolder, is_seed_name  # noqa: F401 (re-exported)


class Index:
    """The index of one database file; safe to share between threads (a connection per thread)."""

    def __init__(self, db: Path | str, seeds: Path | str | None = None,
                 glossary: Iterable[Path | str] = (), aliases: Iterable[Path | str] = (),
                 related_words: bool = True, semantic: bool = True, workers: int | None = None):
        self.db_path = Path(db)
        self.seeds = Path(seeds) if seeds is not None else Path("seeds")
        # the user's own glossary and alias files, added to the shipped ones (store/lexicon.py)
        self.glossary_files = tuple(Path(p) for p in glossary)
        self.alias_files = tuple(Path(p) for p in aliases)
        self.related_words = related_words  # expand questions with store/data/related-words.txt
        self.semantic = semantic  # re-rank questions' candidates with wordllama (store/semantic.py)
        self.workers = workers  # a reload's parsing processes (Reloader; None: one per CPU)
        self._local = threading.local()
        self._searcher = None
        self._searcher_lock = threading.Lock()

    @classmethod
    def open(cls, db: Path | str, seeds: Path | str | None = None, progress=None,
             glossary: Iterable[Path | str] = (), aliases: Iterable[Path | str] = (),
             related_words: bool = True, semantic: bool = True, workers: int | None = None) -> "Index":
        """Open the index, building it from the seeds first when the database does not exist yet,
        and rebuilding it when another version of factbot wrote it (raises ReloadRefused when
        there is nothing to build from)."""
        index = cls(db, seeds, glossary=glossary, aliases=aliases, related_words=related_words,
                    semantic=semantic, workers=workers)
        if not index.db_path.exists() or index.schema_version() != SCHEMA_VERSION:
            index.reload(actor="startup", progress=progress)
        try:
            index.searcher().warm()
        except sqlite3.DatabaseError:
            if not is_sqlite_file(index.db_path):
                raise
            # damaged past its first pages (what a power cut can leave of an unsynced file)
            index.close()
            with _ReloadLock(index.db_path, wait=True):
                set_aside(index.db_path)
            index.reload(actor="startup", progress=progress)
            index.searcher().warm()
        return index

    # connections ---------------------------------------------------------------------------
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if not self.db_path.exists():
                raise FileNotFoundError(f"no index at {self.db_path}: run `factbot reload` first")
            conn = connect(self.db_path, readonly=True)
            self._local.conn = conn
        return conn

    def schema_version(self) -> str | None:
        """The schema version the database was written with (None when it holds no index or
        cannot be read: the reload then rebuilds it, sets a damaged file aside, or refuses)."""
        try:
            return schema_version(self.db_path)
        except sqlite3.DatabaseError:
            return None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # writing ------------------------------------------------------------------------------
    def reload(self, actor: str = "cli", wait: bool = True, progress=None, source=None) -> ReloadReport:
        """Re-read the seeds folder and the uploads kept beside the index (store.uploads.local_source),
        or `source` (a SeedFolder or alike, such as the corpus of record of store/corpus.py),
        unchanged files skipped by content hash, atomically."""
        if source is None and not self.db_path.exists():
            # a first build with nothing to build from is refused before the lock file is made, so
            # that it leaves nothing behind (the Reloader checks again, under the lock)
            from store.uploads import local_source

            first = local_source(self.seeds, self.db_path)
            if not first.files():
                raise ReloadRefused(first.why_empty() + "; no index was written")
        with _ReloadLock(self.db_path, wait):
            if source is None:
                from store.uploads import local_source

                source = local_source(self.seeds, self.db_path)
            return Reloader(self.db_path, source, actor, progress, workers=self.workers).run()

    # reading ------------------------------------------------------------------------------
    def searcher(self):
        if self._searcher is None:  # made once; no lock on the path every search takes
            from store.search import Searcher

            with self._searcher_lock:
                if self._searcher is None:
                    self._searcher = Searcher(self)
        return self._searcher

    def search(self, query: str, limit: int = 5, offset: int = 0, context=None):
        """A page of answers (store/search.py); `context`: a thread's (store/threads.py)."""
        return self.searcher().search(query, limit=limit, offset=offset, context=context)

    def counts(self) -> tuple[int, int]:
        return tuple(self.conn().execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM facts)").fetchone())

    def unique_facts(self) -> int:
        """Facts counting each group of near-duplicates (other outlets' reports) once."""
        return groups.unique_facts(self.conn())

    def sources(self) -> list[ArticleInfo]:
        rows = self.conn().execute(
            "SELECT a.title, a.source, a.published, a.file, count(f.id) FROM articles a"
            " LEFT JOIN facts f ON f.article_id = a.id GROUP BY a.id ORDER BY a.published DESC, a.id DESC")
        return [ArticleInfo(*row) for row in rows]

    def recent_titles(self, n: int = 5) -> list[str]:
        """The titles of the `n` newest articles."""
        return [r[0] for r in self.conn().execute(
            "SELECT title FROM articles ORDER BY published DESC, id DESC LIMIT ?", (n,))]

    def common_headings(self, n: int = 15, recent: int = 2000) -> list[str]:
        """The `n` section headings most used by the `recent` newest facts, most used first."""
        return [h for (h,) in self.conn().execute(
            "SELECT section FROM (SELECT section FROM facts ORDER BY id DESC LIMIT ?)"
            " GROUP BY section ORDER BY count(*) DESC LIMIT ?", (recent, n))]

    def reloads(self, limit: int = 20) -> list[dict]:
        """The audit trail, newest first."""
        cur = self.conn().execute("SELECT * FROM reloads ORDER BY id DESC LIMIT ?", (limit,))
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row)) for row in cur]
