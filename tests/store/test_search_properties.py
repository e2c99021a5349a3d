"""Property tests: any text a user can send gets an answer or nothing, never an error."""
from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import Index
from store.text import doc_terms, index_text, normalize
from tests.store.conftest import SEED

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeds")
    shutil.copy(SEED, folder)
    idx = Index.open(tmp_path_factory.mktemp("db") / "f.db", seeds=folder)
    yield idx
    idx.close()


WORDS = ["seres", "ipo", "azure", "margins", "赛力斯", "微软", "AND", "OR", "NOT", "NEAR(", '"', "*", "-", ":",
         "^", "(", ")", "{", "}", "nadela", "fairwatr", "the", "what", "\u202e", "\u200b", "🚗", "Ｓｅｒｅｓ", "p/e"]
queries = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(WORDS), max_size=30).map(" ".join),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=12).map("".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries, limit=st.integers(1, 10), offset=st.integers(0, 20))
def test_any_query_answers_or_finds_nothing(index, query, limit, offset):
    result = index.search(query, limit=limit, offset=offset)
    assert len(result.hits) <= limit
    # every page is the matching slice of the query's one order (pages never overlap or skip);
    # scores fall within each fetch tier, so a page may cross a tier and show a higher one later
    whole = index.search(query, limit=offset + limit, offset=0)
    assert [h.id for h in result.hits] == [h.id for h in whole.hits[offset:offset + limit]]
    for hit in result.hits:
        assert 0 < hit.score <= 1.0
        assert all(0 <= a < b <= len(hit.text) for a, b in hit.spans)
    assert result.to_json()["query"] == query


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_normalising_is_idempotent_and_index_words_are_clean(text):
    once = normalize(text)
    assert normalize(once) == once
    for word in doc_terms(text):
        assert word and all(ch.isalnum() for ch in word)
    index_text(text)  # never raises
