"""store/uploads.py: an export is checked whole and written atomically; bad names never reach the folder."""
from __future__ import annotations

import pytest

from store.uploads import add_to_folder, check_export, export_name

GOOD = ("Search documents\n宁德时代匈牙利工厂\nCai Lian She· 2025-11-21 09:30\n"
        "Core Insights - Contemporary Amperex expands its plant [1]. - Output starts next year [2].\n").encode()


@pytest.mark.parametrize("name", ["", "   ", ".hidden.txt", "../escape.txt", "a/b.txt", "a\\b.txt", "x\x00.txt",
                                  "x" * 201, ".."])
def test_names_that_cannot_be_seed_files(name):
    assert export_name(name) is None


def test_a_good_name_is_kept():
    assert export_name(" 新闻 digest-2025.txt ") == "新闻 digest-2025.txt"


def test_check_counts_articles_and_facts_or_lists_every_error():
    assert (check_export("a.txt", GOOD).articles, check_export("a.txt", GOOD).facts, check_export("a.txt", GOOD).ok) \
        == (1, 2, True)
    for data, reason in ((b"\xff\xfe", "not UTF-8"), (b"", "empty"), (b"just notes\n", "")):
        check = check_export("b.txt", data)
        assert not check.ok and check.errors and all(str(e).startswith("b.txt") for e in check.errors)
        assert reason in " ".join(str(e) for e in check.errors)


def test_add_to_folder_replaces_atomically_and_leaves_no_temporary_file(tmp_path):
    seeds = tmp_path / "seeds"
    assert add_to_folder(seeds, "a.txt", GOOD) is False
    assert add_to_folder(seeds, "a.txt", GOOD + b"\n") is True
    assert (seeds / "a.txt").read_bytes() == GOOD + b"\n"
    assert sorted(p.name for p in seeds.iterdir()) == ["a.txt"]
    with pytest.raises(ValueError):
        add_to_folder(seeds, "../a.txt", GOOD)
