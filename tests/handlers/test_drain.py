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


def test_socket_mode_finishes_a_reload_under_way_before_it_exits_on_sigterm(slack_api, socket_mode_server, tmp_path):
    import signal
    import uuid

    from tests.slack_standin import APP_TOKEN, BotProcess, bot_env, copy_seeds

    slack_api.ws_url = socket_mode_server.url
    env = bot_env(slack_api, tmp_path / "factbot.db", copy_seeds(tmp_path / "seeds"), SLACK_APP_TOKEN=APP_TOKEN,
                  SLACK_SIGNING_SECRET="", FACTBOT_ADMIN_USERS="U0ADMIN", FACTBOT_SOCKET_CONNECTIONS="1")
    proc = BotProcess(["socket"], env, tmp_path)
    try:
        proc.wait_until(socket_mode_server.connected.is_set)
        slack_api.slow("response/sm-drain", 2.0)  # "Reloading…" is slow to go out: the work is under way
        command = slash_command("/factbot", "reload", slack_api.response_url("sm-drain"), user="U0ADMIN")
        envelope = {"envelope_id": str(uuid.uuid4()), "type": "slash_commands", "payload": command,
                    "accepts_response_payload": True}
        socket_mode_server.wait_ack(socket_mode_server.send(envelope))
        proc.proc.send_signal(signal.SIGTERM)
        assert proc.proc.wait(timeout=60) == 0
        # the process ended only after the reload it had acknowledged was reported
        reloading, report = slack_api.calls_to("response/sm-drain")
        assert reloading.text == "Reloading…" and "Reload finished" in report.text
    finally:
        proc.stop()
