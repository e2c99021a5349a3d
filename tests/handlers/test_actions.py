"""handlers/actions.py in-process: More results and Share in channel, and forged values."""
from __future__ import annotations

import json

from tests.slack_standin import block_action


def test_more_in_a_dm_follows_at_top_level(inprocess):
    message = {"type": "message", "ts": "9.000001"}
    inprocess.action(block_action("factbot_more", json.dumps({"q": "ipo seres", "o": 5}),
                                  inprocess.slack.response_url("m"), channel="D0DM", ephemeral=False, message=message))
    (call,) = inprocess.slack.wait_for("chat.postMessage", channel="D0DM")
    assert "thread_ts" not in call.params
    assert "Fact 6" in call.blocks[0]["text"]["text"] or "Facts 6–" in call.blocks[0]["text"]["text"]


def test_more_on_a_top_level_channel_message_threads_under_it(inprocess):
    message = {"type": "message", "ts": "9.000002"}
    inprocess.action(block_action("factbot_more", json.dumps({"q": "ipo seres", "o": 5}),
                                  inprocess.slack.response_url("m"), channel="C0TOP", ephemeral=False, message=message))
    (call,) = inprocess.slack.wait_for("chat.postMessage", channel="C0TOP")
    assert call.params["thread_ts"] == "9.000002"


def test_past_the_last_page_says_so(inprocess):
    inprocess.action(block_action("factbot_more", json.dumps({"q": "ipo seres", "o": 500}),
                                  inprocess.slack.response_url("end")))
    (call,) = inprocess.slack.wait_for("response/end")
    assert "No more facts" in call.text


def test_share_failure_keeps_the_ephemeral_answer_and_explains(inprocess):
    inprocess.slack.answer_next("chat.postMessage", {"ok": False, "error": "is_archived"})
    inprocess.action(block_action("factbot_share", json.dumps({"q": "ipo", "o": 0}),
                                  inprocess.slack.response_url("s"), channel="C0DOWN"))
    (call,) = inprocess.slack.wait_for("response/s")
    assert "couldn't share that here (is_archived)" in call.text and "delete_original" not in call.params


def test_a_button_factbot_no_longer_knows_is_acknowledged_and_said_to_be_out_of_date(inprocess):
    # a message posted before an action_id was renamed keeps its old button
    resp = inprocess.action(block_action("factbot_renamed_long_ago", '{"q":"ipo","o":0}',
                                         inprocess.slack.response_url("old")))
    assert resp.status == 200
    (call,) = inprocess.slack.wait_for("response/old")
    assert call.params["response_type"] == "ephemeral" and call.params.get("replace_original") is False
    assert "out of date" in call.text


def _block_ids(blocks) -> list:
    return [b.get("block_id") for b in blocks]


def test_a_replaced_message_gets_new_block_ids(inprocess):
    from tests.slack_standin import slash_command

    slack = inprocess.slack
    inprocess.command(slash_command("/factbot", "ipo seres", slack.response_url("page-1")))
    (answer,) = slack.wait_for("response/page-1")
    buttons = {e["action_id"]: e for b in answer.blocks if b["type"] == "actions" for e in b["elements"]}
    # "More results" replaces the answer with the next page
    inprocess.action(block_action("factbot_more", buttons["factbot_more"]["value"], slack.response_url("page-2")))
    (page,) = slack.wait_for("response/page-2")
    assert page.params["replace_original"] is True
    old, new = _block_ids(answer.blocks), _block_ids(page.blocks)
    assert all(old) and all(new) and len(set(new)) == len(new)
    assert not set(old) & set(new)
    # a vote replaces a visible answer with the same blocks and a thanks line: new ids as well
    visible = {"type": "message", "ts": "7.000001", "text": answer.text, "blocks": page.blocks}
    inprocess.action(block_action("factbot_vote_up", buttons["factbot_vote_up"]["value"], slack.response_url("vote"),
                                  channel="C0VOTE", ephemeral=False, message=visible))
    (thanked,) = slack.wait_for("response/vote")
    assert thanked.params["replace_original"] is True and "Thanks" in json.dumps(thanked.blocks)
    assert all(_block_ids(thanked.blocks)) and not set(_block_ids(thanked.blocks)) & set(new)
