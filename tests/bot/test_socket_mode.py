"""`factbot socket` (and `factbot run` with SLACK_APP_TOKEN) end to end against a local Socket Mode server."""
from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.slack_standin import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER_ID,
    BotProcess,
    block_action,
    bot_env,
    copy_seeds,
    event_callback,
    mention,
    slash_command,
)


def _envelope(kind: str, payload: dict, retry_attempt: int = 0) -> dict:
    envelope = {"envelope_id": str(uuid.uuid4()), "type": kind, "payload": payload,
                "accepts_response_payload": kind != "events_api"}
    if kind == "events_api":
        envelope.update({"retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else ""})
    return envelope


def _sections(call) -> list[str]:
    return [b["text"]["text"] for b in call.blocks if b["type"] == "section"]


@pytest.fixture
def socket_bot(slack_api, socket_mode_server, tmp_path):
    slack_api.ws_url = socket_mode_server.url
    # one connection, so that its apps.connections.open call can be counted (several: the tests further down)
    env = bot_env(slack_api, tmp_path / "factbot.db", copy_seeds(tmp_path / "seeds"), SLACK_APP_TOKEN=APP_TOKEN,
                  SLACK_SIGNING_SECRET="", FACTBOT_ADMIN_USERS="U0ADMIN", FACTBOT_SOCKET_CONNECTIONS="1")
    proc = BotProcess(["socket"], env, tmp_path)
    proc.wait_until(socket_mode_server.connected.is_set)
    yield proc
    proc.stop()


def test_socket_mode_answers_mentions_commands_and_buttons_once(socket_bot, slack_api, socket_mode_server):
    server, slack = socket_mode_server, slack_api
    (opened,) = slack.calls_to("apps.connections.open")
    assert opened.headers["authorization"] == f"Bearer {APP_TOKEN}"

    # a mention in a thread: acked by envelope_id, answered in the thread
    event = mention(f"<@{BOT_USER_ID}> fairwater 2", ts="1700003000.000002", thread_ts="1700003000.000001",
                    channel="C0SOCKET")
    payload = event_callback(event, event_id="Ev0SOCKET1")
    first = server.send(_envelope("events_api", payload))
    server.wait_ack(first)
    (answer,) = slack.wait_for("chat.postMessage", channel="C0SOCKET")
    assert answer.params["thread_ts"] == "1700003000.000001"
    assert _sections(answer)[0].startswith("*You asked:* fairwater 2")

    # Slack delivers the same event again (retry_attempt 1, same event_id): acked, not answered again
    again = server.send(_envelope("events_api", payload, retry_attempt=1))
    assert server.wait_ack(again).get("payload") in (None, {})

    # a slash command: acked, answered on the response_url
    command = server.send(_envelope("slash_commands", slash_command("/ipo", "seres", slack.response_url("sm-ipo"))))
    server.wait_ack(command)
    (reply,) = slack.wait_for("response/sm-ipo")
    assert reply.params["response_type"] == "ephemeral"
    assert _sections(reply)[0].startswith("*You asked:* ipo seres")

    # a button: More results
    more = block_action("factbot_more", json.dumps({"q": "ipo seres", "o": 5}), slack.response_url("sm-more"))
    server.wait_ack(server.send(_envelope("interactive", more)))
    (page,) = slack.wait_for("response/sm-more")
    assert page.params["replace_original"] is True

    # an admin's reload: acked, then "Reloading…" and the report on the response_url, in that order
    reload_cmd = slash_command("/factbot", "reload", slack.response_url("sm-reload"), user="U0ADMIN")
    server.wait_ack(server.send(_envelope("slash_commands", reload_cmd)))
    reloading, report = slack.wait_for("response/sm-reload", count=2)
    assert reloading.text == "Reloading…" and "Reload finished" in report.text

    # the marker: a new mention in the same channel is answered; the re-delivered event never was
    marker = event_callback(mention(f"<@{BOT_USER_ID}> sources", ts="1700003000.000003", channel="C0SOCKET"))
    server.wait_ack(server.send(_envelope("events_api", marker)))
    first, last = slack.wait_for("chat.postMessage", count=2, channel="C0SOCKET")
    assert "2 articles" in last.text and len(slack.calls_to("chat.postMessage", channel="C0SOCKET")) == 2
    output = socket_bot.output()
    assert APP_TOKEN not in output and BOT_TOKEN not in output


def test_run_uses_socket_mode_when_the_app_token_is_set(slack_api, socket_mode_server, tmp_path):
    slack_api.ws_url = socket_mode_server.url
    env = bot_env(slack_api, tmp_path / "factbot.db", copy_seeds(tmp_path / "seeds"), SLACK_APP_TOKEN=APP_TOKEN)
    proc = BotProcess(["run"], env, tmp_path)
    try:
        proc.wait_until(socket_mode_server.connected.is_set)
        assert slack_api.calls_to("apps.connections.open")
    finally:
        proc.stop()


def test_socket_mode_adds_an_admins_export_shared_by_dm(socket_bot, slack_api, socket_mode_server):
    from tests.slack_standin import direct_message

    server, slack = socket_mode_server, slack_api
    export = ("Search documents\n宁德时代匈牙利工厂\nCai Lian She· 2025-11-21 09:30\n"
              "Core Insights - Contemporary Amperex expands its plant in Debrecen [1]. - Output starts next year [2].\n")
    info = slack.add_file("F0SOCKET1", "050_socket.txt", export.encode(), user="U0ADMIN")
    event = direct_message("", ts="1700003100.000001", user="U0ADMIN", channel="D0SOCKETUP", subtype="file_share",
                           files=[{"id": info["id"], "name": info["name"]}])
    server.wait_ack(server.send(_envelope("events_api", event_callback(event, event_id="Ev0SOCKETUP"))))
    (reply,) = slack.wait_for("chat.postMessage", channel="D0SOCKETUP")
    assert "Added `050_socket.txt`:* 1 article, 2 facts." in reply.all_text()
    assert slack.calls_to("download/F0SOCKET1")
    command = slash_command("/factbot", "debrecen plant", slack.response_url("sm-added"))
    server.wait_ack(server.send(_envelope("slash_commands", command)))
    (answer,) = slack.wait_for("response/sm-added")
    assert "Contemporary Amperex expands its plant in" in answer.all_text()


# --- network faults: a connection closed without a disconnect message ---------------------


def _drop_bot(slack_api, socket_mode_server, tmp_path, connections: int, url: str | None = None) -> BotProcess:
    slack_api.ws_url = url or socket_mode_server.url
    env = bot_env(slack_api, tmp_path / "factbot.db", copy_seeds(tmp_path / "seeds"), SLACK_APP_TOKEN=APP_TOKEN,
                  SLACK_SIGNING_SECRET="", FACTBOT_SOCKET_CONNECTIONS=str(connections), FACTBOT_LOG_LEVEL="INFO")
    proc = BotProcess(["socket"], env, tmp_path)
    proc.wait_until(lambda: len(socket_mode_server.opened_at) >= connections)
    return proc


def test_a_dropped_connection_loses_nothing_and_is_replaced_within_10_s(slack_api, socket_mode_server, tmp_path):
    server, slack = socket_mode_server, slack_api
    proc = _drop_bot(slack, server, tmp_path, connections=2)
    try:
        server.drop(0)
        dropped = time.monotonic()
        # the next envelope goes to the connection still open: acked and answered while the other is replaced
        command = server.send(_envelope("slash_commands", slash_command("/ipo", "seres", slack.response_url("drop-1"))))
        server.wait_ack(command, timeout=3)
        slack.wait_for("response/drop-1")
        server.wait_connections(3, timeout=10)
        assert server.opened_at[2] - dropped < 10
        # the replacement takes envelopes too
        mention_event = event_callback(mention(f"<@{BOT_USER_ID}> seres ipo", ts="1700003200.000001", channel="C0DROP"))
        server.wait_ack(server.send(_envelope("events_api", mention_event), connection=2), timeout=3)
        slack.wait_for("chat.postMessage", channel="C0DROP")
        assert len(slack.calls_to("apps.connections.open")) >= 3  # a fresh URL for the replacement
        output = proc.output()
        assert "Traceback" not in output and "Failed to check the state" not in output
    finally:
        proc.stop()


def test_with_one_connection_the_next_envelope_after_a_drop_is_acked_within_10_s(slack_api, socket_mode_server,
                                                                                 tmp_path):
    server, slack = socket_mode_server, slack_api
    proc = _drop_bot(slack, server, tmp_path, connections=1)
    try:
        server.drop(0)
        dropped = time.monotonic()
        command = server.send(_envelope("slash_commands", slash_command("/ipo", "seres", slack.response_url("drop-2"))))
        server.wait_ack(command, timeout=10)
        assert time.monotonic() - dropped < 10
        server.wait_connections(2, timeout=1)
        slack.wait_for("response/drop-2")
    finally:
        proc.stop()


def test_a_connection_gone_silent_is_replaced_within_10_s(slack_api, socket_mode_server, tmp_path):
    """The path to Slack dies without a FIN or RST (the relay passes nothing more, closes nothing): the
    bot's own pings find out, and the connection is replaced."""
    from tests.slack_standin import Relay

    server, slack = socket_mode_server, slack_api
    relay = Relay(server.port)
    try:
        proc = _drop_bot(slack, server, tmp_path, connections=2, url=f"ws://127.0.0.1:{relay.port}/link?ticket=standin")
        try:
            relay.freeze(0)
            frozen = time.monotonic()
            server.wait_connections(3, timeout=10)
            assert server.opened_at[2] - frozen < 10
            command = slash_command("/ipo", "seres", slack.response_url("silent-1"))
            server.wait_ack(server.send(_envelope("slash_commands", command), connection=2), timeout=3)
            slack.wait_for("response/silent-1")
            assert "Traceback" not in proc.output()
        finally:
            proc.stop()
    finally:
        relay.close()


def test_an_envelope_bolt_cannot_read_is_one_log_line_and_the_next_is_answered(slack_api, socket_mode_server,
                                                                               tmp_path):
    server, slack = socket_mode_server, slack_api
    proc = _drop_bot(slack, server, tmp_path, connections=1)
    try:
        for payload in ({"type": "event_callback", "event": "x"}, {"type": "block_actions", "actions": 5, "user": 3}):
            server.send(_envelope("events_api" if "event" in payload else "interactive", payload))
        command = server.send(_envelope("slash_commands", slash_command("/ipo", "seres", slack.response_url("after-bad"))))
        server.wait_ack(command)
        slack.wait_for("response/after-bad")
        output = proc.output()
        assert "Traceback" not in output
        failed = [line for line in output.splitlines() if "envelope" in line and "failed:" in line]
        assert failed and all(" at " in line for line in failed), failed  # one line: the exception and where
    finally:
        proc.stop()
