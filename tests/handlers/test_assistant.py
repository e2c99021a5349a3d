"""Slack's AI surfaces in-process (handlers/assistant.py, events.py, feedback.py): the Messages tab's
prompts and once-a-day welcome, the status while searching, thread titles, Slack's feedback_buttons,
and the older assistant threads through Bolt's Assistant. Payload shapes as in bolt-python's tests."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from slack_sdk.models.blocks import Block, ContextActionsBlock, FeedbackButtonsElement

from tests.handlers.conftest import make_bot
from tests.slack_standin import (
    BOT_USER_ID, TEAM_ID, direct_message, event_callback, home_opened, mention, slash_command,
)


def _kinds(blocks) -> list[str]:
    return [b["type"] for b in blocks]


def _rating(blocks) -> dict:
    (block,) = [b for b in blocks if b["type"] == "context_actions"]
    return block


def _validated(blocks) -> None:
    """Every block as slack_sdk's models parse and check it (the context_actions one as its own class)."""
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None and parsed.to_dict()["type"] == block["type"]
        parsed.validate_json()
        if block["type"] == "context_actions":
            assert isinstance(parsed, ContextActionsBlock)
            (element,) = parsed.elements
            assert isinstance(element, FeedbackButtonsElement)


def feedback_click(value: str, channel: str, message_ts: str, response_url: str | None, user: str = "U0RATER",
                   thread_ts: str | None = None) -> dict:
    """block_actions from a feedback_buttons element (the action's shape: type, action_id, block_id,
    value of the button pressed, its text, action_ts)."""
    container = {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False}
    message = {"type": "message", "ts": message_ts, "bot_id": "B0FACTBOT"}
    if thread_ts:
        container["thread_ts"] = message["thread_ts"] = thread_ts
    payload = {
        "type": "block_actions", "team": {"id": TEAM_ID, "domain": "standin"},
        "user": {"id": user, "username": "rater", "name": "rater", "team_id": TEAM_ID},
        "api_app_id": "A111", "token": "legacy-verification-token", "container": container,
        "trigger_id": "111.222.standin", "channel": {"id": channel, "name": "directmessage"}, "message": message,
        "actions": [{"type": "feedback_buttons", "action_id": "factbot_feedback", "block_id": "factbot_feedback.x.5",
                     "value": value, "text": {"type": "plain_text", "text": "👍", "emoji": True},
                     "action_ts": str(time.time())}],
    }
    if response_url:
        payload["response_url"] = response_url
    return payload


def _votes(bot) -> list[dict]:
    from bot.app import open_records

    return open_records(bot.settings).votes()


def test_posted_answers_carry_feedback_buttons_and_ephemeral_ones_the_two_buttons(inprocess):
    slack = inprocess.slack
    inprocess.event(event_callback(direct_message("ipo seres", ts="10.000001", channel="D0RATE")))
    inprocess.event(event_callback(mention(f"<@{BOT_USER_ID}> azure margins", ts="10.000002", channel="C0RATE")))
    inprocess.command(slash_command("/factbot", "ipo seres", slack.response_url("rate-ephemeral")))
    (dm,) = slack.wait_for("chat.postMessage", channel="D0RATE")
    (thread,) = slack.wait_for("chat.postMessage", channel="C0RATE")
    (ephemeral,) = slack.wait_for("response/rate-ephemeral")
    for post in (dm, thread):
        _validated(post.blocks)
        assert _kinds(post.blocks)[-1] == "context_actions"
        (element,) = _rating(post.blocks)["elements"]
        assert element["type"] == "feedback_buttons" and element["action_id"] == "factbot_feedback"
        up, down = json.loads(element["positive_button"]["value"]), json.loads(element["negative_button"]["value"])
        assert (up["v"], down["v"]) == (1, -1) and up["f"] == down["f"] and up["f"]
        assert not any(e.get("action_id", "").startswith("factbot_vote") for b in post.blocks
                       for e in b.get("elements", []) if b["type"] == "actions")
    _validated(ephemeral.blocks)
    assert "context_actions" not in _kinds(ephemeral.blocks)  # Slack takes no context_actions there
    ids = [e["action_id"] for b in ephemeral.blocks if b["type"] == "actions" for e in b["elements"]]
    assert ids[-2:] == ["factbot_vote_up", "factbot_vote_down"]


