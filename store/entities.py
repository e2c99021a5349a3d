"""The names the facts hold (companies, people, products), learned from the corpus at reload.

A *name* is what store/overview.py's `Names` finder reads off the facts: a run of capitalised
words starting with a word that is (nearly) always written capitalised where it does not start a
sentence ("Quuxly", "Seres Automotive", "Lumora"; not "Revenue", nor "Analysts", nor "IPO"). No
word list: the capitalisation of the corpus decides. What the finder reads of the facts is kept
in the index, moved by the facts a reload adds and removes (`NameDelta`, as the vocabulary is),
each fact read once, by the reload's worker process that parses it (`fact_words`):

    name_tokens  every word of the facts' texts as written (`_WORD`), its occurrences, and those
                 starting a sentence: the capitalisation counts
    fact_names   per fact holding a capitalised word, its capitalised words in order (a stretch
                 of other words between them as an empty one): what the runs of names are read from
    entities     key (the name's first word, lower-case, an index word), name (as most often
                 written, up to three words), facts (how many facts hold it)

A bulk reload then reads the runs of names of every fact's kept words (`learn(..., whole=True)`).
A reload of a few files moves only what its facts change: the capitalisation counts, and
the entities the added and removed facts hold (their runs read with the counts as they are now),
so that it costs what its facts cost, not what the corpus holds. What that leaves out until the
next bulk reload: a word whose capitalisation share crosses the finder's line because of those
few facts changes the runs of other facts too (a name's facts count, or its written form, may lag
by what the change moved elsewhere).

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
    """The finder's counts moved by the facts one reload adds and removes (fact_names by `flush`
    and `remove`, name_tokens by `apply`, in the reload's transaction)."""

    def __init__(self, conn: sqlite3.Connection, keep: bool = True):
        self.conn = conn
        self.keep = keep  # keep the added and removed facts' words (for `learn` of a few files)
        self.plus: tuple[Counter, Counter] = (Counter(), Counter())
        self.minus: tuple[Counter, Counter] = (Counter(), Counter())
        self.added: list[tuple[int, list[str]]] = []  # (fact id, capitalised words) of facts added
        self.removed: list[tuple[int, list[str]]] = []  # and of facts removed
        self.pending: list[tuple[int, str]] = []  # fact_names rows of add_read, written by flush

    def add_read(self, ids: Iterable[int], names: Iterable[str], counts: tuple[dict, dict]) -> None:
        """Facts the reload inserts, as `fact_words` read them (their ids, capitalised words and
        the counts of one article's facts): what `add` does, without reading the texts again."""
        total, first = self.plus
        total.update(counts[0])
        first.update(counts[1])
        kept = [(fid, words) for fid, words in zip(ids, names) if words]
        if self.keep:
            self.added.extend((fid, words.split(SEP)) for fid, words in kept)
        self.pending.extend(kept)

    def flush(self) -> None:
        """Write the fact_names rows of the facts `add_read` took (after their facts are written)."""
        self.conn.executemany("INSERT OR REPLACE INTO fact_names(fact_id, words) VALUES (?, ?)", self.pending)
        self.pending = []

    def remove(self, rows: Iterable[tuple[int, str]]) -> None:
        """(fact id, text) of facts the reload deletes."""
        gone = []
        for fid, text in rows:
            words = capitalised_words(text, tokens(text, *self.minus))
            gone.append((fid,))
            if words and self.keep:
                self.removed.append((fid, words))
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


def fact_words(texts: Iterable[str], names: list[str]) -> tuple[dict, dict]:
    """What the finder reads of these facts (one article's, in a reload's worker process): each
    fact's capitalised words appended to `names` (SEP between them), and the counts of their
    words, as `NameDelta.add` reads them."""
    total: Counter = Counter()
    first: Counter = Counter()
    for text in texts:
        names.append(SEP.join(capitalised_words(text, tokens(text, total, first))))
    return dict(total), dict(first)


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


def _counted(conn: sqlite3.Connection, facts_with=None) -> Names:
    """A name finder holding the index's capitalisation counts (no runs read yet)."""
    names = Names(facts_with=facts_with if facts_with is not None else defaultdict(_Distinct))
    names.add_counts(conn.execute("SELECT token, total FROM name_tokens"),
                     dict(conn.execute("SELECT token, first FROM name_tokens WHERE first > 0")))
    return names


def _indexed(conn: sqlite3.Connection, keys) -> set[str]:
    """Those of the keys that are index words."""
    keys, found = list(keys), set()
    for start in range(0, len(keys), 500):
        part = keys[start:start + 500]
        found.update(t for (t,) in conn.execute(
            f"SELECT term FROM vocab WHERE term IN ({','.join('?' * len(part))})", part))
    return found


def learn(conn: sqlite3.Connection, delta: NameDelta, whole: bool = False) -> int:
    """The entities table (in the reload's transaction): moved by the facts of `delta`; with
    `whole` (a bulk reload), the counts moved and the entities then read from every fact's kept
    words. How many entities there are."""
    if not whole:
        return _learn_delta(conn, delta)
    delta.flush()
    delta.apply()
    names = _counted(conn)
    for fid, words in conn.execute("SELECT fact_id, words FROM fact_names ORDER BY fact_id"):
        names.runs_of(fid, words.split(SEP))
    keys = names.keys()
    indexed = _indexed(conn, keys)
    rows = [(k, names.name_of[k].most_common(1)[0][0], len(names.facts_with[k])) for k in keys if k in indexed]
    conn.execute("DELETE FROM entities")
    conn.executemany("INSERT INTO entities(key, name, facts) VALUES (?,?,?)", rows)
    return len(rows)


def _learn_delta(conn: sqlite3.Connection, delta: NameDelta) -> int:
    """The entities moved by a few files' facts: the names the removed facts held lose them, the
    names the added facts hold gain them (a new one is learned as the finder would learn it from
    those facts: seen more often starting a name than inside one, and an index word)."""
    delta.flush()
    added, removed = delta.added, delta.removed
    # the removed facts' runs with the counts that still hold them, the added ones' with the
    # counts that hold them
    lost = _counted(conn, facts_with=defaultdict(set)) if removed else Names(facts_with=defaultdict(set))
    for fid, words in sorted(removed):
        lost.runs_of(fid, words)
    delta.apply()
    if added or removed:
        gained = _counted(conn, facts_with=defaultdict(set)) if added else Names(facts_with=defaultdict(set))
        for fid, words in sorted(added):
            gained.runs_of(fid, words)
        known = dict(((k, (n, f)) for k, n, f in conn.execute(
            "SELECT key, name, facts FROM entities")))
        touched = set(gained.facts_with) | set(lost.facts_with)
        new = [k for k in gained.keys() if k not in known]
        indexed = _indexed(conn, new)
        for key in touched:
            n = len(gained.facts_with.get(key, ())) - len(lost.facts_with.get(key, ()))
            if key in known:
                name, facts = known[key]
                if facts + n > 0:
                    conn.execute("UPDATE entities SET facts = ? WHERE key = ?", (facts + n, key))
                else:
                    conn.execute("DELETE FROM entities WHERE key = ?", (key,))
            elif key in indexed and n > 0:
                conn.execute("INSERT INTO entities(key, name, facts) VALUES (?,?,?)",
                             (key, gained.name_of[key].most_common(1)[0][0], n))
    return conn.execute("SELECT count(*) FROM entities").fetchone()[0]


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
