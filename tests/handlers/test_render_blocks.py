"""Rendering answers as Block Kit: Slack's limits, escaping, bold spans, buttons, the no-match message."""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers import render
from handlers.render import (
    MAX_BLOCKS,
    MAX_BUTTON_VALUE,
    MAX_SECTION,
    blocks_to_text,
    bold_spans,
    decode_value,
    encode_value,
    escape,
    fit_bold,
    render_answer,
    render_no_match,
    render_reload_report,
    render_sources,
)
from store import ArticleInfo, FileReport, ReloadReport
from store.search import Hit, SearchResult
from tests.slack_standin import copy_seeds

ARTICLE = ArticleInfo(title="赛力斯为何突然暴跌?", source="36Kr", published="2025-11-07T09:00", file="000.txt")


def _hit(text: str, spans=(), section: str = "Group 1: IPO Performance", citations=(1, 5), article=ARTICLE) -> Hit:
    return Hit(id=1, text=text, section=section, citations=list(citations), score=1.0, article=article,
               spans=list(spans))


def _result(hits, query: str = "ipo seres", has_more: bool = False) -> SearchResult:
    return SearchResult(query=query, took_ms=1.0, hits=list(hits), has_more=has_more)


def _all_strings(blocks) -> list[str]:
    out = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    out.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return out


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    from store import Index

    work = tmp_path_factory.mktemp("render")
    return Index.open(work / "r.db", seeds=copy_seeds(work / "seeds"))


