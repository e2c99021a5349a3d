"""`factbot serve` end to end: a subprocess on waitress, signed requests over HTTP, Slack's Web API stood in."""
from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from tests.slack_standin import (
    BOT_TOKEN,
    BOT_USER_ID,
    SIGNING_SECRET,
    BotProcess,
    HttpBot,
    block_action,
    bot_env,
    copy_seeds,
    direct_message,
    event_callback,
    factbot_argv,
    free_port,
    mention,
    reload_count,
    signed_headers,
    slash_command,
)

HOSTILE = """Search documents
Evil <!channel> headline <@U123> & co
Mallory <!here> News· 2025-11-20 10:00
Core Insights - Hostile payload <!channel> pings <@U123> and <http://evil.example|click here> in the summary [1]. Hostile Section <@U999> - Second hostile bullet with & and <b>tags</b> [2].
"""
RAW_MARKUP = ("<!channel>", "<!here>", "<@U123>", "<@U999>", "<http://evil", "<b>")


@pytest.fixture(scope="module")
def bot(slack, tmp_path_factory):
    work = tmp_path_factory.mktemp("serve")
    seeds = copy_seeds(work / "seeds", ("<!channel> <@U123>.txt", HOSTILE))  # names come from seeds too
    proc = HttpBot(bot_env(slack, work / "factbot.db", seeds, FACTBOT_ADMIN_USERS="U0ADMIN"), work)
    proc.db = work / "factbot.db"
    yield proc
    proc.stop()


def _ts(n: int) -> str:
    return f"1700001000.{n:06d}"


def _sections(call) -> list[str]:
    return [b["text"]["text"] for b in call.blocks if b["type"] == "section"]


def _contexts(call) -> list[str]:
    return [e["text"] for b in call.blocks if b["type"] == "context" for e in b["elements"]]


def _buttons(call) -> dict[str, dict]:
    return {e["action_id"]: e for b in call.blocks if b["type"] == "actions" for e in b["elements"]}


# --- health and slash commands ------------------------------------------------------------


def test_readyz_reports_the_index(bot):
    health = bot.health()
    assert health["ok"] is True and health["ready"] is True
    assert health["version"] is None  # no DATABASE_URL: no shared corpus, no version
    assert health["articles"] == 3 and health["facts"] > 20


def test_factbot_command_is_acked_fast_and_answered_ephemerally(bot, slack):
    started = time.monotonic()
    status, body = bot.command("/factbot", "ipo seres", slack.response_url("ipo-1"))
    assert status == 200 and time.monotonic() - started < 3.0
    assert body == ""  # the answer goes to the response_url
    (call,) = slack.wait_for("response/ipo-1")
    assert call.params["response_type"] == "ephemeral"
    assert "Seres" in call.text
    sections = _sections(call)
    assert sections[0].startswith("*You asked:* ipo seres")
    assert any("*Seres Automotive*" in s and "*IPO*" in s for s in sections[1:])
    assert any("赛力斯为何突然暴跌?" in c and "[1]" in c and "2025-11-07" in c for c in _contexts(call))
    buttons = _buttons(call)
    assert set(buttons) == {"factbot_share", "factbot_more", "factbot_vote_up", "factbot_vote_down"}
    assert json.loads(buttons["factbot_more"]["value"]) == {"q": "ipo seres", "o": 5}


def test_topic_command_asks_command_word_and_text(bot, slack):
    bot.command("/ipo", "seres", slack.response_url("ipo-2"))
    (call,) = slack.wait_for("response/ipo-2")
    assert _sections(call)[0].startswith("*You asked:* ipo seres")
    bot.command("/azure", "margins", slack.response_url("azure-1"))
    (call,) = slack.wait_for("response/azure-1")
    assert _sections(call)[0].startswith("*You asked:* azure margins")
    assert any("*margins*" in s for s in _sections(call)) and any("[4][8]" in c for c in _contexts(call))


def test_help_and_sources(bot, slack):
    bot.command("/factbot", "help", slack.response_url("help"))
    (call,) = slack.wait_for("response/help")
    text = "\n".join(_sections(call))
    assert "/factbot &lt;question&gt;" in text and "/ipo" in text and "/azure" in text
    bot.command("/factbot", "sources", slack.response_url("sources"))
    (call,) = slack.wait_for("response/sources")
    text = "\n".join(_sections(call))
    assert "3 articles" in text and "赛力斯为何突然暴跌?" in text and "16 facts" in text


