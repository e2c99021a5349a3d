"""Threads: what each one was asked and answered (store/threads.py, a real state store), the
entities learned at reload (store/entities.py), and a follow-up's search in its thread's context
(store/search.py) on a generated corpus of companies whose facts say the same things."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.generated import followups


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A few made-up companies (Quuxly, Brimco, Kelvo, ...) and the bundled seed, indexed."""
    from store.index import Index

    work = tmp_path_factory.mktemp("threads")
    fu = followups()
    made = fu.write_corpus(work / "seeds", 8, seed=1)
    index = Index.open(work / "factbot.db", work / "seeds", semantic=False)
    yield index, made, fu
    index.close()


@pytest.fixture
def threads(tmp_path):
    from store.state import State
    from store.threads import Threads

    state = State.open(f"sqlite:///{tmp_path / 'factbot.state.db'}")
    yield lambda **kw: Threads(state.engine, **kw)
    state.close()


def _owner(made, hit) -> str | None:
    return made.owner.get(hit.article.title)


def _kind(made, fu, hit) -> str | None:
    return made.kinds.get((hit.article.title, fu._key(hit.text)))


# --------------------------------------------------------------------------- the turns kept

def test_a_new_thread_has_no_context_and_a_recorded_one_has_its_newest_subject(threads):
    from store.threads import ThreadKey

    t = threads()
    key, other = ThreadKey("T1", "C1", "1.000100"), ThreadKey("T1", "C1", "2.000100")
    assert not t.context(key) and t.context(key).entities == () and t.context(None).entities == ()
    t.record(key, "quuxly ipo", ["Quuxly"], [3, 4], [30, 31])
    t.record(key, "what about its valuation?", ["Quuxly"], [4], [40])
    ctx = t.context(key)
    assert ctx.entities == ("Quuxly",) and ctx.articles == (4,) and ctx.shown == {30, 31, 40}
    assert [turn.question for turn in ctx.turns] == ["what about its valuation?", "quuxly ipo"]
    # a switch: the newest turn about an entity is the subject
    t.record(key, "what about brimco?", ["Brimco"], [7], [70])
    assert t.context(key).entities == ("Brimco",)
    # a turn about nothing keeps the subject of before
    t.record(key, "thanks", [], [], [])
    assert t.context(key).entities == ("Brimco",)
    assert not t.context(other), "another thread of the same channel shares nothing"
    assert not t.context(ThreadKey("T2", "C1", "1.000100")), "nor the same ts in another workspace"


def test_a_thread_keeps_its_newest_turns_only(threads):
    from store.threads import ThreadKey, thread_turns

    t = threads(max_turns=3)
    key = ThreadKey("T1", "C9", "9.000100")
    for n in range(7):
        t.record(key, f"question {n}", [f"E{n}"], [n], [n])
    assert [turn.question for turn in t.context(key).turns] == ["question 6", "question 5", "question 4"]
    assert t.context(key).shown == {6, 5, 4}
    with t.engine.connect() as conn:  # and the one before them, for the newest answer's later pages
        assert conn.execute(thread_turns.select().where(thread_turns.c.channel == "C9")).all().__len__() == 4


def test_a_later_page_is_read_with_the_context_its_first_page_had(threads):
    from store.threads import ThreadKey

    t = threads(max_turns=3)
    key = ThreadKey("T1", "C8", "8.000100")
    t.record(key, "quuxly ipo", ["Quuxly"], [1], [10])
    t.record(key, "brimco ipo", ["Brimco"], [2], [20])
    t.record(key, "kelvo ipo", ["Kelvo"], [3], [30])
    first = t.context(key)  # what "and the net profit?" is read with
    t.record(key, "and the net profit?", ["Kelvo"], [3], [31])
    later = t.context(key, before="and  the net profit?")
    assert (later.entities, later.shown) == (first.entities, first.shown) == (("Kelvo",), {10, 20, 30})
    assert not t.context(key, before="never asked")


def test_turns_older_than_the_retention_are_never_read_and_are_deleted(threads):
    from store.threads import ThreadKey, thread_turns

    now = [datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()]
    t = threads(keep_days=2, clock=lambda: now[0])
    key = ThreadKey("T1", "C1", "5.000100")
    t.record(key, "quuxly ipo", ["Quuxly"], [1], [1])
    now[0] += timedelta(days=2, seconds=1).total_seconds()
    assert not t.context(key), "a turn past the retention is forgotten"
    assert t.purge() == 1
    with t.engine.connect() as conn:
        assert conn.execute(thread_turns.select()).all() == []


# --------------------------------------------------------------------------- entities

def test_entities_are_learned_from_the_corpus_at_reload(corpus):
    from store import entities

    index, made, _fu = corpus
    learned = entities.load(index.conn())
    for company in made.companies:
        assert learned.get(company["en"].lower()) == company["en"]
    assert learned.get("seres", "").startswith("Seres")  # the bundled seed's
    # words capitalised only where sentences start, and abbreviations, are not names
    for word in ("revenue", "analysts", "the", "ipo", "ipos", "hkd", "despite"):
        assert word not in learned