def test_a_feedback_click_is_recorded_like_a_vote_and_thanked_privately(inprocess):
    slack = inprocess.slack
    inprocess.event(event_callback(direct_message("azure margins", ts="11.000001", channel="D0CLICK")))
    (post,) = slack.wait_for("chat.postMessage", channel="D0CLICK")
    (element,) = _rating(post.blocks)["elements"]
    up, down = element["positive_button"]["value"], element["negative_button"]["value"]
    shown = json.loads(up)["f"]
    ts = "11.000002"  # the answer's ts, as Slack gave it
    for n, value in enumerate((up, down)):  # a change of mind: one vote per person and answer, the latest
        assert inprocess.action(feedback_click(value, "D0CLICK", ts, slack.response_url(f"rated-{n}"))).status == 200
        (thanks,) = slack.wait_for(f"response/rated-{n}")
        assert thanks.params["response_type"] == "ephemeral" and thanks.params["replace_original"] is False
        assert "Thanks for the feedback" in thanks.text
    votes = [v for v in _votes(inprocess) if v["channel"] == "D0CLICK"]
    assert [(v["answer"], v["user_id"], v["vote"], v["query"], v["fact_ids"]) for v in votes] == [
        (f"D0CLICK:{ts}", "U0RATER", -1, "azure margins", shown)]
    # no response_url: the thanks still goes to the voter alone
    inprocess.action(feedback_click(up, "D0CLICK", "11.000003", None, user="U0OTHER", thread_ts="11.000001"))
    (private,) = slack.wait_for("chat.postEphemeral", channel="D0CLICK")
    assert private.params["user"] == "U0OTHER" and "Thanks for the feedback" in private.params["text"]
    assert private.params["thread_ts"] == "11.000001"
    # a forged value records nothing and says the button no longer works
    forged = json.dumps({"q": "x", "o": 0, "f": [1], "v": 2})
    inprocess.action(feedback_click(forged, "D0CLICK", "11.000004", slack.response_url("rated-forged")))
    (refused,) = slack.wait_for("response/rated-forged")
    assert "no longer works" in refused.text
    assert len([v for v in _votes(inprocess) if v["channel"] == "D0CLICK"]) == 2


def test_a_dm_question_sets_the_status_first_and_a_thread_gets_its_title_once(inprocess):
    slack = inprocess.slack
    inprocess.event(event_callback(direct_message("ipo seres", ts="12.000002", thread_ts="12.000001", channel="D0STAT")))
    (post,) = slack.wait_for("chat.postMessage", channel="D0STAT")
    (status,) = slack.calls_to("assistant.threads.setStatus", channel_id="D0STAT")
    assert status.params["status"] == "Searching the digests…" and status.params["thread_ts"] == "12.000001"
    assert status.at < post.at
    (title,) = slack.wait_for("assistant.threads.setTitle", channel_id="D0STAT")
    assert (title.params["thread_ts"], title.params["title"]) == ("12.000001", "ipo seres")
    # the answer in the thread clears the status (Slack does): no second call; a second question keeps the title
    inprocess.event(event_callback(direct_message("azure", ts="12.000003", thread_ts="12.000001", channel="D0STAT")))
    slack.wait_for("chat.postMessage", count=2, channel="D0STAT")
    assert [c.params["status"] for c in slack.calls_to("assistant.threads.setStatus", channel_id="D0STAT")] == [
        "Searching the digests…"] * 2
    assert len(slack.calls_to("assistant.threads.setTitle", channel_id="D0STAT")) == 1
    # a top-level DM's answer is not in the status' thread: factbot clears it itself, after the answer
    inprocess.event(event_callback(direct_message("ipo seres", ts="12.000009", channel="D0TOP")))
    first, cleared = slack.wait_for("assistant.threads.setStatus", count=2, channel_id="D0TOP")
    (answer,) = slack.calls_to("chat.postMessage", channel="D0TOP")
    assert (first.params["status"], cleared.params["status"]) == ("Searching the digests…", "")
    assert first.params["thread_ts"] == cleared.params["thread_ts"] == "12.000009" and answer.at < cleared.at
    assert not slack.calls_to("assistant.threads.setTitle", channel_id="D0TOP")  # no titled thread there
    # an answer Slack refused: the status is cleared too
    slack.answer_next("chat.postMessage", {"ok": False, "error": "channel_not_found"})
    inprocess.event(event_callback(direct_message("azure", ts="12.000011", thread_ts="12.000010", channel="D0FAIL")))
    first, cleared = slack.wait_for("assistant.threads.setStatus", count=2, channel_id="D0FAIL")
    assert cleared.params["status"] == ""


def test_mentions_get_no_status_and_off_sets_none(slack_api, tmp_path):
    bot = make_bot(slack_api, tmp_path, agent_view="off")
    bot.event(event_callback(direct_message("ipo seres", ts="13.000002", thread_ts="13.000001", channel="D0OFF")))
    bot.event(event_callback(home_opened("U0OFF", tab="messages")))
    bot.event(event_callback(home_opened("U0OFF")))  # the marker: the Home tab is still drawn
    slack_api.wait_for("chat.postMessage", channel="D0OFF")
    slack_api.wait_for("views.publish")
    assert not [c for c in slack_api.calls if c.method.startswith("assistant.")]
    assert not slack_api.calls_to("chat.postMessage", channel="D0OFF0")  # no welcome with the agent view off


