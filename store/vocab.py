"""The `vocab` table: every index word and how many facts hold it (typo correction, word weights).

A full reload rebuilds it from FTS5's own vocabulary (`facts_terms`, an fts5vocab table): one
scan of the whole index. A reload that changes a few files instead counts only what changed:
the index bodies of the facts it adds go into a temporary FTS5 table, those of the facts it
removes into another, both with the index's tokenizer, and their fts5vocab tables give the exact
number of added and removed facts holding each word. `vocab.df` moves by the difference, words
no fact holds any more are deleted. FTS5 does the tokenising in both cases, so the two ways give
the same table (tests/store/test_reload_incremental.py checks it).
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from store.text import FTS_TOKENIZE  # the index's tokenizer (store/index.py FTS_DDL)

_SIDES = ("plus", "minus")


def rebuild(conn: sqlite3.Connection) -> None:
    """The vocabulary from the whole index."""
    conn.execute("DELETE FROM vocab")
    conn.execute("INSERT INTO vocab(term, df) SELECT term, doc FROM facts_terms")


class VocabDelta:
    """The facts one reload adds and removes, to move `vocab` by; `apply` once at the end."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.counts = {"plus": 0, "minus": 0}
        for side in _SIDES:
            conn.execute(f"DROP TABLE IF EXISTS temp.vocab_{side}_terms")
            conn.execute(f"DROP TABLE IF EXISTS temp.vocab_{side}")
            conn.execute(f"CREATE VIRTUAL TABLE temp.vocab_{side} USING fts5("
                         f"body, content='', columnsize=0, detail=none, tokenize='{FTS_TOKENIZE}')")
            conn.execute(f"CREATE VIRTUAL TABLE temp.vocab_{side}_terms USING fts5vocab(temp, vocab_{side}, row)")

    def add(self, rows: Iterable[tuple[int, str]]) -> None:
        """(fact id, index body) of facts the reload inserts."""
        self._insert("plus", rows)

    def remove(self, rows: Iterable[tuple[int, str]]) -> None:
        """(fact id, index body) of facts the reload deletes."""
        self._insert("minus", rows)

    def _insert(self, side: str, rows: Iterable[tuple[int, str]]) -> None:
        rows = list(rows)
        self.conn.executemany(f"INSERT INTO temp.vocab_{side}(rowid, body) VALUES (?, ?)", rows)
        self.counts[side] += len(rows)

    def apply(self) -> None:
        c = self.conn
        if self.counts["plus"]:
            c.execute("INSERT INTO vocab(term, df) SELECT term, doc FROM temp.vocab_plus_terms WHERE true"
                      " ON CONFLICT(term) DO UPDATE SET df = df + excluded.df")
        if self.counts["minus"]:
            c.execute("UPDATE vocab SET df = df - m.doc FROM temp.vocab_minus_terms m WHERE vocab.term = m.term")
            c.execute("DELETE FROM vocab WHERE df <= 0 AND term IN (SELECT term FROM temp.vocab_minus_terms)")
        self.close()

    def close(self) -> None:
        for side in _SIDES:
            self.conn.execute(f"DROP TABLE IF EXISTS temp.vocab_{side}_terms")
            self.conn.execute(f"DROP TABLE IF EXISTS temp.vocab_{side}")
