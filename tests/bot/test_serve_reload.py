"""`/factbot reload`, `@factbot reload` and a DM "reload" against `factbot serve`: admins only, acked first."""
from __future__ import annotations

import json
import time

import pytest

from tests.slack_standin import (
    BOT_USER_ID, HttpBot, bot_env, copy_seeds, direct_message, event_callback, mention, reload_count,
)

ADMIN = "U0ADMIN"
WORKSPACE_ADMIN = "U0WSADMIN"
WORKSPACE_OWNER = "U0WSOWNER"
MEMBER = "U0MEMBER"

NEW_SEED = """Search documents
宁德时代海外扩张
Cai Lian She· 2025-11-21 09:30
Core Insights - Contemporary Amperex expands its Hungarian battery plant to serve European carmakers [1][2]. - The Debrecen factory starts production next year [3].
"""
BROKEN_SEED = "just some notes\nnot an export at all\n"


@pytest.fixture(scope="module")
def slack(slack_api_module):
    slack_api_module.users.update({
        WORKSPACE_ADMIN: {"id": WORKSPACE_ADMIN, "is_admin": True, "is_owner": False},
        WORKSPACE_OWNER: {"id": WORKSPACE_OWNER, "is_admin": False, "is_owner": True},
        MEMBER: {"id": MEMBER, "is_admin": False, "is_owner": False},
    })
    return slack_api_module


@pytest.fixture(scope="module")
def bot(slack, tmp_path_factory):
    work = tmp_path_factory.mktemp("reload")
    seeds = copy_seeds(work / "seeds")
    env = bot_env(slack, work / "factbot.db", seeds, FACTBOT_ADMIN_USERS=f"U0OTHER, {ADMIN}",
                  FACTBOT_WORKSPACE_ADMINS="true")
    proc = HttpBot(env, work)
    proc.db, proc.seeds = work / "factbot.db", seeds
    # the seeds change after startup: only a reload picks that up
    (seeds / "030_catl.txt").write_text(NEW_SEED, "utf-8")
    (seeds / "040_broken.txt").write_text(BROKEN_SEED, "utf-8")
    yield proc
    proc.stop()


def _ts(n: int) -> str:
    return f"1700002000.{n:06d}"


def test_non_admins_are_refused_and_nothing_is_reloaded(bot, slack):
    before, facts = reload_count(bot.db), bot.health()["facts"]
    status, body = bot.command("/factbot", "reload", slack.response_url("member-cmd"), user=MEMBER)
    assert status == 200
    (refusal,) = slack.wait_for("response/member-cmd")
    assert "only factbot's admins" in refusal.text
    bot.event(event_callback(mention(f"<@{BOT_USER_ID}> reload", ts=_ts(1), user=MEMBER, channel="C0REFUSE")))
    (in_thread,) = slack.wait_for("chat.postMessage", channel="C0REFUSE")
    assert in_thread.params["thread_ts"] == _ts(1) and "only factbot's admins" in in_thread.text
    bot.event(event_callback(direct_message("reload", ts=_ts(2), user=MEMBER, channel="D0MEMBER")))
    (dm,) = slack.wait_for("chat.postMessage", channel="D0MEMBER")
    assert "only factbot's admins" in dm.text
    # users.info was asked (workspace admins are opted in) and said "member"
    assert {c.params["user"] for c in slack.calls_to("users.info")} == {MEMBER}
    # the positive signal: the member's next question, on each of the three ways, is answered, and
    # before it came only the refusal (no "Reloading…", no report)
    bot.command("/factbot", "help", slack.response_url("member-cmd"), user=MEMBER)
    bot.event(event_callback(mention(f"<@{BOT_USER_ID}> help", ts=_ts(5), thread_ts=_ts(1), user=MEMBER,
                                     channel="C0REFUSE")))
    bot.event(event_callback(direct_message("help", ts=_ts(6), user=MEMBER, channel="D0MEMBER")))
    for method, where in (("response/member-cmd", {}), ("chat.postMessage", {"channel": "C0REFUSE"}),
                          ("chat.postMessage", {"channel": "D0MEMBER"})):
        refusal, answer = slack.wait_for(method, count=2, **where)
        assert "only factbot's admins" in refusal.text and "answers questions from" in answer.text
        assert len(slack.calls_to(method, **where)) == 2
    assert reload_count(bot.db) == before and bot.health()["facts"] == facts


