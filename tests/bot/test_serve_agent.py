"""The agent view through `factbot serve` over a generated corpus: the Messages tab's prompts (from
its Chinese titles and its names) and once-a-day welcome, a DM's status before its answer, and a
feedback_buttons click that `factbot report` counts."""
from __future__ import annotations

import json
import re
import subprocess
import time

import pytest

from tests.generated import corpus
from tests.slack_standin import TEAM_ID, HttpBot, bot_env, direct_message, event_callback, factbot_argv

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def bot(slack, tmp_path_factory):
    work = tmp_path_factory.mktemp("agent")
    seeds = work / "seeds"
    seeds.mkdir()
    companies = corpus(seeds, 600, seed=7)
    env = bot_env(slack, work / "factbot.db", seeds)
    proc = HttpBot(env, work)
    proc.env, proc.work, proc.companies, proc.seeds = env, work, companies, seeds
    yield proc
    proc.stop()


def _prompts(call) -> list[dict]:
    prompts = call.params["prompts"]
    return json.loads(prompts) if isinstance(prompts, str) else prompts


def test_the_messages_tab_suggests_what_the_corpus_holds_and_welcomes_once(bot, slack):
    opened = {"type": "app_home_opened", "user": "U0AGENT", "channel": "D0AGENT", "tab": "messages",
              "event_ts": str(time.time())}
    assert bot.event(event_callback(opened))[0] == 200
    (call,) = slack.wait_for("assistant.threads.setSuggestedPrompts", channel_id="D0AGENT")
    prompts = _prompts(call)
    assert 3 <= len(prompts) <= 4
    from store import Index

    index = Index(bot.work / "factbot.db", bot.seeds)
    titles = "\n".join(index.recent_titles(5))  # the newest articles' (Chinese) titles, as indexed
    index.close()
    chinese = [p for p in prompts if CJK.search(p["message"])]
    assert chinese and all(p["message"].rstrip("？?") in titles for p in chinese)
    names = {c["en"].split()[0] for c in bot.companies}
    assert any(p["message"].split()[0] in names for p in prompts if not CJK.search(p["message"]))
    (welcome,) = slack.wait_for("chat.postMessage", channel="D0AGENT")
    assert welcome.text.startswith("Hi!")
    bot.event(event_callback(dict(opened, event_ts=str(time.time()))))
    slack.wait_for("assistant.threads.setSuggestedPrompts", count=2, channel_id="D0AGENT")
    # the marker: a question afterwards is answered, and no second welcome came before it
    bot.event(event_callback(direct_message(prompts[0]["message"], ts="1700020000.000001", channel="D0AGENT")))
    first, answer = slack.wait_for("chat.postMessage", count=2, channel="D0AGENT")
    assert first is welcome and not answer.text.startswith("Hi!")


def test_a_dm_shows_the_status_then_an_answer_whose_feedback_report_counts(bot, slack):
    company = bot.companies[0]["en"]
    bot.event(event_callback(direct_message(f"{company} revenue", ts="1700020100.000002",
                                            thread_ts="1700020100.000001", channel="D0RATER")))
    (answer,) = slack.wait_for("chat.postMessage", channel="D0RATER")
    (status,) = slack.calls_to("assistant.threads.setStatus", channel_id="D0RATER")
    assert status.params["status"] == "Searching the digests…" and status.at < answer.at
    (element,) = [e for b in answer.blocks if b["type"] == "context_actions" for e in b["elements"]]
    value = element["negative_button"]["value"]
    click = {
        "type": "block_actions", "team": {"id": TEAM_ID, "domain": "standin"},
        "user": {"id": "U0RATER", "username": "rater", "name": "rater", "team_id": TEAM_ID},
        "api_app_id": "A111", "token": "legacy-verification-token", "trigger_id": "111.222.standin",
        "container": {"type": "message", "message_ts": "1700020100.000003", "channel_id": "D0RATER",
                      "is_ephemeral": False, "thread_ts": "1700020100.000001"},
        "channel": {"id": "D0RATER", "name": "directmessage"}, "response_url": slack.response_url("agent-rated"),
        "message": {"type": "message", "ts": "1700020100.000003", "thread_ts": "1700020100.000001"},
        "actions": [{"type": "feedback_buttons", "action_id": element["action_id"], "block_id": "factbot_feedback.a.9",
                     "value": value, "text": {"type": "plain_text", "text": "👎"}, "action_ts": str(time.time())}],
    }
    assert bot.action(click)[0] == 200
    (thanks,) = slack.wait_for("response/agent-rated")
    assert thanks.params["response_type"] == "ephemeral" and thanks.params["replace_original"] is False
    result = subprocess.run(factbot_argv("report", "--json"), env=bot.env, cwd=bot.work, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    downvoted = json.loads(result.stdout)["downvoted"]
    assert [(d["query"], d["fact_ids"], d["count"]) for d in downvoted] == [
        (f"{company} revenue", json.loads(value)["f"], 1)]
