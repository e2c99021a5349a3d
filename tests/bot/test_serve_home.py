"""The App Home tab and the message shortcut, through `factbot serve` and the Slack stand-in."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.generated import corpus
from tests.slack_standin import (
    HttpBot, block_action, bot_env, copy_seeds, event_callback, home_action, home_opened, message_shortcut, reload_count,
)

ADMIN = "U0ADMIN"
MEMBER = "U0MEMBER"
HOME_RELOAD = "factbot_home_reload"


@pytest.fixture(scope="module")
def bot(slack, tmp_path_factory):
    """A bot over a generated corpus (seed 1) plus the real seed; seed 2's corpus waits beside it."""
    work = tmp_path_factory.mktemp("home")
    companies = corpus(work / "generated-1", 1200, seed=1)
    later = corpus(work / "generated-2", 1200, seed=2)
    seeds = copy_seeds(work / "seeds")
    for path in (work / "generated-1").iterdir():
        shutil.copy(path, seeds / path.name)
    env = bot_env(slack, work / "factbot.db", seeds, FACTBOT_ADMIN_USERS=ADMIN)
    proc = HttpBot(env, work)
    proc.db, proc.seeds, proc.work, proc.companies, proc.later = work / "factbot.db", seeds, work, companies, later
    yield proc
    proc.stop()


def open_home(bot, slack, user: str) -> dict:
    before = len(slack.calls_to("views.publish", user_id=user))
    assert bot.event(event_callback(home_opened(user)))[0] == 200
    slack.wait_for("views.publish", count=before + 1, user_id=user)
    return slack.views[user]


def _texts(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def _actions(view: dict) -> set[str]:
    return {e.get("action_id") for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]}


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


def test_home_for_everyone_and_more_for_admins(bot, slack):
    bot.command("/factbot", "zzqqxx wwvvuu", slack.response_url("home-nomatch"), user=MEMBER)
    slack.wait_for("response/home-nomatch")
    bot.command("/factbot", "fairwater 2", slack.response_url("home-answer"), user=MEMBER)
    (answer,) = slack.wait_for("response/home-answer")
    vote = next(e for b in answer.blocks if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == "factbot_vote_down")
    bot.action(block_action("factbot_vote_down", vote["value"], slack.response_url("home-vote"), user=MEMBER))
    slack.wait_for("response/home-vote")
    member, admin = open_home(bot, slack, MEMBER), open_home(bot, slack, ADMIN)
    assert member["type"] == admin["type"] == "home"
    health = bot.health()
    top = bot.companies[0]["en"]
    for view in (member, admin):
        text = _texts(view)
        assert "/factbot &lt;question&gt;" in text and "/ipo &lt;text&gt;" in text and "@factbot" in text
        assert "direct message" in text and "Find facts about this message" in text
        assert f"*What is indexed:* {health['articles']:,} articles, {health['facts']:,} facts" in text
        assert f"Most covered: {top} (" in text  # the company the corpus holds most
        assert f"`/factbot {top.split()[0]} " in text  # an example built from it
        assert "Newest articles" in text and " · 20" in text  # source · date
    member_text, admin_text = _texts(member), _texts(admin)
    assert "For admins" not in member_text and "Unanswered" not in member_text and "Last reloads" not in member_text
    assert HOME_RELOAD not in _actions(member)
    assert "For admins" in admin_text and HOME_RELOAD in _actions(admin)
    assert "Last reloads" in admin_text and "startup" in admin_text
    assert "“zzqqxx wwvvuu” · asked 1× by 1" in admin_text
    assert "Down-voted answers, last 7 days" in admin_text and "“fairwater 2” · 👎 1, 👍 0" in admin_text
    assert "first fact: _The new Fairwater 2 data center" in admin_text


def test_a_forged_reload_click_from_a_member_is_refused(bot, slack):
    before, facts = reload_count(bot.db), bot.health()["facts"]
    published = len(slack.calls_to("views.publish", user_id=MEMBER))
    assert bot.action(home_action(HOME_RELOAD, "reload", user=MEMBER))[0] == 200
    slack.wait_for("views.publish", count=published + 1, user_id=MEMBER)
    assert "only factbot's admins" in _texts(slack.views[MEMBER])
    assert HOME_RELOAD not in _actions(slack.views[MEMBER])
    # the refusal is the last thing the click does: no reload ran before or since
    assert reload_count(bot.db) == before and bot.health()["facts"] == facts


def test_the_reload_button_reloads_and_the_examples_follow_the_corpus(bot, slack):
    old_top, new_top = bot.companies[0]["en"], bot.later[0]["en"]
    assert old_top != new_top
    for path in (bot.work / "generated-1").iterdir():
        (bot.seeds / path.name).unlink()
    for path in (bot.work / "generated-2").iterdir():
        shutil.copy(path, bot.seeds / path.name)
    before = reload_count(bot.db)
    published = len(slack.calls_to("views.publish", user_id=ADMIN))
    bot.action(home_action(HOME_RELOAD, "reload", user=ADMIN))
    calls = slack.wait_for("views.publish", count=published + 2, user_id=ADMIN)
    assert "Reloading…" in json.dumps(calls[-2].params["view"], ensure_ascii=False)
    report = _texts(slack.views[ADMIN])
    assert "Reload finished" in report and reload_count(bot.db) == before + 1
    assert f"Most covered: {new_top} (" in report and old_top not in report
    assert f"`/factbot {new_top.split()[0]} " in report
    assert f"slack:{ADMIN}" in report  # the reload is the newest in the list
