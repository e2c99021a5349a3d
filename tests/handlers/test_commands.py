"""handlers/commands.py in-process: /factbot and topic commands, help on empty text, reload rights."""
from __future__ import annotations

import json

from tests.handlers.conftest import make_bot
from tests.slack_standin import slash_command


def test_empty_factbot_command_shows_help(inprocess):
    resp = inprocess.command(slash_command("/factbot", "  ", inprocess.slack.response_url("empty")))
    assert resp.status == 200 and resp.body == ""
    (call,) = inprocess.slack.wait_for("response/empty")
    assert "answers questions from the team's article digests" in call.text


def test_topic_command_with_no_text_asks_the_topic(inprocess):
    inprocess.command(slash_command("/ipo", "", inprocess.slack.response_url("ipo")))
    (call,) = inprocess.slack.wait_for("response/ipo")
    assert call.blocks[0]["text"]["text"].startswith("*You asked:* ipo\n")


def test_command_text_is_unescaped_before_searching_and_escaped_in_the_answer(inprocess):
    # Slack escapes &, < and > in command text; the query is the user's text, shown escaped once
    inprocess.command(slash_command("/factbot", "azure &amp; margins &lt;2&gt;", inprocess.slack.response_url("esc")))
    (call,) = inprocess.slack.wait_for("response/esc")
    assert call.blocks[0]["text"]["text"].startswith("*You asked:* azure &amp; margins &lt;2&gt;\n")
    more = [e for b in call.blocks if b["type"] == "actions" for e in b["elements"]]
    assert json.loads(more[0]["value"])["q"] == "azure & margins <2>"


def test_reload_by_a_stranger_is_refused_in_the_ack(inprocess):
    resp = inprocess.command(slash_command("/factbot", "reload", inprocess.slack.response_url("r"), user="U0NOBODY"))
    assert json.loads(resp.body)["text"].startswith("Sorry, only factbot's admins")
    # the stranger's next command, on the same response_url, is answered, and nothing came before it
    inprocess.command(slash_command("/factbot", "help", inprocess.slack.response_url("r"), user="U0NOBODY"))
    (answer,) = inprocess.slack.wait_for("response/r")
    assert "answers questions from" in answer.text and len(inprocess.slack.calls_to("response/r")) == 1
    assert inprocess.slack.calls_to("users.info") == []  # workspace admins not opted in: never asked


def test_workspace_admin_check_failing_means_no(slack_api, tmp_path):
    bot = make_bot(slack_api, tmp_path, admins_from_workspace=True)
    slack_api.answer_next("users.info", {"ok": False, "error": "internal_error"})
    bot.command(slash_command("/factbot", "reload", slack_api.response_url("r"), user="U0MAYBE"))
    (call,) = slack_api.wait_for("response/r")
    assert "only factbot's admins" in call.text
    assert len(slack_api.calls_to("users.info")) == 1


def test_reload_while_another_runs_says_busy(inprocess):
    from store.index import _ReloadLock

    with _ReloadLock(inprocess.index.db_path, wait=True):
        resp = inprocess.command(slash_command("/factbot", "reload", inprocess.slack.response_url("busy"), user="U0ADMIN"))
        assert resp.status == 200 and resp.body == ""
        reloading, call = inprocess.slack.wait_for("response/busy", count=2)
    assert reloading.text == "Reloading…" and "already running" in call.text


def test_bidirectional_controls_never_reach_slack_in_the_echoed_query(inprocess):
    inprocess.command(slash_command("/factbot", "ipo \u202eseres\u202c \u2067x\u2069", inprocess.slack.response_url("bidi")))
    (call,) = inprocess.slack.wait_for("response/bidi")
    assert call.blocks[0]["text"]["text"].startswith("*You asked:* ipo seres x\n")
    assert call.text.startswith("You asked: ipo seres x\n")
    shown = call.text + "".join(b["text"]["text"] for b in call.blocks if b["type"] == "section")
    assert not set(shown) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def test_guests_deleted_users_and_bots_are_never_workspace_admins(slack_api, tmp_path):
    bot = make_bot(slack_api, tmp_path, admins_from_workspace=True)
    slack_api.users.update({
        "U0REAL": {"id": "U0REAL", "is_admin": True},
        "U0GUEST": {"id": "U0GUEST", "is_admin": True, "is_restricted": True},  # multi-channel guest
        "U0SCGUEST": {"id": "U0SCGUEST", "is_admin": True, "is_ultra_restricted": True},  # single-channel guest
        "U0GONE": {"id": "U0GONE", "is_owner": True, "deleted": True},
        "U0ROBOT": {"id": "U0ROBOT", "is_primary_owner": True, "is_bot": True},
    })
    for user in ("U0GUEST", "U0SCGUEST", "U0GONE", "U0ROBOT", "U0REAL"):
        bot.command(slash_command("/factbot", "reload", slack_api.response_url(user), user=user))
        first = slack_api.wait_for(f"response/{user}")[0]
        if user == "U0REAL":
            assert first.text == "Reloading…"
        else:
            assert "only factbot's admins" in first.text, user
    assert {c.params["user"] for c in slack_api.calls_to("users.info")} == {
        "U0GUEST", "U0SCGUEST", "U0GONE", "U0ROBOT", "U0REAL"}


def test_a_question_longer_than_what_is_read_says_it_was_cut(inprocess):
    long = "seres ipo " + "and what else happened that quarter " * 60  # about 2,170 characters
    inprocess.command(slash_command("/factbot", long, inprocess.slack.response_url("long")))
    (call,) = inprocess.slack.wait_for("response/long")
    head = call.blocks[0]["text"]["text"]
    assert "first 500 characters" in head and f"{len(long.strip()):,}" in head
    assert "first 500 characters" in call.text  # the notification's fallback says it too
    inprocess.command(slash_command("/factbot", "seres ipo", inprocess.slack.response_url("short")))
    (short,) = inprocess.slack.wait_for("response/short")
    assert "characters" not in short.blocks[0]["text"]["text"]
