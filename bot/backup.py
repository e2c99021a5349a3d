"""`factbot backup DEST`: a consistent copy of an SQLite file while factbot runs.

SQLite's online backup API (the standard library's `Connection.backup`), in one step: it copies
every page under one read transaction, so the copy is the database as of one moment, whatever
other processes write meanwhile (they wait at most for the copy of the pages, a few milliseconds
for a state store of megabytes). The copy is written beside DEST, checked with
`PRAGMA integrity_check`, switched out of WAL mode (one self-contained file), flushed to disk and
only then renamed to DEST, so DEST is never a half-written file.

The PostgreSQL state store (DATABASE_URL) is backed up with PostgreSQL's own tools (`pg_dump`);
docs/operations.md says how.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path


class BackupError(Exception):
    """The copy could not be made; the message says why in one line."""


@dataclass
class Copied:
    source: Path
    dest: Path
    bytes: int
    tables: dict[str, int]

    def summary(self) -> str:
        rows = ", ".join(f"{name} {count:,}" for name, count in sorted(self.tables.items()))
        return f"{self.source} -> {self.dest} ({self.bytes / 1024:,.0f} KB; integrity ok; rows: {rows or 'none'})"


def backup_sqlite(source: Path, dest: Path) -> Copied:
    source, dest = Path(source), Path(dest)
    if not source.is_file():
        raise BackupError(f"there is nothing to back up at {source}: no such file (the state store is created"
                          " by the first `factbot serve`, `socket`, `run` or `report`)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {source}: {exc}") from None
    try:
        out = sqlite3.connect(partial)
        try:
            src.backup(out)  # pages=-1: every page in one step, one consistent snapshot
            check = out.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"the copy of {source} does not pass SQLite's integrity check: {check}")
            out.execute("PRAGMA journal_mode=DELETE")
            names = [r[0] for r in out.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' AND name NOT LIKE '%\\_fts\\_%' ESCAPE '\\'")]
            tables = {}
            for name in names:
                try:
                    tables[name] = out.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                except sqlite3.Error:  # a shadow table of a virtual one
                    continue
        finally:
            out.close()
    except sqlite3.DatabaseError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot back up {source}: {exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, dest)
    fd = os.open(dest.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return Copied(source, dest, dest.stat().st_size, tables)
