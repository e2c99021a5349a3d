"""Listener work handed on after the ack (a reload, the answer to an unknown button) runs on the
Bolt app's own listener pool, and bot.app.drain waits for it at shutdown (HTTP and Socket Mode alike)."""
from __future__ import annotations

from bot.app import drain
from tests.handlers.conftest import make_bot
from tests.slack_standin import block_action, slash_command


def test_a_reload_after_its_ack_runs_on_the_apps_pool_and_a_shutdown_waits_for_it(slack_api, tmp_path):
    bot = make_bot(slack_api, tmp_path, admin_users=("U0ADMIN",))
    slack_api.slow("response/drain", 1.5)  # "Reloading…" is delivered slowly: the work is under way
    response = bot.command(slash_command("/factbot", "reload", slack_api.response_url("drain"), user="U0ADMIN"))
    assert response.status == 200
    bot.action(block_action("factbot_renamed_long_ago", "x", slack_api.response_url("unknown")))
    assert drain(bot.app, timeout=0.1) is False  # still delivering
    assert drain(bot.app, timeout=30) is True
    # everything it had been handed was done by the time drain returned
    first, report = slack_api.calls_to("response/drain")
    assert first.text == "Reloading…" and "Reload finished" in report.text
    assert "out of date" in slack_api.calls_to("response/unknown")[0].text
