"""The SQLite index: files, articles and facts tables, an FTS5 table over the facts, reloads.

Layout (one SQLite file, WAL mode):

    files     path, content hash, counts, errors of its last parse
    articles  title, source, published, page, file, line, digest of its facts (one row per article,
              however many files export it: same title, source, publish time and facts; `file` is
              one of those files)
    article_files  every file an article was found in (article, file, line); an article goes
              when the last file holding it does
    facts     article, position, section, text, citations (JSON list)
    facts_fts FTS5, contentless, detail=none: one column holding the fact's text, section heading,
              article title and source as `store.text.index_text` writes them (Chinese as bigrams)
    vocab     every index word with the number of facts holding it (typo correction, weights)
    aliases   Chinese/English name pairs learned from the seeds
    reloads   the audit trail: who reloaded, when, what changed, what failed

A reload is one write transaction: readers in other threads and processes see the old index until
it commits, then the new one, never a half-built one. Reloads are serialised by a lock file beside
the database (`<db>.lock`), across threads and processes.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import sqlite_utils
from filelock import FileLock, Timeout

from store import lexicon
from store.model import Article, ArticleInfo, ParseResult
from store.parse import parse_bytes
from store.text import CJK_RE, index_text

SCHEMA_VERSION = "3"  # the FTS5 body format (3: traditional Chinese indexed as simplified); an index of another version is rebuilt
OPTIMIZE_FACTS = 50_000  # merge the FTS5 segments into one after loading this many facts
DAY_BITS = 12  # fact ids: day since 2000 << DAY_BITS | counter
FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS facts_fts USING fts5("
    "body, content='', columnsize=0, detail=none, tokenize='unicode61 remove_diacritics 2')"
)


class ReloadBusy(Exception):
    """Another reload holds the lock (raised only when not waiting for it)."""


class ReloadRefused(Exception):
    """A reload that would empty the index (no seed files at all, or every known file gone) was
    not run; the index is untouched. The message says why."""


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
                "files": [f.to_json() for f in self.files]}

    def summary(self) -> str:
        parts = [f"{self.articles} articles, {self.facts} facts indexed",
                 f"{self.count('loaded')} files loaded", f"{self.count('unchanged')} unchanged"]
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


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SeedFolder:
    """The seed files a reload reads: every regular file below a folder, hidden files and hidden
    folders left out, named by their path relative to it. A reload uses only `files()`, `read()`
    and `why_empty()` (and `digest(name)`, the content hash, where a source knows it without
    reading the file), so another source of seed files can take this one's place."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def files(self) -> list[tuple[str, int]]:
        """(name, size in bytes) of every seed file, sorted by name."""
        if not self.root.is_dir():
            return []
        out = []
        for root, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for f in sorted(files):
                if f.startswith("."):
                    continue
                path = Path(root, f)
                try:
                    size = path.stat().st_size
                except OSError:  # reading it will say what is wrong
                    size = 0
                out.append((path.relative_to(self.root).as_posix(), size))
        return sorted(out)

    def read(self, name: str) -> bytes:
        """A seed file's content (raises OSError when it cannot be read)."""
        return (self.root / name).read_bytes()

    def why_empty(self) -> str:
        if not self.root.is_dir():
            return f"found no seed files in {self.root}: the folder does not exist"
        return f"found no seed files in {self.root}: the folder is empty"