def test_no_match_says_so_and_suggests_what_is_indexed(bot, slack):
    bot.command("/factbot", "zzqqxx wwvvuu", slack.response_url("nomatch"))
    (call,) = slack.wait_for("response/nomatch")
    text = "\n".join(_sections(call))
    assert "couldn't find a confident match" in text and "zzqqxx wwvvuu" in text
    assert "Try asking about" in text and "赛力斯为何突然暴跌?" in text
    assert not _buttons(call)


# --- mentions and direct messages ---------------------------------------------------------


def test_mention_top_level_is_answered_in_a_new_thread(bot, slack):
    bot.event(event_callback(mention(f"<@{BOT_USER_ID}> what about fairwater 2?", ts=_ts(1), channel="C0MENTION1")))
    (call,) = slack.wait_for("chat.postMessage", channel="C0MENTION1")
    assert call.params["thread_ts"] == _ts(1)
    assert _sections(call)[0].startswith("*You asked:* what about fairwater 2?")
    assert "<@" not in _sections(call)[0]
    assert any("[5][13]" in c for c in _contexts(call))


def test_mention_in_a_thread_is_answered_in_that_thread(bot, slack):
    parent = _ts(2)
    event = mention(f"<@{BOT_USER_ID}|factbot> azure margins", ts=_ts(3), thread_ts=parent, channel="C0MENTION2")
    bot.event(event_callback(event))
    (call,) = slack.wait_for("chat.postMessage", channel="C0MENTION2")
    assert call.params["thread_ts"] == parent
    assert _sections(call)[0].startswith("*You asked:* azure margins")


def test_direct_message_is_answered_and_noise_is_ignored(bot, slack):
    bot.event(event_callback(direct_message("ipo seres", ts=_ts(4), channel="D0DM1")))
    (call,) = slack.wait_for("chat.postMessage", channel="D0DM1")
    assert "thread_ts" not in call.params
    assert _sections(call)[0].startswith("*You asked:* ipo seres")
    noise = [
        direct_message("ipo seres", ts=_ts(5), channel="D0DM2", subtype="message_changed"),
        direct_message("ipo seres", ts=_ts(6), channel="D0DM2", bot_id="B0OTHER"),
        direct_message("ipo seres", ts=_ts(7), channel="D0DM2", user=BOT_USER_ID),
        dict(direct_message("ipo seres", ts=_ts(8), channel="D0DM2"), channel_type="channel"),
    ]
    for event in noise:
        assert bot.event(event_callback(event))[0] == 200
    # the positive signal: a real question afterwards is answered, and nothing came before it
    bot.event(event_callback(direct_message("fairwater 2", ts=_ts(20), channel="D0DM2")))
    slack.wait_for("chat.postMessage", channel="D0DM2")
    (marker,) = slack.calls_to("chat.postMessage", channel="D0DM2")
    assert _sections(marker)[0].startswith("*You asked:* fairwater 2")


def test_a_retried_event_is_answered_once(bot, slack):
    payload = event_callback(mention(f"<@{BOT_USER_ID}> fairwater 2", ts=_ts(9), channel="C0RETRY"), event_id="Ev0RETRY1")
    assert bot.event(payload)[0] == 200
    slack.wait_for("chat.postMessage", channel="C0RETRY")
    assert bot.event(payload, retry_num=1)[0] == 200
    assert bot.event(payload, retry_num=2)[0] == 200
    # a new event afterwards is answered; the retries before it were not
    bot.event(event_callback(mention(f"<@{BOT_USER_ID}> azure margins", ts=_ts(21), channel="C0RETRY")))
    slack.wait_for("chat.postMessage", count=2, channel="C0RETRY")
    answers = slack.calls_to("chat.postMessage", channel="C0RETRY")
    assert [_sections(c)[0].split("\n")[0] for c in answers] == ["*You asked:* fairwater 2", "*You asked:* azure margins"]


# --- buttons ------------------------------------------------------------------------------


