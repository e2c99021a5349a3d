"""One replica of several: a local SQLite index that follows the corpus of record in PostgreSQL.

    replica = Replica(Index("factbot.db", seeds="seeds"), State.open(url), seeds="seeds")
    replica.start()                      # follows the corpus version in a thread
    replica.wait_ready(timeout=60)       # the local index exists and can answer
    replica.search("ipo seres")          # the Index's reading methods, from the local file
    replica.reload(actor="slack:U123")   # this process's seeds folder -> the corpus -> every replica

Following: a thread LISTENs on `factbot_corpus` (store/corpus.py NOTIFYs each new version) and
also polls every `poll` seconds, the fallback for a lost notification or connection. When the
corpus version is newer than the one its index holds, the replica brings the index up to it with
the store's Reloader reading from the corpus (unchanged files skipped by hash, without fetching
their bytes), in one SQLite write transaction: searches answer from the old version until it
commits, then from the new one. A replica that starts with no index builds it before it is ready;
when the shared corpus is still empty, the first replica imports its own seeds folder, as a
reload by `startup`.

PostgreSQL down: searches keep answering from the local index; a reload raises StateUnavailable
(nothing is changed); the thread logs the outage once, retries every `poll` seconds, and follows
again as soon as PostgreSQL is back, with no restart.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from store.corpus import LOCK_WAIT, CHANNEL, CorpusSource, current_version, folder_id, publish
from store.index import Index, ReloadReport, SeedFolder
from store.state import State, StateError, StateUnavailable, is_connection_error, unavailable

log = logging.getLogger("factbot.replica")


class Replica:
    """An Index for reading, the shared corpus for reloads; safe to share between threads."""

    def __init__(self, index: Index, state: State, seeds: Path | str, poll: float = 2.0, folder: str | None = None,
                 lock_wait: float = LOCK_WAIT):
        self.index = index
        self.state = state
        self.seeds = Path(seeds)
        self.poll = poll
        self.folder = folder_id(self.seeds, folder)  # this seeds folder's identity in the corpus
        self.lock_wait = lock_wait  # seconds a reload waits for another one's lock before "busy"
        self.version: int | None = None  # the corpus version the local index holds (None: not known yet)
        self._ready = threading.Event()
        self._sync_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._prepared = False
        self._warmed = False
        if index.db_path.exists():  # answer at once from what is there; the thread brings it up to date
            self._ready.set()

    # -- what Factbot reads: the local index --

    # A replica reads as its local Index does, and offers exactly these of its methods (a reload
    # goes through the corpus, below; the Index's own reload is the replica's to call).
    @property
    def db_path(self) -> Path:
        return self.index.db_path

    @property
    def semantic(self) -> bool:
        return self.index.semantic

    def search(self, query: str, limit: int = 5, offset: int = 0, context=None):
        return self.index.search(query, limit=limit, offset=offset, context=context)

    def searcher(self):
        return self.index.searcher()

    def counts(self) -> tuple[int, int]:
        return self.index.counts()

    def unique_facts(self) -> int:
        return self.index.unique_facts()

    def sources(self):
        return self.index.sources()

    def recent_titles(self, n: int = 5) -> list[str]:
        return self.index.recent_titles(n)

    def common_headings(self, n: int = 15, recent: int = 2000) -> list[str]:
        return self.index.common_headings(n, recent)

    def close(self) -> None:
        self.index.close()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def status(self) -> dict:
        return {"ready": self.ready, "version": self.version}

    def reloads(self, limit: int = 20) -> list[dict]:
        return self.state.reloads(limit)

    # -- reloads --

    def reload(self, actor: str = "cli", wait: bool = True, progress: Any = None) -> ReloadReport:
        """This process's seeds folder into the corpus (its files read and parsed before the lock;
        `wait`: the lock waited for at most `lock_wait` seconds), then the local index to the new version.

        Raises ReloadBusy (another replica is reloading), ReloadRefused (the reload would empty the
        corpus) or StateUnavailable (PostgreSQL does not answer); in each case nothing changed.
        """
        started = time.perf_counter()
        self._prepare()
        published = publish(self.state, SeedFolder(self.seeds), actor, wait=wait, folder=self.folder,
                            lock_wait=self.lock_wait)
        self.sync(progress=progress)
        articles, facts = self.index.counts()
        report = ReloadReport(articles, facts, published.files, actor=actor, removed=published.removed,
                              unique=self.index.unique_facts())
        report.took_ms = (time.perf_counter() - started) * 1000
        try:
            self.state.record_reload(report, version=published.version)
        except StateUnavailable as exc:  # the reload itself is done; only its audit row is missing
            log.warning("reload by %s: audit row not written: %s", actor, exc)
        return report

    def _prepare(self) -> None:
        if not self._prepared:
            self.state.prepare()
            self._prepared = True

    def sync(self, progress: Any = None) -> int:
        """Bring the local index up to the newest corpus version; that version."""
        with self._sync_lock:
            self._prepare()
            if self.version is not None and self.index.db_path.exists() and current_version(self.state) == self.version:
                return self.version  # the poll's usual case: one small query, no listing
            source = CorpusSource(self.state)
            imported = None
            if source.version == 0:  # nothing imported yet: the first replica imports its seeds folder
                started = time.perf_counter()
                imported = publish(self.state, SeedFolder(self.seeds), "startup", wait=True, only_if_empty=True,
                                   folder=self.folder, lock_wait=3600.0)
                source = CorpusSource(self.state)
            if source.version != self.version or not self.index.db_path.exists():
                before = self.version
                report = self.index.reload(actor=f"corpus:v{source.version}", wait=True, progress=progress,
                                           source=source)
                self.version = source.version
                log.info("index at corpus version %s (was %s): %s", source.version, before, report.summary())
            if imported is not None and imported.changed:  # audited as a reload by startup
                articles, facts = self.index.counts()
                report = ReloadReport(articles, facts, imported.files, actor="startup", unique=self.index.unique_facts())
                report.took_ms = (time.perf_counter() - started) * 1000
                self.state.record_reload(report, version=imported.version)
            if not self._warmed:  # the vocabulary in memory before the first question, as Index.open does
                self.index.searcher().warm()
                self._warmed = True
            self._ready.set()
            return self.version

    # -- following --

    def start(self) -> "Replica":
        if self._thread is None:
            self._thread = threading.Thread(target=self._follow, name="factbot-follow", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _listen(self):
        """A connection of its own (detached from the pool) that LISTENs for new versions."""
        raw = self.state.engine.raw_connection()
        driver = raw.driver_connection  # psycopg.Connection
        raw.detach()  # closing it closes it, rather than giving a listening connection back to the pool
        driver.autocommit = True
        driver.execute(f"LISTEN {CHANNEL}")
        return driver

    def _follow(self) -> None:
        listener = None
        down_since: float | None = None
        while not self._stop.is_set():
            try:
                if listener is None and self.state.shared:
                    listener = self._listen()
                self.sync()
                if down_since is not None:
                    log.warning("PostgreSQL is reachable again (after %.0f s): following the corpus", time.monotonic() - down_since)
                    down_since = None
                self._wait(listener)
            except Exception as exc:  # noqa: BLE001 - the thread must outlive every outage
                if listener is not None:
                    try:
                        listener.close()
                    except Exception:  # noqa: BLE001
                        pass
                    listener = None
                reason = exc if isinstance(exc, StateError) else (
                    unavailable(exc) if _connection_error(exc) else exc)
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning("cannot follow the corpus: %s (retrying every %s s; searches answer from the"
                                " local index)", reason if isinstance(reason, StateError) else f"{type(exc).__name__}: {exc}",
                                self.poll)
                self._stop.wait(self.poll)
        if listener is not None:
            listener.close()


    def _wait(self, listener) -> None:
        """Until a notification arrives, `poll` seconds pass, or stop() is called."""
        deadline = time.monotonic() + self.poll
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if listener is None:
                self._stop.wait(min(left, 0.5))
                continue
            if any(True for _ in listener.notifies(timeout=min(left, 0.5), stop_after=1)):
                return


def _connection_error(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError):
        return is_connection_error(exc)
    try:
        import psycopg

        return isinstance(exc, psycopg.OperationalError)
    except ImportError:  # pragma: no cover
        return False
