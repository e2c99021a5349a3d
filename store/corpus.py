"""The corpus of record in the state store: the seed files themselves, where each came from, every
earlier version of each, and the versions of the corpus.

Several replicas share one PostgreSQL database (store/state.py). A reload on any of them, from Slack
or `factbot reload`, reads the seeds folder of the process doing it into `corpus_files` (name,
bytes, hash, counts, who added it and when, and its origin: the folder that put it there, or an
upload) and records a new row of `corpus_versions`; every replica then brings its own SQLite index
up to that version from the stored files (store/replica.py), reading only the files whose hash its
index does not hold yet.

    report, version = publish(state, SeedFolder("seeds"), actor="slack:U123", folder="host:/app/seeds")
    store_upload(state, "digest.txt", data, actor="slack:U123")    # an export shared with factbot
    remove_file(state, "digest.txt", actor="slack:U123")           # only an admin's act removes an upload
    restore_file(state, "digest.txt", actor="cli:ana", version=3)  # an earlier content back
    source = CorpusSource(state)        # a source of seed files for the local Reloader

What a reload keeps and removes: unchanged files (same hash) are skipped; a file that does not
parse, or a new version of a stored file with any broken article, keeps the content stored before
(so every replica keeps its facts) and is reported as failed; a new file of which some articles
parse is stored (every replica indexes the same articles) and reported with its errors. A reload
removes only the files *its own folder* put there (`folder`, the folder's identity: FACTBOT_SEEDS_ID,
by default host:path) and that are gone from it; files of other replicas' folders and uploads stay.
A folder file of the same name as an upload never replaces the upload. An upload stays until an
admin removes it (`remove_file`). A file stored before origins were kept belongs to the first
folder whose reload lists it. A reload that would empty the corpus of its own folder's files is
refused. Every content replaced or removed goes to `corpus_history` (restore_file brings it back),
and every change lands in `corpus_audit` with who and when.

Reloads read and parse their files *before* taking the lock, so a file that never finishes reading
(a FIFO, a hung mount) holds up only its own reload. Changes are serialised across replicas by a
transaction-level advisory lock waited for at most `lock_wait` seconds (ReloadBusy after that), so a
replica that dies mid-reload (SIGKILL) leaves no lock and no half-written corpus: PostgreSQL rolls
its transaction back. The new version is announced with NOTIFY on the channel `factbot_corpus`,
delivered when the transaction commits. The embedded SQLite store (no DATABASE_URL) holds the same
tables; there `corpus_files` holds only the uploads (the seeds folder is read directly, see
store/uploads.py), and transactions are serialised by SQLite's write lock.
"""
from __future__ import annotations

import json
import socket
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import (
    Column, Connection, Float, Integer, LargeBinary, String, Table, Text, delete, func, select, text, update,
)
from sqlalchemy.exc import DBAPIError

from store.model import utc_now
from store.parse import parse_bytes
from store.prepare import content_hash
from store.reload import FileReport, ReloadBusy, ReloadRefused
from store.state import State, add_column, metadata, migration

CHANNEL = "factbot_corpus"
RELOAD_LOCK = 0x66616375  # advisory lock key for reloads and every other change of the corpus ("facu")
LOCK_WAIT = 5.0  # seconds a change waits for another one's lock before it says "busy"
FOLDER, UPLOAD = "folder", "upload"  # a stored file's origin
PENDING_TTL = 86_400.0  # seconds an upload waiting for its uploader's answer is kept

corpus_files = Table(
    "corpus_files", metadata,
    Column("name", String(1000), primary_key=True),  # path relative to the seeds folder
    Column("data", LargeBinary, nullable=False),  # the file's bytes, exactly as read
    Column("hash", String(64), nullable=False),  # blake2b-128 of data, as the index's files.hash
    Column("size", Integer, nullable=False),
    Column("articles", Integer, nullable=False),
    Column("facts", Integer, nullable=False),
    Column("errors", Text, nullable=False),  # JSON list: errors of the articles that did not parse
    Column("added_by", String(200), nullable=False),  # the reload's actor, or the uploader
    Column("added_at", String(32), nullable=False),
    Column("version", Integer, nullable=False),  # the corpus version that stored this content
    Column("origin", String(16)),  # "folder" or "upload" (NULL: stored before origins were kept: a folder's)
    Column("folder", String(1000)),  # for a folder's file: that folder's identity (NULL: not known)
)

