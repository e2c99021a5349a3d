"""Near-duplicate groups in the index (store/groups.py): built at reload, incrementally, the same
whatever the load order; search answers a group once, with the other reports in `also`."""
from __future__ import annotations

import importlib.util
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from store import Index
from tests.store.conftest import SEED

ROOT = Path(__file__).resolve().parents[2]
SINA = (("Hua Er Jie Jian Wen· 2025-11-13 08:37", "Sina Finance· 2025-11-14 09:00"),
        ("3 6 Ke· 2025-11-07 02:14", "Sina Finance· 2025-11-08 10:30"),
        ("raised 14 billion HKD in its IPO", "secured HKD 14 billion in its IPO"))
CAIXIN = (("Hua Er Jie Jian Wen· 2025-11-13 08:37", "Caixin· 2025-11-15 11:00"),
          ("3 6 Ke· 2025-11-07 02:14", "Caixin· 2025-11-09 08:00"),
          ("raised 14 billion HKD in its IPO", "raised HK$14bn in its IPO"))


def reprint(folder: Path, name: str, changes) -> Path:
    """The seed file as another outlet reprints it: other sources and dates, other words."""
    text = SEED.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def reprinted(seeds: Path, tmp_path: Path) -> Index:
    reprint(seeds, "001_sina.txt", SINA)
    reprint(seeds, "002_caixin.txt", CAIXIN)
    idx = Index.open(tmp_path / "factbot.db", seeds=seeds, semantic=False)
    yield idx
    idx.close()


def _db(index: Index) -> sqlite3.Connection:
    return sqlite3.connect(index.db_path)


def groups_by_content(db_path: Path) -> set[tuple[tuple[str, ...], ...]]:
    """Every group as the (source, published, position) of its members, representative first:
    what does not depend on row ids, so two indexes can be compared."""
    conn = sqlite3.connect(db_path)
    rows = conn.execute("SELECT f.dup, f.id, a.source, a.published, f.position FROM facts f"
                        " JOIN articles a ON a.id = f.article_id WHERE f.dup IS NOT NULL").fetchall()
    conn.close()
    by: dict[int, list] = {}
    for dup, fid, source, published, position in rows:
        by.setdefault(dup, []).append((fid != dup, source, published, str(position)))
    return {tuple(tuple(m[1:]) for m in sorted(ms)) for ms in by.values()}


def test_seres_ipo_shows_the_ipo_fact_once_with_the_other_reports(reprinted):
    result = reprinted.search("seres ipo", limit=5)
    texts = [h.text for h in result.hits]
    ipo = [h for h in result.hits if "14 billion" in h.text or "HK$14bn" in h.text or "HKD 14 billion" in h.text]
    assert len(ipo) == 1, texts
    (hit,) = ipo
    # the earliest report (36Kr's) is shown: every copy scores the same
    assert hit.article.source == "3 6 Ke"
    assert [(a.source, a.published) for a in hit.also] == [("Sina Finance", "2025-11-08T10:30"),
                                                           ("Caixin", "2025-11-09T08:00")]
    assert [a.text for a in hit.also] == [
        "Seres Automotive secured HKD 14 billion in its IPO, marking the largest IPO for a car company in Hong Kong this year.",
        "Seres Automotive raised HK$14bn in its IPO, marking the largest IPO for a car company in Hong Kong this year."]
    assert all(a.citations == [1] for a in hit.also)
    assert len(set(texts)) == len(texts)  # no fact twice in the top five


def test_fairwater_capacity_answers_the_fairwater_fact_once(reprinted):
    result = reprinted.search("fairwater capacity", limit=5)
    texts = [h.text for h in result.hits]
    assert len(texts) == len(set(texts))
    assert all(len(h.also) == 2 for h in result.hits)


def test_json_results_have_also(reprinted, tmp_path):
    for r in reprinted.search("seres ipo").to_json()["results"]:
        assert set(r["also"][0]) == {"title", "source", "published", "citations", "text"}
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(SEED, alone / SEED.name)
    index = Index.open(tmp_path / "alone.db", seeds=alone, semantic=False)
    for r in index.search("seres ipo").to_json()["results"]:  # the seed alone: no reprints
        assert r["also"] == []
    index.close()


def test_unique_facts_in_the_reload_report(seeds, tmp_path):
    idx = Index.open(tmp_path / "one.db", seeds=seeds, semantic=False)
    one = idx.reload()
    assert one.unique == one.facts
    reprint(seeds, "001_sina.txt", SINA)
    two = idx.reload()
    assert two.facts == 2 * one.facts
    assert two.unique == one.facts  # every fact of the reprint is a copy of one of the seed's
    assert f"{two.facts} facts ({one.facts} unique)" in two.summary()
    assert two.to_json()["unique_facts"] == one.facts
    idx.close()