def test_a_query_names_an_entity_in_english_chinese_or_with_a_typo(corpus):
    index, made, _fu = corpus
    cn = {c["en"]: c["cn"] for c in made.companies}
    s = index.searcher()
    assert s.explain("quuxly ipo").named == ["Quuxly"]
    assert s.explain(f"那{cn['Brimco']}呢?").named == ["Brimco"]
    assert s.explain("brimcoo net profit").named == ["Brimco"]
    assert s.explain("and the net profit?").named == []


# --------------------------------------------------------------------------- search in context

def test_a_follow_up_that_names_no_entity_leans_on_the_thread(corpus):
    from store.threads import ThreadContext

    index, made, fu = corpus
    alone = index.search("and the net profit?", limit=5)
    assert alone.context is None and _owner(made, alone.hits[0]) != "Brimco"
    for company in ("Quuxly", "Brimco", "Kelvo"):
        r = index.search("and the net profit?", limit=5, context=ThreadContext((company,)))
        assert r.context == [company] and r.about == [company]
        assert _owner(made, r.hits[0]) == company and _kind(made, fu, r.hits[0]) == "net_profit"
        assert all(_owner(made, h) == company for h in r.hits), "answered within the company's articles"


def test_a_chinese_follow_up_leans_on_the_thread_too(corpus):
    from store.threads import ThreadContext

    index, made, fu = corpus
    for question, kind in (("那净利润呢?", "net_profit"), ("它的估值呢?", "valuation")):
        r = index.search(question, limit=5, context=ThreadContext(("Kelvo",)))
        assert r.context == ["Kelvo"]
        assert _owner(made, r.hits[0]) == "Kelvo" and _kind(made, fu, r.hits[0]) == kind, question


def test_a_follow_up_naming_another_entity_switches(corpus):
    from store.threads import ThreadContext

    index, made, _fu = corpus
    r = index.search("what about brimco?", limit=5, context=ThreadContext(("Quuxly",)))
    assert r.context is None and r.about == ["Brimco"] and _owner(made, r.hits[0]) == "Brimco"


def test_the_plan_shows_the_thread_it_leans_on(corpus):
    from store.threads import ThreadContext

    index, _made, _fu = corpus
    p = index.searcher().explain("and its valuation?", ThreadContext(("Quuxly",)))
    text = p.describe()
    assert "in this thread: Quuxly: answered within" in text and "given by the thread" in text
    assert p.to_json()["context"]["entities"] == ["Quuxly"]
    assert "in this thread" not in index.searcher().explain("and its valuation?").describe()


def test_facts_the_thread_has_shown_come_after_new_ones_unless_they_hold_every_word(corpus):
    from store.threads import ThreadContext

    index, _made, _fu = corpus
    first = index.search("was the offering oversubscribed?", limit=5, context=ThreadContext(("Quuxly",)))
    top = first.hits[0]
    again = index.search("was the offering oversubscribed?", limit=5,
                         context=ThreadContext(("Quuxly",), shown=frozenset({top.id})))
    holds_all = {m["word"] for m in top.matched} >= {"offering", "oversubscribed"}
    assert (again.hits[0].id == top.id) == holds_all
    assert {h.id for h in again.hits} == {h.id for h in first.hits}


@pytest.mark.parametrize("query", ["and the net profit?", "quuxly ipo", "它的估值呢?", "who is the ceo of ford",
                                   "seres ipo", "what about brimco?"])
def test_without_context_or_with_an_empty_one_the_answer_is_the_same(corpus, query):
    from store.threads import ThreadContext

    index, _made, _fu = corpus
    alone = index.search(query, limit=5)
    empty = index.search(query, limit=5, context=ThreadContext())
    assert [(h.id, h.score) for h in empty.hits] == [(h.id, h.score) for h in alone.hits]
    assert alone.to_json().keys() == {"query", "took_ms", "missing", "results"}
    assert empty.context is None


def test_what_an_answer_is_about_without_a_thread(corpus):
    index, _made, _fu = corpus
    assert index.search("quuxly ipo").about == ["Quuxly"]
    r = index.search("seres ipo")
    assert r.about and r.about[0].startswith("Seres")


def test_the_name_finder_counts_words_as_words_of_reads_them(corpus):
    """Names counts whole texts with regexes; the counts are those of words_of, word by word."""
    from collections import Counter

    from store.overview import Names, words_of

    index, _made, _fu = corpus
    texts = [t for (t,) in index.conn().execute("SELECT text FROM facts")]
    texts += ["x. Foo Bar", "Hello - World", "   Four", "a;\tBar Baz", "Quuxly's Lumora-based unit", "end. 's"]
    inside, capitalised = Counter(), Counter()
    for text in texts:
        for w, first in words_of(text):
            if not first:
                inside[w.lower()] += 1
                capitalised[w.lower()] += w[0].isupper()
    names = Names(texts)
    assert +names.inside == +inside and +names.capitalised == +capitalised


def test_a_follow_up_nothing_in_the_threads_articles_answers_is_answered_as_alone(corpus):
    from store.threads import ThreadContext

    index, _made, _fu = corpus
    query = "what about the data center training capacity?"
    alone = index.search(query, limit=5)
    assert alone.hits, "the bundled seed answers it"
    r = index.search(query, limit=5, context=ThreadContext(("Quuxly",)))
    assert r.context is None and r.about == ["Quuxly"], "the thread keeps its subject"
    assert [(h.id, h.score) for h in r.hits] == [(h.id, h.score) for h in alone.hits]