# every content of a file that was replaced or removed, for restore_file
corpus_history = Table(
    "corpus_history", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(1000), nullable=False, index=True),
    Column("version", Integer, nullable=False),  # the corpus version that had stored this content
    Column("data", LargeBinary, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("articles", Integer, nullable=False),
    Column("facts", Integer, nullable=False),
    Column("errors", Text, nullable=False),
    Column("origin", String(16)),
    Column("folder", String(1000)),
    Column("added_by", String(200), nullable=False),
    Column("added_at", String(32), nullable=False),
    Column("ended_at", String(32), nullable=False),
    Column("ended_by", String(200), nullable=False),
    Column("why", String(16), nullable=False),  # replaced | removed
)

# the audit trail of the corpus' files: one row per file added, replaced, removed or restored
corpus_audit = Table(
    "corpus_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(16), nullable=False),  # added | replaced | removed | restored
    Column("name", String(1000), nullable=False),
    Column("version", Integer, nullable=False),  # the corpus version the change made
    Column("detail", Text, nullable=False),
)

# an upload under a name already stored, waiting for its uploader's answer (Replace / Keep both / Cancel)
pending_uploads = Table(
    "pending_uploads", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(1000), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("user_id", String(200), nullable=False),
    Column("at", Float, nullable=False),  # seconds since the epoch
)

corpus_versions = Table(
    "corpus_versions", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("files", Integer, nullable=False),
    Column("loaded", Integer, nullable=False),
    Column("removed", Integer, nullable=False),
)


@migration(2, "corpus_files.origin, corpus_files.folder")
def _origins(conn: Connection) -> None:
    add_column(conn, "corpus_files", Column("origin", String(16)))
    add_column(conn, "corpus_files", Column("folder", String(1000)))


digest = content_hash  # a file's hash, as the index stores it (the Reloader compares the two)


def folder_id(root: Path | str, name: str | None = None) -> str:
    """The identity of a seeds folder in the corpus: `name` (FACTBOT_SEEDS_ID) when given, else
    this host's name and the folder's absolute path."""
    return name or f"{socket.gethostname()}:{Path(root).resolve()}"


def current_version(state: State) -> int:
    """The newest corpus version (0: nothing was ever imported)."""
    with state.begin() as conn:
        return _version(conn)


@dataclass
class Published:
    """What a change stored: the per-file reports and the corpus version the replicas must reach."""

    files: list[FileReport]
    removed: list[str]
    version: int
    changed: bool


@contextmanager
def locked(state: State, wait: bool = True, lock_wait: float = LOCK_WAIT) -> Iterator[Connection]:
    """One transaction holding the corpus lock; ReloadBusy when another holds it (at once unless
    `wait`, else after `lock_wait` seconds: PostgreSQL's lock_timeout)."""
    with state.begin() as conn:
        if state.shared:
            if wait:
                ms = max(1, int(lock_wait * 1000))
                conn.execute(text(f"SET LOCAL lock_timeout = {ms}"))
                conn.execute(text(f"SET LOCAL statement_timeout = {ms + 30_000}"))
                try:
                    conn.execute(select(func.pg_advisory_xact_lock(RELOAD_LOCK)))
                except DBAPIError as exc:
                    if getattr(getattr(exc, "orig", None), "sqlstate", None) == "55P03":  # lock_not_available
                        raise ReloadBusy("a reload or another change of the corpus is running (on this or"
                                         " another replica)") from None
                    raise
            elif conn.execute(select(func.pg_try_advisory_xact_lock(RELOAD_LOCK))).scalar() is False:
                raise ReloadBusy("a reload is already running (on this or another replica)")
        yield conn