def test_a_query_in_a_reprints_own_words_finds_the_group(reprinted):
    result = reprinted.search("seres secured HKD 14 billion", limit=3)
    top = result.hits[0]
    assert "secured HKD 14 billion" in top.text  # its own words: it is the one shown
    assert {a.source for a in top.also} == {"3 6 Ke", "Caixin"}


def test_incremental_groups_equal_a_full_rebuild(generated, tmp_path):
    # a corpus of a few thousand facts: one export added or removed is a small change (regrouped
    # by its buckets only, not in bulk)
    seeds = tmp_path / "seeds"
    shutil.copytree(generated, seeds)
    shutil.copy(SEED, seeds / SEED.name)
    idx = Index.open(tmp_path / "inc.db", seeds=seeds, semantic=False)
    reprint(seeds, "001_sina.txt", SINA)
    idx.reload()
    reprint(seeds, "002_caixin.txt", CAIXIN)
    idx.reload()
    incremental = groups_by_content(idx.db_path)
    assert sum(1 for g in incremental if len(g) == 3) >= 25
    full = Index.open(tmp_path / "full.db", seeds=seeds, semantic=False)
    assert groups_by_content(full.db_path) == incremental
    full.close()
    # the original goes: the two reprints stay one group, the earlier (Sina's) its representative
    (seeds / SEED.name).unlink()
    idx.reload()
    after = groups_by_content(idx.db_path)
    ours = [g for g in after if g[0][0] in ("Sina Finance", "Caixin")]
    assert len(ours) >= 25 and all(len(g) == 2 and g[0][0] == "Sina Finance" for g in ours)
    rebuilt = Index.open(tmp_path / "rebuilt.db", seeds=seeds, semantic=False)
    assert groups_by_content(rebuilt.db_path) == after
    rebuilt.close()
    idx.close()


def test_groups_do_not_depend_on_load_order_or_file_names(seeds, tmp_path):
    reprint(seeds, "001_sina.txt", SINA)
    reprint(seeds, "002_caixin.txt", CAIXIN)
    a = Index.open(tmp_path / "a.db", seeds=seeds, semantic=False)
    other = tmp_path / "other"
    other.mkdir()
    for i, name in enumerate(sorted(p.name for p in seeds.iterdir())):  # the names in reverse order
        shutil.copy(seeds / name, other / f"{9 - i}_{name}")
    b = Index.open(tmp_path / "b.db", seeds=other, semantic=False)
    assert groups_by_content(a.db_path) == groups_by_content(b.db_path)
    assert [h.to_json() | {"article": None} for h in a.search("seres ipo").hits] == \
        [h.to_json() | {"article": None} for h in b.search("seres ipo").hits]
    a.close()
    b.close()


def _reprints_module():
    spec = importlib.util.spec_from_file_location("factbot_reprints", ROOT / "benchmarks" / "reprints.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reprint_corpus(tmp_path_factory):
    """A generated corpus of ~3,000 facts with known reprint groups (benchmarks/reprints.py)."""
    rp = _reprints_module()
    files, w = rp.build(3000, seed=2)
    out = tmp_path_factory.mktemp("reprints") / "seeds"
    rp.write(files, w, out)
    idx = Index.open(tmp_path_factory.mktemp("reprints-db") / "factbot.db", seeds=out, semantic=False)
    yield idx, files
    idx.close()


def test_pages_never_repeat_a_group(reprint_corpus):
    idx, files = reprint_corpus
    conn = _db(idx)
    dup = dict(conn.execute("SELECT id, coalesce(dup, -id) FROM facts"))
    grouped = conn.execute("SELECT count(*) FROM facts WHERE dup IS NOT NULL").fetchone()[0]
    conn.close()
    assert grouped > 300  # the corpus has reprints, and they were grouped
    companies = sorted({a.company for f in files for a in f})[:6]
    for query in ["net profit", "ipo raised", "gross margin", *companies]:
        for size in (5, 7):
            seen: list[int] = []
            for page in range(200):
                result = idx.search(query, limit=size, offset=page * size)
                seen.extend(dup[h.id] for h in result.hits)
                for h in result.hits:  # the others of its group are listed with it, never itself
                    assert h.text not in [a.text for a in h.also if a.source == h.article.source
                                          and a.published == h.article.published]
                if not result.has_more:
                    break
            assert seen, query
            assert len(seen) == len(set(seen)), f"{query!r} (pages of {size}) repeats a group"
