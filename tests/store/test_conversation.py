"""Conversation words (greetings, thanks, filler) and query words no fact holds."""
from __future__ import annotations

import pytest

from store.lexicon import _read, parse_conversation


def _top(index, query):
    hits = index.search(query, limit=3).hits
    return hits[0].text if hits else None


@pytest.mark.parametrize("chatty, plain", [
    ("@factbot hello, seres ipo", "seres ipo"),
    ("hiya, seres ipo", "seres ipo"),
    ("sorry to bother, nadella chips", "nadella chips"),
    ("hey there! quick question: what's up with azure margins? thx", "azure margins"),
    ("I was wondering, can you check the seres net profit pls", "seres net profit"),
    ("good morning folks, any news on fairwater 2?", "fairwater 2"),
    ("请问 赛力斯 华为 谢谢", "赛力斯 华为"),
    ("你好，有没有 openai 的消息吗", "openai"),
])
def test_conversation_words_do_not_count_against_a_query(index, chatty, plain):
    expected = _top(index, plain)
    assert expected is not None
    result = index.search(chatty, limit=3)
    assert result.hits and result.hits[0].text == expected
    assert result.missing == []


def test_conversation_alone_is_no_question(index):
    for query in ("hello", "thanks!", "谢谢", "hi there, quick question"):
        result = index.search(query)
        assert result.hits == [] and result.missing == []


def test_every_shipped_conversation_phrase_is_taken_out():
    conv = parse_conversation(_read("conversation.txt"))
    assert ("sorry", "to", "bother") in conv.phrases and ("what", "s", "up", "with") in conv.phrases
    for phrase in conv.phrases:
        assert conv.strip_words(list(phrase) + ["seres"]) == ["seres"]
    for phrase in conv.cjk:
        assert conv.strip_cjk(phrase + "赛力斯") == ["赛力斯"]


def test_a_single_chinese_conversation_character_goes_only_from_the_ends_of_a_run():
    conv = parse_conversation("请\n吗\n请问\n")
    assert conv.strip_cjk("请问赛力斯吗") == ["赛力斯"]
    assert conv.strip_cjk("请赛力斯") == ["赛力斯"]
    assert conv.strip_cjk("申请上市") == ["申请上市"]  # 请 inside a word stays


def test_a_word_no_fact_holds_does_not_sink_the_query_and_is_named(index):
    plain = index.search("seres ipo", limit=3)
    result = index.search("seres click here ipo", limit=3)
    assert [h.text for h in result.hits] == [h.text for h in plain.hits]
    assert result.missing == ["click"]
    assert plain.missing == []
    assert index.search("xiaomi ipo").missing == ["xiaomi"]
    assert index.search("amazon cloud margins").missing == ["amazon"]


def test_a_typo_corrected_word_is_not_missing(index):
    assert index.search("sereis ipo").missing == []


@pytest.mark.parametrize("query", ["bitcoin etf flows", "recipe for banana bread", "xiaomi redmi"])
def test_a_query_of_unknown_words_gets_no_answer(index, query):
    result = index.search(query)
    assert result.hits == []
    assert result.missing  # and says which words matched nothing


def test_missing_is_in_the_json(index):
    assert index.search("xiaomi ipo").to_json()["missing"] == ["xiaomi"]
    assert index.search("seres ipo").to_json()["missing"] == []


def test_ask_cleans_a_query_as_the_shell_and_slack_do(seeds, tmp_path):
    """One function (handlers.markup.clean_text) for all three: an emoji code is no query word,
    and filler (article, 多少) is never reported missing."""
    import json

    from click.testing import CliRunner

    from bot.cli import main
    from handlers.markup import clean_text

    runner = CliRunner()
    args = ["ask", "--json", "--seeds", str(seeds), "--db", str(tmp_path / "ask.db")]
    out = runner.invoke(main, [*args, ":rocket: seres ipo article"])
    assert out.exit_code == 0, out.output
    answer = json.loads(out.output.strip().splitlines()[-1])
    assert answer["missing"] == [] and answer["results"]
    assert clean_text(":rocket: seres ipo article") == "seres ipo article"  # the shell's and Slack's
    out = runner.invoke(main, [*args, "赛力斯 募资 多少"])
    assert json.loads(out.output.strip().splitlines()[-1])["missing"] == []
