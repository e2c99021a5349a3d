"""Questions in the user's own words: the semantic re-ranking (wordllama, store/semantic.py) and the
related-words table (store/data/related-words.txt)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from store import Index, plan
from store.lexicon import _read, parse_related
from store.semantic import Reranker

ROOT = Path(__file__).resolve().parents[2]
ACME = ("Acme Motors weekly\nTest Wire· 2025-10-01 09:00\n"
        "Core Insights - Acme Motors changed the colour of its logo during the third quarter [1]."
        " - Acme Motors reported record profits and strong revenue during the third quarter [2].\n")


@pytest.fixture
def acme(tmp_path):
    seeds = tmp_path / "acme"
    seeds.mkdir()
    (seeds / "acme.txt").write_text(ACME, encoding="utf-8")
    return seeds


def test_a_question_ranks_first_the_fact_that_means_what_it_asks(acme, tmp_path):
    question = "how did acme motors do financially in the third quarter"
    lexical = Index.open(tmp_path / "off.db", seeds=acme, semantic=False)
    assert "logo" in lexical.search(question).hits[0].text  # the words tie: the earlier fact first
    semantic = Index.open(tmp_path / "on.db", seeds=acme)
    hits = semantic.search(question).hits
    assert "record profits" in hits[0].text and len(hits) == 2
    # a keyword query is ranked lexically, as before
    assert [h.text for h in semantic.search("acme motors third quarter").hits] == \
        [h.text for h in lexical.search("acme motors third quarter").hits]


def test_keyword_queries_never_embed(acme, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a keyword query was embedded")

    monkeypatch.setattr(Reranker, "bonuses", refuse)
    idx = Index.open(tmp_path / "k.db", seeds=acme)
    assert idx.search("acme profits").hits


def test_the_model_loads_offline_from_the_installed_package():
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n    raise OSError('no network in this test')\n"
        "socket.socket.connect = refuse\nsocket.create_connection = refuse\nsocket.getaddrinfo = refuse\n"
        "from store.semantic import Reranker\n"
        "r = Reranker()\nassert r.model() is not None, 'wordllama did not load'\n"
        "print(len(r.bonuses(1, 'seres ipo', [(1, 'Seres raised money in its IPO')])))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT / "nonexistent-home")})
    assert out.returncode == 0 and out.stdout.strip() == "1", out.stderr[-500:]


def test_without_the_model_the_search_is_lexical(acme, tmp_path, monkeypatch):
    monkeypatch.setattr(Reranker, "model", lambda self: None)
    idx = Index.open(tmp_path / "m.db", seeds=acme)
    hits = idx.search("how did acme motors do financially in the third quarter").hits
    assert "logo" in hits[0].text


def test_a_facts_bonus_depends_on_the_query_and_the_fact_only():
    """So that the pages of one question keep one order whatever candidates each page fetched."""
    texts = {1: "Seres raised 14 billion HKD in its IPO", 2: "Azure profit margins", 3: "Fairwater 2 data center"}
    question = "how much money did seres raise when it listed"
    alone = Reranker().bonuses(1, question, [(2, texts[2])])[0]
    shared = Reranker()
    together = shared.bonuses(1, question, [(i, t) for i, t in texts.items()])
    assert together[1] == pytest.approx(alone)
    assert shared.bonuses(1, question, [(3, texts[3]), (2, texts[2])]) == pytest.approx([together[2], together[1]])
    assert together[0] == max(together)  # the fact that says it is the closest
    # a reload may give an id another text: the cache starts again for a new generation
    assert shared.bonuses(2, question, [(2, texts[1])])[0] == pytest.approx(together[0])


def test_a_text_is_embedded_as_wordllama_embeds_it(generated_index):
    """The chunk-by-chunk embedding is wordllama's own: the same vector for every fact of a
    generated corpus (mixed case, punctuation, numbers, Chinese titles), a question, odd spacing."""
    import numpy as np

    texts = [t for (t,) in generated_index.conn().execute("SELECT text FROM facts ORDER BY id LIMIT 3000")]
    texts += ["how much money did seres raise when it listed?", "赛力斯 港股 IPO 募资 140亿港元", "a  b\tc\n d",
              " leading and trailing ", "", "—"]
    reranker = Reranker()
    model = reranker.model()
    mine = reranker.embed(texts)
    theirs = model.embed(texts, norm=True)
    keep = np.linalg.norm(theirs, axis=1) > 0.5  # wordllama gives NaN for a text with no token
    assert keep.sum() >= len(texts) - 2
    assert np.allclose(mine[keep], theirs[keep], atol=1e-5)
    # cached chunks give the same vectors as fresh ones
    assert np.allclose(reranker.embed(texts[:50]), mine[:50], atol=1e-6)


def test_priming_caches_the_chunks_of_the_newest_facts(generated_index, monkeypatch):
    reranker = Reranker()
    texts = [t for (t,) in generated_index.conn().execute("SELECT text FROM facts ORDER BY id DESC LIMIT 500")]
    assert reranker.prime(texts) > 100
    tokenized = []
    real = type(reranker.model().tokenizer).encode_batch

    def counting(self, batch, **kw):
        tokenized.extend(batch)
        return real(self, batch, **kw)

    monkeypatch.setattr(type(reranker.model().tokenizer), "encode_batch", counting)
    reranker.embed(texts[:20])
    assert tokenized == []  # every chunk was cached by prime


def test_the_related_words_table():
    related = parse_related(_read("related-words.txt"))
    assert len(related) > 10_000
    assert ("cost", 0.69) in related["expensive"] and ("dropped", 0.58) in related["fall"]
    for word, near in related.items():
        assert word.isascii() and word.isalpha() and word.islower()
        assert all(0.0 < s <= 1.0 for _, s in near)


def test_related_words_rank_but_never_make_an_answer(index):
    for query in ("weather forecast for tomorrow", "how to bake sourdough bread", "bitcoin etf flows"):
        assert index.search(query).hits == [], query


def test_related_words_can_be_switched_off(seeds, tmp_path):
    on = Index.open(tmp_path / "on.db", seeds=seeds)
    off = Index.open(tmp_path / "off.db", seeds=seeds, related_words=False)
    v_on = on.searcher()._current(on.conn())
    v_off = off.searcher()._current(off.conn())
    assert v_on.lexicon.related and not v_off.lexicon.related
    group = plan.group(v_on, ("expensive",), last=False, related=True)
    assert ("cost",) in group.related or not any(t == "cost" for t in v_on.df)
