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

import math
import threading
import time

from store import dictionary
from store import groups as dup_groups
from store import entities as entities_mod
from store.hits import Hit, SearchResult, explain, hit
from store.plan import MAX_QUERY_CHARS, STOP_WORDS, Group, Plan, Vocab, information, plan
from store.rank import CANDIDATES, FETCHES, FIRST_WANT, GROWTH, Scorer, candidates, rows
from store.semantic import PRIME_FACTS, Reranker
from store.text import normalize, words

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

    def explain(self, query: str, context=None) -> Plan:
        """The plan of a query against the index as it is now (`factbot ask --explain`), in a
        thread's `context` when given (store/threads.py ThreadContext)."""
        with self._snapshot() as conn:
            v = self._current(conn)
            return _in_context(conn, v, query, plan(v, query), context)

    def search(self, query: str, limit: int = 5, offset: int = 0, context=None) -> SearchResult:
        """A page of answers. `context` (store/threads.py ThreadContext: the entities and articles
        of a thread's earlier turns): a query that names no entity of its own is answered within
        the articles of the thread's entities (a filter), and from every article when none of
        those answers it; one that names an entity is answered as without context (it switches
        the thread to that entity). No context, or an empty one: exactly as before."""
        started = time.perf_counter()
        limit = max(1, min(int(limit), 50))
        offset = max(0, int(offset))
        with self._snapshot() as conn:  # one snapshot for the whole search, even while a reload commits
            v = self._current(conn)
            p = plan(v, query)
            alone_info = p.info  # the query's own (a follow-up's plan adds the thread's entities)
            p = _in_context(conn, v, query, p, context)
            need, question = offset + limit + 1, query if p.question else None
            ranked = [] if p.refused else self._ranked(conn, v, p.groups, need, question, p.info, p.within)
            leaned = p.context if ranked and p.within else None
            if leaned is not None:  # a thread moves on: what it has shown comes after what it has not
                ranked = _unshown_first(ranked, getattr(context, "shown", ()) or (), p.groups)
            if p.within and not ranked and not p.refused:  # nothing there: every article, as without context
                own = [g for g in p.groups if not g.given]  # (no fact out there holds the thread's for free)
                ranked = self._ranked(conn, v, own, need, question, alone_info)
            page = ranked[offset:offset + limit]
            about = p.named or list(p.context or ()) or _named_by(v, page[:1])
            hits = [hit(p.groups, row, score, explain(matches, bonus)) for score, row, matches, bonus in page]
            self._also(conn, hits)  # in the ranking's snapshot: the list is the one the hits were ranked in
        took = (time.perf_counter() - started) * 1000
        return SearchResult(query, took, hits, has_more=len(ranked) > offset + limit, missing=p.missing,
                            about=about, context=leaned)

    def _one_per_group(self, conn, answers: list[tuple], shown: set[int]) -> list[tuple]:
        """The answers less the facts of a group of near-duplicates already answered: a group
        is answered once, at the place of its best-scoring member, by that member (the one the
        query's words find best), or by the group's representative (its earliest report,
        store/dedupe.py) when that scores as well; the others are listed with it (Hit.also).
        The ranking is one order and this keeps one member of each group where the group first
        stands, so pages, slices of it, never repeat a group."""
        dups = dup_groups.group_keys(conn, [a[1][0] for a in answers])
        if not dups:
            return answers
        representative = {a[1][0]: a for a in answers if dups.get(a[1][0]) == a[1][0]}
        kept = []
        for answer in answers:
            group = dups.get(answer[1][0])
            if group is not None:
                if group in shown:
                    continue
                shown.add(group)
                rep = representative.get(group)
                if rep is not None and rep[0] == answer[0]:
                    answer = rep
            kept.append(answer)
        return kept

    def _also(self, conn, hits: list[Hit]) -> None:
        """Each hit's `also`: the other members of its group of near-duplicates (other outlets'
        reports of the same fact), read in the search's snapshot."""
        shown = dup_groups.group_keys(conn, [h.id for h in hits])
        if not shown:
            return
        also = dup_groups.also(conn, shown)
        for h in hits:
            h.also = also.get(h.id, [])

    def _ranked(self, conn, v: Vocab, groups: list[Group], need: int,
                question: str | None = None, info: float = 0.0, within: list[int] | None = None) -> list[tuple]:
        """The query's answers in one fixed order, at least `need` of them when there are that
        many: the first fetch's candidates ranked, then those a fetch GROWTH times larger adds,
        ranked, and so on, until a fetch finds every candidate there is, or adds no answer (facts
        further down would not answer either), or FETCHES were made. Which facts each fetch
        brings depends on the query and the index only, never on the page asked for, so every
        page is a slice of the same order: no fact twice, none skipped."""
        ranked: list[tuple] = []
        seen: set[int] = set()
        shown: set[int] = set()  # the groups of near-duplicates answered so far (store/groups.py)
        want, per_statement = FIRST_WANT, CANDIDATES
        for fetch in range(FETCHES):
            ids, complete = candidates(conn, groups, want, v.n_facts, per_statement, within)
            new = [i for i in ids if i not in seen]
            seen.update(new)
            # the semantic bonus reorders the head of the ranking: the first fetch's answers
            answers = self._scorer.rank(groups, rows(conn, new), question, v.generation, info,
                                        rerank=fetch == 0)
            ranked.extend(self._one_per_group(conn, answers, shown))
            if complete or not answers or len(ranked) >= need:
                break
            per_statement *= GROWTH
            want = per_statement
        return ranked