def _version(conn: Connection) -> int:
    """The newest corpus version as this transaction sees it (0: nothing was ever imported)."""
    return int(conn.execute(select(func.coalesce(func.max(corpus_versions.c.version), 0))).scalar_one())


def _new_version(state: State, conn: Connection, version: int, actor: str, loaded: int, removed: int) -> None:
    stored = conn.execute(select(func.count()).select_from(corpus_files)).scalar_one()
    conn.execute(corpus_versions.insert().values(version=version, at=utc_now(), actor=actor, files=stored,
                                                 loaded=loaded, removed=removed))
    if state.shared:
        conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": str(version)})


def _archive(conn: Connection, name: str, actor: str, why: str) -> bool:
    """The stored content of `name` into corpus_history; False when nothing is stored under it."""
    row = conn.execute(select(corpus_files).where(corpus_files.c.name == name)).mappings().first()
    if row is None:
        return False
    conn.execute(corpus_history.insert().values(**dict(row), ended_at=utc_now(), ended_by=actor, why=why))
    return True


def _audit(conn: Connection, actor: str, action: str, name: str, version: int, detail: str = "") -> None:
    conn.execute(corpus_audit.insert().values(at=utc_now(), actor=actor, action=action, name=name, version=version,
                                              detail=detail))


@dataclass
class _Read:
    name: str
    data: bytes | None  # None: unchanged, or unreadable (error)
    hash: str | None
    error: str | None = None
    parsed: object = None


def publish(state: State, source, actor: str, wait: bool = False, only_if_empty: bool = False,
            folder: str | None = None, lock_wait: float = LOCK_WAIT) -> Published:
    """Read `source` (store.index.SeedFolder or alike) into the corpus, as one transaction.

    `folder`: the folder's identity (default: folder_id of source.root). Every file is read, hashed
    and parsed before the lock is taken. Raises ReloadBusy when another change holds the lock (at
    once unless `wait`; after `lock_wait` seconds otherwise), ReloadRefused when the reload would
    empty the corpus of this folder's files, store.state.StateUnavailable when the store is down.
    `only_if_empty`: import only into an empty corpus (the first replica's startup), else do nothing.
    """
    folder = folder or folder_id(getattr(source, "root", "."))
    with state.begin() as conn:  # what is stored now, to read and parse only what changed (no lock)
        if only_if_empty and _version(conn):
            return Published([], [], _version(conn), False)
        hashes = dict(conn.execute(select(corpus_files.c.name, corpus_files.c.hash)).all())
    listing = source.files()
    if not listing:
        raise ReloadRefused(source.why_empty() + "; the corpus is unchanged")
    reads = _read_all(source, listing, hashes)
    with locked(state, wait, lock_wait) as conn:
        version = _version(conn)
        if only_if_empty and version:
            return Published([], [], version, False)
        known = {r.name: r for r in conn.execute(select(
            corpus_files.c.name, corpus_files.c.hash, corpus_files.c.articles, corpus_files.c.facts,
            corpus_files.c.errors, corpus_files.c.origin, corpus_files.c.folder))}
        names = {r.name for r in reads}
        own = _owned(conn, known, names, folder)
        new_version = version + 1
        reports: list[FileReport] = []
        writes: list[dict] = []
        for read in reads:
            report, write = _judge(read, known.get(read.name), source)
            reports.append(report)
            if write is not None:
                writes.append(dict(write, added_by=actor, added_at=utc_now(), version=new_version,
                                   origin=FOLDER, folder=folder))
        removed = sorted(own - names)
        if not (writes or removed):
            return Published(reports, removed, version, False)
        _store(conn, known, writes, removed, actor, new_version, folder)
        _new_version(state, conn, new_version, actor, len(writes), len(removed))
        return Published(reports, removed, new_version, True)


def _read_all(source, listing: list[tuple[str, int]], hashes: dict[str, str]) -> list[_Read]:
    """Every listed file read and hashed; those whose hash the corpus does not hold, parsed."""
    reads: list[_Read] = []
    for name, _size in listing:
        try:
            data = source.read(name)
        except OSError as exc:  # the stored content stays, as for any failed file
            reads.append(_Read(name, None, None, f"{name}: cannot read file: {exc.strerror or exc}"))
            continue
        h = digest(data)
        if hashes.get(name) == h:
            reads.append(_Read(name, None, h))
            continue
        reads.append(_Read(name, data, h, parsed=parse_bytes(data, name)))
    return reads


