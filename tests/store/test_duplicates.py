"""One article exported in several files (overlapping search pages) is indexed once, remembers
every file it came from, and stays while any of them holds it."""
from __future__ import annotations

import shutil
import sqlite3

from store import Index
from tests.store.conftest import SEED, article

EXTRA = article("英伟达财报超预期", "Xin Lang Cai Jing", "2025-11-20 09:30",
                "Core Viewpoint - Nvidia reported record data center revenue of 51 billion USD [1][2]. "
                "Group 1: Guidance - The company guided fourth quarter revenue to 65 billion USD [3].")


def _files_of(index: Index) -> dict[str, set[str]]:
    conn = sqlite3.connect(index.db_path)
    out: dict[str, set[str]] = {}
    for title, file in conn.execute(
            "SELECT a.title, af.file FROM article_files af JOIN articles a ON a.id = af.article_id"):
        out.setdefault(title, set()).add(file)
    return out


def _texts(index: Index, query: str) -> list[str]:
    return [h.text for h in index.search(query, limit=50).hits]


def test_the_same_export_in_two_files_is_indexed_once(index, seeds):
    shutil.copy(SEED, seeds / "another-page.txt")
    report = index.reload()
    assert (report.articles, report.facts) == (2, 31)  # the totals count each article once
    assert {f.path: (f.status, f.articles, f.facts) for f in report.files} == {
        SEED.name: ("unchanged", 2, 31), "another-page.txt": ("loaded", 2, 31)}
    texts = _texts(index, "seres ipo")
    assert texts and len(texts) == len(set(texts))
    assert len(index.sources()) == 2 and index.counts() == (2, 31)
    assert set(map(frozenset, _files_of(index).values())) == {frozenset({SEED.name, "another-page.txt"})}


def test_a_first_build_over_overlapping_files_indexes_each_article_once(seeds, tmp_path):
    shutil.copy(SEED, seeds / "another-page.txt")
    shutil.copy(SEED, seeds / "zz-third.txt")
    idx = Index.open(tmp_path / "fresh.db", seeds=seeds)
    assert idx.counts() == (2, 31) and len(idx.sources()) == 2
    assert all(len(files) == 3 for files in _files_of(idx).values())
    idx.close()


def test_removing_one_file_keeps_the_article_while_another_holds_it(index, seeds):
    shutil.copy(SEED, seeds / "another-page.txt")
    (seeds / "nvidia.txt").write_text(EXTRA, encoding="utf-8")
    index.reload()
    (seeds / SEED.name).unlink()
    report = index.reload()
    assert report.removed == [SEED.name] and (report.articles, report.facts) == (3, 33)
    hit = index.search("fairwater 2").hits[0]
    assert hit.article.file == "another-page.txt" and hit.citations == [5, 13]
    (seeds / "another-page.txt").unlink()
    report = index.reload()
    assert (report.articles, report.facts) == (1, 2)
    assert index.search("fairwater 2").hits == [] and _files_of(index) == {"英伟达财报超预期": {"nvidia.txt"}}


def test_files_that_overlap_in_part_and_change_together(index, seeds):
    """Two files sharing one article, both changed in one reload: the shared article stays once,
    each file's own articles come and go with it."""
    seed_text = SEED.read_text(encoding="utf-8")
    (seeds / "nvidia.txt").write_text(EXTRA + seed_text.split("Search documents\n", 1)[-1], encoding="utf-8")
    index.reload()
    assert index.counts() == (3, 33)
    # both change: the seed loses nothing of its own, nvidia.txt gets a second article of its own
    (seeds / SEED.name).write_text(seed_text + "\n", encoding="utf-8")
    other = article("英伟达发布新芯片", "Xin Lang Cai Jing", "2025-11-21 09:30",
                    "Core Viewpoint - Nvidia unveiled a new inference chip for data centers [1].")
    (seeds / "nvidia.txt").write_text(EXTRA + other + seed_text.split("Search documents\n", 1)[-1], encoding="utf-8")
    report = index.reload()
    assert {f.path: f.status for f in report.files} == {SEED.name: "loaded", "nvidia.txt": "loaded"}
    assert (report.articles, report.facts) == (4, 34)
    texts = _texts(index, "seres")
    assert texts and len(texts) == len(set(texts))
    assert len(_files_of(index)["赛力斯为何突然暴跌?"]) == 2


def test_overlapping_generated_exports_are_counted_once(generated, tmp_path):
    """Generated exports, and one more page that repeats articles of three of them."""
    seeds = tmp_path / "seeds"
    shutil.copytree(generated, seeds)
    idx = Index.open(tmp_path / "g.db", seeds=seeds)
    before = idx.counts()
    picked = sorted(p for p in seeds.iterdir())[:3]
    bodies = [p.read_text(encoding="utf-8").split("Search documents\n", 1)[-1] for p in picked]
    (seeds / "zz-overlap.txt").write_text("overlap\nSearch documents\n" + "".join(bodies), encoding="utf-8")
    report = idx.reload()
    assert {f.path: f.status for f in report.files}["zz-overlap.txt"] == "loaded"
    assert (report.articles, report.facts) == before == idx.counts()
    assert len(idx.sources()) == before[0]
    idx.close()


def test_a_version_whose_facts_differ_is_kept_too(index, seeds):
    """Same title, source and time but other facts: not the same export, and nothing is lost."""
    (seeds / "a.txt").write_text(EXTRA, encoding="utf-8")
    (seeds / "b.txt").write_text(EXTRA.replace("51 billion", "57 billion"), encoding="utf-8")
    report = index.reload()
    assert (report.articles, report.facts) == (4, 35)
    texts = _texts(index, "nvidia data center revenue")
    assert any("51 billion" in t for t in texts) and any("57 billion" in t for t in texts)
