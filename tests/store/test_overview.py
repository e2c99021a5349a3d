"""store/overview.py: names, topics and examples come from the corpus (generated ones), never a word list."""
from __future__ import annotations

import shutil

from store import Index
from store.overview import OverviewCache, overview
from tests.generated import corpus
from tests.slack_standin import copy_seeds


def test_names_are_the_companies_the_corpus_holds_most_and_examples_find_facts(tmp_path):
    companies = corpus(tmp_path / "seeds", 1200, seed=1)
    index = Index.open(tmp_path / "f.db", seeds=tmp_path / "seeds")
    view = overview(index)
    top = companies[0]["en"]
    assert view.names[0][0] == top and view.names[0][1] > 50  # the most frequent company, and its fact count
    assert {name for name, _ in view.names[:3]} <= {c["en"] for c in companies[:6]}
    assert len(view.examples) == 3 and view.examples[0].split()[0] == top.split()[0]
    assert all(index.search(q, limit=1).hits for q in view.examples)
    assert view.topics and all(t.isalpha() and t.islower() for t, _ in view.topics)
    assert (view.articles, view.facts) == index.counts() and len(view.newest) == 5
    assert [a.published for a in view.newest] == sorted((a.published for a in view.newest), reverse=True)


def test_the_overview_follows_the_corpus(tmp_path):
    first = corpus(tmp_path / "one", 1200, seed=1)
    second = corpus(tmp_path / "two", 1200, seed=2)
    assert first[0]["en"] != second[0]["en"]
    seeds = copy_seeds(tmp_path / "seeds")  # the real seed stays throughout
    for path in (tmp_path / "one").iterdir():
        shutil.copy(path, seeds)
    index = Index.open(tmp_path / "f.db", seeds=seeds)
    cache = OverviewCache()
    before = cache.get(index)
    assert cache.get(index) is before  # nothing changed: not drawn again
    for path in (tmp_path / "one").iterdir():
        (seeds / path.name).unlink()
    for path in (tmp_path / "two").iterdir():
        shutil.copy(path, seeds)
    index.reload(actor="test")
    after = cache.get(index)
    assert before.names[0][0] == first[0]["en"] and after.names[0][0] == second[0]["en"]
    assert not set(before.examples) & set(after.examples)


def test_the_real_seed_gives_its_own_names(index):
    view = overview(index)
    names = {name for name, _ in view.names}
    assert {"Seres", "Nadella"} <= names  # written capitalised everywhere they appear
    assert not names & {"The", "Analysts", "Revenue", "IPO", "HKD"}
    assert all(index.search(q, limit=1).hits for q in view.examples)