def test_a_real_answer_has_query_facts_context_and_buttons(index):
    result = index.search("ipo seres", limit=5)
    message = render_answer(result, share=True)
    blocks = message.blocks
    assert blocks[0]["text"]["text"] == "*You asked:* ipo seres\nFacts 1–5 from the digests:"
    assert [b["type"] for b in blocks] == ["section"] + ["section", "context"] * 5 + ["actions"]
    assert "*Seres Automotive*" in blocks[1]["text"]["text"]
    hit = result.hits[0]
    assert blocks[2]["elements"][0]["text"] == (
        f"_赛力斯为何突然暴跌?_ · {hit.article.source} · 2025-11-07 · {hit.section} · "
        + "".join(f"[{c}]" for c in hit.citations))
    assert re.fullmatch(r"_.+_ · .+ · \d{4}-\d\d-\d\d · .+ · (\[\d+\])+", blocks[4]["elements"][0]["text"])
    buttons = blocks[-1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Share in channel", "More results"]
    assert len({b["action_id"] for b in buttons}) == 2
    assert json.loads(buttons[0]["value"]) == {"q": "ipo seres", "o": 0}
    assert json.loads(buttons[1]["value"]) == {"q": "ipo seres", "o": 5}
    assert message.text.startswith(f"You asked: ipo seres\n1. {hit.text[:40]}")
    assert all(b["text"].get("verbatim") is True for b in blocks if b["type"] == "section")


def test_buttons_follow_the_options():
    result = _result([_hit("Seres fell.")], has_more=True)
    assert [e["action_id"] for e in render_answer(result, share=False).blocks[-1]["elements"]] == ["factbot_more"]
    assert all(b["type"] != "actions" for b in render_answer(result, share=False, more=False).blocks)
    no_more = _result([_hit("Seres fell.")], has_more=False)
    assert [e["action_id"] for e in render_answer(no_more, share=True).blocks[-1]["elements"]] == ["factbot_share"]


def test_a_shared_answer_says_who_shared_it_and_never_mentions_a_forged_id():
    result = _result([_hit("Seres fell.")])
    assert render_answer(result, shared_by="U0SHARER").blocks[0]["elements"][0]["text"] == "Shared by <@U0SHARER>"
    forged = render_answer(result, shared_by="U1> <!channel").blocks
    assert "<!channel" not in json.dumps(forged) and forged[0]["type"] == "section"


def test_bold_spans_mark_matched_words():
    text = "Seres Automotive raised 14 billion HKD in its IPO."
    assert bold_spans(text, [(0, 5), (6, 16), (46, 49)]) == "*Seres Automotive* raised 14 billion HKD in its *IPO*."
    # a span inside a word grows to the word; overlapping and out-of-range spans are tolerated
    assert bold_spans("margins matter", [(0, 6), (2, 4), (50, 60), (5, 3)]) == "*margins* matter"
    # next to CJK letters a zero-width space gives Slack the word boundary it needs
    assert bold_spans("赛力斯IPO暴跌", [(3, 6)]) == "赛力斯\u200b*IPO*\u200b暴跌"
    assert bold_spans("a <b> & c", [(2, 5)]) == "a *&lt;b&gt;* &amp; c"


def test_escaping_of_everything_from_seeds_and_users():
    hostile = ArticleInfo(title="Evil <!channel> & <@U123>", source="<http://x|y>", published="2025-01-01T00:00",
                          file="<!here>.txt")
    hit = _hit("Ping <!channel> and <@U123|bob> via <http://evil|click>", spans=[(5, 15)],
               section="<!subteam^S1>", article=hostile)
    message = render_answer(_result([hit], query="<!everyone> <@U9>"), share=True)
    # every text Slack shows (button values are data Slack hands back, never shown)
    everything = message.text + "\n".join(_all_strings(message.blocks))
    for raw in ("<!channel>", "<@U123", "<http://", "<!here>", "<!subteam", "<!everyone>", "<@U9>"):
        assert raw not in everything
    assert "*&lt;!channel&gt;*" in message.blocks[1]["text"]["text"]
    assert "&lt;http://evil|click&gt;" in message.blocks[1]["text"]["text"]
    assert "_Evil &lt;!channel&gt; &amp; &lt;@U123&gt;_ · &lt;http://x|y&gt;" in message.blocks[2]["elements"][0]["text"]
    assert "&lt;!everyone&gt; &lt;@U9&gt;" in message.blocks[0]["text"]["text"]


def test_long_text_is_cut_with_an_ellipsis_within_slack_limits():
    text = ("Azure margins & <supporting> services " * 200).strip()
    spans = [(i, i + 5) for i in range(0, len(text), 38)]
    long_title = ArticleInfo(title="T" * 5000, source="S" * 500, published="2025-01-01T00:00", file="f")
    message = render_answer(_result([_hit(text, spans, section="H" * 5000, article=long_title)],
                                    query="q" * 6000), share=True)
    section = message.blocks[1]["text"]["text"]
    assert len(section) <= MAX_SECTION and section.endswith("…")
    assert "&lt;supporting&gt;" in section and "*Azure*" in section
    for block in message.blocks:
        for s in _all_strings(block):
            assert len(s) <= 3000
    for button in message.blocks[-1]["elements"]:
        assert len(button["value"]) <= MAX_BUTTON_VALUE
    assert len(message.text) <= 3000


def test_never_more_than_50_blocks():
    hits = [_hit(f"fact {n}") for n in range(80)]
    message = render_answer(_result(hits, has_more=True), share=True)
    assert len(message.blocks) <= MAX_BLOCKS
    assert message.blocks[-1]["type"] == "actions"
    sources = [ArticleInfo(title=f"Article {n} " + "x" * 200, source="s", published="2025-01-01T00:00",
                          file=f"{n}.txt", facts=n) for n in range(2000)]
    rendered = render_sources(sources)
    assert len(rendered.blocks) <= MAX_BLOCKS and "more" in rendered.blocks[-1]["elements"][0]["text"]
    assert all(len(s) <= 3000 for s in _all_strings(rendered.blocks))


def test_no_match_says_so_and_suggests():
    message = render_answer(_result([], query="zzqq <x>"), suggestions=["赛力斯为何突然暴跌?", "Fairwater <2>"])
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert "I couldn't find a confident match for “zzqq &lt;x&gt;”." in text
    assert "• 赛力斯为何突然暴跌?" in text and "Fairwater &lt;2&gt;" in text
    assert "actions" not in [b["type"] for b in message.blocks]
    assert "No more facts" in render_no_match("ipo", [], offset=5).text


def test_reload_report_lists_counts_and_every_failed_file():
    report = ReloadReport(articles=3, facts=40, took_ms=1234.0, files=[
        FileReport("a.txt", 2, 31, "unchanged"), FileReport("b.txt", 1, 9, "loaded"),
        FileReport("<!channel>.txt", 0, 0, "failed", ["<!channel>.txt:1: no article found"]),
        FileReport("c.txt", 0, 0, "failed", ["c.txt: cannot read: Permission denied"]),
    ])
    message = render_reload_report(report)
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert "Reload finished with errors" in text and "3 articles and 40 facts" in text
    assert "1 loaded, 1 unchanged, 2 failed" in text
    assert "&lt;!channel&gt;.txt:1: no article found" in text and "c.txt: cannot read: Permission denied" in text
    assert "<!channel>" not in text + message.text
    many = ReloadReport(articles=0, facts=0, files=[FileReport(f"{n}.txt", status="failed", errors=["e" * 300])
                                                    for n in range(1000)])
    blocks = render_reload_report(many).blocks
    assert len(blocks) <= MAX_BLOCKS and all(len(s) <= 3000 for s in _all_strings(blocks))


def test_button_values_round_trip_and_reject_forgeries():
    assert decode_value(encode_value("ipo seres", 5)) == ("ipo seres", 5)
    value = encode_value('"\\' * 3000, 0)
    assert len(value) <= MAX_BUTTON_VALUE and decode_value(value) is not None
    for forged in ("reload", "", None, 42, "[]", '{"q": 1}', '{"q": "x", "o": -1}', '{"q": "x", "o": 99999999}',
                   '{"q": "x", "o": true}', '{"q": " ", "o": 0}', "x" * 3000):
        assert decode_value(forged) is None


def test_blocks_to_text_is_readable():
    result = _result([_hit("Seres <b> & IPO", spans=[(0, 5)])], has_more=True)
    text = blocks_to_text(render_answer(result, share=True).blocks)
    assert text.splitlines() == [
        "You asked: ipo seres",
        "Fact 1 from the digests:",
        "Seres <b> & IPO",
        "    赛力斯为何突然暴跌? · 36Kr · 2025-11-07 · Group 1: IPO Performance · [1][5]",
        "    [Share in channel]  [More results]",
    ]
    assert blocks_to_text(render_answer(result).blocks, bold=("[", "]")).splitlines()[2] == "[Seres] <b> & IPO"


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=0, max_size=4000), spans=st.lists(st.tuples(st.integers(-5, 4100), st.integers(-5, 4100)),
                                                              max_size=20))
