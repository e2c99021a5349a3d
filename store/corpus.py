"""The corpus of record in the state store: the seed files themselves, and the versions of the corpus.

Several replicas share one PostgreSQL database (store/state.py). A reload on any of them, from Slack
or `factbot reload`, reads the seeds folder of the process doing it into `corpus_files` (name,
bytes, hash, counts, who added it and when) and records a new row of `corpus_versions`; every
replica then brings its own SQLite index up to that version from the stored files
(store/replica.py), reading only the files whose hash its index does not hold yet.

    report, version = publish(state, SeedFolder("seeds"), actor="slack:U123")
    source = CorpusSource(state)        # a source of seed files for the local Reloader

A reload follows the same rules as a reload of a local index: unchanged files (same hash) are
skipped; a file that does not parse keeps the content stored before (so every replica keeps its
facts) and is reported as failed; a new file of which some articles parse is stored (every replica
indexes the same articles) and reported with its errors; a file no longer in the folder is removed;
a reload that would empty the corpus is refused. Reloads are serialised across replicas by a
transaction-level advisory lock, so a replica that dies mid-reload (SIGKILL) leaves no lock and no
half-written corpus: PostgreSQL rolls its transaction back. The new version is announced with
NOTIFY on the channel `factbot_corpus`, delivered when the transaction commits.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Column, Integer, LargeBinary, String, Table, Text, delete, func, select, text, update

from store.index import FileReport, ReloadBusy, ReloadRefused
from store.parse import parse_bytes
from store.prepare import content_hash
from store.state import State, metadata

CHANNEL = "factbot_corpus"
RELOAD_LOCK = 0x66616375  # advisory lock key for reloads ("facu")

corpus_files = Table(
    "corpus_files", metadata,
    Column("name", String(1000), primary_key=True),  # path relative to the seeds folder
    Column("data", LargeBinary, nullable=False),  # the file's bytes, exactly as read
    Column("hash", String(64), nullable=False),  # blake2b-128 of data, as the index's files.hash
    Column("size", Integer, nullable=False),
    Column("articles", Integer, nullable=False),
    Column("facts", Integer, nullable=False),
    Column("errors", Text, nullable=False),  # JSON list: errors of the articles that did not parse
    Column("added_by", String(200), nullable=False),  # the reload's actor
    Column("added_at", String(32), nullable=False),
    Column("version", Integer, nullable=False),  # the corpus version that stored this content
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


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


digest = content_hash  # a file's hash, as the index stores it (the Reloader compares the two)


def current_version(state: State) -> int:
    """The newest corpus version (0: nothing was ever imported)."""
    with state.begin() as conn:
        return int(conn.execute(select(func.coalesce(func.max(corpus_versions.c.version), 0))).scalar_one())


@dataclass
class Published:
    """What a reload stored: the per-file reports and the corpus version the replicas must reach."""

    files: list[FileReport]
    removed: list[str]
    version: int
    changed: bool


def publish(state: State, source, actor: str, wait: bool = False, only_if_empty: bool = False) -> Published:
    """Read `source` (store.index.SeedFolder or alike) into the corpus, as one transaction.

    Raises ReloadBusy when another replica's reload holds the lock (unless `wait`), ReloadRefused
    when the reload would empty the corpus, store.state.StateUnavailable when the store is down.
    `only_if_empty`: import only into an empty corpus (the first replica's startup), else do nothing.
    """
    with state.begin() as conn:
        if state.shared:
            lock = func.pg_advisory_xact_lock if wait else func.pg_try_advisory_xact_lock
            if conn.execute(select(lock(RELOAD_LOCK))).scalar() is False:
                raise ReloadBusy("a reload is already running (on this or another replica)")
        version = int(conn.execute(select(func.coalesce(func.max(corpus_versions.c.version), 0))).scalar_one())
        if only_if_empty and version:
            return Published([], [], version, False)
        known = {r.name: r for r in conn.execute(select(
            corpus_files.c.name, corpus_files.c.hash, corpus_files.c.articles, corpus_files.c.facts,
            corpus_files.c.errors))}
        listing = source.files()
        if not listing:
            raise ReloadRefused(source.why_empty() + "; the corpus is unchanged")
        names = {name for name, _ in listing}
        holding = [name for name, row in known.items() if row.facts]
        if holding and not names.intersection(holding):
            raise ReloadRefused(
                f"every file the corpus holds ({len(holding)}) is missing from the seeds, so the reload"
                " would remove them all; the corpus is unchanged")
        new_version = version + 1
        reports: list[FileReport] = []
        writes: list[dict] = []
        for name, _size in listing:
            row = known.get(name)
            kept = (row.articles, row.facts) if row else (0, 0)
            try:
                data = source.read(name)
            except OSError as exc:  # the stored content stays, as for any failed file
                reports.append(FileReport(name, *kept, "failed", [f"{name}: cannot read file: {exc.strerror or exc}"]))
                continue
            h = digest(data)
            if row and row.hash == h:
                stored_errors = json.loads(row.errors)
                reports.append(FileReport(name, row.articles, row.facts, "failed" if stored_errors else "unchanged",
                                          stored_errors))
                continue
            result = parse_bytes(data, name)
            errors = [str(e) for e in result.errors]
            if not result.articles or (errors and row):
                # the content stored before (if any) stays until the file is fixed or removed
                reports.append(FileReport(name, *kept, "failed", errors or [f"{name}: no articles found"]))
                continue
            facts = sum(len(a.facts) for a in result.articles)
            writes.append(dict(name=name, data=data, hash=h, size=len(data), articles=len(result.articles),
                               facts=facts, errors=json.dumps(errors, ensure_ascii=False), added_by=actor,
                               added_at=_now(), version=new_version))
            reports.append(FileReport(name, len(result.articles), facts, "failed" if errors else "loaded", errors))
        removed = sorted(set(known) - names)
        if not (writes or removed):
            return Published(reports, removed, version, False)
        if removed:
            conn.execute(delete(corpus_files).where(corpus_files.c.name.in_(removed)))
        for row in writes:
            if row["name"] in known:
                conn.execute(update(corpus_files).where(corpus_files.c.name == row["name"]).values(**row))
            else:
                conn.execute(corpus_files.insert().values(**row))
        stored = conn.execute(select(func.count()).select_from(corpus_files)).scalar_one()
        conn.execute(corpus_versions.insert().values(version=new_version, at=_now(), actor=actor, files=stored,
                                                     loaded=len(writes), removed=len(removed)))
        if state.shared:
            conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                         {"channel": CHANNEL, "payload": str(new_version)})
        return Published(reports, removed, new_version, True)


class CorpusSource:
    """The corpus of record as a source of seed files for store.index.Reloader.

    `files()` lists the stored files once (name, size, hash: no content); `read(name)` fetches one
    file's bytes; `digest(name)` gives its stored hash, so that the Reloader reads only the files
    its index does not already hold. `version` is the corpus version the listing was taken at.
    """

    def __init__(self, state: State):
        self.state = state
        with state.begin() as conn:
            self.version = int(conn.execute(
                select(func.coalesce(func.max(corpus_versions.c.version), 0))).scalar_one())
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