def connect(path: Path | str, readonly: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    if readonly:
        conn.execute("PRAGMA query_only=1")
    conn.execute("PRAGMA cache_size=-65536")
    return conn


TABLES = {  # name -> (columns, primary key); `reloads` survives a rebuild
    "files": ({"path": str, "hash": str, "failed_hash": str, "articles": int, "facts": int,
               "errors": str, "loaded_at": str}, "path"),
    "articles": ({"id": int, "file": str, "line": int, "title": str, "source": str, "published": str,
                  "page": str, "digest": str}, "id"),
    "article_files": ({"article_id": int, "file": str, "line": int}, ("article_id", "file")),
    "facts": ({"id": int, "article_id": int, "position": int, "section": str, "text": str,
               "citations": str}, "id"),
    "vocab": ({"term": str, "df": int}, "term"),
    "aliases": ({"cjk": str, "english": str, "articles": int}, ("cjk", "english")),
    "alias_evidence": ({"article_id": int, "english": str, "title": str}, "article_id"),
    "reloads": ({"id": int, "at": str, "actor": str, "articles": int, "facts": int, "loaded": int,
                 "unchanged": int, "failed": int, "removed": int, "errors": str, "took_ms": float}, "id"),
    "meta": ({"key": str, "value": str}, "key"),
}
INDEXES = {"articles": [["file"], ["title", "source", "published"]], "article_files": [["file"]],
           "facts": [["article_id"]]}
VIRTUAL = ("facts_terms", "facts_fts")  # dropped in this order


def create_schema(db: sqlite_utils.Database) -> None:
    """Create what is missing (every table on a new file; on a rebuild all but `reloads`, whose
    missing columns are added)."""
    existing = set(db.table_names())
    for name, (columns, pk) in TABLES.items():
        if name not in existing:
            db[name].create(columns, pk=pk)
            for columns_ in INDEXES.get(name, ()):
                db[name].create_index(columns_)
        elif name == "reloads":
            have = {c.name for c in db[name].columns}
            for column, kind in columns.items():
                if column not in have:
                    db[name].add_column(column, kind)
    if db.execute("SELECT 1 FROM meta WHERE key = 'schema'").fetchone() is None:
        db["meta"].insert({"key": "schema", "value": SCHEMA_VERSION})
    db.execute(FTS_DDL)
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS facts_terms USING fts5vocab(facts_fts, row)")


def drop_schema(conn: sqlite3.Connection) -> None:
    """Drop every table of factbot's but the audit trail (a rebuild, inside its transaction)."""
    for name in VIRTUAL + tuple(t for t in TABLES if t != "reloads"):
        conn.execute(f"DROP TABLE IF EXISTS {name}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_sqlite_file(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def set_aside(path: Path) -> Path:
    """Move a damaged index file (and its log) to `<db>.corrupt`, so that it can be rebuilt and
    nothing is deleted."""
    aside = Path(str(path) + ".corrupt")
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(path) + suffix)
        if source.exists():
            os.replace(source, Path(str(aside) + suffix))
    return aside


def schema_version(path: Path) -> str | None:
    """The schema version an index file was written with (None: no factbot index in it)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        return row[0] if row else None
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    finally:
        conn.close()


def fact_body(text: str, section: str, title_body: str) -> str:
    return f"{index_text(text)}\n{index_text(section)}\n{title_body}"


def title_body(title: str, source: str) -> str:
    return f"{index_text(title)}\n{index_text(source)}"


class _ReloadLock:
    """An exclusive lock on `<db>.lock` across threads and processes (filelock's FileLock, an
    flock on POSIX); busy at once unless `wait`."""

    def __init__(self, db: Path, wait: bool):
        self.path = Path(str(db) + ".lock")
        self.lock = FileLock(self.path, timeout=-1 if wait else 0)

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.lock.acquire()
        except Timeout:
            raise ReloadBusy("a reload is already running") from None
        return self

    def __exit__(self, *exc):
        self.lock.release()


class Reloader:
    """Brings the index in line with a source of seed files, in one transaction."""

    def __init__(self, db_path: Path, seeds: Path | SeedFolder, actor: str, progress=None):
        self.db_path = db_path
        self.source = seeds if hasattr(seeds, "read") else SeedFolder(seeds)
        self.actor = actor
        self.progress = progress

    def run(self) -> ReloadReport:
        started = time.perf_counter()
        fresh = not self.db_path.exists()
        known, rebuild = ({}, True) if fresh else self._known()
        listing = self.source.files()
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
            conn.execute("PRAGMA cache_size=-262144")
            db = sqlite_utils.Database(conn)
            if fresh:
                create_schema(db)
            report = self._apply(db, conn, started, listing, known, rebuild and not fresh)
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

    def _check(self, listing: list[tuple[str, int]], known: dict, fresh: bool) -> None:
        """Refuse a reload that would empty the index: no seed files at all, or none of the files
        that hold its facts (a missing folder or an unmounted volume looks like that)."""
        if not listing:
            raise ReloadRefused(self.source.why_empty()
                                + ("; no index was written" if fresh else "; the index is unchanged"))
        holding = [name for name, row in known.items() if row["facts"]]
        names = {name for name, _ in listing}
        if holding and not names.intersection(holding):
            raise ReloadRefused(
                f"every file the index holds ({len(holding)}) is missing from the seeds, so the reload"
                f" would remove them all; the index is unchanged (to start over from the new files,"
                f" delete {self.db_path} and reload)")

    def _scan(self, listing: list[tuple[str, int]], known: dict):
        """(name, size, bytes or None, FileReport or None) per seed file, one file at a time: the
        content is read once, hashed, and handed on to be parsed unless the file is unchanged
        (then the report says so) or cannot be read (then it is reported as failed)."""
        stored_digest = getattr(self.source, "digest", None)  # a source that knows its hashes (the corpus)
        for name, size in listing:
            row = known.get(name)
            if (row and stored_digest is not None and row["hash"] == stored_digest(name)
                    and not json.loads(row["errors"] or "[]")):
                yield name, size, None, FileReport(name, row["articles"], row["facts"], "unchanged")
                continue  # unchanged, and not even read
            try:
                data = self.source.read(name)
            except OSError as exc:  # what was indexed from it stays, as for any failed file
                yield name, size, None, FileReport(
                    name, row["articles"] if row else 0, row["facts"] if row else 0, "failed",
                    [f"{name}: cannot read file: {exc.strerror or exc}"])
                continue
            digest = hashlib.blake2b(data, digest_size=16).hexdigest()
            if row and row["hash"] == digest and not json.loads(row["errors"] or "[]"):
                yield name, len(data), None, FileReport(name, row["articles"], row["facts"], "unchanged")
            else:
                yield name, len(data), (digest, data), None

    def _apply(self, db: sqlite_utils.Database, conn: sqlite3.Connection, started: float,
               listing: list[tuple[str, int]], known: dict, rebuild: bool) -> ReloadReport:
        seen = {name for name, _ in listing}
        removed = sorted(set(known) - seen)
        total_bytes = sum(size for _, size in listing) or 1
        reports: dict[str, FileReport] = {}
        unreadable: list[str] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            if rebuild:
                # an index written by another version of factbot is rebuilt whole, in this same
                # transaction; the audit trail stays
                drop_schema(conn)
                create_schema(db)
                conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (SCHEMA_VERSION,))
            for name in removed:
                self._delete_file(conn, name)
            batch = _Batch(conn)
            done_bytes = 0
            for name, size, content, report in self._scan(listing, known):
                done_bytes += size
                if report is not None:
                    reports[name] = report
                    if report.status == "failed":
                        unreadable.append(name)
                    continue
                digest, data = content
                result = parse_bytes(data, name)
                row = known.get(name)
                errors = [str(e) for e in result.errors]
                if not result.articles or (errors and row and row["hash"]):
                    # keep what was indexed before (if anything) until the file is fixed or removed
                    errors = errors or [f"{name}: no articles found"]
                    reports[name] = FileReport(name, row["articles"] if row else 0,
                                               row["facts"] if row else 0, "failed", errors)
                    self._record_failure(conn, name, digest, errors, known)
                else:
                    if row:
                        batch.flush()  # files queued before it may hold its articles too
                        self._delete_file(conn, name)
                    n_facts = batch.add_file(name, digest, result)
                    reports[name] = FileReport(name, len(result.articles), n_facts,
                                               "failed" if errors else "loaded", errors)
                if self.progress:
                    self.progress.update(stage="index", files=len(reports), total_files=len(seen),
                                         done=done_bytes, total=total_bytes, facts=batch.facts)
            batch.flush()
            for name in unreadable:
                self._record_failure(conn, name, "", reports[name].errors, known)
            if rebuild or removed or batch.facts or any(r.status == "loaded" for r in reports.values()):
                if self.progress:
                    self.progress.update(stage="vocabulary")
                refresh_vocab(conn)
                learn_aliases(conn)
                if batch.facts >= OPTIMIZE_FACTS:
                    if self.progress:
                        self.progress.update(stage="optimizing")
                    conn.execute("INSERT INTO facts_fts(facts_fts) VALUES ('optimize')")
            articles, facts = conn.execute(
                "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM facts)").fetchone()
            report = ReloadReport(articles, facts, [reports[k] for k in sorted(reports)],
                                  actor=self.actor, removed=removed)
            report.took_ms = (time.perf_counter() - started) * 1000
            conn.execute(
                "INSERT INTO reloads(at, actor, articles, facts, loaded, unchanged, failed, removed, errors, took_ms)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                (_now(), self.actor, articles, facts, report.count("loaded"), report.count("unchanged"),
                 len(report.failed), len(removed),
                 json.dumps([e for f in report.failed for e in f.errors], ensure_ascii=False),
                 round(report.took_ms, 1)))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if self.progress:
            self.progress.finish()
        return report

    @staticmethod
    def _record_failure(conn, name: str, digest: str, errors: list[str], known: dict) -> None:
        text = json.dumps(errors, ensure_ascii=False)
        if name in known:
            conn.execute("UPDATE files SET failed_hash=?, errors=? WHERE path=?", (digest, text, name))
        else:
            conn.execute("INSERT OR REPLACE INTO files(path, hash, failed_hash, articles, facts, errors,"
                         " loaded_at) VALUES (?, NULL, ?, 0, 0, ?, ?)", (name, digest, text, _now()))

    def _delete_file(self, conn: sqlite3.Connection, name: str) -> None:
        """Forget a file: the articles no other file holds go with their facts; the others stay,
        naming one of the files that still holds them."""
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
                deletes.append(("delete", fid, fact_body(text, section, tb)))
            conn.executemany("INSERT INTO facts_fts(facts_fts, rowid, body) VALUES (?, ?, ?)", deletes)
            for table, column in (("facts", "article_id"), ("alias_evidence", "article_id"), ("articles", "id")):
                conn.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk)
        conn.execute("DELETE FROM files WHERE path = ?", (name,))


class _Batch:
    """Rows of parsed files on their way into the tables, written every few thousand facts."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.next_article = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM articles").fetchone()[0]
        self.empty = conn.execute("SELECT count(*) FROM (SELECT 1 FROM facts LIMIT 1)").fetchone()[0] == 0
        self.next_in_bucket: dict[int, int] = {}
        self.facts = 0
        self.a_rows: list[tuple] = []
        self.f_rows: list[tuple] = []
        self.fts_rows: list[tuple] = []
        self.evidence: list[tuple] = []
        self.files: list[tuple] = []
        self.links: list[tuple] = []  # article_files rows
        self.added: dict[tuple[str, str, str, str], int] = {}  # article_key -> id, this reload

    @staticmethod
    def article_key(article: Article) -> tuple[str, str, str, str]:
        """Title, source, publish time and a digest of the facts: two exports of one article agree
        on all four (a version whose facts differ is kept as well, so that nothing is lost)."""
        facts = json.dumps([(f.section, f.text, f.citations) for f in article.facts], ensure_ascii=False)
        return (article.title, article.source, article.published,
                hashlib.blake2b(facts.encode("utf-8"), digest_size=12).hexdigest())

    def known_article(self, key: tuple[str, str, str, str]) -> int | None:
        """The id of the article indexed with this key, if there is one."""
        aid = self.added.get(key)
        if aid is None and not self.empty:
            row = self.conn.execute("SELECT id FROM articles WHERE title = ? AND source = ? AND published = ?"
                                    " AND digest = ?", key).fetchone()
            aid = row[0] if row else None
        return aid

    def add_file(self, name: str, digest: str, result: ParseResult) -> int:
        """Queue a parsed file's articles; one already indexed (from another file, or earlier in
        this one) only records that this file holds it too. Returns the file's facts."""
        n_facts = 0
        for article in result.articles:
            n_facts += len(article.facts)
            key = self.article_key(article)
            aid = self.known_article(key)
            if aid is not None:
                self.links.append((aid, name, article.line))
                continue
            aid = self.next_article
            self.next_article += 1
            self.added[key] = aid
            self.links.append((aid, name, article.line))
            self.a_rows.append((aid, article.file, article.line, article.title, article.source,
                                article.published, article.page, key[3]))
            tb = title_body(article.title, article.source)
            for fid, fact in zip(self.fact_ids(article.published, len(article.facts)), article.facts):
                self.f_rows.append((fid, aid, fact.position, fact.section, fact.text,
                                    "[" + ", ".join(map(str, fact.citations)) + "]"))
                self.fts_rows.append((fid, fact_body(fact.text, fact.section, tb)))
            self.facts += len(article.facts)
            if CJK_RE.search(article.title):
                english = lexicon.dominant_name([f.text for f in article.facts])
                if english:
                    self.evidence.append((aid, english, article.title))
        self.files.append((name, digest, None, len(result.articles), n_facts,
                           json.dumps([str(e) for e in result.errors], ensure_ascii=False), _now()))
        if len(self.f_rows) >= 50_000:
            self.flush()
        return n_facts

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

    def flush(self) -> None:
        c = self.conn
        c.executemany("INSERT INTO articles(id, file, line, title, source, published, page, digest)"
                      " VALUES (?,?,?,?,?,?,?,?)", self.a_rows)
        c.executemany("INSERT INTO facts(id, article_id, position, section, text, citations)"
                      " VALUES (?,?,?,?,?,?)", self.f_rows)
        # FTS5 writes a new segment whenever a rowid is lower than the one before: sort them
        self.fts_rows.sort()
        c.executemany("INSERT INTO facts_fts(rowid, body) VALUES (?, ?)", self.fts_rows)
        c.executemany("INSERT INTO alias_evidence(article_id, english, title) VALUES (?,?,?)", self.evidence)
        c.executemany("INSERT OR IGNORE INTO article_files(article_id, file, line) VALUES (?,?,?)", self.links)
        c.executemany("INSERT OR REPLACE INTO files(path, hash, failed_hash, articles, facts, errors, loaded_at)"
                      " VALUES (?,?,?,?,?,?,?)", self.files)
        self.a_rows, self.f_rows, self.fts_rows, self.evidence, self.files, self.links = [], [], [], [], [], []


