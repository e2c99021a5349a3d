"""store/dedupe.py: numbers in their normal form, names, bucket keys, groups."""
from __future__ import annotations

import random

import pytest

from store import dedupe
from store.dedupe import Member


@pytest.mark.parametrize("text", ["raised 14 billion HKD", "secured HKD 14 billion", "HK$14bn raised",
                                  "募资140亿港元。", "14,000 million HKD", "HK$ 14 billion", "raised 14bn HKD"])
def test_number_formats_agree(text):
    assert dedupe.numbers(text) == ("14000000000HKD",)


@pytest.mark.parametrize("text, expected", [
    ("margin of 1.70%", ("1.7%",)), ("1.7 percent", ("1.7%",)), ("1.7 per cent", ("1.7%",)),
    ("14 billion", ("14000000000",)),  # no currency: another number than 14 billion HKD
    ("Q3 revenue", ()),  # a digit inside a word is no number
    ("a 2.5x multiple", ()),  # nor half of one
    ("营收增长12%，", ("12%",)),
    ("up 12.5% to 3.2 billion yuan", ("12.5%", "3200000000CNY")),
    ("US$1.2 trillion", ("1200000000000USD",)),
])
def test_numbers(text, expected):
    assert dedupe.numbers(text) == expected


def test_number_matches_are_the_regular_expressions_matches():
    rng = random.Random(5)
    parts = ["14", "1.5", "HK$", "$", " ", "bn", "billion", "HKD", "%", "Q", "亿", "港元", "，", "x", ".", ",", "000"]
    for _ in range(3000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(1, 8)))
        fast = [m.span() for m in dedupe._number_matches(text)]
        assert fast == [m.span() for m in dedupe._NUMBER_RE.finditer(text)], text


def test_article_entity_is_the_whole_name():
    seres = ["Seres Automotive raised 14 billion HKD in its IPO.", "The company's shares fell 12% on debut."]
    brimco = ["Brimco Automotive raised 14 billion HKD in its IPO.", "The company's shares fell 12% on debut."]
    assert dedupe.article_keys(seres)[1] != dedupe.article_keys(brimco)[1]
    assert dedupe.article_keys(seres)[1] == "12%|Seres Automotive"


def test_sentence_start_words():
    keys = dedupe.article_keys(["Analysts expect Quuxly to raise 5 billion yuan."])
    assert keys == ["5000000000CNY|Quuxly"]


def _member(uid, article, text, published="2025-01-01T00:00", citations=1):
    return Member(uid, article, published, citations, text, ref=uid)


def test_reprints_group_and_other_numbers_do_not():
    a = _member("a", "A", "Seres Automotive raised 14 billion HKD in its IPO, the largest this year.", "2025-11-07")
    b = _member("b", "B", "Seres Automotive secured HKD 14 billion in its IPO, the largest this year.", "2025-11-08")
    c = _member("c", "C", "Seres Automotive raised 15 billion HKD in its IPO, the largest this year.")
    d = _member("d", "D", "Brimco Automotive raised 14 billion HKD in its IPO, the largest this year.")
    keyed = [(dedupe.article_keys([m.text])[0], m) for m in (a, b, c, d)]
    groups = dedupe.group(keyed)
    assert [[m.uid for m in g] for g in groups] == [["a", "b"]]


def test_two_facts_of_one_article_never_group():
    x = _member("x1", "X", "Seres raised 14 billion HKD in its IPO this year.")
    y = _member("x2", "X", "Seres raised HKD 14 billion in its IPO this year.")
    z = _member("z", "Z", "Seres raised 14bn HKD in its IPO this year.")
    groups = dedupe.group_bucket([x, y, z])
    assert sorted(len(g) for g in groups) == [1, 2]
    for g in groups:
        assert len({m.article for m in g}) == len(g)


def test_groups_do_not_depend_on_order():
    rng = random.Random(3)
    texts = ["Quuxly raised 3 billion yuan from investors in May.", "Quuxly raised RMB 3 billion from investors in May.",
             "In May, Quuxly raised 3 billion yuan from investors.", "Quuxly raised 3bn yuan from new investors in May."]
    members = [_member(f"m{i}", f"art{i % 3}", t, f"2025-05-0{i + 1}") for i, t in enumerate(texts)]
    first = dedupe.group_bucket(members)
    for _ in range(20):
        rng.shuffle(members)
        assert dedupe.group_bucket(members) == first


def test_representative_is_the_earliest_then_most_cited():
    early = _member("z", "A", "Quuxly raised 3 billion yuan.", "2025-05-01", 1)
    late_cited = _member("a", "B", "Quuxly raised 3 billion yuan.", "2025-05-02", 9)
    same_day_cited = _member("y", "C", "Quuxly raised 3 billion yuan.", "2025-05-01", 4)
    (g,) = dedupe.group_bucket([early, late_cited, same_day_cited])
    assert [m.uid for m in g] == ["y", "z", "a"]


def test_bucket_hash_is_stable():
    # stored in the index: the same on every replica and every run
    assert dedupe.bucket_hash("14000000000HKD|Seres") == dedupe.bucket_hash("14000000000HKD|Seres")
    assert dedupe.bucket_hash(None) is None
    assert dedupe.article_buckets(["Seres raised 14bn HKD.", "Seres raised HK$14 billion."])[0] == \
        dedupe.article_buckets(["Seres raised HKD 14 billion."])[0]


def test_a_currency_is_no_name():
    assert dedupe.article_keys(["Seres raised HK$14bn in its IPO."]) == dedupe.article_keys(
        ["Seres raised 14 billion HKD in its IPO."]) == ["14000000000HKD|Seres"]
