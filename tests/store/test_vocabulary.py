"""The shared vocabulary snapshot: refreshed after every reload, and never moved back to an older one."""
from __future__ import annotations

import threading

from store.index import connect
from tests.store.conftest import article

WORD = "quillonite"  # a word only the second reload adds


def _extra(word: str) -> str:
    return article(f"新材料龙头扩产 {word}", "Xin Lang Cai Jing", "2025-11-21 09:30",
                   f"Core Viewpoint - The company doubled its {word} capacity to 40,000 tonnes [1][2]. "
                   "Group 1: Outlook - Analysts expect shipments to rise next year [3].")


def test_a_word_added_by_a_reload_is_found_by_the_same_index_object(index, seeds):
    assert index.search(WORD).hits == []  # warm: the vocabulary of the first build is loaded
    (seeds / "extra.txt").write_text(_extra(WORD), encoding="utf-8")
    index.reload()
    hits = index.search(WORD).hits
    assert hits and WORD in hits[0].text


def test_the_vocabulary_snapshot_never_goes_back_to_an_older_generation(index, seeds):
    """A thread whose read snapshot predates the newest reload reaches the vocabulary check after
    another thread loaded the newest vocabulary: the snapshot must stay the newest."""
    (seeds / "first.txt").write_text(_extra("placeholder"), encoding="utf-8")
    index.reload()  # generation 2
    old = connect(index.db_path, readonly=True)
    old.execute("BEGIN")
    old.execute("SELECT count(*) FROM reloads").fetchone()  # the read snapshot starts here: generation 2
    (seeds / "second.txt").write_text(_extra(WORD), encoding="utf-8")
    index.reload()  # generation 3 adds WORD
    assert index.search(WORD).hits  # this thread loads generation 3
    searcher = index.searcher()
    seen = []
    behind = threading.Thread(target=lambda: seen.append(searcher._current(old).generation))
    behind.start()
    behind.join(10)
    old.execute("COMMIT")
    old.close()
    assert seen  # the lagging thread ran its check
    assert index.search(WORD).hits, "the vocabulary went back to the older generation"
    assert searcher._current(index.conn()).generation == 3
