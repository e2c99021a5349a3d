"""The names the facts hold (companies, people, products), learned from the corpus at reload.

A *name* is what store/overview.py's `Names` finder reads off the facts: a run of capitalised
words starting with a word that is (nearly) always written capitalised where it does not start a
sentence ("Quuxly", "Seres Automotive", "Lumora"; not "Revenue", nor "Analysts", nor "IPO"). No
word list: the capitalisation of the corpus decides. What the finder reads of the facts is kept
in the index, moved by the facts a reload adds and removes (`NameDelta`, as the vocabulary is;
rebuilt whole in a bulk reload), so that a reload reads only the facts it changes:

    name_tokens  every word of the facts' texts as written (`_WORD`), its occurrences, and those
                 starting a sentence: the capitalisation counts
    fact_names   per fact holding a capitalised word, its capitalised words in order (a stretch
                 of other words between them as an empty one): what the runs of names are read from
    entities     key (the name's first word, lower-case, an index word), name (as most often
                 written, up to three words), facts (how many facts hold it)

and `learn` reads the entities from the first two (its cost: one read of both tables).

A Chinese name reaches its entity through the aliases the reload learns (store/lexicon.py
learn_aliases: 赛力斯 <-> seres): a query's Chinese word stands for the English index word, and
that word is the key. The articles of an entity are not stored: the full-text index finds them
(`articles_of`), newest first, bounded.

The search (store/search.py) reads the keys with the vocabulary (`load`), to tell which entities a
question names, and the articles of a thread's entities to answer a follow-up within them.
"""
from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from typing import Iterable

from store.overview import Names, capitalised_words, tokens

MAX_ARTICLES = 200  # articles of one entity a follow-up is answered within (the newest)
MAX_FACTS = 5000  # facts read to find them
SEP = "\x1f"  # between a fact's capitalised words in fact_names


class NameDelta:
    """The finder's counts moved by the facts one reload adds and removes (fact_names at once,
    name_tokens by `apply`, in the reload's transaction)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.plus: tuple[Counter, Counter] = (Counter(), Counter())
        self.minus: tuple[Counter, Counter] = (Counter(), Counter())

    def add(self, rows: Iterable[tuple[int, str]]) -> None:
        """(fact id, text) of facts the reload inserts."""
        kept = []
        for fid, text in rows:
            tokens(text, *self.plus)
            words = capitalised_words(text)
            if words:
                kept.append((fid, SEP.join(words)))
        self.conn.executemany("INSERT OR REPLACE INTO fact_names(fact_id, words) VALUES (?, ?)", kept)

    def remove(self, rows: Iterable[tuple[int, str]]) -> None:
        """(fact id, text) of facts the reload deletes."""
        gone = []
        for fid, text in rows:
            tokens(text, *self.minus)
            gone.append((fid,))
        self.conn.executemany("DELETE FROM fact_names WHERE fact_id = ?", gone)

    def apply(self) -> None:
        (total, first), (total_out, first_out) = self.plus, self.minus
        moved = [(t, total.get(t, 0) - total_out.get(t, 0), first.get(t, 0) - first_out.get(t, 0))
                 for t in set(total) | set(total_out)]
        self.conn.executemany(
            "INSERT INTO name_tokens(token, total, first) VALUES (?, ?, ?) ON CONFLICT(token) DO UPDATE"
            " SET total = total + excluded.total, first = first + excluded.first", moved)
        if total_out:
            self.conn.execute("DELETE FROM name_tokens WHERE total <= 0")
        self.plus, self.minus = (Counter(), Counter()), (Counter(), Counter())


def rebuild(conn: sqlite3.Connection) -> None:
    """name_tokens and fact_names from every fact (a bulk reload)."""
    conn.execute("DELETE FROM name_tokens")
    conn.execute("DELETE FROM fact_names")
    delta = NameDelta(conn)
    batch: list[tuple[int, str]] = []
    for row in conn.execute("SELECT id, text FROM facts ORDER BY id"):
        batch.append(row)
        if len(batch) >= 5000:
            delta.add(batch)
            batch = []
    delta.add(batch)
    delta.apply()


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


def learn(conn: sqlite3.Connection, delta: NameDelta | None = None) -> int:
    """Rewrite the entities table (in the reload's transaction): from the finder's counts moved
    by `delta`, or, without one (a bulk reload), rebuilt from every fact; how many entities."""
    if delta is None:
        rebuild(conn)
    else:
        delta.apply()
    names = Names(facts_with=defaultdict(_Distinct))
    names.add_counts(conn.execute("SELECT token, total FROM name_tokens"),
                     dict(conn.execute("SELECT token, first FROM name_tokens WHERE first > 0")))
    for fid, words in conn.execute("SELECT fact_id, words FROM fact_names ORDER BY fact_id"):
        names.runs_of(fid, words.split(SEP))
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
