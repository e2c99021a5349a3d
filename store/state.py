"""The state store: what factbot records and shares, apart from the search index.

The search index (store/index.py) is a cache: it can be rebuilt from the seeds, or from the corpus
of record, at any time, and a replica swaps it whole. Everything that cannot be rebuilt lives here
instead, behind one SQLAlchemy Engine:

- **embedded** (no DATABASE_URL, the default): a SQLite file beside the index,
  `<index stem>.state.db` (`factbot.db` -> `factbot.state.db`). No reload, rebuild or swap of the
  index file touches it, so the audit trail and other records survive all of them.
- **shared** (`DATABASE_URL=postgresql://user:pass@host/db`): one PostgreSQL database for every
  replica, reached through psycopg 3 (`postgresql://` is read as `postgresql+psycopg://`).

    from store.state import State
    state = State.open(state_url(os.environ.get("DATABASE_URL"), Path("factbot.db")))
    with state.begin() as conn:                 # one transaction; StateUnavailable when unreachable
        conn.execute(reloads.insert().values(...))
    state.reloads(limit=5)                      # the audit trail, newest first, as dicts

Adding a table (any module of store/):

    from sqlalchemy import Column, Integer, String, Table
    from store.state import metadata
    feedback = Table("feedback", metadata, Column("id", Integer, primary_key=True), ...)

  and name the module in TABLE_MODULES below: `State.open` imports every module listed there and
  creates each table of `metadata` that does not exist yet, in its current shape. Use portable
  SQLAlchemy types (Integer, String, Text, Float, LargeBinary, DateTime); the same table must work
  on SQLite and PostgreSQL.

Changing a table that already exists somewhere (a new column, an index): add a migration with the
next number; it runs once on every database whose schema version is older, in the same
transaction as the version bump, and must be idempotent (a database created after the change
already has the new shape from `create_all`; `add_column` checks for that itself):

    @migration(2, "feedback.comment")
    def _(conn):
        add_column(conn, "feedback", Column("comment", Text))

The schema version is one row of the `schema_version` table. Opening a database written by a newer
factbot (a higher version than SCHEMA_VERSION) is refused with a message saying so. Schema changes
are serialised between processes: an advisory lock on PostgreSQL, `BEGIN IMMEDIATE` on SQLite.
"""
from __future__ import annotations

import importlib
import json
import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import (
    Column, Connection, Engine, Float, Integer, MetaData, String, Table, Text, create_engine, event, func,
    inspect, select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.schema import DDL

# this module's errors, defined apart so that catching them needs no SQLAlchemy (store/errors.py)
from store.errors import StateError, StateUnavailable  # noqa: F401
from store.model import utc_now

log = logging.getLogger("factbot.state")

# modules of store/ that define tables on `metadata` (imported by State.open)
TABLE_MODULES: tuple[str, ...] = ("store.claims", "store.records", "store.corpus", "store.threads")

metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    Column("id", Integer, primary_key=True),  # always 1: one row
    Column("version", Integer, nullable=False),
    Column("updated_at", String(32), nullable=False),
)

# the audit trail: one row per reload, from Slack, the command line, the shell or startup
reloads = Table(
    "reloads", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),  # UTC, 2025-11-07T02:14:00Z
    Column("actor", String(200), nullable=False),  # slack:U123, cli:login, shell, startup
    Column("articles", Integer, nullable=False),
    Column("facts", Integer, nullable=False),
    Column("loaded", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("removed", Integer, nullable=False),
    Column("errors", Text, nullable=False),  # JSON list of "file:line: reason"
    Column("took_ms", Float, nullable=False),
    Column("version", Integer),  # the corpus version the reload recorded (shared store only)
)

_MIGRATIONS: dict[int, tuple[str, Callable[[Connection], None]]] = {}
SCHEMA_LOCK = 0x66616374  # advisory lock key for schema changes ("fact")
# PostgreSQL sessions' bounds, in milliseconds
SESSION_TIMEOUTS_MS = {"statement_timeout": 30_000, "lock_timeout": 10_000,
                       "idle_in_transaction_session_timeout": 60_000}