def test_more_results_replaces_the_ephemeral_answer_with_the_next_page(bot, slack):
    value = json.dumps({"q": "ipo seres", "o": 5})
    status, _ = bot.action(block_action("factbot_more", value, slack.response_url("more-1")))
    assert status == 200
    (call,) = slack.wait_for("response/more-1")
    assert call.params.get("replace_original") is True
    assert "Facts 6–" in _sections(call)[0] or "Fact 6" in _sections(call)[0]


def test_more_results_on_a_visible_answer_follows_it_in_the_thread(bot, slack):
    value = json.dumps({"q": "ipo seres", "o": 5})
    message = {"type": "message", "ts": _ts(10), "thread_ts": _ts(11), "bot_id": "BBOT0001"}
    bot.action(block_action("factbot_more", value, slack.response_url("more-2"), channel="C0MORE",
                            ephemeral=False, message=message))
    (call,) = slack.wait_for("chat.postMessage", channel="C0MORE")
    assert call.params["thread_ts"] == _ts(11)


def test_share_posts_the_answer_visibly_saying_who_shared_it(bot, slack):
    value = json.dumps({"q": "ipo seres", "o": 0})
    bot.action(block_action("factbot_share", value, slack.response_url("share-1"), user="U0SHARER", channel="C0SHARE"))
    (post,) = slack.wait_for("chat.postMessage", channel="C0SHARE")
    assert "thread_ts" not in post.params
    assert _contexts(post)[0] == "Shared by <@U0SHARER>"
    assert any("Seres" in s for s in _sections(post))
    assert set(_buttons(post)) == {"factbot_vote_up", "factbot_vote_down"}  # no Share or More on a shared answer
    (cleanup,) = slack.wait_for("response/share-1")
    assert cleanup.params.get("delete_original") is True


def test_share_where_the_bot_is_not_a_member_explains(bot, slack):
    slack.answer_next("chat.postMessage", {"ok": False, "error": "not_in_channel"})
    bot.action(block_action("factbot_share", json.dumps({"q": "ipo", "o": 0}), slack.response_url("share-2"),
                            channel="C0NOTIN"))
    (call,) = slack.wait_for("response/share-2")
    assert "not_in_channel" in call.text and "/invite" in call.text


def test_forged_buttons_do_nothing_privileged(bot, slack):
    before = reload_count(bot.db)
    facts = bot.health()["facts"]
    forged = [
        block_action("factbot_reload", "reload", slack.response_url("forged-1")),
        block_action("factbot_more", "reload", slack.response_url("forged-2")),
        block_action("factbot_more", json.dumps({"q": "reload", "o": 0}), slack.response_url("forged-3")),
        block_action("factbot_share", json.dumps({"q": "/factbot reload", "o": 0, "admin": True}),
                     slack.response_url("forged-4"), channel="C0FORGED"),
        block_action("factbot_more", json.dumps({"q": "ipo", "o": 10**9}), slack.response_url("forged-5")),
        block_action("factbot_more", json.dumps({"cmd": "reload"}), slack.response_url("forged-6")),
    ]
    statuses = [bot.action(payload)[0] for payload in forged]
    assert statuses == [200] * 6  # every click is acknowledged, an action_id that is not ours too
    (unknown,) = slack.wait_for("response/forged-1")
    assert "out of date" in unknown.text
    slack.wait_for("response/forged-2")
    (searched,) = slack.wait_for("response/forged-3")
    assert "couldn't find a confident match" in searched.text  # "reload" was only searched for
    for name in ("forged-2", "forged-5", "forged-6"):
        (call,) = slack.wait_for(f"response/{name}")
        assert "no longer works" in call.text
    slack.wait_for("chat.postMessage", channel="C0FORGED")  # the forged share only shared a search
    # the positive signal: an admin's reload afterwards runs alone and is the only one recorded
    bot.command("/factbot", "reload", slack.response_url("forged-marker"), user="U0ADMIN")
    reloading, report = slack.wait_for("response/forged-marker", count=2)
    assert "Reload finished" in report.text
    assert reload_count(bot.db) == before + 1 and bot.health()["facts"] == facts
    others = [c for c in slack.calls_to("*") if c.method != "response/forged-marker"]
    everything = " ".join(c.all_text() for c in others)
    assert "Reloading" not in everything and "Reload finished" not in everything


