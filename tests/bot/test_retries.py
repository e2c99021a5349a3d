"""Web API retries (bot/app.py): what may be sent twice is retried, a post Slack may have acted on is not.

The never-twice side runs against `factbot serve` (tests/bot/test_serve.py); here the calls that
are retried, through the real WebClient and the Web API stand-in.
"""
from __future__ import annotations

import logging
import socket

from slack_sdk.errors import SlackApiError

from bot.app import create_client
from bot.config import Settings
from tests.handlers.conftest import make_bot
from tests.slack_standin import slash_command


def test_idempotent_calls_are_retried_after_5xx_and_lost_connections(slack_api, tmp_path):
    slack_api.users["U0WS"] = {"id": "U0WS", "is_admin": True}
    slack_api.fail("auth.test", times=1, status=503)
    slack_api.fail("users.info", times=1, status=502)
    slack_api.fail("users.info", times=1, status=0)  # answered nothing: asking again is harmless
    bot = make_bot(slack_api, tmp_path, admins_from_workspace=True)  # auth.test runs here
    assert [c.status for c in slack_api.calls_to("auth.test")] == [503, 200]
    bot.command(slash_command("/factbot", "reload", slack_api.response_url("ws"), user="U0WS"))
    first, second = slack_api.wait_for("response/ws", count=2)
    assert first.text == "Reloading…" and "Reload finished" in second.text
    assert [c.status for c in slack_api.calls_to("users.info")] == [502, 0, 200]


def test_a_post_whose_connection_was_refused_is_retried(caplog):
    # nothing listens on the port: the request never left, so sending it again cannot post twice
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        client = create_client(Settings(slack_bot_token="xoxb-refused", slack_api_url=f"http://127.0.0.1:{port}/api/"))
        with caplog.at_level(logging.INFO, logger="factbot.slack_sdk"):
            try:
                client.chat_postMessage(channel="C0REFUSED", text="hello")
            except (OSError, SlackApiError):
                pass
    retries = [r for r in caplog.records if r.getMessage().startswith("Going to retry the same request")
               and "chat.postMessage" in r.getMessage()]
    assert len(retries) == 2