def test_the_messages_tab_sets_prompts_from_the_index_and_welcomes_once_a_day(inprocess):
    slack = inprocess.slack
    payload = {"type": "app_home_opened", "user": "U0NEW", "channel": "D0NEW", "tab": "messages",
               "event_ts": "1606810927.510671"}  # as in bolt-python's tests/scenario_tests/test_events_org_apps.py
    inprocess.event(event_callback(dict(payload)))
    (prompts,) = slack.wait_for("assistant.threads.setSuggestedPrompts", channel_id="D0NEW")
    (welcome,) = slack.wait_for("chat.postMessage", channel="D0NEW")
    _validated(welcome.blocks)
    assert "Hi!" in welcome.text and "2 articles" in welcome.text
    shown = json.loads(prompts.params["prompts"]) if isinstance(prompts.params["prompts"], str) else prompts.params["prompts"]
    assert 3 <= len(shown) <= 4 and prompts.params.get("title") == "Try asking"
    titles = inprocess.index.recent_titles(5)
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in p["message"]) for p in shown)  # the corpus' titles are Chinese
    for prompt in shown:  # each one finds facts, and comes from what is indexed
        assert inprocess.index.search(prompt["message"], limit=1).hits
        assert prompt["title"] and len(prompt["title"]) <= 75
    assert any(p["message"] in " ".join(titles) or p["message"].rstrip("？?") in " ".join(titles) for p in shown)
    # opened again the same day: prompts again, no second welcome (the Home tab's own event is the marker)
    inprocess.event(event_callback(dict(payload, event_ts="1606810990.000001")))
    slack.wait_for("assistant.threads.setSuggestedPrompts", count=2, channel_id="D0NEW")
    inprocess.event(event_callback(home_opened("U0NEW")))
    slack.wait_for("views.publish")
    assert len(slack.calls_to("chat.postMessage", channel="D0NEW")) == 1


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_the_welcome_is_due_once_per_user_and_utc_day_on_either_store(store, request, tmp_path):
    from store.records import Records
    from store.state import State

    url = f"sqlite:///{tmp_path / 's.db'}" if store == "sqlite" else request.getfixturevalue("database_url")
    state = State.open(url)
    now = [datetime(2026, 3, 1, 23, 59, tzinfo=timezone.utc)]
    records = Records(state.engine, clock=lambda: now[0].timestamp())
    try:
        assert records.first_visit_today("U1") and not records.first_visit_today("U1")
        assert records.first_visit_today("U2")
        now[0] += timedelta(minutes=2)  # the next UTC day
        assert records.first_visit_today("U1") and not records.first_visit_today("U1")
        records.purge()  # yesterday's rows go; today's stay
        assert not records.first_visit_today("U1")
    finally:
        state.close()


def test_assistant_threads_through_bolts_assistant(slack_api, tmp_path):
    bot = make_bot(slack_api, tmp_path, agent_view="assistant")
    started = {"type": "assistant_thread_started",  # as in bolt-python's tests/scenario_tests/test_events_assistant.py
               "assistant_thread": {"user_id": "W222", "context": {"channel_id": "C222", "team_id": TEAM_ID},
                                    "channel_id": "D0ASSIST", "thread_ts": "1726133698.626339"},
               "event_ts": "1726133698.665188"}
    bot.event(event_callback(started))
    (prompts,) = slack_api.wait_for("assistant.threads.setSuggestedPrompts", channel_id="D0ASSIST")
    assert prompts.params["thread_ts"] == "1726133698.626339"
    message = {"user": "W222", "type": "message", "ts": "1726133700.887259", "text": "ipo seres", "team": TEAM_ID,
               "user_team": TEAM_ID, "source_team": TEAM_ID, "user_profile": {}, "thread_ts": "1726133698.626339",
               "parent_user_id": "W222", "channel": "D0ASSIST", "event_ts": "1726133700.887259", "channel_type": "im"}
    bot.event(event_callback(message))
    (answer,) = slack_api.wait_for("chat.postMessage", channel="D0ASSIST")
    assert answer.params["thread_ts"] == "1726133698.626339" and "ipo seres" in answer.text
    _validated(answer.blocks)
    assert _kinds(answer.blocks)[-1] == "context_actions"
    (status,) = slack_api.calls_to("assistant.threads.setStatus", channel_id="D0ASSIST")
    assert status.params["status"] == "Searching the digests…" and status.at < answer.at
    (title,) = slack_api.wait_for("assistant.threads.setTitle", channel_id="D0ASSIST")
    assert title.params["title"] == "ipo seres"