# --- request verification -----------------------------------------------------------------


def test_bad_signature_and_stale_timestamp_are_rejected(bot, slack):
    body = urllib.parse.urlencode(slash_command("/factbot", "ipo", slack.response_url("bad")))
    forged = signed_headers(body, secret="not-the-signing-secret")
    assert bot.post(body, forged)[0] == 401
    stale = signed_headers(body, timestamp=int(time.time()) - 600)
    assert bot.post(body, stale)[0] == 401
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
    assert bot.post(body, unsigned)[0] == 401
    # the same command, signed, afterwards: answered, and nothing was answered before it
    assert bot.post(body, signed_headers(body))[0] == 200
    slack.wait_for("response/bad")
    assert len(slack.calls_to("response/bad")) == 1


# --- escaping -----------------------------------------------------------------------------


def test_hostile_seed_text_arrives_escaped_everywhere(bot, slack):
    bot.command("/factbot", "hostile payload", slack.response_url("hostile-1"))
    bot.command("/factbot", "sources", slack.response_url("hostile-2"))
    bot.event(event_callback(mention(f"<@{BOT_USER_ID}> hostile bullet", ts=_ts(12), channel="C0HOSTILE")))
    calls = [slack.wait_for("response/hostile-1")[0], slack.wait_for("response/hostile-2")[0],
             slack.wait_for("chat.postMessage", channel="C0HOSTILE")[0]]
    for call in calls:
        everything = call.all_text()
        for raw in RAW_MARKUP:
            assert raw not in everything, (raw, everything)
    assert "&lt;!channel&gt;" in calls[0].all_text() and "&lt;http://evil.example|click here&gt;" in calls[0].all_text()
    assert "Evil &lt;!channel&gt; headline &lt;@U123&gt; &amp; co" in calls[1].all_text()
    assert "&lt;!channel&gt; &lt;@U123&gt;.txt" in calls[1].all_text()  # the file name, escaped
    assert "&lt;b&gt;tags&lt;/b&gt;" in calls[2].all_text() and "Hostile Section &lt;@U999&gt;" in calls[2].all_text()


# --- Web API failures ---------------------------------------------------------------------


def test_rate_limited_post_is_retried_after_retry_after(bot, slack):
    slack.fail("chat.postMessage", times=1, status=429, retry_after=1)
    bot.event(event_callback(mention(f"<@{BOT_USER_ID}> ipo seres", ts=_ts(13), channel="C0RATE")))
    (ok,) = slack.wait_for("chat.postMessage", channel="C0RATE")
    attempts = slack.calls_to("chat.postMessage", channel="C0RATE")
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0


@pytest.mark.parametrize("status", [502, 504, 0])
def test_a_post_slack_may_have_acted_on_is_never_sent_twice(bot, slack, status):
    # 502/504 from a proxy, or the connection lost after the request went out (status 0): Slack may
    # already have posted the message, so chat.postMessage is not retried; the failure is logged
    channel = f"C0POST{status}"
    slack.fail("chat.postMessage", times=1, status=status)
    bot.event(event_callback(mention(f"<@{BOT_USER_ID}> ipo seres", ts=_ts(14), channel=channel)))
    attempts = lambda: slack.calls_to("chat.postMessage", channel=channel)  # noqa: E731
    # the positive signal: the bot logs the failure once it has given up (or a second attempt arrives)
    bot.wait_until(lambda: f"chat.postMessage to {channel} failed" in bot.output() or len(attempts()) > 1)
    assert [c.status for c in attempts()] == [status]


@pytest.mark.parametrize("status", [502, 0])
def test_a_response_url_post_slack_may_have_acted_on_is_never_sent_twice(bot, slack, status):
    name = f"once-{status}"
    slack.fail(f"response/{name}", times=1, status=status)
    assert bot.command("/factbot", "ipo seres", slack.response_url(name))[0] == 200
    logged = "the response_url answered 502" if status else "posting to the response_url failed"
    attempts = lambda: slack.calls_to(f"response/{name}")  # noqa: E731
    bot.wait_until(lambda: logged in bot.output() or len(attempts()) > 1)
    assert [c.status for c in attempts()] == [status]