# the client's side (libpq): a server gone silent mid-statement (packets dropped) is given up after
# about 15 s of unacknowledged data (tcp_user_timeout) or of unanswered keepalives, not waited on forever
CLIENT_TCP = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 2, "keepalives_count": 3,
              "tcp_user_timeout": 15_000}


def migration(version: int, description: str) -> Callable:
    """Register `fn(conn)` as the change that brings a database to schema `version` (see the docstring)."""

    def register(fn: Callable[[Connection], None]) -> Callable[[Connection], None]:
        if version in _MIGRATIONS or version < 2:
            raise ValueError(f"schema version {version} is taken (1 is the first schema)")
        _MIGRATIONS[version] = (description, fn)
        return fn

    return register


def schema_target() -> int:
    """The schema version this factbot writes: 1, or the highest registered migration."""
    return max(_MIGRATIONS, default=1)


def add_column(conn: Connection, table: str, column: Column) -> None:
    """ALTER TABLE `table` ADD `column`, unless the table already has it (or does not exist yet)."""
    insp = inspect(conn)
    if not insp.has_table(table) or column.name in {c["name"] for c in insp.get_columns(table)}:
        return
    kind = column.type.compile(dialect=conn.dialect)
    conn.execute(DDL(f'ALTER TABLE {table} ADD COLUMN {column.name} {kind}'))


def state_url(database_url: str | None, index_path: Path | str) -> str:
    """DATABASE_URL when set, else the embedded SQLite file beside the index."""
    if database_url:
        return database_url
    from store.uploads import embedded_state_path

    return f"sqlite:///{embedded_state_path(index_path)}"


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql":
        # pre-ping: a connection PostgreSQL dropped (a restart) is replaced instead of failing a request
        # server-side bounds on every session: no statement, lock wait or forgotten transaction holds
        # anything for long (a change of the corpus raises its own lock wait: store.corpus.locked)
        options = " ".join(f"-c {name}={ms}" for name, ms in SESSION_TIMEOUTS_MS.items())
        return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_timeout=10,
                             connect_args={"connect_timeout": 5, "application_name": "factbot", "options": options,
                                           **CLIENT_TCP})
    if parsed.get_backend_name() != "sqlite":
        raise StateError(f"DATABASE_URL must be a postgresql:// (or sqlite:///) URL, not {parsed.drivername}://")
    if parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": 30})

    # SQLAlchemy's documented recipe for real transactions with the sqlite3 driver (its legacy mode
    # does not BEGIN before DDL); IMMEDIATE takes the write lock at once, so that two processes
    # changing the same rows wait for each other instead of failing on a lock upgrade
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, record):  # noqa: ARG001
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA busy_timeout=30000")
        _wal(dbapi_conn)
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _wal(dbapi_conn, wait: float = 30.0) -> None:
    """Put the SQLite file in WAL mode (once: the mode stays with the file). The switch needs the file
    to itself, and while another connection writes SQLite answers "locked" at once instead of after
    its busy timeout (waiting could deadlock), so a new file opened by several processes at once
    waits here, as the busy timeout would, for at most `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if dbapi_conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                dbapi_conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


class Purging:
    """A store of records that deletes its old ones (`purge`) at most once per `purge_every`
    seconds of its clock, by whichever write comes due (store/records.py, store/threads.py)."""

    purge_every = 3600.0

    def _purging(self, clock) -> None:
        self.clock = clock
        self._purged_at = 0.0
        self._lock = threading.Lock()

    def purge(self) -> int:  # pragma: no cover - each store deletes its own
        raise NotImplementedError

    def _maybe_purge(self) -> None:
        with self._lock:
            due = self.clock() - self._purged_at >= self.purge_every
            if due:
                self._purged_at = self.clock()
        if due:
            self.purge()


def unavailable(exc: BaseException, store: str = "PostgreSQL") -> StateUnavailable:
    """A one-line StateUnavailable for a driver error (no password: the URL is not in it); `store`
    names the store for people (PostgreSQL, or the embedded SQLite file)."""
    orig = getattr(exc, "orig", None) or exc
    reason = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return StateUnavailable(f"{store} is unreachable ({reason[:200]})")


def is_connection_error(exc: BaseException) -> bool:
    """True when `exc` says the database is not there (rather than a bad statement)."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


