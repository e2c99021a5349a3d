"""Search quality on labelled queries, and the query path on hostile text."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SHARED_EVAL = HERE.parents[2] / "shared" / "eval" / "queries.jsonl"


def _load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


LABELLED = _load(HERE / "labelled_queries.jsonl")
SHARED = _load(SHARED_EVAL) if SHARED_EVAL.exists() else []


def _good(item: dict, hit) -> bool:
    if item.get("title") and item["title"] not in hit.article.title:
        return False
    anys = item.get("text_any") or []
    return not anys or any(a in hit.text for a in anys)


def _check(index, item):
    hits = index.search(item["q"], limit=3).hits
    if item.get("none"):
        assert hits == [], f"{item['q']!r} should find nothing, found {hits[0].text[:80]!r}"
    elif item.get("allow_none") and not hits:
        return
    else:
        assert hits, f"{item['q']!r} found nothing"
        assert _good(item, hits[0]), f"{item['q']!r} -> {hits[0].text[:80]!r}"


@pytest.mark.parametrize("item", LABELLED, ids=[i["q"] or "(empty)" for i in LABELLED])
def test_labelled_query_hit_at_1(index, item):
    _check(index, item)


def _passes(index, item) -> bool:
    try:
        _check(index, item)
    except AssertionError:
        return False
    return True


SHARED_FLOOR = 22  # of 25: a smoke test, not a target (../shared/eval/README.md)


@pytest.mark.skipif(not SHARED, reason="../shared/eval/queries.jsonl not beside the checkout")
def test_shared_eval_hit_at_1_stays_above_its_floor(index):
    """The shared set is a smoke test: no word-list line is fitted to one of its questions (the
    three that lost their fitted glossary lines miss now), but the set as a whole must not fall."""
    missed = [item["q"] for item in SHARED if not _passes(index, item)]
    assert len(SHARED) - len(missed) >= SHARED_FLOOR, missed


def test_hits_carry_their_source(index):
    hit = index.search("fairwater 2").hits[0]
    assert hit.section == "Fairwater 2 Data Center"
    assert hit.citations == [5, 13]
    assert hit.article.source == "Hua Er Jie Jian Wen"
    assert hit.article.published == "2025-11-13T08:37"
    assert hit.article.file == "000_d15f99b5a61b95c3.txt"
    assert 0 < hit.score <= 1
    assert hit.to_json()["citations"] == [5, 13]


def test_spans_mark_the_matched_words(index):
    hit = index.search("seres ipo").hits[0]
    marked = {hit.text[a:b].lower() for a, b in hit.spans}
    assert {"seres", "ipo"} <= marked
    assert all(0 <= a < b <= len(hit.text) for a, b in hit.spans)
    assert hit.spans == sorted(hit.spans)


def test_scores_are_ordered_and_paging_continues(index):
    first = index.search("seres", limit=3)
    second = index.search("seres", limit=3, offset=3)
    assert first.has_more
    scores = [h.score for h in first.hits + second.hits]
    assert scores == sorted(scores, reverse=True)
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}


def test_exact_words_rank_before_typo_corrections(index):
    exact = index.search("fairwater").hits[0].score
    typo = index.search("fairwatr").hits[0].score
    assert exact > typo


def test_no_typo_below_five_letters(index):
    # "sere" is one edit from "seres" but has 4 letters; as the last word it may only be a prefix
    assert index.search("sere", limit=1).hits  # prefix of seres
    assert index.search("sres", limit=1).hits == []  # not corrected to "seres"
    assert index.search("serez", limit=1).hits  # 5 letters: one typo allowed
    assert index.search("serezz", limit=1).hits == []  # 6 letters: two typos not allowed


def test_a_common_english_word_is_no_typo_of_an_index_word(index):
    """A word of general English that no fact holds is a word of the question, not a misspelling
    of an index word one edit away ("bring" is not "being", "cost" not "most"); a word that is not
    English ("fairwatr", "oversubscirbed") is corrected as before."""
    bring = index.searcher().explain("what did seres bring")
    assert "bring" in bring.missing and not any(g.surface == "bring" for g in bring.groups)
    assert not any(h.get("how") == "typo" for hit in index.search("seres bring in").hits for h in hit.matched)
    fixed = index.searcher().explain("oversubscirbed")
    assert any(a["how"] == "typo" for g in fixed.to_json()["groups"] for a in g["alts"])


NOTHING_TO_FIND = [  # punctuation, query syntax alone, emoji, controls, floods, Slack markup
    '"', '""', "'", "(", ")", "*", "+", "🚗", "a" * 5000, "赛" * 3000, "\n\t\r", "%", "_", "\\",
    "<@U123>", "<!channel>",
]
SERES_IN_DISGUISE = [  # the word seres wrapped in query syntax, controls, width forms, repeats
    "((seres", 'seres" OR "', "seres AND", "NEAR(seres ipo)", "seres*", "^seres", "-seres", "ipo:seres",
    "body:seres", "{body}: seres", "\x00seres\x07", "\u202eseres\u202c ipo", "\u200bseres\u200d",
    "ｓｅｒｅｓ　ｉｐｏ", "seres 🚗🔥", "seres " * 500,
]
OPERATORS_AS_WORDS = {"AND": "and", "OR": "or", "NOT": "not", "NEAR(": "near"}


@pytest.mark.parametrize("query", NOTHING_TO_FIND, ids=range(len(NOTHING_TO_FIND)))
def test_hostile_text_with_nothing_to_find_finds_nothing(index, query):
    result = index.search(query)
    assert result.hits == [] and not result.has_more


@pytest.mark.parametrize("query", SERES_IN_DISGUISE, ids=range(len(SERES_IN_DISGUISE)))
def test_hostile_text_around_a_word_finds_that_word(index, query):
    result = index.search(query)
    assert result.hits and result.hits[0].article.title.startswith("赛力斯")  # the Seres article
    assert all(0 <= a < b <= len(h.text) for h in result.hits for a, b in h.spans)


@pytest.mark.parametrize("query, word", OPERATORS_AS_WORDS.items())
def test_fts_operators_alone_are_plain_words(index, query, word):
    hits = index.search(query, limit=50).hits
    assert hits and all(re.search(rf"\b{word}", h.text + " " + h.section, re.I) for h in hits)


def test_fts_syntax_is_just_characters(index):
    assert index.search("NEAR(seres ipo)").hits[0].article.title.startswith("赛力斯")
    assert index.search("seres AND").hits[0].article.title.startswith("赛力斯")
    assert index.search("ｓｅｒｅｓ　ｉｐｏ").hits[0].article.title.startswith("赛力斯")
    assert index.search("\u202eseres\u202c ipo").hits[0].article.title.startswith("赛力斯")


def test_long_repetitive_queries_cost_no_more_than_short_ones(index):
    """Ratio within one run, not wall-clock: 500 repeats of a word plan like the word once."""
    index.search("seres")  # warm
    def cost(q, n=20):
        started = time.perf_counter()
        for _ in range(n):
            index.search(q)
        return time.perf_counter() - started
    assert cost("seres " * 500) < 20 * cost("seres")


ZH_SEED = """无人机
Search documents
低空经济爆发,无人机飞手人才缺口超百万
证券时报· 2025-11-20 09:30
核心观点 - 低空经济快速发展 无人机飞手人才缺口超过100万人[1][2]。 - 培训机构数量大幅增加[3]。
低空经济人才报告
36氪·2025-11-21 10:00
**行业现状**：无人机飞手供不应求 持证飞手数量不足20万人[1]。**培训市场**：培训费用普遍在1万元左右[2]。
"""


@pytest.fixture
def zh_index(seeds, tmp_path):
    from store import Index

    (seeds / "zh.txt").write_text(ZH_SEED, encoding="utf-8")
    idx = Index.open(tmp_path / "zh.db", seeds=seeds)
    yield idx
    idx.close()


@pytest.mark.parametrize("query, expected", [
    ("飞手", "飞手"),  # a 2-character word inside a Chinese summary and a title
    ("人才缺口", "人才缺口"),  # a longer one
    ("培训费用", "培训费用"),
    ("培训市场", "培训费用"),  # a **label** section heading
    ("飞手人才", "飞手人才"),
])
def test_chinese_words_match_chinese_summaries(zh_index, query, expected):
    hits = zh_index.search(query).hits
    assert hits and expected in hits[0].text
    run = hits[0].text.index(expected)
    if query == expected:  # the Chinese run is marked for bold
        assert (run, run + len(expected)) in hits[0].spans


def test_chinese_characters_out_of_order_find_nothing(zh_index):
    # 飞 and 手 both occur, but never as "手飞": no answer built on scattered characters
    assert zh_index.search("手飞").hits == []
    # whole words in another order are fine: 缺口 and 人才 are both there
    assert "人才缺口" in zh_index.search("缺口人才").hits[0].text
    assert zh_index.search("证券时报 飞手").hits[0].article.source == "证券时报"


def test_a_chinese_run_is_cut_into_the_words_the_index_holds(zh_index):
    hit = zh_index.search("人才缺口问题").hits[0]  # 问题 is not indexed: 人才缺口 answers
    assert "人才缺口" in hit.text
    assert zh_index.search("飞手的培训费用").hits[0].text.startswith("培训费用")


def _article(title, when, facts):
    body = "Core Viewpoint - " + " - ".join(f"{f} [{i + 1}]." for i, f in enumerate(facts))
    return f"{title}\nXin Lang Cai Jing· {when}\n{body}\n"


def test_aliases_are_learned_from_chinese_titles_and_the_name_their_facts_repeat(seeds, tmp_path):
    from store import Index

    doc = (_article("宁泰锂业三季度净利润大增", "2025-10-01 09:00", [
        "Ningtai Lithium reported net profit up 40% in the third quarter",
        "Ningtai expects lithium carbonate prices to recover",
        "Ningtai plans to expand capacity in Sichuan"])
        + _article("宁泰锂业拟赴港上市", "2025-10-05 09:00", [
            "Ningtai Lithium filed for a Hong Kong listing",
            "Ningtai intends to raise funds for new mines",
            "Ningtai sells mainly to battery makers"])
        + _article("Battery makers weekly", "2025-10-06 09:00", [
            "Battery makers signed new supply deals with Ningtai for cathode materials",
            "Prices of cathode materials stayed flat this week",
            "Demand for storage batteries kept rising"]))
    (seeds / "ningtai.txt").write_text(doc, encoding="utf-8")
    idx = Index.open(tmp_path / "alias.db", seeds=seeds)
    conn = idx.conn()
    assert ("宁泰锂业", "Ningtai") in conn.execute("SELECT cjk, english FROM aliases").fetchall()
    # the Chinese name alone finds the English fact whose title does not hold it
    hits = idx.search("宁泰锂业", limit=10).hits
    assert [h.text for h in hits if h.article.title == "Battery makers weekly"] == [
        "Battery makers signed new supply deals with Ningtai for cathode materials."]
    idx.close()


def test_users_extend_the_glossary_and_aliases_with_files_of_their_own(seeds, tmp_path):
    from store import Index

    glossary = tmp_path / "glossary.txt"
    glossary.write_text("# ours\nflotation, ipo\n", encoding="utf-8")
    aliases = tmp_path / "aliases.txt"
    aliases.write_text("萨蒂亚 = Nadella\n", encoding="utf-8")
    plain = Index.open(tmp_path / "plain.db", seeds=seeds)
    assert plain.search("seres flotation").missing == ["flotation"]
    assert plain.search("萨蒂亚 winner's curse").missing == ["萨蒂亚"]
    plain.close()
    idx = Index.open(tmp_path / "ours.db", seeds=seeds, glossary=[glossary], aliases=[aliases])
    result = idx.search("seres flotation")
    assert result.missing == [] and "IPO" in result.hits[0].text
    result = idx.search("萨蒂亚 winner's curse")
    assert result.missing == [] and "Nadella" in result.hits[0].text
    idx.close()


def test_the_lexicon_reads_no_environment(seeds, tmp_path, monkeypatch):
    from store import Index

    glossary = tmp_path / "glossary.txt"
    glossary.write_text("flotation, ipo\n", encoding="utf-8")
    monkeypatch.setenv("FACTBOT_GLOSSARY", str(glossary))
    idx = Index.open(tmp_path / "env.db", seeds=seeds)
    assert idx.search("seres flotation").missing == ["flotation"]
    idx.close()


@pytest.mark.parametrize("kind", ["glossary", "aliases"])
def test_a_missing_glossary_or_alias_file_is_an_error_naming_it(seeds, tmp_path, kind):
    from store import Index
    from store.lexicon import LexiconFileError

    absent = tmp_path / f"no-such-{kind}.txt"
    with pytest.raises(LexiconFileError, match=f"no-such-{kind}.txt does not exist"):
        Index.open(tmp_path / "x.db", seeds=seeds, **{kind: [absent]})


# --- refusals, and why a result matched --------------------------------------------------------

@pytest.mark.parametrize("query, word", [
    ("who is the ceo of ford", "ford"),  # a name (CC-CEDICT's) no fact holds; ceo is common
    ("growth of my houseplants", "houseplants"),  # a word rare in general text
    ("google cloud quarterly revenue", "google"),
])
def test_a_question_about_what_no_digest_holds_is_refused_naming_it(index, query, word):
    result = index.search(query, limit=3)
    assert result.hits == [] and word in result.missing


def test_a_fact_must_hold_enough_of_what_the_question_says(index):
    # capacity is in the digests, the stadium is not: the fact about training capacity holds half
    # the question's information at most, and answers only a question about capacity
    assert index.search("capacity of the stadium").hits == []
    assert index.search("fairwater capacity").hits


def test_a_name_the_digests_hold_answers_beside_a_word_they_lack(index):
    result = index.search("seres flotation", limit=3)
    assert result.hits and result.missing == ["flotation"]


def test_every_result_says_how_each_query_word_matched(index):
    def how(query):
        hit = index.search(query, limit=1).hits[0]
        assert hit.to_json()["matched"] == hit.matched
        return {m["word"]: m["how"] for m in hit.matched}

    assert how("seres ipo") == {"seres": "exact", "ipo": "exact"}
    assert how("sereis ipo")["sereis"] == "typo"
    assert how("azure margin")["margin"] == "stem"
    assert how("capex")["capex"] == "glossary"
    assert how("微软 光纤")["光纤"] == "translation"  # CC-CEDICT: optical fiber -> optical
    assert how("赛力斯 营收")["赛力斯"] in {"exact", "alias"}
    assert "semantic" in how("how much money did seres raise when it listed").values()


@pytest.mark.parametrize("query, expected", [
    ("微软 光纤", "optical device"),  # 光纤: optical fiber (CC-CEDICT), no glossary line
    ("赛力斯 风险 溢价", "risk premiums"),
    ("赛力斯 估值 逻辑", "valuation logic"),
    ("香港 市场 理性", "rationality"),
])
def test_chinese_words_outside_the_glossary_find_their_english_facts(index, query, expected):
    result = index.search(query, limit=3)
    assert result.hits and expected in result.hits[0].text, [h.text[:60] for h in result.hits]


def test_every_shipped_data_file_names_its_source():
    data = HERE.parents[1] / "store" / "data"
    for path in sorted(data.glob("*.txt")):
        header = "".join(line for line in path.read_text(encoding="utf-8").splitlines(True)[:12]
                         if line.startswith("#"))
        assert "Source" in header or "Built by tools/" in header, path.name


def test_the_chinese_glossary_holds_only_terms_cc_cedict_lacks():
    import subprocess
    import sys

    root = HERE.parents[1]
    out = subprocess.run([sys.executable, "tools/prune_glossary_zh.py", "--check"], cwd=root,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("query, word", [
    ("who is the ceo of ford", "ford"),
    ("growth of my houseplants", "houseplants"),
    ("capacity of the stadium", "stadium"),
    ("how much does a wedding cost", "wedding"),
    ("netflix subscription price increase", "netflix"),
])
def test_refusals_hold_on_a_generated_corpus(generated_index, query, word):
    """Thousands of facts with Zipf-distributed common words (growth, capacity, cost, price are
    everywhere): what the question is about is still what decides."""
    result = generated_index.search(query, limit=3)
    assert result.hits == [] and word in result.missing


@pytest.mark.parametrize("query", ["gross margin", "humanoid robots shipments", "free cash flow"])
def test_the_generated_corpus_still_answers_its_own_words(generated_index, query):
    assert generated_index.search(query, limit=3).hits