def test_when_retries_run_out_the_failure_is_logged_and_the_bot_keeps_going(bot, slack):
    slack.fail("chat.postMessage", times=3, status=429, retry_after=0)
    bot.event(event_callback(mention(f"<@{BOT_USER_ID}> ipo seres", ts=_ts(15), channel="C0GIVEUP")))
    deadline = time.monotonic() + 10
    while len(slack.calls_to("chat.postMessage", channel="C0GIVEUP")) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [c.status for c in slack.calls_to("chat.postMessage", channel="C0GIVEUP")] == [429, 429, 429]
    bot.event(event_callback(mention(f"<@{BOT_USER_ID}> fairwater 2", ts=_ts(16), channel="C0AFTER")))
    slack.wait_for("chat.postMessage", channel="C0AFTER")
    assert "chat.postMessage to C0GIVEUP failed: SlackApiError: ratelimited" in bot.output()


def test_run_without_an_app_token_serves_http(slack, tmp_path):
    env = bot_env(slack, tmp_path / "run.db", copy_seeds(tmp_path / "seeds"))
    port = free_port()
    proc = BotProcess(["run", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path)
    try:
        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
                    return json.loads(resp.read())["facts"] > 0
            except OSError:
                return False

        proc.wait_until(healthy)
        assert (tmp_path / "run.db").exists()  # built from the seeds at startup
    finally:
        proc.stop()


# --- secrets (keep this last: it reads everything the process logged) -------------------


def test_zz_tokens_and_signing_secret_never_appear_in_the_output(bot, slack):
    # a user pastes the secrets, and another token, into a question: the debug log shows the answer
    # being sent (it echoes the question), so only redaction keeps them out of the output
    other = "xoxp-4444-5555-SOMEONEELSE"
    bot.command("/factbot", f"leakcheck {BOT_TOKEN} {SIGNING_SECRET} {other}", slack.response_url("leak"))
    (answer,) = slack.wait_for("response/leak")
    assert BOT_TOKEN in answer.text  # Slack got the question back as it was asked
    bot.wait_until(lambda: "leakcheck [redacted] [redacted] xoxp-[redacted]" in bot.output())
    output = bot.output()
    assert "DEBUG" in output and "/slack/events" in output  # the log is verbose, and still clean
    assert BOT_TOKEN not in output and SIGNING_SECRET not in output and other not in output
    assert BOT_TOKEN.split("-", 1)[1] not in output and "SOMEONEELSE" not in output


# --- startup errors -----------------------------------------------------------------------


def _run_cli(args, env, cwd, timeout=30):
    return subprocess.run(factbot_argv(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_a_missing_setting_is_a_one_line_error(slack_api, tmp_path):
    env = bot_env(slack_api, tmp_path / "f.db", copy_seeds(tmp_path / "seeds"), SLACK_SIGNING_SECRET="")
    result = _run_cli(["serve", "--host", "127.0.0.1", "--port", "9"], env, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: SLACK_SIGNING_SECRET is not set (put it in the environment or in .env; see .env.example)")
    assert "Traceback" not in result.stderr + result.stdout
    env = bot_env(slack_api, tmp_path / "f.db", tmp_path / "seeds")
    result = _run_cli(["socket"], env, tmp_path)
    assert result.returncode == 1 and "SLACK_APP_TOKEN is not set" in result.stderr


def test_a_rejected_token_is_a_one_line_error_without_the_token(slack_api, tmp_path):
    bad = "xoxp-9999-NOTABOTTOKEN"
    env = bot_env(slack_api, tmp_path / "f.db", copy_seeds(tmp_path / "seeds"), SLACK_BOT_TOKEN=bad,
                  FACTBOT_LOG_LEVEL="DEBUG")
    result = _run_cli(["serve", "--host", "127.0.0.1", "--port", "9"], env, tmp_path)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: Slack did not accept SLACK_BOT_TOKEN") and "not_authed" in last
    assert bad not in result.stderr + result.stdout and "NOTABOTTOKEN" not in result.stderr + result.stdout
    assert slack_api.calls_to("auth.test")