def test_an_admin_reload_is_acked_at_once_and_reports_counts_and_failures(bot, slack):
    before = bot.health()
    started = time.monotonic()
    # Slack is slow to take "Reloading…": the report must still reach it second, sent only after
    slack.slow("response/admin-cmd", 0.5)
    status, body = bot.command("/factbot", "reload", slack.response_url("admin-cmd"), user=ADMIN)
    assert status == 200 and time.monotonic() - started < 3.0
    assert body == ""  # acknowledged; "Reloading…" and the report follow on the response_url, in order
    reloading, report = slack.wait_for("response/admin-cmd", count=2)
    assert reloading.text == "Reloading…" and reloading.params["response_type"] == "ephemeral"
    assert report.at >= reloading.answered_at
    text = report.all_text()
    assert report.params["response_type"] == "ephemeral"
    after = bot.health()
    assert after["articles"] == before["articles"] + 1 and after["facts"] > before["facts"]
    assert f"{after['articles']} articles and {after['facts']} facts" in text
    assert "1 loaded, 1 unchanged, 1 failed" in text
    assert "040_broken.txt" in text and "no article found" in text


def test_workspace_admins_and_owners_may_reload_from_a_mention_or_a_dm(bot, slack):
    slack.slow("chat.postMessage", 0.5)  # the report is posted only once Slack took "Reloading…"
    bot.event(event_callback(mention(f"<@{BOT_USER_ID}> reload", ts=_ts(3), thread_ts=_ts(2), user=WORKSPACE_ADMIN,
                                     channel="C0WSADMIN")))
    ack, report = slack.wait_for("chat.postMessage", count=2, channel="C0WSADMIN")
    assert ack.text == "Reloading…" and ack.params["thread_ts"] == _ts(2)
    assert report.at >= ack.answered_at
    assert report.params["thread_ts"] == _ts(2) and "Reload finished" in report.text
    assert "040_broken.txt" in report.text  # still broken: reported again
    bot.event(event_callback(direct_message("reload", ts=_ts(4), user=WORKSPACE_OWNER, channel="D0OWNER")))
    ack, report = slack.wait_for("chat.postMessage", count=2, channel="D0OWNER")
    assert ack.text == "Reloading…" and "Reload finished" in report.text
    assert {WORKSPACE_ADMIN, WORKSPACE_OWNER} <= {c.params["user"] for c in slack.calls_to("users.info")}


def test_a_workspace_admin_slash_reload_answers_on_the_response_url(bot, slack):
    status, body = bot.command("/factbot", "reload", slack.response_url("ws-cmd"), user=WORKSPACE_ADMIN)
    assert status == 200 and body == ""  # users.info is asked after the ack
    first, second = slack.wait_for("response/ws-cmd", count=2)
    assert first.text == "Reloading…" and "Reload finished" in second.text


def test_reload_is_not_a_topic_command_subcommand(bot, slack):
    before = reload_count(bot.db)
    bot.command("/ipo", "reload", slack.response_url("ipo-reload"), user=ADMIN)
    (call,) = slack.wait_for("response/ipo-reload")
    assert "You asked:* ipo reload" in call.all_text() or "ipo reload" in call.text
    bot.command("/factbot", "sources", slack.response_url("ipo-reload"), user=ADMIN)  # the marker
    searched, sources = slack.wait_for("response/ipo-reload", count=2)
    assert "Indexed:" in sources.text and len(slack.calls_to("response/ipo-reload")) == 2
    assert reload_count(bot.db) == before
