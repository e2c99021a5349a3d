"""Search: a query's plan, its candidates from FTS5, their scores, the page of hits.

The steps live in modules of their own, as Lucene keeps QueryParser, Weight/Scorer and Collector
apart: `store/plan.py` turns the query into a `Plan` (plain data, `factbot ask --explain` prints
it), `store/rank.py` fetches the candidates a plan's groups find and scores them, `store/hits.py`
builds the hits with their highlights. `Searcher` holds what outlives one query (the vocabulary
snapshot, the heading cache, the semantic reranker) and runs the steps inside one read snapshot.

Pages are slices of one order: the first fetch ranked, then what a fetch GROWTH times larger adds,
ranked after it, and so on (`Searcher._ranked`); no fetch depends on the page asked for.
"""
from __future__ import annotations

import threading
import time

from store import dictionary
from store.hits import Hit, SearchResult, explain, hit
from store.plan import MAX_QUERY_CHARS, STOP_WORDS, Group, Plan, Vocab, plan
from store.rank import CANDIDATES, FETCHES, FIRST_WANT, GROWTH, Scorer, candidates, rows
from store.semantic import PRIME_FACTS, Reranker

__all__ = ["Hit", "SearchResult", "Searcher", "Plan", "Group", "MAX_QUERY_CHARS", "STOP_WORDS"]


class Searcher:
    """Answers queries from one index; safe to share between threads."""

    def __init__(self, index):
        self.index = index
        self._vocab: Vocab | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._scorer = Scorer(Reranker() if getattr(index, "semantic", False) else None)
        dictionary.warm()  # once per process: a searcher's first question does not pay for it

    @property
    def reranker(self) -> Reranker | None:
        """The semantic reranker (None when the semantic part is off)."""
        return self._scorer.reranker

    def _current(self, conn) -> Vocab:
        """The vocabulary for the index as this connection sees it; reloaded after a reload. The
        shared snapshot only moves forward: a thread whose read snapshot predates a newer reload
        keeps the newer vocabulary another thread loaded (a word it lacks simply matches nothing)."""
        data_version = conn.execute("PRAGMA data_version").fetchone()[0]
        if self._vocab is not None and getattr(self._local, "data_version", None) == data_version:
            return self._vocab
        generation = conn.execute("SELECT coalesce(max(id), 0) FROM reloads").fetchone()[0]
        with self._lock:
            if self._vocab is None or self._vocab.generation < generation:
                self._vocab = Vocab.load(conn, generation, self.index.glossary_files,
                                         self.index.alias_files, self.index.related_words)
                self._scorer.clear()
        self._local.data_version = data_version
        return self._vocab

    def warm(self) -> None:
        """Load the vocabulary, the word resources (store/dictionary.py) and the semantic model
        now, so that the first query does not pay for them."""
        dictionary.warm()
        reranker = self._scorer.reranker
        if reranker is not None:
            reranker.model()
        with self._snapshot() as conn:
            self._current(conn)
            if reranker is not None:  # the newest facts' words tokenized: what questions meet most
                reranker.prime(text for (text,) in conn.execute(
                    "SELECT text FROM facts ORDER BY id DESC LIMIT ?", (PRIME_FACTS,)))

    def _snapshot(self):
        conn = self.index.conn()
        return _Snapshot(conn)

    def plan(self, v: Vocab, query: str) -> Plan:
        return plan(v, query)

    def explain(self, query: str) -> Plan:
        """The plan of a query against the index as it is now (`factbot ask --explain`)."""
        with self._snapshot() as conn:
            return plan(self._current(conn), query)

    def search(self, query: str, limit: int = 5, offset: int = 0) -> SearchResult:
        started = time.perf_counter()
        limit = max(1, min(int(limit), 50))
        offset = max(0, int(offset))
        with self._snapshot() as conn:  # one snapshot for the whole search, even while a reload commits
            v = self._current(conn)
            p = plan(v, query)
            ranked = [] if p.refused else self._ranked(
                conn, v, p.groups, offset + limit + 1, query if p.question else None, p.info)
        page = ranked[offset:offset + limit]
        hits = [hit(p.groups, row, score, explain(matches, bonus)) for score, row, matches, bonus in page]
        took = (time.perf_counter() - started) * 1000
        return SearchResult(query, took, hits, has_more=len(ranked) > offset + limit, missing=p.missing)

    def _ranked(self, conn, v: Vocab, groups: list[Group], need: int,
                question: str | None = None, info: float = 0.0) -> list[tuple]:
        """The query's answers in one fixed order, at least `need` of them when there are that
        many: the first fetch's candidates ranked, then those a fetch GROWTH times larger adds,
        ranked, and so on, until a fetch finds every candidate there is, or adds no answer (facts
        further down would not answer either), or FETCHES were made. Which facts each fetch
        brings depends on the query and the index only, never on the page asked for, so every
        page is a slice of the same order: no fact twice, none skipped."""
        ranked: list[tuple] = []
        seen: set[int] = set()
        want, per_statement = FIRST_WANT, CANDIDATES
        for fetch in range(FETCHES):
            ids, complete = candidates(conn, groups, want, v.n_facts, per_statement)
            new = [i for i in ids if i not in seen]
            seen.update(new)
            # the semantic bonus reorders the head of the ranking: the first fetch's answers
            answers = self._scorer.rank(groups, rows(conn, new), question, v.generation, info,
                                        rerank=fetch == 0)
            ranked.extend(answers)
            if complete or not answers or len(ranked) >= need:
                break
            per_statement *= GROWTH
            want = per_statement
        return ranked


class _Snapshot:
    """A read transaction on one connection: every statement inside sees the same index."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN")
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.execute("COMMIT")