def test_any_text_renders_escaped_and_within_limits(text, spans):
    out = fit_bold(text, spans, MAX_SECTION)
    assert len(out) <= MAX_SECTION
    assert "<" not in out and ">" not in out
    assert "&" not in out.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
    plain = render.mrkdwn_to_text(out)
    if len(text) <= 900 and "*" not in text and "_" not in text and "`" not in text and "\u200b" not in text:
        assert plain == render._CONTROL.sub("", text)


@settings(max_examples=100, deadline=None)
@given(query=st.text(max_size=3000), offset=st.integers(0, 1000))
def test_any_query_makes_a_valid_button_value(query, offset):
    value = encode_value(query, offset)
    assert len(value) <= MAX_BUTTON_VALUE
    decoded = decode_value(value)
    if query.strip():
        assert decoded is not None and decoded[1] == offset and query.startswith(decoded[0])


def test_escape_order():
    assert escape("&lt;") == "&amp;lt;" and escape("<&>") == "&lt;&amp;&gt;"


def test_words_no_fact_holds_are_named_above_the_answers_escaped():
    result = _result([_hit("Seres raised 14 billion HKD in its IPO.")], query="xiaomi <!channel> ipo")
    result.missing = ["xiaomi", "<!channel>"]
    message = render_answer(result)
    head = message.blocks[0]["text"]["text"]
    assert head.splitlines()[1] == "No fact mentions *xiaomi* or *&lt;!channel&gt;*."
    assert head.index("No fact mentions") < head.index("from the digests")
    assert "<!channel>" not in json.dumps(message.blocks) and "No fact mentions xiaomi" in message.text
    assert "No fact mentions" not in render_answer(_result([_hit("Seres raised 14 billion HKD.")])).blocks[0]["text"]["text"]


def test_no_match_names_the_words_no_fact_holds(index):
    message = render_answer(index.search("bitcoin etf flows"))
    assert "No fact mentions *bitcoin*, *etf* or *flows*." in message.blocks[0]["text"]["text"]


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_bidirectional_text_controls_are_neutralised_like_other_controls():
    # U+202E (right-to-left override) makes "gpj.exe" display as "exe.jpg": a shared answer could lie
    query = "ipo \u202eseres\u202c \u2066fake\u2069 \u200f\u061c"
    hit = _hit("Seres \u202eraised\u202c 14 billion \u2067HKD\u2069 \u200e", spans=[(0, 5)],
               section="Group \u202e1", article=ArticleInfo(title="赛力斯\u2068为何\u2069", source="36\u202dKr",
                                                                published="2025-11-07T09:00", file="0\u200f.txt"))
    message = render_answer(_result([hit], query=query), share=True)
    shown = [message.text, *_all_strings(message.blocks)]
    for text in shown:
        assert not set(text) & set(BIDI), repr(text)
    assert message.blocks[0]["text"]["text"].startswith("*You asked:* ipo seres fake")
    assert "*Seres* raised 14 billion HKD" in message.blocks[1]["text"]["text"]
    assert message.text.startswith("You asked: ipo seres fake")
    assert escape("a\u202eb\u2066c") == "abc" and blocks_to_text([{"type": "section", "text": {"text": "x\u202ey"}}]) == "xy"
