"""Chinese questions for English facts: the bilingual glossary, and traditional characters."""
from __future__ import annotations

import opencc
import pytest

from store.lexicon import _read, parse_glossary
from store.text import is_cjk, normalize
from tests.store.conftest import article


@pytest.mark.parametrize("query, expected", [
    ("赛力斯 募资", "raised 14 billion HKD"),
    ("赛力斯 营收", "revenue growth"),
    ("赛力斯 净利润", "net profit"),
    ("微软 利润率", "profit margins"),
    ("承销商 稳定股价", "green shoe"),
    ("微软 资本开支", "capital expenditures"),
    ("散户 超额认购", "oversubscription"),
    ("赛力斯 市盈率", "26.5 times"),
])
def test_chinese_finance_terms_find_the_english_facts(index, query, expected):
    result = index.search(query, limit=3)
    assert result.hits and expected in result.hits[0].text, [h.text[:60] for h in result.hits]
    assert result.missing == []


@pytest.mark.parametrize("traditional, simplified", [
    ("微軟 Azure", "微软 Azure"),
    ("賽力斯 募資", "赛力斯 募资"),
    ("賽力斯 營收", "赛力斯 营收"),
    ("華為 依賴", "华为 依赖"),
])
def test_traditional_characters_ask_what_simplified_ones_do(index, traditional, simplified):
    expected = [h.text for h in index.search(simplified, limit=5).hits]
    assert expected
    assert [h.text for h in index.search(traditional, limit=5).hits] == expected


def test_traditional_articles_are_found_by_either_script(seeds, tmp_path):
    from store import Index

    (seeds / "tw.txt").write_text(article(
        "台積電擴產計劃", "Jing Ji Ri Bao", "2025-10-01 09:00",
        "- 台積電宣布在高雄新建晶圓廠，資本支出創新高。\n- 法人看好先進製程需求。"), encoding="utf-8")
    idx = Index.open(tmp_path / "tw.db", seeds=seeds)
    for query in ("台积电 晶圆厂", "台積電 晶圓廠"):
        hits = idx.search(query).hits
        assert hits and "高雄" in hits[0].text, query
    idx.close()


def test_the_shipped_chinese_glossary_pairs_simplified_chinese_with_english():
    t2s = opencc.OpenCC("t2s")
    groups = parse_glossary(_read("glossary-zh.txt"))
    assert len(groups) >= 80
    for group in groups:
        chinese = [t for t in group if any(is_cjk(w) for w in t)]
        english = [t for t in group if all(w.isascii() for w in t)]
        assert chinese and english, group
        for words in chinese:
            for word in filter(is_cjk, words):
                assert t2s.convert(word) == word, f"{word} is not written in simplified characters"
            if len(words) == 1:
                assert len(words[0]) >= 2, f"{words[0]}: a single character would cut every run it stands in"


def test_normalize_turns_traditional_into_simplified():
    assert normalize("微軟 募資 數據中心") == "微软 募资 数据中心"
    assert normalize("Seres IPO") == "seres ipo"


def test_users_extend_the_chinese_glossary_in_the_same_format(seeds, tmp_path):
    from store import Index

    plain = Index.open(tmp_path / "plain.db", seeds=seeds)
    # 云厂商 (cloud vendor): neither the glossary nor CC-CEDICT has it
    assert plain.search("微软 云厂商").missing == ["云厂商"]
    plain.close()
    own = tmp_path / "zh.txt"
    own.write_text("云厂商, cloud\n", encoding="utf-8")
    idx = Index.open(tmp_path / "own.db", seeds=seeds, glossary=[own])
    result = idx.search("微软 云厂商")
    assert result.missing == [] and "cloud" in result.hits[0].text
    idx.close()


def test_the_english_words_of_a_chinese_line_are_translations_not_synonyms():
    from store.lexicon import TRANSLATION, load

    lex = load()
    assert lex.lookup(("募资",))[("raised",)] == TRANSLATION
    assert ("clients",) not in lex.lookup(("customers",))  # only through 客户, not each other
    assert ("募资",) not in lex.lookup(("raised",))  # English queries are planned as before
    assert lex.lookup(("retail", "investors")) == {}
    assert lex.lookup(("募资",))[("募集资金",)] < TRANSLATION  # Chinese synonyms, as a synonym


def test_chinese_titles_holding_a_translation_do_not_crowd_out_the_english_facts(seeds, tmp_path):
    """Many newer articles whose Chinese titles say 超额认购 and 净利 (oversubscribed, net profit)
    must not push the facts that say it in English out of an English query's answers."""
    from store import Index

    lines = []
    for n in range(40):
        lines.append(article(f"宏吉{n}号获{100 + n}倍超额认购 净利大增", "Test Wire", f"2025-12-{1 + n % 28:02d} 09:00",
                             f"Core Insights - The offering of company {n} was subscribed by retail investors [1]."
                             f" - Its revenue grew with a net profit of {n} million [2]."))
    (seeds / "zz_many.txt").write_text("".join(lines), encoding="utf-8")
    idx = Index.open(tmp_path / "crowd.db", seeds=seeds)
    assert "oversubscription of 133 times" in idx.search("oversubscribed retail investors").hits[0].text
    assert "net profit declined" in idx.search("seres net profit").hits[0].text
    idx.close()


def test_cc_cedict_translates_names_and_joins_what_jieba_cuts():
    from store import dictionary

    assert "optical fiber" in dictionary.translations("光纤")
    assert dictionary.translations("谷歌") == ("google",)  # a proper noun's name
    assert dictionary.merge(["超额", "认购"]) == ["超额认购"]  # CC-CEDICT has the joined word
    assert dictionary.is_name("ford") and dictionary.is_name("google")
    assert not dictionary.is_name("park")  # a name, but first a very common English word
    assert "多少" in dictionary.chinese_filler() and "营收" not in dictionary.chinese_filler()


def test_general_information_orders_words_by_how_much_they_say():
    from store.dictionary import information, is_rare

    assert information("the") < information("capacity") < information("houseplants")
    assert is_rare("houseplants") and not is_rare("stadium")
