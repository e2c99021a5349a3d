"""store/lexicon.py on its own: alias learning, and no settings read behind the caller's back."""
from __future__ import annotations

import inspect

from store import lexicon


def test_alias_learning_pairs_a_shared_chinese_title_word_with_the_name_the_facts_repeat():
    evidence = [("Seres", "赛力斯为何突然暴跌?"), ("Seres", "赛力斯发布三季度财报"), ("Seres", "港股新车：赛力斯")]
    assert lexicon.learn_aliases(evidence) == [("赛力斯", "Seres", 3)]
    # one article is not evidence; words that stand in few of the titles are not names
    assert lexicon.learn_aliases([("Seres", "赛力斯为何突然暴跌?")]) == []
    assert lexicon.learn_aliases([("Acme", "港股什么情况"), ("Acme", "什么是估值"), ("Acme", "今日要闻"),
                                  ("Acme", "市场观察"), ("Acme", "新车发布")]) == []


def test_the_dominant_name_is_a_proper_name_most_facts_repeat():
    facts = ["Seres raised HKD 14 billion.", "Seres fell 10%.", "Seres relies on Huawei.", "The IPO was large."]
    assert lexicon.dominant_name(facts) == "Seres"
    assert lexicon.dominant_name(["HKD up.", "HKD down.", "HKD flat."]) is None  # a unit, not a name
    assert lexicon.dominant_name(facts[:2]) is None  # too few facts to tell


def test_the_lexicon_module_reads_no_environment():
    assert "environ" not in inspect.getsource(lexicon) and "getenv" not in inspect.getsource(lexicon)
