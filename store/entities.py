"""The names the facts hold (companies, people, products), learned from the corpus at reload.

A *name* is what store/overview.py's `Names` finder reads off the facts: a run of capitalised
words starting with a word that is (nearly) always written capitalised where it does not start a
sentence ("Quuxly", "Seres Automotive", "Lumora"; not "Revenue", nor "Analysts", nor "IPO"). No
word list: the capitalisation of the corpus decides. The reload reads every fact twice (once to
count how each word is written, once for the runs of capitalised words) and rewrites the
`entities` table:

    entities  key (the name's first word, lower-case, an index word), name (as most often
              written, up to three words), facts (how many facts hold it)

A Chinese name reaches its entity through the aliases the reload learns (store/lexicon.py
learn_aliases: 赛力斯 <-> seres): a query's Chinese word stands for the English index word, and
that word is the key. The articles of an entity are not stored: the full-text index finds them
(`articles_of`), newest first, bounded.

The search (store/search.py) reads the keys with the vocabulary (`load`), to tell which entities a
question names, and the articles of a thread's entities to answer a follow-up within them.
"""
from __future__ import annotations

import sqlite3
from collections import defaultdict

from store.overview import Names

MAX_ARTICLES = 200  # articles of one entity a follow-up is answered within (the newest)
MAX_FACTS = 5000  # facts read to find them


class _Distinct:
    """How many distinct facts hold a name, the facts seen in ascending order (no set kept)."""

    __slots__ = ("n", "last")

    def __init__(self) -> None:
        self.n, self.last = 0, -1

    def add(self, i: int) -> None:
        if i != self.last:
            self.n, self.last = self.n + 1, i

    def __len__(self) -> int:
        return self.n


def learn(conn: sqlite3.Connection) -> int:
    """Rewrite the entities table from every fact (in the reload's transaction); how many."""
    names = Names(facts_with=defaultdict(_Distinct))
    names.count(text for (text,) in conn.execute("SELECT text FROM facts"))
    for i, (text,) in enumerate(conn.execute("SELECT text FROM facts")):
        names.runs(i, text)
    keys = names.keys()
    indexed = set()
    for start in range(0, len(keys), 500):
        part = keys[start:start + 500]
        indexed.update(t for (t,) in conn.execute(
            f"SELECT term FROM vocab WHERE term IN ({','.join('?' * len(part))})", part))
    rows = [(k, names.name_of[k].most_common(1)[0][0], len(names.facts_with[k])) for k in keys if k in indexed]
    conn.execute("DELETE FROM entities")
    conn.executemany("INSERT INTO entities(key, name, facts) VALUES (?,?,?)", rows)
    return len(rows)


def load(conn: sqlite3.Connection) -> dict[str, str]:
    """key -> name of every entity (empty for an index written before entities were learned)."""
    try:
        return dict(conn.execute("SELECT key, name FROM entities"))
    except sqlite3.OperationalError:
        return {}


def key_of(name: str) -> str:
    """The key of an entity's name ("Seres Automotive" -> seres)."""
    return name.split()[0].lower() if name.split() else ""


def articles_of(conn: sqlite3.Connection, keys: list[str]) -> list[int]:
    """The articles holding every one of the entities (their fact text, heading or title: a Chinese
    title holds the Chinese name), newest facts first, at most MAX_ARTICLES; with several
    entities and no article holding them all, those holding any."""
    keys = [k for k in dict.fromkeys(keys) if k]
    if not keys:
        return []
    for joiner in (" AND ", " OR "):
        expr = joiner.join('"' + k.replace('"', '""') + '"' for k in keys)
        rows = conn.execute(
            "SELECT DISTINCT f.article_id FROM facts f WHERE f.id IN (SELECT rowid FROM facts_fts"
            " WHERE facts_fts MATCH ? ORDER BY rowid DESC LIMIT ?) LIMIT ?", (expr, MAX_FACTS, MAX_ARTICLES))
        found = [a for (a,) in rows]
        if found or len(keys) == 1:
            return found
    return []
