"""The SQLite file of the index: its tables, their schema version, opening and setting aside.

Layout (one SQLite file, WAL mode):

    files     path, content hash, counts, errors of its last parse
    articles  title, source, published, page, file, line, digest of its facts (one row per article,
              however many files export it: same title, source, publish time and facts; `file` is
              one of those files)
    article_files  every file an article was found in (article, file, line); an article goes
              when the last file holding it does
    facts     article, position, section, text, citations (JSON list); `bucket`: its near-duplicate
              bucket (store/dedupe.py bucket_hash), `dup`: its group's representative fact when
              it is one of a group of near-duplicates from other articles (NULL: no group)
    facts_fts FTS5, contentless, detail=none: one column holding the fact's text, section heading,
              article title and source as `store.text.index_text` writes them (Chinese as bigrams;
              tokenizer `store.text.FTS_TOKENIZE`)
    vocab     every index word with the number of facts holding it (typo correction, weights)
    aliases   Chinese/English name pairs learned from the seeds
    entities  the names the facts hold, learned at reload (store/entities.py), from `name_tokens`
              (the words of the facts, how often each is written and starts a sentence) and
              `fact_names` (each fact's capitalised words), which a reload moves by its changes
    reloads   the audit trail: who reloaded, when, what changed, what failed
    meta      the schema version (SCHEMA_VERSION): an index of another version is rebuilt whole
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlite_utils

from store.text import FTS_TOKENIZE

# 3: traditional Chinese indexed as simplified; 4: article digests without JSON; 5: the
# vocabulary without rowids, FTS5's ascii tokenizer; 6: the entities (store/entities.py); 7:
# near-duplicate buckets and groups (facts.bucket, facts.dup); 8: the name finder's counts kept
# (name_tokens, fact_names). An index of another version is rebuilt
SCHEMA_VERSION = "8"
FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS facts_fts USING fts5("
    f"body, content='', columnsize=0, detail=none, tokenize='{FTS_TOKENIZE}')"
)


def connect(path: Path | str, readonly: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    if readonly:
        conn.execute("PRAGMA query_only=1")
    conn.execute("PRAGMA cache_size=-65536")
    return conn


TABLES = {  # name -> (columns, primary key); `reloads` survives a rebuild
    "files": ({"path": str, "hash": str, "failed_hash": str, "articles": int, "facts": int,
               "errors": str, "loaded_at": str, "stamp": str}, "path"),
    "articles": ({"id": int, "file": str, "line": int, "title": str, "source": str, "published": str,
                  "page": str, "digest": str}, "id"),
    "article_files": ({"article_id": int, "file": str, "line": int}, ("article_id", "file")),
    "facts": ({"id": int, "article_id": int, "position": int, "section": str, "text": str,
               "citations": str, "bucket": int, "dup": int}, "id"),
    "vocab": ({"term": str, "df": int}, "term"),
    "aliases": ({"cjk": str, "english": str, "articles": int}, ("cjk", "english")),
    "alias_evidence": ({"article_id": int, "english": str, "title": str}, "article_id"),
    "entities": ({"key": str, "name": str, "facts": int}, "key"),
    "name_tokens": ({"token": str, "total": int, "first": int}, "token"),
    "fact_names": ({"fact_id": int, "words": str}, "fact_id"),
    "reloads": ({"id": int, "at": str, "actor": str, "articles": int, "facts": int, "loaded": int,
                 "unchanged": int, "failed": int, "removed": int, "errors": str, "took_ms": float}, "id"),
    "meta": ({"key": str, "value": str}, "key"),
}
INDEXES = {"articles": [["file"], ["title", "source", "published"]], "article_files": [["file"]],
           "facts": [["article_id"], ["bucket"]], "alias_evidence": [["english"]]}
# indexes of only some rows: name -> (table, column, condition)
PARTIAL_INDEXES = {"idx_facts_dup": ("facts", "dup", "dup IS NOT NULL")}
VIRTUAL = ("facts_terms", "facts_fts")  # dropped in this order
# tables stored in their primary key's order, with no rowid: the vocabulary's hundreds of
# thousands of words are written once, not into the table and again into a key index
WITHOUT_ROWID = {"vocab", "name_tokens"}
_SQL_TYPES = {str: "TEXT", int: "INTEGER", float: "FLOAT"}


def create_schema(db: sqlite_utils.Database, indexes: bool = True) -> None:
    """Create what is missing: every table on a new file (on a rebuild all but `reloads`), and
    the columns and indexes a newer factbot added to an index of the same schema version.
    `indexes=False` leaves the indexes out, for tables about to be filled from empty:
    `create_indexes` then builds each in one sorted pass, cheaper than growing it row by row."""
    existing = set(db.table_names())
    for name, (columns, pk) in TABLES.items():
        if name not in existing and name in WITHOUT_ROWID:
            spec = ", ".join(f"[{c}] {_SQL_TYPES[kind]}" for c, kind in columns.items())
            db.execute(f"CREATE TABLE [{name}] ({spec}, PRIMARY KEY ({pk})) WITHOUT ROWID")
        elif name not in existing:
            db[name].create(columns, pk=pk)
        else:
            have = {c.name for c in db[name].columns}
            for column, kind in columns.items():
                if column not in have:
                    db[name].add_column(column, kind)
        if indexes:
            create_indexes(db, name)
    if db.execute("SELECT 1 FROM meta WHERE key = 'schema'").fetchone() is None:
        db["meta"].insert({"key": "schema", "value": SCHEMA_VERSION})
    db.execute(FTS_DDL)
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS facts_terms USING fts5vocab(facts_fts, row)")


def create_indexes(db: sqlite_utils.Database, table: str | None = None) -> None:
    """The indexes of one table, or of all, that are missing."""
    for name in [table] if table else INDEXES:
        for columns in INDEXES.get(name, ()):
            db[name].create_index(columns, if_not_exists=True)
        for index, (on, column, where) in PARTIAL_INDEXES.items():
            if on == name:
                db.execute(f"CREATE INDEX IF NOT EXISTS [{index}] ON [{on}] ([{column}]) WHERE {where}")


def drop_schema(conn: sqlite3.Connection) -> None:
    """Drop every table of factbot's but the audit trail (a rebuild, inside its transaction)."""
    for name in VIRTUAL + tuple(t for t in TABLES if t != "reloads"):
        conn.execute(f"DROP TABLE IF EXISTS {name}")


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