def _owned(conn: Connection, known: dict, names: set[str], folder: str) -> set[str]:
    """The stored files this seeds folder owns (files stored before origins were kept go to the
    first folder that lists them); ReloadRefused when the folder lists none of those that hold facts."""
    unowned = sorted(name for name, row in known.items()
                     if name in names and row.folder is None and (row.origin or FOLDER) == FOLDER)
    if unowned:
        conn.execute(update(corpus_files).where(corpus_files.c.name.in_(unowned))
                     .values(origin=FOLDER, folder=folder))
    own = {name for name, row in known.items() if (row.origin or FOLDER) == FOLDER
           and (row.folder == folder or name in unowned)}
    holding = [name for name in own if known[name].facts]
    if holding and not names.intersection(holding):
        raise ReloadRefused(
            f"every file the corpus holds from this seeds folder ({len(holding)}) is missing from it, so the"
            " reload would remove them all; the corpus is unchanged")
    return own


def _judge(read: _Read, row, source) -> tuple[FileReport, dict | None]:
    """What one read file does to the corpus: its report, and the columns to store (None: the
    stored content, if any, stays: the file failed, is unchanged, or an upload holds its name)."""
    name = read.name
    kept = (row.articles, row.facts) if row else (0, 0)
    if read.error:
        return FileReport(name, *kept, "failed", [read.error]), None
    if row is not None and (row.origin == UPLOAD or row.hash == read.hash):
        # unchanged, or an upload of that name, which stays until an admin removes it
        stored_errors = json.loads(row.errors)
        return FileReport(name, row.articles, row.facts, "failed" if stored_errors else "unchanged",
                          stored_errors), None
    if read.data is None:  # unchanged when read, changed by another change since: read again
        try:
            read.data = source.read(name)
        except OSError as exc:
            return FileReport(name, *kept, "failed", [f"{name}: cannot read file: {exc}"]), None
        read.hash = digest(read.data)
    result = read.parsed if read.parsed is not None else parse_bytes(read.data, name)
    errors = [str(e) for e in result.errors]
    if not result.articles or (errors and row):
        # the content stored before (if any) stays until the file is fixed or removed
        return FileReport(name, *kept, "failed", errors or [f"{name}: no articles found"]), None
    facts = sum(len(a.facts) for a in result.articles)
    write = dict(name=name, data=read.data, hash=read.hash, size=len(read.data), articles=len(result.articles),
                 facts=facts, errors=json.dumps(errors, ensure_ascii=False))
    return FileReport(name, len(result.articles), facts, "failed" if errors else "loaded", errors), write


def _store(conn: Connection, known: dict, writes: list[dict], removed: list[str], actor: str, version: int,
           folder: str) -> None:
    """The removed files archived and deleted, the written ones archived (when replaced) and
    stored, each with its audit row."""
    for name in removed:
        _archive(conn, name, actor, "removed")
        _audit(conn, actor, "removed", name, version, f"gone from the seeds folder {folder}")
    if removed:
        conn.execute(delete(corpus_files).where(corpus_files.c.name.in_(removed)))
    for row in writes:
        if row["name"] in known:
            _archive(conn, row["name"], actor, "replaced")
            conn.execute(update(corpus_files).where(corpus_files.c.name == row["name"]).values(**row))
            _audit(conn, actor, "replaced", row["name"], version, f"from the seeds folder {folder}")
        else:
            conn.execute(corpus_files.insert().values(**row))
            _audit(conn, actor, "added", row["name"], version, f"from the seeds folder {folder}")


# -- uploads, removals, restores: an admin's acts on one file --------------------------------------


class NameTaken(Exception):
    """A file of that name is stored already: the uploader chooses Replace, Keep both or Cancel."""


class NotStored(Exception):
    """No file of that name (or no such earlier version) in the corpus."""


