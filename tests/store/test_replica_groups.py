"""Two replicas sharing one PostgreSQL corpus group reprints alike: the same answer, with the same
"also" list, from either (groups follow from the corpus's content only, store/groups.py)."""
from __future__ import annotations

import shutil

from store import Index
from store.replica import Replica
from store.state import State
from tests.store.conftest import SEED
from tests.store.test_groups import CAIXIN, SINA, groups_by_content, reprint


def _replica(folder, database_url) -> Replica:
    seeds = folder / "seeds"
    seeds.mkdir(parents=True)
    shutil.copy(SEED, seeds / SEED.name)
    return Replica(Index(folder / "factbot.db", seeds=seeds, semantic=False), State.open(database_url), seeds,
                   folder="team")


def _answers(replica: Replica, query: str) -> list[dict]:
    return [dict(h.to_json(), score=None) for h in replica.search(query, limit=5).hits]


def test_two_replicas_give_the_same_answer_with_its_also_list(database_url, tmp_path):
    a = _replica(tmp_path / "a", database_url)
    reprint(a.seeds, "001_sina.txt", SINA)
    a.sync()  # the first replica imports its folder into the empty corpus
    b = _replica(tmp_path / "b", database_url)
    b.sync()  # the second builds its index from the corpus
    try:
        for query in ("seres ipo", "fairwater capacity", "azure margins"):
            assert _answers(a, query) == _answers(b, query), query
        (hit,) = [h for h in a.search("seres ipo").hits if "14 billion" in h.text]
        assert sorted([hit.article.source] + [x.source for x in hit.also]) == ["3 6 Ke", "Sina Finance"]
        # a reload through replica a adds a third outlet: b follows, incrementally, to the same groups
        reprint(a.seeds, "002_caixin.txt", CAIXIN)
        report = a.reload(actor="test")
        assert report.unique == 31 and report.facts == 93
        b.sync()
        assert groups_by_content(a.index.db_path) == groups_by_content(b.index.db_path)
        assert _answers(a, "seres ipo") == _answers(b, "seres ipo")
        (hit,) = [h for h in b.search("seres ipo").hits if "14 billion" in h.text or "14bn" in h.text]
        assert sorted([hit.article.source] + [x.source for x in hit.also]) == ["3 6 Ke", "Caixin", "Sina Finance"]
    finally:
        for r in (a, b):
            r.index.close()
            r.state.close()
