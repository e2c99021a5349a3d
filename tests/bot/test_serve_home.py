"""The App Home tab and the message shortcut, through `factbot serve` and the Slack stand-in."""
from __future__ import annotations

import json

import pytest

from tests.slack_standin import HttpBot, bot_env, copy_seeds, message_shortcut

ADMIN = "U0ADMIN"
MEMBER = "U0MEMBER"


@pytest.fixture(scope="module")
def slack(slack_api_module):
    return slack_api_module


@pytest.fixture(scope="module")
def bot(slack, tmp_path_factory):
    work = tmp_path_factory.mktemp("home")
    env = bot_env(slack, work / "factbot.db", copy_seeds(work / "seeds"), FACTBOT_ADMIN_USERS=ADMIN)
    proc = HttpBot(env, work)
    proc.env, proc.work = env, work
    yield proc
    proc.stop()


def _sections(call) -> list[str]:
    return [b["text"]["text"] for b in call.blocks if b["type"] == "section"]


def test_the_message_shortcut_answers_the_asker_privately_with_matching_facts(bot, slack):
    text = "Did <@U0SOMEONE> see that Seres raised 14 billion HKD in its Hong Kong IPO?"
    status, body = bot.action(message_shortcut("factbot_find_facts", text, slack.response_url("shortcut"),
                                               user=MEMBER, channel="C0ELSEWHERE"))
    assert status == 200 and body == ""
    (call,) = slack.wait_for("response/shortcut")
    assert call.params["response_type"] == "ephemeral"  # only the asker sees it
    sections = _sections(call)
    assert sections[0].startswith("*You asked:* Did see that Seres raised 14 billion HKD")
    assert "Seres Automotive" in sections[1] and "14 billion HKD" in sections[1]
    assert slack.calls_to("chat.postMessage", channel="C0ELSEWHERE") == []  # nothing visible in the channel


def test_the_message_shortcut_on_a_message_without_text_says_so(bot, slack):
    bot.action(message_shortcut("factbot_find_facts", "", slack.response_url("shortcut-empty"), user=MEMBER))
    (call,) = slack.wait_for("response/shortcut-empty")
    assert "no text to look up" in call.text
    assert json.dumps(call.blocks).count("You asked") == 0
