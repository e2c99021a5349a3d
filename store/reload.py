"""A reload: the index brought in line with a source of seed files, in one write transaction.

Readers in other threads and processes see the old index until it commits, then the new one, never
a half-built one. Reloads are serialised by a lock file beside the database (`<db>.lock`), across
threads and processes.

- `Reloader`: lists the source, decides what changed, reads and parses (in worker processes when
  there is much to read, store/prepare.py), writes, derives the vocabulary and aliases, records
  the report in the audit trail;
- `_Changes`: what one reload changes, for the tables that follow from the facts (bulk or by delta);
- `_Batch`: the rows of parsed files on their way into the tables, with the facts' ids;
- `FileReport`, `ReloadReport` and the errors (`ReloadBusy`, `ReloadRefused`, `ReloadFailed`):
  what a reload tells its caller.
"""
from __future__ import annotations

import gc
import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from pathlib import Path

import sqlite_utils
from filelock import FileLock, Timeout

from store import groups, lexicon
from store import entities, vocab
from store.model import plural, utc_now
from store.prepare import PreparedFile, WorkerDied, fact_body, prepared_in_order, read_error, title_body
from store.schema import (
    SCHEMA_VERSION, connect, create_indexes, create_schema, drop_schema, is_sqlite_file, schema_version, set_aside,
)
from store.seeds import SeedFile, SeedFolder

OPTIMIZE_FACTS = 50_000  # merge the FTS5 segments into one after loading this many facts
BULK_SHARE = 0.25  # a reload changing more of the index rebuilds vocabulary and aliases whole
# FTS5 settings during a bulk load, and FTS5's defaults, put back when it ends: the segments are
# merged once, by the 'optimize' at the end, not also level by level while loading
BULK_FTS = {"automerge": (0, 4),  # no merging while loading: one merge at the end instead
            "crisismerge": (64, 16),  # nor the forced merge of every 16 segments of a level
            "hashsize": (4 << 20, 1 << 20)}  # a segment per write of FLUSH_FACTS rows, not several
FLUSH_FACTS = 20_000  # rows a reload collects before writing them
IDLE_FLUSH_FACTS = 2_000  # or as few as this, when it would otherwise wait for the next file parsed
ALIAS_SAMPLE = 20  # titles per English name that alias learning compares
PARALLEL_BYTES = 2 << 20  # a reload reading this much parses in worker processes (store/prepare.py)
WRITE_CACHE_KB = 32_768  # the reload's page cache: twice this was no faster at 1M facts, and 30 MB more memory
DAY_BITS = 12  # fact ids: day since 2000 << DAY_BITS | counter


class ReloadBusy(Exception):
    """Another reload holds the lock (raised only when not waiting for it)."""


class ReloadRefused(Exception):
    """A reload that would empty the index (no seed files at all, or every known file gone) was
    not run; the index is untouched. The message says why."""


class ReloadFailed(Exception):
    """A reload stopped before it was done (a worker process parsing the seeds died); it was rolled
    back, so the index is as it was. The message says why."""


@dataclass
class FileReport:
    path: str
    articles: int = 0
    facts: int = 0
    status: str = "loaded"  # loaded | unchanged | failed (removed files are in ReloadReport.removed)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"path": self.path, "articles": self.articles, "facts": self.facts,
                "status": self.status, "errors": list(self.errors)}


@dataclass
class ReloadReport:
    articles: int
    facts: int
    files: list[FileReport]
    took_ms: float = 0.0
    actor: str = "cli"
    removed: list[str] = field(default_factory=list)
    unique: int | None = None  # facts counting each group of near-duplicates once (store/groups.py)

    @property
    def ok(self) -> bool:
        return all(f.status != "failed" for f in self.files)

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    def to_json(self) -> dict:
        return {"articles": self.articles, "facts": self.facts,
                "unique_facts": self.facts if self.unique is None else self.unique,
                "files": [f.to_json() for f in self.files]}

    def summary(self) -> str:
        unique = self.facts if self.unique is None else self.unique
        parts = [f"{self.articles} articles, {self.facts} facts ({unique} unique) indexed",
                 f"{plural(self.count('loaded'), 'file')} loaded", f"{self.count('unchanged')} unchanged"]
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return "; ".join(parts) + f" ({self.took_ms / 1000:.2f} s)"

    def render(self) -> str:
        lines = [self.summary()]
        for f in self.files:
            if f.status == "failed":
                lines.append(f"FAILED {f.path}")
                lines.extend(f"  {e}" for e in f.errors)
        lines.extend(f"removed {p}" for p in self.removed)
        return "\n".join(lines)


