"""The question in a Slack message: rich_text blocks first, the text otherwise; markup is no query."""
from __future__ import annotations

import pytest

from handlers.markup import clean_text, event_text, rich_text
from tests.slack_standin import BOT_USER_ID, rich_text_blocks


def _section(*elements):
    return [{"type": "rich_text", "block_id": "b", "elements": [{"type": "rich_text_section", "elements": list(elements)}]}]


def test_rich_text_keeps_only_what_was_typed():
    blocks = _section(
        {"type": "user", "user_id": BOT_USER_ID},
        {"type": "text", "text": " hello, "},
        {"type": "text", "text": "seres", "style": {"bold": True}},
        {"type": "emoji", "name": "eyes", "unicode": "1f440"},
        {"type": "text", "text": " ipo "},
        {"type": "channel", "channel_id": "C0GENERAL"},
        {"type": "usergroup", "usergroup_id": "S0ANALYSTS"},
        {"type": "broadcast", "range": "here"},
        {"type": "link", "url": "https://example.com/x", "text": "click here"},
        {"type": "date", "timestamp": 1700000000, "format": "{date}", "fallback": "Nov 14"},
    )
    assert " ".join(rich_text(blocks).split()) == "hello, seres ipo"


def test_lists_quotes_and_code_are_read_as_text():
    blocks = [{"type": "rich_text", "elements": [
        {"type": "rich_text_section", "elements": [{"type": "text", "text": "compare"}]},
        {"type": "rich_text_list", "style": "bullet", "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "azure margins"}]},
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "tco"}]}]},
        {"type": "rich_text_quote", "elements": [{"type": "text", "text": "winner's curse"}]},
        {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "fairwater 2"}]}]}]
    assert rich_text(blocks).split() == ["compare", "azure", "margins", "tco", "winner's", "curse", "fairwater", "2"]


def test_event_text_prefers_blocks_and_falls_back_to_text():
    event = {"text": f"<@{BOT_USER_ID}> something else entirely", "blocks": _section({"type": "text", "text": "seres ipo"})}
    assert event_text(event) == "seres ipo"
    assert event_text({"text": f"<@{BOT_USER_ID}> fairwater :eyes:"}) == "fairwater"
    assert event_text({"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "y"}}]}) == "x"
    assert event_text({"blocks": "not a list", "text": "azure"}) == "azure"
    assert event_text({}) == ""


def test_text_elements_are_not_unescaped_twice():
    # in blocks, "<" is a plain character: a typed "&lt;" stays as typed
    assert event_text({"blocks": _section({"type": "text", "text": "a &lt; b < c"})}) == "a &lt; b < c"


@pytest.mark.parametrize("text, expected", [
    ("fairwater :eyes:", "fairwater"),
    (":rocket: seres ipo :+1::skin-tone-2:", "seres ipo"),
    ("seres :flag-cn: ipo", "seres ipo"),
    ("quick one: seres pe ratio", "quick one: seres pe ratio"),
    ("meet at 10:30: azure", "meet at 10:30: azure"),
    ("<@U123|factbot> what about <#C1|general>?", "what about ?"),
    ("<!here> <https://a.example|A link> and <mailto:x@y.z> <!subteam^S1|@analysts> tco", "and tco"),
    ("a &amp; b &lt;c&gt;", "a & b <c>"),
])
def test_plain_text_drops_mentions_links_and_emoji(text, expected):
    assert clean_text(text) == expected


def test_the_stand_in_sends_blocks_as_slack_does():
    blocks = rich_text_blocks(f"<@{BOT_USER_ID}> fairwater :eyes: <https://x.example|here> &amp; 2")
    kinds = [e["type"] for e in blocks[0]["elements"][0]["elements"]]
    assert kinds == ["user", "text", "emoji", "text", "link", "text"]
    assert event_text({"blocks": blocks}) == "fairwater & 2"
