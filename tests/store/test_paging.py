"""Paging and candidates on a generated corpus of a few thousand facts: every page of a query is a
slice of one fixed order (disjoint, whatever the page size or depth), paging reaches past the
candidate limit of one statement, and candidates are the newest facts."""
from __future__ import annotations

import statistics

import pytest

from store import Index
from store.rank import CANDIDATES, group_expr

COMMON = [  # common-word queries of the generated corpus (its Zipf-weighted vocabulary)
    "investors expect margins to improve", "ai chips demand", "revenue", "margins", "net profit growth",
    "capacity expansion", "overseas revenue", "analysts expect", "data center", "gross margin",
    "price war", "orders",
]
MAX_PAGES = 400  # a bound on the loop only: every query here ends long before
_ORDERS: dict[tuple[str, str], list[int]] = {}


def _page(index: Index, query: str, size: int, number: int) -> tuple[list[int], bool]:
    result = index.search(query, limit=size, offset=number * size)
    return [h.id for h in result.hits], result.has_more


def _order(index: Index, query: str) -> list[int]:
    """Every answer of the query, paging 50 at a time to the end (once per query and index)."""
    key = (str(index.db_path), query)
    if key not in _ORDERS:
        out = []
        for n in range(MAX_PAGES):
            ids, more = _page(index, query, 50, n)
            out.extend(ids)
            if not more:
                assert _page(index, query, 50, n + 1)[0] == []
                break
            assert len(ids) == 50
        else:
            raise AssertionError(f"{query!r}: more than {MAX_PAGES} pages")
        _ORDERS[key] = out
    return _ORDERS[key]


def _numbers(total: int, size: int) -> list[int]:
    """Which pages of `size` to ask for: all of them for a short answer; else the first ten, ten
    spread over the middle and the last two (asking every page of a thousand answers five at a
    time would cost the suite seconds and prove nothing more)."""
    last = (total - 1) // size
    if last < 20:
        return list(range(last + 1))
    return sorted({*range(10), *range(10, last, last // 10), last - 1, last})


@pytest.mark.parametrize("query", COMMON)
def test_pages_are_disjoint_slices_of_one_order_whatever_the_page_size(generated_index, query):
    order = _order(generated_index, query)
    assert order, query
    assert len(order) == len(set(order)), f"{query!r} repeats facts on later pages"
    for size in (5, 7):
        numbers = _numbers(len(order), size)
        for n in numbers:
            ids, more = _page(generated_index, query, size, n)
            assert ids == order[n * size:(n + 1) * size], (query, size, n)
            assert more == ((n + 1) * size < len(order))
        if numbers == list(range(len(numbers))):  # every page asked for: together, every answer once
            assert [i for n in numbers for i in _page(generated_index, query, size, n)[0]] == order
    # a deep page asked for first, by a fresh index (nothing carried over from earlier pages)
    fresh = Index(generated_index.db_path)
    middle = len(order) // 2
    assert [h.id for h in fresh.search(query, limit=5, offset=middle).hits] == order[middle:middle + 5]
    fresh.close()


@pytest.mark.parametrize("query", ["revenue", "margins", "investors", "orders"])
def test_a_one_word_query_pages_through_every_fact_holding_it(generated_index, query):
    """Far more facts hold a common word than one statement fetches: paging reaches all of them
    (a near-duplicate of another article's fact as one of its group's, store/groups.py)."""
    searcher = generated_index.searcher()
    conn = generated_index.conn()
    (group,) = searcher.plan(searcher._current(conn), query).groups
    holding = {r for (r,) in conn.execute("SELECT rowid FROM facts_fts WHERE facts_fts MATCH ?",
                                          (group_expr(group),))}
    assert len(holding) > 5 * CANDIDATES
    paged = _order(generated_index, query)
    group = dict(conn.execute("SELECT id, coalesce(dup, id) FROM facts"))
    assert len(paged) == len(set(paged)) and {group[i] for i in paged} == {group[i] for i in holding}


@pytest.mark.parametrize("query", ["revenue", "margins", "investors", "orders", "analysts expect"])
def test_the_first_page_comes_from_the_newest_facts(generated_index, query):
    """Candidates are fetched newest first: the first page's facts are newer than most facts
    holding the words (they would be older than most if the oldest were fetched)."""
    searcher = generated_index.searcher()
    conn = generated_index.conn()
    groups = searcher.plan(searcher._current(conn), query).groups
    expr = " AND ".join(group_expr(g) for g in groups)
    dates = [p for (p,) in conn.execute(
        "SELECT a.published FROM facts f JOIN articles a ON a.id = f.article_id WHERE f.id IN"
        " (SELECT rowid FROM facts_fts WHERE facts_fts MATCH ?)", (expr,))]
    assert len(dates) > 2 * CANDIDATES
    median = statistics.median_low(sorted(dates))
    hits = generated_index.search(query, limit=5).hits
    assert len(hits) == 5
    assert all(h.article.published > median for h in hits), (median, [h.article.published for h in hits])


def test_pages_follow_the_ranking_within_what_one_fetch_brings(generated_index):
    """The first candidates are ranked best first: the scores of the first page never rise."""
    for query in COMMON:
        scores = [h.score for h in generated_index.search(query, limit=5).hits]
        assert scores == sorted(scores, reverse=True), query