_EPOCH = datetime(2000, 1, 1)


def _day(published: str) -> int:
    """Days from 2000-01-01 to an article's publication date (0 when unreadable or earlier)."""
    try:
        return max(0, (datetime.fromisoformat(published) - _EPOCH).days)
    except ValueError:
        return 0


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _ReloadLock:
    """An exclusive lock on `<db>.lock` across threads and processes (filelock's FileLock, an
    flock on POSIX); busy at once unless `wait` (True: as long as it takes; a number: that many
    seconds at most)."""

    def __init__(self, db: Path, wait: bool | float):
        self.path = Path(str(db) + ".lock")
        self.lock = FileLock(self.path, timeout=-1 if wait is True else float(wait or 0))

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.lock.acquire()
        except Timeout:
            raise ReloadBusy("a reload is already running") from None
        return self

    def __exit__(self, *exc):
        self.lock.release()


def default_workers() -> int:
    """The reload's worker processes when none are set: one per CPU this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Reloader:
    """Brings the index in line with a source of seed files, in one transaction."""

    def __init__(self, db_path: Path, seeds: Path | SeedFolder, actor: str, progress=None,
                 workers: int | None = None, parallel_bytes: int = PARALLEL_BYTES):
        self.db_path = db_path
        self.source = seeds if hasattr(seeds, "read") else SeedFolder(seeds)
        self.actor = actor
        self.progress = progress
        # worker processes that parse while this one writes (store/prepare.py), when the reload
        # reads at least `parallel_bytes`; None: one per CPU; 0: parse here
        self.workers = default_workers() if workers is None else workers
        self.parallel_bytes = parallel_bytes

    def run(self) -> ReloadReport:
        started = time.perf_counter()
        fresh = not self.db_path.exists()
        known, rebuild = ({}, True) if fresh else self._known()
        stamped = getattr(self.source, "stamped", None)
        listing = stamped() if stamped else [SeedFile(name, size, None) for name, size in self.source.files()]
        if rebuild and not fresh and known is None:  # a damaged index file, set aside below
            self._check(listing, {}, True)
            set_aside(self.db_path)
            fresh, known = True, {}
        self._check(listing, known, fresh)
        target = self.db_path.with_name(self.db_path.name + ".building") if fresh else self.db_path
        if fresh:
            target.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(target) + suffix).unlink(missing_ok=True)
        conn = connect(target)
        try:
            if fresh:
                conn.execute("PRAGMA journal_mode=OFF")
                conn.execute("PRAGMA synchronous=OFF")
            else:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA cache_size=-{WRITE_CACHE_KB}")
            db = sqlite_utils.Database(conn)
            if fresh:
                create_schema(db, indexes=False)
            report = self._apply(db, conn, started, listing, known, rebuild and not fresh, fresh)
            if fresh:
                conn.execute("PRAGMA journal_mode=WAL")
        finally:
            conn.close()
        if fresh:
            # the built file's bytes reach the disk before its name does, and the name after
            # the rename: a crash or power cut leaves no index or the whole one
            _fsync(target)
            for suffix in ("-wal", "-shm"):  # a stale log must not be replayed onto the new file
                Path(str(self.db_path) + suffix).unlink(missing_ok=True)
            os.replace(target, self.db_path)
            _fsync(self.db_path.parent)
        return report

    def _known(self) -> tuple[dict | None, bool]:
        """The files the index holds (path -> row), and whether it must be rebuilt whole (an index
        written by another version of factbot); (None, True) for a damaged SQLite file."""
        try:
            version = schema_version(self.db_path)
            if version != SCHEMA_VERSION:
                return {}, True
            conn = connect(self.db_path, readonly=True)
            conn.row_factory = sqlite3.Row
            try:
                return {row["path"]: row for row in conn.execute("SELECT * FROM files")}, False
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            if is_sqlite_file(self.db_path):
                return None, True
            raise ReloadRefused(f"{self.db_path} is not a factbot index ({exc}); move it away or choose"
                                " another database file") from None

    def _check(self, listing: list[SeedFile], known: dict, fresh: bool) -> None:
        """Refuse a reload that would empty the index: no seed files at all, or none of the files
        that hold its facts (a missing folder or an unmounted volume looks like that)."""
        if not listing:
            raise ReloadRefused(self.source.why_empty()
                                + ("; no index was written" if fresh else "; the index is unchanged"))
        holding = [name for name, row in known.items() if row["facts"]]
        names = {entry.name for entry in listing}
        if holding and not names.intersection(holding):
            raise ReloadRefused(
                f"every file the index holds ({len(holding)}) is missing from the seeds, so the reload"
                f" would remove them all; the index is unchanged (to start over from the new files,"
                f" delete {self.db_path} and reload)")

    def _unchanged_unread(self, row, entry: SeedFile) -> bool:
        """Whether the file is the one the index holds, known without reading it: by its stamp,
        or by the content hash a source that stores them gives (the corpus of record)."""
        if row is None or not row["hash"] or row["errors"] not in (None, "", "[]"):
            return False
        if entry.stamp and "stamp" in row.keys() and row["stamp"] == entry.stamp:
            return True
        stored_digest = getattr(self.source, "digest", None)
        return stored_digest is not None and row["hash"] == stored_digest(entry.name)

    def _scan(self, listing: list[SeedFile], known: dict, in_workers: bool = False):
        """A job per seed file, one file at a time: ((entry, size, report), args of
        store.prepare.prepare or None, bytes read). A file known to be unchanged is not read (report
        "unchanged"), nor is one that cannot be read (report "failed"); any other is read once,
        and the bytes read are the ones hashed and parsed (prepare skips the parse when their hash
        is the one stored for the file). `in_workers`: the worker process that parses a file
        reads it, where the source says where it is (SeedFolder.path)."""
        locate = getattr(self.source, "path", None) if in_workers else None
        for entry in listing:
            name = entry.name
            row = known.get(name)
            if self._unchanged_unread(row, entry):
                yield (entry, entry.size, FileReport(name, row["articles"], row["facts"], "unchanged")), None, 0
                continue
            clean = row["hash"] if row and row["errors"] in (None, "", "[]") else None
            if locate is not None:
                yield (entry, entry.size, None), (name, None, clean, locate(name)), entry.size
                continue
            try:
                data = self.source.read(name)
            except OSError as exc:  # what was indexed from it stays, as for any failed file
                yield (entry, entry.size, FileReport(
                    name, row["articles"] if row else 0, row["facts"] if row else 0, "failed",
                    [read_error(name, exc)])), None, 0
                continue
            yield (entry, len(data), None), (name, data, clean), len(data)

    # one reload, step by step ------------------------------------------------------------
    def _apply(self, db: sqlite_utils.Database, conn: sqlite3.Connection, started: float,
               listing: list[SeedFile], known: dict, rebuild: bool, fresh: bool = False) -> ReloadReport:
        removed = sorted(set(known) - {entry.name for entry in listing})
        changed = self._changed_bytes(listing, known)
        conn.execute("BEGIN IMMEDIATE")
        collecting = gc.isenabled()
        # a reload holds a great many rows, which the cyclic garbage collector would walk again and
        # again; it makes no cycles of its own (what it leaves is collected once it is back on)
        gc.disable()
        try:
            self._prepare(db, conn, rebuild, empty=fresh)
            changes = _Changes(conn, bulk=fresh or rebuild or self._much_changes(listing, known, removed, changed))
            for name in removed:
                _delete_file(conn, name, changes)
            try:
                reports, batch = self._load(conn, listing, known, changes, self._workers(changed))
            except WorkerDied as exc:
                raise ReloadFailed(f"{exc}; nothing was changed, the index is as it was") from None
            if fresh or rebuild:
                create_indexes(db)
            if rebuild or removed or batch.facts or any(r.status == "loaded" for r in reports.values()):
                self._derive(conn, changes, batch)
            changes.finish()
            report = self._record(conn, started, reports, removed)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            if collecting:
                gc.enable()
        if self.progress:
            self.progress.finish()
        return report

    @staticmethod
    def _prepare(db: sqlite_utils.Database, conn: sqlite3.Connection, rebuild: bool, empty: bool = False) -> None:
        """Start from an empty schema when rebuilding; otherwise add what a newer factbot added.
        Tables filled from empty (a rebuild, a new file: `empty`) get their indexes after the load."""
        if rebuild:
            # an index written by another version of factbot is rebuilt whole, in this same
            # transaction; the audit trail stays
            drop_schema(conn)
            create_schema(db, indexes=False)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (SCHEMA_VERSION,))
        else:
            create_schema(db, indexes=not empty)

    def _changed_bytes(self, listing: list[SeedFile], known: dict) -> int:
        """The bytes of the files a reload reads (those not known to be unchanged)."""
        return sum(entry.size for entry in listing if not self._unchanged_unread(known.get(entry.name), entry))

    def _much_changes(self, listing: list[SeedFile], known: dict, removed: list[str], changed: int) -> bool:
        """Whether a reload may change so much of the index (a quarter of its bytes or facts) that
        the vocabulary and aliases are cheaper rebuilt whole than moved by what changed."""
        total = sum(entry.size for entry in listing) or 1
        facts = sum(row["facts"] or 0 for row in known.values()) or 1
        gone = sum(known[name]["facts"] or 0 for name in removed)
        return changed > BULK_SHARE * total or gone > BULK_SHARE * facts

    def _workers(self, changed: int) -> int:
        """Worker processes for parsing `changed` bytes: none (0) unless there is enough to gain."""
        if self.workers < 1 or changed < self.parallel_bytes:
            return 0
        return self.workers

    def _load(self, conn: sqlite3.Connection, listing: list[SeedFile], known: dict, changes: "_Changes",
              workers: int = 0):
        """Parse and insert every changed file, in listing order (parsed by worker processes
        ahead of the one being written when there is much to read); (reports by name, the
        batch)."""
        total_bytes = sum(entry.size for entry in listing) or 1
        reports: dict[str, FileReport] = {}
        unreadable: list[str] = []
        batch = _Batch(conn, changes)
        done_bytes = 0
        jobs = prepared_in_order(self._scan(listing, known, in_workers=workers > 0), workers,
                                 idle=batch.flush_some)
        for (entry, size, report), prepared in jobs:
            name = entry.name
            row = known.get(name)
            done_bytes += size
            if prepared is not None and not prepared.unchanged:
                report = self._load_file(conn, entry, prepared, row, batch, changes)
            elif prepared is not None:
                report = FileReport(name, row["articles"], row["facts"], "unchanged")
            if report.status == "failed":
                if prepared is None:
                    unreadable.append(name)
            elif report.status == "unchanged" and entry.stamp and (
                    row is None or "stamp" not in row.keys() or row["stamp"] != entry.stamp):
                batch.restamp(name, entry.stamp)  # unchanged by its hash: stat it next time
            reports[name] = report
            if self.progress:
                self.progress.update(stage="index", files=len(reports), total_files=len(listing),
                                     done=done_bytes, total=total_bytes, facts=batch.facts)
        batch.flush()
        for name in unreadable:
            self._record_failure(conn, name, "", reports[name].errors, known)
        return reports, batch

    def _load_file(self, conn, entry: SeedFile, prepared: PreparedFile, row, batch: "_Batch",
                   changes: "_Changes") -> FileReport:
        """One changed file: its new facts replace its old ones, unless it fails where it had facts."""
        name, errors = entry.name, prepared.errors
        if not prepared.articles or (errors and row and row["hash"]):
            # keep what was indexed before (if anything) until the file is fixed or removed
            errors = errors or [f"{name}: no articles found"]
            self._record_failure(conn, name, prepared.hash, errors, {name: row} if row else {})
            return FileReport(name, row["articles"] if row else 0, row["facts"] if row else 0, "failed", errors)
        if row:
            batch.flush()  # files queued before it may hold its articles too
            _delete_file(conn, name, changes)
        n_facts = batch.add_file(prepared, entry.stamp)
        return FileReport(name, len(prepared.articles), n_facts, "failed" if errors else "loaded", errors)

    def _derive(self, conn: sqlite3.Connection, changes: "_Changes", batch: "_Batch") -> None:
        """The tables that follow from the facts: the FTS5 segments merged, vocabulary, aliases, entities."""
        if changes.bulk or batch.facts >= OPTIMIZE_FACTS:
            # first, so that the vocabulary of a rebuild is read from one merged segment
            if self.progress:
                self.progress.update(stage="optimizing")
            conn.execute("INSERT INTO facts_fts(facts_fts) VALUES ('optimize')")
        if self.progress:
            self.progress.update(stage="vocabulary")
        if changes.vocab is None:
            vocab.rebuild(conn)
        else:
            changes.vocab.apply()
        learn_aliases(conn, changes.names)
        if self.progress:
            self.progress.update(stage="duplicates")
        groups.regroup(conn, changes.buckets)
        entities.learn(conn, changes.entity_names, whole=changes.bulk)

    def _record(self, conn: sqlite3.Connection, started: float, reports: dict[str, FileReport],
                removed: list[str]) -> ReloadReport:
        """The report, and its line in the audit trail."""
        articles, facts = conn.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM facts)").fetchone()
        report = ReloadReport(articles, facts, [reports[k] for k in sorted(reports)],
                              actor=self.actor, removed=removed, unique=facts - groups.copies(conn))
        report.took_ms = (time.perf_counter() - started) * 1000
        conn.execute(
            "INSERT INTO reloads(at, actor, articles, facts, loaded, unchanged, failed, removed, errors, took_ms)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (utc_now(), self.actor, articles, facts, report.count("loaded"), report.count("unchanged"),
             len(report.failed), len(removed),
             json.dumps([e for f in report.failed for e in f.errors], ensure_ascii=False),
             round(report.took_ms, 1)))
        return report

    @staticmethod
    def _record_failure(conn, name: str, digest: str, errors: list[str], known: dict) -> None:
        text = json.dumps(errors, ensure_ascii=False)
        if name in known:
            conn.execute("UPDATE files SET failed_hash=?, errors=? WHERE path=?", (digest, text, name))
        else:
            conn.execute("INSERT OR REPLACE INTO files(path, hash, failed_hash, articles, facts, errors,"
                         " loaded_at) VALUES (?, NULL, ?, 0, 0, ?, ?)", (name, digest, text, utc_now()))


class _Changes:
    """What one reload changes, for the tables that follow from the facts. In bulk (a first build,
    a rebuild, or a quarter of the index changing) the vocabulary and aliases are rebuilt whole
    and FTS5 merges no segments until the single merge at the end; otherwise the vocabulary moves
    by the facts added and removed (store/vocab.py) and only the names whose alias evidence
    changed are learned again."""

    def __init__(self, conn: sqlite3.Connection, bulk: bool):
        self.conn = conn
        self.bulk = bulk
        self.vocab = None if bulk else vocab.VocabDelta(conn)
        self.names: set[str] | None = None if bulk else set()
        # the near-duplicate buckets of the facts added and removed (None: regroup every bucket)
        self.buckets: set[int] | None = None if bulk else set()
        # the name finder's counts, moved by the facts added and removed (None: rebuilt whole)
        self.entity_names = entities.NameDelta(conn, keep=not bulk)
        if bulk:
            for option, (value, _) in BULK_FTS.items():
                conn.execute("INSERT INTO facts_fts(facts_fts, rank) VALUES (?, ?)", (option, value))

    def finish(self) -> None:
        if self.bulk:
            for option, (_, default) in BULK_FTS.items():
                self.conn.execute("INSERT INTO facts_fts(facts_fts, rank) VALUES (?, ?)", (option, default))
        elif self.vocab is not None:
            self.vocab.close()


def _delete_file(conn: sqlite3.Connection, name: str, changes: _Changes) -> None:
    """Forget a file: the articles no other file holds go with their facts (out of FTS5, which
    needs their bodies, and out of the vocabulary and alias evidence); the others stay, naming one
    of the files that still holds them."""
    aids = [a for (a,) in conn.execute("SELECT article_id FROM article_files WHERE file = ?", (name,))]
    conn.execute("DELETE FROM article_files WHERE file = ?", (name,))
    gone = []
    for aid in aids:
        other = conn.execute("SELECT file, line FROM article_files WHERE article_id = ? ORDER BY file LIMIT 1",
                             (aid,)).fetchone()
        if other is None:
            gone.append(aid)
        else:
            conn.execute("UPDATE articles SET file = ?, line = ? WHERE id = ? AND file = ?", (*other, aid, name))
    for start in range(0, len(gone), 500):
        chunk = gone[start:start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT f.id, f.text, f.section, a.title, a.source, a.id FROM facts f"
            f" JOIN articles a ON a.id = f.article_id WHERE a.id IN ({marks})", chunk).fetchall()
        bodies: dict[int, str] = {}
        deletes = []
        for fid, text, section, title, source, aid in rows:
            tb = bodies.get(aid) or bodies.setdefault(aid, title_body(title, source))
            deletes.append((fid, fact_body(text, section, tb)))
        conn.executemany("INSERT INTO facts_fts(facts_fts, rowid, body) VALUES ('delete', ?, ?)", deletes)
        if changes.vocab is not None:
            changes.vocab.remove(deletes)
        if changes.entity_names is not None:
            changes.entity_names.remove((row[0], row[1]) for row in rows)
        if changes.names is not None:
            changes.names.update(english for (english,) in conn.execute(
                f"SELECT english FROM alias_evidence WHERE article_id IN ({marks})", chunk))
        if changes.buckets is not None:
            changes.buckets.update(b for (b,) in conn.execute(
                f"SELECT bucket FROM facts WHERE article_id IN ({marks}) AND bucket IS NOT NULL", chunk))
        for table, column in (("facts", "article_id"), ("alias_evidence", "article_id"), ("articles", "id")):
            conn.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk)
    conn.execute("DELETE FROM files WHERE path = ?", (name,))


class _Batch:
    """Rows of parsed files on their way into the tables, written every few thousand facts."""

    def __init__(self, conn: sqlite3.Connection, changes: _Changes):
        self.conn = conn
        self.changes = changes
        self.next_article = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM articles").fetchone()[0]
        self.empty = conn.execute("SELECT count(*) FROM (SELECT 1 FROM facts LIMIT 1)").fetchone()[0] == 0
        self.next_in_bucket: dict[int, int] = {}
        self.facts = 0
        self.a_rows: list[tuple] = []
        self.f_rows: list[tuple] = []
        self.fts_rows: list[tuple] = []
        self.evidence: list[tuple] = []
        self.files: list[tuple] = []
        self.stamps: list[tuple] = []
        self.links: list[tuple] = []  # article_files rows
        self.added: dict[tuple[str, str, str, str], int] = {}  # article_key -> id, this reload

    def known_article(self, key: tuple[str, str, str, str]) -> int | None:
        """The id of the article indexed with this key (title, source, publish time and a digest
        of the facts: two exports of one article agree on all four, and a version whose facts
        differ is kept as well, so that nothing is lost), if there is one."""
        aid = self.added.get(key)
        if aid is None and not self.empty:
            row = self.conn.execute("SELECT id FROM articles WHERE title = ? AND source = ? AND published = ?"
                                    " AND digest = ?", key).fetchone()
            aid = row[0] if row else None
        return aid

    def add_file(self, prepared: PreparedFile, stamp: str | None = None) -> int:
        """Queue a parsed file's articles; one already indexed (from another file, or earlier in
        this one) only records that this file holds it too. Returns the file's facts."""
        name = prepared.name
        sections, texts, citations, bodies = prepared.columns()
        buckets = prepared.bucket_column()
        names = prepared.names_column()
        at = 0  # the article's first fact in the columns
        for number, article in enumerate(prepared.articles):
            n, start = article.facts, at
            at += n
            key = article.key
            aid = self.known_article(key)
            self.links.append((aid if aid is not None else self.next_article, name, article.line))
            if aid is not None:
                continue
            aid = self.next_article
            self.next_article += 1
            self.added[key] = aid
            self.a_rows.append((aid, article.file, article.line, article.title, article.source,
                                article.published, article.page, article.digest))
            ids = self.fact_ids(article.published, n)
            # the rows are zipped from the columns (no Python loop per fact)
            self.f_rows.extend(zip(ids, repeat(aid, n), range(n), sections[start:at], texts[start:at],
                                   citations[start:at], buckets[start:at]))
            if self.changes.buckets is not None:
                self.changes.buckets.update(b for b in buckets[start:at] if b is not None)
            self.fts_rows.extend(zip(ids, bodies[start:at]))
            self.changes.entity_names.add_read(ids, names[start:at], prepared.name_counts[number])
            self.facts += n
            if article.english:
                self.evidence.append((aid, article.english, article.title))
        self.files.append((name, prepared.hash, None, len(prepared.articles), at,
                           json.dumps(prepared.errors, ensure_ascii=False), utc_now(), stamp))
        if len(self.f_rows) >= FLUSH_FACTS:
            self.flush()
        return at

    def restamp(self, name: str, stamp: str) -> None:
        self.stamps.append((stamp, name))

    def fact_ids(self, published: str, count: int) -> range:
        """Ids for an article's facts that grow with its publication date: the day since 2000,
        shifted left by 12 bits, plus a counter (a full day spills into the next), so that FTS5's
        rowid order, which the search walks backwards, is newest first, across reloads too, and
        ids stay dense enough for FTS5's delta-encoded doclists."""
        bucket = _day(published)
        while True:
            start = self.next_in_bucket.get(bucket)
            if start is None:
                start = bucket << DAY_BITS
                if not self.empty:
                    start = self.conn.execute(
                        "SELECT coalesce(max(id) + 1, ?) FROM facts WHERE id >= ? AND id < ?",
                        (start, start, (bucket + 1) << DAY_BITS)).fetchone()[0]
            if start + count <= (bucket + 1) << DAY_BITS:
                self.next_in_bucket[bucket] = start + count
                return range(start, start + count)
            self.next_in_bucket[bucket] = (bucket + 1) << DAY_BITS
            bucket += 1

    def flush_some(self) -> None:
        """Write the rows collected so far, if there are enough to make an FTS5 segment worth
        writing (called while the reload would otherwise wait for the next file to be parsed)."""
        if len(self.f_rows) >= IDLE_FLUSH_FACTS:
            self.flush()

    def flush(self) -> None:
        c = self.conn
        self.f_rows.sort()  # in id order: neighbouring rows of the facts table are written together
        c.executemany("INSERT INTO articles(id, file, line, title, source, published, page, digest)"
                      " VALUES (?,?,?,?,?,?,?,?)", self.a_rows)
        c.executemany("INSERT INTO facts(id, article_id, position, section, text, citations, bucket)"
                      " VALUES (?,?,?,?,?,?,?)", self.f_rows)
        # FTS5 writes a new segment whenever a rowid is lower than the one before: sort them
        self.fts_rows.sort()
        c.executemany("INSERT INTO facts_fts(rowid, body) VALUES (?, ?)", self.fts_rows)
        if self.changes.vocab is not None:
            self.changes.vocab.add(self.fts_rows)
        self.changes.entity_names.flush()
        c.executemany("INSERT INTO alias_evidence(article_id, english, title) VALUES (?,?,?)", self.evidence)
        if self.changes.names is not None:
            self.changes.names.update(english for _, english, _ in self.evidence)
        c.executemany("INSERT OR IGNORE INTO article_files(article_id, file, line) VALUES (?,?,?)", self.links)
        c.executemany("INSERT OR REPLACE INTO files(path, hash, failed_hash, articles, facts, errors, loaded_at,"
                      " stamp) VALUES (?,?,?,?,?,?,?,?)", self.files)
        c.executemany("UPDATE files SET stamp = ? WHERE path = ?", self.stamps)
        self.a_rows, self.f_rows, self.fts_rows, self.evidence, self.files = [], [], [], [], []
        self.links, self.stamps = [], []


def learn_aliases(conn: sqlite3.Connection, names: set[str] | None = None) -> None:
    """The aliases table from the evidence the reload kept (store.lexicon.learn_aliases decides).
    `names`: learn only these English names again (the ones whose evidence a reload changed);
    None: all."""
    if names is None:
        conn.execute("DELETE FROM aliases")
        evidence = conn.execute("SELECT english, title FROM alias_evidence ORDER BY article_id")
    else:
        if not names:
            return
        conn.executemany("DELETE FROM aliases WHERE english = ?", [(n,) for n in names])
        evidence = (row for n in sorted(names) for row in conn.execute(
            "SELECT english, title FROM alias_evidence WHERE english = ? ORDER BY article_id LIMIT ?",
            (n, ALIAS_SAMPLE)))
    rows = lexicon.learn_aliases(evidence)
    conn.executemany("INSERT OR REPLACE INTO aliases(cjk, english, articles) VALUES (?,?,?)", rows)
