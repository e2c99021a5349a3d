"""handlers/events.py in-process: mentions answered in their thread, DMs, what is ignored."""
from __future__ import annotations

from tests.slack_standin import BOT_USER_ID, direct_message, event_callback, mention


def _asked(call) -> str:
    return call.blocks[0]["text"]["text"].split("\n")[0]


def test_mentions_are_stripped_wherever_they_are(inprocess):
    text = f"<@{BOT_USER_ID}|factbot> what about <@U0OTHER> fairwater <#C0X|general> 2 <https://x.example|link>?"
    inprocess.event(event_callback(mention(text, ts="1.000001", channel="C0STRIP")))
    (call,) = inprocess.slack.wait_for("chat.postMessage", channel="C0STRIP")
    assert "what about fairwater 2 ?" in _asked(call) and "<" not in _asked(call)
    assert call.params["thread_ts"] == "1.000001"


def test_a_bare_mention_gets_help_in_the_thread(inprocess):
    inprocess.event(event_callback(mention(f"<@{BOT_USER_ID}>", ts="2.000001", thread_ts="2.000000", channel="C0BARE")))
    (call,) = inprocess.slack.wait_for("chat.postMessage", channel="C0BARE")
    assert call.params["thread_ts"] == "2.000000" and "/factbot sources" in call.text


def test_dm_in_a_thread_is_answered_in_that_thread(inprocess):
    inprocess.event(event_callback(direct_message("sources", ts="3.000002", thread_ts="3.000001", channel="D0T")))
    (call,) = inprocess.slack.wait_for("chat.postMessage", channel="D0T")
    assert call.params["thread_ts"] == "3.000001" and "2 articles" in call.text


def test_bot_and_edited_messages_and_other_bots_mentions_are_ignored(inprocess):
    events = [
        mention(f"<@{BOT_USER_ID}> ipo", ts="4.1", channel="C0IGN") | {"bot_id": "B0OTHER"},
        direct_message("ipo", ts="4.2", channel="D0IGN", subtype="message_deleted"),
        direct_message("ipo", ts="4.3", channel="D0IGN", subtype="bot_message", bot_id="B0OTHER"),
        direct_message("ipo", ts="4.4", channel="D0IGN", user=BOT_USER_ID),
        {k: v for k, v in direct_message("ipo", ts="4.5", channel="D0IGN").items() if k != "user"},
    ]
    for event in events:
        assert inprocess.event(event_callback(event)).status == 200
    # the positive signal: real questions afterwards are answered, and nothing came before them
    inprocess.event(event_callback(mention(f"<@{BOT_USER_ID}> sources", ts="4.6", channel="C0IGN")))
    inprocess.event(event_callback(direct_message("sources", ts="4.7", channel="D0IGN")))
    inprocess.slack.wait_for("chat.postMessage", channel="C0IGN")
    inprocess.slack.wait_for("chat.postMessage", channel="D0IGN")
    posts = inprocess.slack.calls_to("chat.postMessage")
    assert len(posts) == 2 and all("2 articles" in c.text for c in posts)


def test_same_event_id_is_answered_once(inprocess):
    payload = event_callback(mention(f"<@{BOT_USER_ID}> ipo", ts="5.1", channel="C0ONCE"), event_id="Ev0ONCE")
    assert inprocess.event(payload).status == 200
    inprocess.slack.wait_for("chat.postMessage", channel="C0ONCE")
    assert inprocess.event(payload, retry_num=1).status == 200
    assert inprocess.event(payload, retry_num=2).status == 200
    inprocess.event(event_callback(mention(f"<@{BOT_USER_ID}> sources", ts="5.2", channel="C0ONCE")))  # the marker
    first, marker = inprocess.slack.wait_for("chat.postMessage", count=2, channel="C0ONCE")
    assert "2 articles" in marker.text and len(inprocess.slack.calls_to("chat.postMessage", channel="C0ONCE")) == 2