def stored_file(state: State, name: str) -> dict | None:
    """The stored file's row without its bytes (origin, who added it, when, counts), or None."""
    with state.begin() as conn:
        row = conn.execute(select(*[c for c in corpus_files.c if c.name != "data"])
                           .where(corpus_files.c.name == name)).mappings().first()
    return dict(row) if row else None


def list_files(state: State, origin: str | None = None) -> list[dict]:
    """Every stored file (of `origin` when given) without its bytes, by name."""
    stmt = select(*[c for c in corpus_files.c if c.name != "data"]).order_by(corpus_files.c.name)
    if origin == FOLDER:
        stmt = stmt.where((corpus_files.c.origin == FOLDER) | corpus_files.c.origin.is_(None))
    elif origin is not None:
        stmt = stmt.where(corpus_files.c.origin == origin)
    with state.begin() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def free_name(state: State, name: str) -> str:
    """`name`, or the first of "stem (2).ext", "stem (3).ext"… not stored yet (Keep both)."""
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    with state.begin() as conn:
        taken = set(conn.execute(select(corpus_files.c.name)).scalars())
    n = 1
    candidate = name
    while candidate in taken:
        n += 1
        candidate = f"{stem} ({n}){dot}{ext}"
    return candidate


def store_upload(state: State, name: str, data: bytes, actor: str, replace: bool = False,
                 lock_wait: float = LOCK_WAIT) -> Published:
    """Store an uploaded export under `name` (checked whole by the caller: store.uploads.check_export),
    as an upload that stays until an admin removes it. Raises NameTaken when a file of that name is
    stored and not `replace`; the replaced content goes to the history."""
    result = parse_bytes(data, name)
    errors = [str(e) for e in result.errors]
    if not result.articles or errors:
        raise ValueError(f"{name} does not parse whole; check it with store.uploads.check_export first")
    facts = sum(len(a.facts) for a in result.articles)
    with locked(state, True, lock_wait) as conn:
        exists = conn.execute(select(corpus_files.c.hash).where(corpus_files.c.name == name)).scalar()
        if exists is not None and not replace:
            raise NameTaken(name)
        version = _version(conn) + 1
        row = dict(name=name, data=data, hash=digest(data), size=len(data), articles=len(result.articles),
                   facts=facts, errors="[]", added_by=actor, added_at=utc_now(), version=version, origin=UPLOAD,
                   folder=None)
        if exists is not None:
            _archive(conn, name, actor, "replaced")
            conn.execute(update(corpus_files).where(corpus_files.c.name == name).values(**row))
            _audit(conn, actor, "replaced", name, version, "uploaded")
        else:
            conn.execute(corpus_files.insert().values(**row))
            _audit(conn, actor, "added", name, version, "uploaded")
        _new_version(state, conn, version, actor, 1, 0)
    return Published([FileReport(name, len(result.articles), facts, "loaded")], [], version, True)


def remove_file(state: State, name: str, actor: str, lock_wait: float = LOCK_WAIT) -> Published:
    """An admin removes `name` from the corpus (its content stays in the history); NotStored when
    there is no such file. A folder's file comes back at that folder's next reload unless it is
    deleted from the folder too."""
    with locked(state, True, lock_wait) as conn:
        version = _version(conn) + 1
        if not _archive(conn, name, actor, "removed"):
            raise NotStored(f"no file named {name} in the corpus")
        conn.execute(delete(corpus_files).where(corpus_files.c.name == name))
        _audit(conn, actor, "removed", name, version, "removed by an admin")
        _new_version(state, conn, version, actor, 0, 1)
    return Published([], [name], version, True)


def history(state: State, name: str) -> list[dict]:
    """The earlier contents of `name`, oldest first, without their bytes: version (the corpus
    version that had stored it), who added it and when, why it ended (replaced, removed)."""
    cols = [c for c in corpus_history.c if c.name != "data"]
    with state.begin() as conn:
        return [dict(r) for r in conn.execute(select(*cols).where(corpus_history.c.name == name)
                                              .order_by(corpus_history.c.id)).mappings()]


