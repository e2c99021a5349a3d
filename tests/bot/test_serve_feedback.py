"""👍 / 👎 on answers and the unanswered questions, through `factbot serve` and `factbot report`."""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.slack_standin import (
    BOT_USER_ID, HttpBot, block_action, bot_env, copy_seeds, direct_message, event_callback, factbot_argv, mention,
)


@pytest.fixture(scope="module")
def bot(slack, tmp_path_factory):
    work = tmp_path_factory.mktemp("feedback")
    env = bot_env(slack, work / "factbot.db", copy_seeds(work / "seeds"))
    proc = HttpBot(env, work)
    proc.env, proc.work = env, work
    yield proc
    proc.stop()


def report(bot, *args: str) -> dict:
    result = subprocess.run(factbot_argv("report", "--json", *args), env=bot.env, cwd=bot.work,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _buttons(call) -> dict[str, dict]:
    return {e["action_id"]: e for b in call.blocks if b["type"] == "actions" for e in b["elements"]}


def _sections(blocks) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_every_answer_carries_votes_beside_share_and_more(bot, slack):
    bot.command("/factbot", "ipo seres", slack.response_url("votes-shown"))
    (call,) = slack.wait_for("response/votes-shown")
    buttons = _buttons(call)
    assert list(buttons) == ["factbot_share", "factbot_more", "factbot_vote_up", "factbot_vote_down"]
    assert [buttons[k]["text"]["text"] for k in ("factbot_vote_up", "factbot_vote_down")] == ["👍", "👎"]
    value = json.loads(buttons["factbot_vote_up"]["value"])
    assert value["q"] == "ipo seres" and value["o"] == 0 and len(value["f"]) == 5
    assert value == json.loads(buttons["factbot_vote_down"]["value"])
    bot.event(event_callback(mention(f"<@{BOT_USER_ID}> fairwater 2", ts="1700009000.000001", channel="C0VOTES")))
    (post,) = slack.wait_for("chat.postMessage", channel="C0VOTES")
    # an answer in a thread: Slack's own feedback_buttons (docs/agent-view.md), the same page and facts
    (rating,) = [e for b in post.blocks if b["type"] == "context_actions" for e in b["elements"]]
    assert rating["type"] == "feedback_buttons" and rating["action_id"] == "factbot_feedback"
    assert [json.loads(rating[k]["value"])["v"] for k in ("positive_button", "negative_button")] == [1, -1]


def test_up_then_down_by_one_user_keeps_one_vote_the_latter_and_thanks(bot, slack):
    bot.command("/factbot", "azure margins", slack.response_url("to-vote"))
    (answer,) = slack.wait_for("response/to-vote")
    value = _buttons(answer)["factbot_vote_up"]["value"]
    fact_ids = json.loads(value)["f"]
    message = {"ts": "1700009100.000001"}
    for n, action in enumerate(("factbot_vote_up", "factbot_vote_down")):
        payload = block_action(action, value, slack.response_url(f"vote-{n}"), user="U0VOTER", channel="C0VOTE")
        payload["container"]["message_ts"] = message["ts"]
        assert bot.action(payload)[0] == 200
        (thanked,) = slack.wait_for(f"response/vote-{n}")
        assert thanked.params["replace_original"] is True and thanked.params["response_type"] == "ephemeral"
        assert _sections(thanked.blocks) == _sections(answer.blocks)  # the answer is still all there
        assert "Thanks for the feedback" in json.dumps(thanked.blocks[-1])
        assert sum("Thanks for the feedback" in json.dumps(b) for b in thanked.blocks) == 1
    downvoted = report(bot)["downvoted"]
    assert [(d["query"], d["fact_ids"], d["count"], d["up"]) for d in downvoted] == [
        ("azure margins", fact_ids, 1, 0)]
    shown = downvoted[0]["facts"]  # what the answer showed, read back from the index
    assert [f["id"] for f in shown] == fact_ids and "margin" in shown[0]["text"].lower() and shown[0]["title"]


def test_a_visible_answer_keeps_its_blocks_when_thanked(bot, slack):
    bot.event(event_callback(direct_message("ipo seres", ts="1700009200.000001", channel="D0VISIBLE")))
    (post,) = slack.wait_for("chat.postMessage", channel="D0VISIBLE")
    # a DM answer carries feedback_buttons now; a visible answer posted before them keeps its 👍 / 👎
    # buttons, whose value is the same page and facts without the vote: such a click still works
    (rating,) = [e for b in post.blocks if b["type"] == "context_actions" for e in b["elements"]]
    value = json.dumps({k: v for k, v in json.loads(rating["positive_button"]["value"]).items() if k != "v"})
    message = {"type": "message", "ts": "1700009200.000002", "text": post.text, "blocks": post.blocks}
    bot.action(block_action("factbot_vote_up", value, slack.response_url("vote-visible"), user="U0FAN",
                            channel="D0VISIBLE", ephemeral=False, message=message))
    (thanked,) = slack.wait_for("response/vote-visible")
    assert thanked.params["response_type"] == "in_channel" and thanked.params["replace_original"] is True
    unnamed = lambda blocks: [{k: v for k, v in b.items() if k != "block_id"} for b in blocks]  # noqa: E731
    assert unnamed(thanked.blocks[:-1]) == unnamed(post.blocks)  # the same content, under new block_ids
    assert not {b["block_id"] for b in thanked.blocks} & {b["block_id"] for b in post.blocks}


def test_forged_vote_values_are_refused(bot, slack):
    before = report(bot)["downvoted"]
    for n, value in enumerate(("reload", json.dumps({"q": "x", "o": 0}), json.dumps({"q": "x", "o": 0, "f": ["1"]}))):
        bot.action(block_action("factbot_vote_down", value, slack.response_url(f"forged-vote-{n}")))
        (call,) = slack.wait_for(f"response/forged-vote-{n}")
        assert "no longer works" in call.text
    assert report(bot)["downvoted"] == before


def test_report_counts_a_no_match_query_asked_three_times(bot, slack):
    asked = "recipe for banana bread"
    bot.command("/factbot", asked, slack.response_url("nomatch-1"), user="U0A")
    bot.event(event_callback(mention(f"<@{BOT_USER_ID}> Recipe for  banana bread", ts="1700009300.000001",
                                     user="U0B", channel="C0NOMATCH")))
    bot.event(event_callback(direct_message(asked, ts="1700009300.000002", user="U0A", channel="D0NOMATCH")))
    bot.command("/factbot", "ipo seres", slack.response_url("answered"), user="U0A")  # answered: not recorded
    slack.wait_for("response/nomatch-1")
    slack.wait_for("chat.postMessage", channel="C0NOMATCH")
    slack.wait_for("chat.postMessage", channel="D0NOMATCH")
    slack.wait_for("response/answered")
    unanswered = report(bot, "--since", "7d")["unanswered"]
    assert [(u["query"].lower(), u["count"], u["users"]) for u in unanswered] == [(asked, 3, 2)]