def _in_context(conn, v: Vocab, query: str, p: Plan, context) -> Plan:
    """The plan of a follow-up. When the query names no entity and the thread has a subject, it is
    answered within the articles holding the thread's entities (`p.within`, a filter:
    store/entities.py articles_of; else the articles of the thread's answers), and each entity is
    a group every one of those facts holds (Group.given): it weighs toward the confidence
    threshold as the name would if the question had said it ("and the net profit?" about Quuxly
    passes where "net profit" alone would), but orders nothing, so the facts rank among themselves
    as the question's own words say. `p.context`: the entities leaned on."""
    if not context or p.named or p.refused:
        return p
    names = list(getattr(context, "entities", ()) or ())
    within = entities_mod.articles_of(conn, [entities_mod.key_of(n) for n in names]) if names else []
    within = within or [int(a) for a in getattr(context, "articles", ()) or ()]
    if not within:
        return p
    for name in names:
        key = entities_mod.key_of(name)
        df = min(v.n_facts, v.df.get(key, 0))
        info, _ = information((key,), True)
        p.groups.append(Group(name, {(key,): 1.0}, {}, df, math.log(1 + (v.n_facts - df + 0.5) / (df + 0.5)),
                              kinds={(key,): "thread"}, info=info, distinctive=True, given=True))
        p.info += info
    p.context, p.within = names, within
    return p


def _unshown_first(ranked: list[tuple], shown, groups: list[Group]) -> list[tuple]:
    """The answers of a follow-up with those the thread has already shown, unless they hold every
    word the question asks, after the others (each part in its order; among answers of equal
    score, those not shown first): asked "was the offering oversubscribed?" after "quuxly ipo",
    the article's overview shown then (it holds "offering" only) does not come first again, while
    the fact shown that holds all of "how big was the ipo?" may."""
    if not shown:
        return ranked
    asked = {g.surface for g in groups if g.counts and not g.given}

    def again(r: tuple) -> bool:
        return r[1][0] in shown and not asked <= {m[0] for m in r[2]}

    first = sorted((r for r in ranked if not again(r)), key=lambda r: (-r[0], r[1][0] in shown))  # ties: new first
    return first + [r for r in ranked if again(r)]


def _named_by(v: Vocab, page: list[tuple]) -> list[str]:
    """The first entity the top answer's text names (what an answer to a question that names
    none is about), as a list."""
    for _score, row, _matches, _bonus in page:
        for w in words(normalize(row[1])):
            if w in v.entities:
                return [v.entities[w]]
    return []


class _Snapshot:
    """A read transaction on one connection: every statement inside sees the same index."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN")
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.execute("COMMIT")