def restore_file(state: State, name: str, actor: str, version: int | None = None,
                 lock_wait: float = LOCK_WAIT) -> Published:
    """Bring back an earlier content of `name` from the history (the newest one, or the one the
    corpus stored at `version`), as an upload; the content it replaces goes to the history."""
    with locked(state, True, lock_wait) as conn:
        stmt = select(corpus_history).where(corpus_history.c.name == name)
        if version is not None:
            stmt = stmt.where(corpus_history.c.version == version)
        old = conn.execute(stmt.order_by(corpus_history.c.id.desc()).limit(1)).mappings().first()
        if old is None:
            raise NotStored(f"no earlier version of {name}" + (f" stored at version {version}" if version else ""))
        new_version = _version(conn) + 1
        row = dict(name=name, data=bytes(old["data"]), hash=old["hash"], size=old["size"], articles=old["articles"],
                   facts=old["facts"], errors=old["errors"], added_by=actor, added_at=utc_now(), version=new_version,
                   origin=UPLOAD, folder=None)
        if _archive(conn, name, actor, "replaced"):
            conn.execute(update(corpus_files).where(corpus_files.c.name == name).values(**row))
        else:
            conn.execute(corpus_files.insert().values(**row))
        _audit(conn, actor, "restored", name, new_version, f"the content stored at version {old['version']}")
        _new_version(state, conn, new_version, actor, 1, 0)
    return Published([FileReport(name, old["articles"], old["facts"], "loaded")], [], new_version, True)


def audit(state: State, limit: int = 50) -> list[dict]:
    """The corpus' audit trail, newest first."""
    with state.begin() as conn:
        return [dict(r) for r in conn.execute(select(corpus_audit).order_by(corpus_audit.c.id.desc())
                                              .limit(limit)).mappings()]


def hold_upload(state: State, name: str, data: bytes, user: str, now: float | None = None) -> str:
    """Keep an upload whose name is taken until its uploader answers; its id (for the buttons)."""
    import time

    now = time.time() if now is None else now
    pending = uuid.uuid4().hex
    with state.begin() as conn:
        conn.execute(delete(pending_uploads).where(pending_uploads.c.at < now - PENDING_TTL))
        conn.execute(pending_uploads.insert().values(id=pending, name=name, data=data, user_id=user, at=now))
    return pending


def take_upload(state: State, pending: str, user: str) -> tuple[str, bytes] | None:
    """The held upload (name, bytes), deleted from the table; None when it is gone, or not `user`'s."""
    with state.begin() as conn:
        row = conn.execute(select(pending_uploads).where(pending_uploads.c.id == pending,
                                                         pending_uploads.c.user_id == user)).first()
        if row is None:
            return None
        conn.execute(delete(pending_uploads).where(pending_uploads.c.id == pending))
    return row.name, bytes(row.data)


class CorpusSource:
    """The corpus of record as a source of seed files for store.index.Reloader.

    `files()` lists the stored files once (name, size, hash: no content); `read(name)` fetches one
    file's bytes; `digest(name)` gives its stored hash, so that the Reloader reads only the files
    its index does not already hold. `version` is the corpus version the listing was taken at.
    """

    def __init__(self, state: State):
        self.state = state
        with state.begin() as conn:
            self.version = _version(conn)
            self._listing = {r.name: (r.size, r.hash) for r in conn.execute(
                select(corpus_files.c.name, corpus_files.c.size, corpus_files.c.hash).order_by(corpus_files.c.name))}

    def files(self) -> list[tuple[str, int]]:
        return [(name, size) for name, (size, _) in self._listing.items()]

    def digest(self, name: str) -> str:
        return self._listing[name][1]

    def read(self, name: str) -> bytes:
        with self.state.begin() as conn:
            data = conn.execute(select(corpus_files.c.data).where(corpus_files.c.name == name)).scalar()
        if data is None:  # removed by a newer version meanwhile: the next version brings the index along
            raise FileNotFoundError(f"{name} is no longer in the corpus")
        return bytes(data)

    def why_empty(self) -> str:
        return f"the corpus in {self.state.where} holds no seed files yet"