@dataclass
class State:
    """The state store: an Engine plus the operations factbot needs (thread-safe: the Engine pools)."""

    engine: Engine

    @classmethod
    def connect(cls, url: str) -> "State":
        """The store at `url`, not yet contacted (call prepare() before the first use)."""
        for name in TABLE_MODULES:
            importlib.import_module(name)
        return cls(_engine(url))

    @classmethod
    def open(cls, url: str) -> "State":
        """Connect, create missing tables and bring the schema to this factbot's version."""
        state = cls.connect(url)
        try:
            state.prepare()
        except BaseException:
            state.close()
            raise
        return state

    @property
    def shared(self) -> bool:
        """True for PostgreSQL (several replicas), False for the embedded SQLite file."""
        return self.engine.dialect.name == "postgresql"

    @property
    def where(self) -> str:
        """The store for people: the SQLite file, or host:port/db of PostgreSQL (never a password)."""
        url = self.engine.url
        if not self.shared:
            return str(url.database)
        return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction, committed at the end of the block; StateUnavailable when the store does not answer."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except (OperationalError, DBAPIError) as exc:
            if is_connection_error(exc):
                raise unavailable(exc, "PostgreSQL" if self.shared else f"the state database {self.where}") from exc
            raise

    def prepare(self) -> None:
        target = schema_target()
        with self.begin() as conn:
            if self.shared:
                conn.execute(select(func.pg_advisory_xact_lock(SCHEMA_LOCK)))
            metadata.create_all(conn)
            current = conn.execute(select(schema_version.c.version).where(schema_version.c.id == 1)).scalar()
            if current is None:  # a new database: create_all made every table in its current shape
                conn.execute(schema_version.insert().values(id=1, version=target, updated_at=utc_now()))
                return
            if current > target:
                raise StateError(f"the state database ({self.where}) has schema version {current}, newer than "
                                 f"this factbot's {target}: upgrade factbot")
            for version in sorted(v for v in _MIGRATIONS if v > current):
                description, fn = _MIGRATIONS[version]
                log.info("state schema %s -> %s: %s", version - 1, version, description)
                fn(conn)
                conn.execute(schema_version.update().where(schema_version.c.id == 1)
                             .values(version=version, updated_at=utc_now()))

    def version(self) -> int:
        with self.begin() as conn:
            return int(conn.execute(select(schema_version.c.version)).scalar_one())

    # -- the audit trail --

    def record_reload(self, report, version: int | None = None, conn: Connection | None = None) -> None:
        """Write one `reloads` row for a store.index.ReloadReport (in `conn`'s transaction if given)."""
        row = dict(
            at=utc_now(), actor=report.actor, articles=report.articles, facts=report.facts,
            loaded=report.count("loaded"), unchanged=report.count("unchanged"), failed=len(report.failed),
            removed=len(report.removed), took_ms=round(report.took_ms, 1), version=version,
            errors=json.dumps([e for f in report.failed for e in f.errors], ensure_ascii=False),
        )
        if conn is not None:
            conn.execute(reloads.insert().values(**row))
            return
        with self.begin() as own:
            own.execute(reloads.insert().values(**row))

    def reloads(self, limit: int = 20) -> list[dict]:
        """The audit trail, newest first."""
        with self.begin() as conn:
            rows = conn.execute(select(reloads).order_by(reloads.c.id.desc()).limit(limit)).mappings()
            return [dict(r) for r in rows]

    def close(self) -> None:
        self.engine.dispose()