def refresh_vocab(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM vocab")
    conn.execute("INSERT INTO vocab(term, df) SELECT term, doc FROM facts_terms")


def learn_aliases(conn: sqlite3.Connection) -> None:
    """The aliases table from the evidence the reload kept (store.lexicon.learn_aliases decides)."""
    conn.execute("DELETE FROM aliases")
    rows = lexicon.learn_aliases(conn.execute("SELECT english, title FROM alias_evidence"))
    conn.executemany("INSERT OR REPLACE INTO aliases(cjk, english, articles) VALUES (?,?,?)", rows)


class Index:
    """The index of one database file; safe to share between threads (a connection per thread)."""

    def __init__(self, db: Path | str, seeds: Path | str | None = None,
                 glossary: Iterable[Path | str] = (), aliases: Iterable[Path | str] = (),
                 related_words: bool = True, semantic: bool = True):
        self.db_path = Path(db)
        self.seeds = Path(seeds) if seeds is not None else Path("seeds")
        # the user's own glossary and alias files, added to the shipped ones (store/lexicon.py)
        self.glossary_files = tuple(Path(p) for p in glossary)
        self.alias_files = tuple(Path(p) for p in aliases)
        self.related_words = related_words  # expand questions with store/data/related-words.txt
        self.semantic = semantic  # re-rank questions' candidates with wordllama (store/semantic.py)
        self._local = threading.local()
        self._searcher = None
        self._searcher_lock = threading.Lock()

    @classmethod
    def open(cls, db: Path | str, seeds: Path | str | None = None, progress=None,
             glossary: Iterable[Path | str] = (), aliases: Iterable[Path | str] = (),
             related_words: bool = True, semantic: bool = True) -> "Index":
        """Open the index, building it from the seeds first when the database does not exist yet,
        and rebuilding it when another version of factbot wrote it (raises ReloadRefused when
        there is nothing to build from)."""
        index = cls(db, seeds, glossary=glossary, aliases=aliases, related_words=related_words,
                    semantic=semantic)
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
        """Re-read the seeds folder, or `source` (a SeedFolder or alike, such as the corpus of
        record of store/corpus.py), unchanged files skipped by content hash, atomically."""
        with _ReloadLock(self.db_path, wait):
            return Reloader(self.db_path, source if source is not None else self.seeds, actor, progress).run()

    # reading ------------------------------------------------------------------------------
    def searcher(self):
        if self._searcher is None:  # made once; no lock on the path every search takes
            from store.search import Searcher

            with self._searcher_lock:
                if self._searcher is None:
                    self._searcher = Searcher(self)
        return self._searcher

    def search(self, query: str, limit: int = 5, offset: int = 0):
        return self.searcher().search(query, limit=limit, offset=offset)

    def counts(self) -> tuple[int, int]:
        return tuple(self.conn().execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM facts)").fetchone())

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
