"""An export sent by DM to one replica survives reloads through the other and a restart of both;
only an admin's removal takes it out, and the removal is in the audit trail. Two real `factbot
serve` replicas, one real PostgreSQL, the Slack stand-in."""
from __future__ import annotations

import json

from tests.slack_standin import HttpBot, block_action, bot_env, copy_seeds, direct_message, event_callback

ADMIN = "U0ADMIN"
QUUXLY = """Search documents
夸克利新品发布
Cai Lian She· 2025-11-24 09:30
Core Insights - Quuxly Robotics unveils its warehouse picking arm for Ningbo ports [1]. - Deliveries begin in March [2].
"""


def _start(slack, database_url, work, name) -> HttpBot:
    folder = work / name
    seeds = folder / "seeds"
    if not seeds.exists():
        copy_seeds(seeds)
    env = bot_env(slack, folder / "factbot.db", seeds, DATABASE_URL=database_url, FACTBOT_ADMIN_USERS=ADMIN)
    bot = HttpBot(env, work)
    bot.folder = folder
    return bot


def _ask(bot, slack, query: str, name: str) -> str:
    bot.command("/factbot", query, slack.response_url(name))
    (call,) = slack.wait_for(f"response/{name}", timeout=30)
    return call.all_text()


def _answers(bot, slack, query: str, text: str, name: str, present: bool = True) -> None:
    """`bot` answers `query` with (or, present=False, without) `text` within 200 asks, after it
    caught up with the corpus version it reports (a positive signal per ask)."""
    for n in range(200):
        if (text in _ask(bot, slack, query, f"{name}-{n}")) == present:
            return
    raise AssertionError(f"{name}: {text!r} {'never' if present else 'still'} in the answers")


def test_an_export_sent_to_one_replica_survives_the_others_reload_and_a_restart_until_removed(
        slack_api, database_url, tmp_path):
    slack = slack_api
    a, b = _start(slack, database_url, tmp_path, "a"), _start(slack, database_url, tmp_path, "b")
    try:
        info = slack.add_file("F0QUUXLY1", "quuxly.txt", QUUXLY.encode(), user=ADMIN)
        event = direct_message("", ts="1700006000.000001", user=ADMIN, channel="D0QUUXLY", subtype="file_share",
                               files=[{"id": info["id"], "name": info["name"]}])
        assert a.event(event_callback(event))[0] == 200
        (reply,) = slack.wait_for("chat.postMessage", channel="D0QUUXLY", timeout=30)
        assert "Added `quuxly.txt`:* 1 article, 2 facts." in reply.all_text()
        assert not (a.folder / "seeds" / "quuxly.txt").exists() and not (b.folder / "seeds" / "quuxly.txt").exists()
        # a reload through B, whose seeds folder never held the file
        b.command("/factbot", "reload", slack.response_url("q-reload-b"), user=ADMIN)
        _, report = slack.wait_for("response/q-reload-b", count=2, timeout=30)
        assert "Reload finished" in report.text and "removed" not in report.all_text()
        for bot, name in ((b, "q-b"), (a, "q-a")):
            _answers(bot, slack, "quuxly picking arm", "warehouse picking arm", name)
        # a restart of both (each builds its index anew from the corpus)
        for bot in (a, b):
            bot.stop()
            (bot.folder / "factbot.db").unlink()
        a, b = _start(slack, database_url, tmp_path, "a"), _start(slack, database_url, tmp_path, "b")
        a.command("/factbot", "reload", slack.response_url("q-reload-a2"), user=ADMIN)
        slack.wait_for("response/q-reload-a2", count=2, timeout=30)
        for bot, name in ((a, "q-a2"), (b, "q-b2")):
            _answers(bot, slack, "quuxly picking arm", "warehouse picking arm", name)
        # an admin's removal through B: asked first, removed on the confirmed button, gone on A too
        b.command("/factbot", "remove quuxly.txt", slack.response_url("q-remove"), user=ADMIN)
        (question,) = slack.wait_for("response/q-remove", timeout=30)
        assert "Remove `quuxly.txt`?* uploaded, added by slack:U0ADMIN" in question.all_text()
        (button,) = [e for blk in question.blocks if blk.get("type") == "actions" for e in blk["elements"]
                     if e["action_id"] == "factbot_remove"]
        assert button["confirm"]["confirm"]["text"] == "Remove"  # Slack's confirmation dialog first
        status, body = b.command("/factbot", "remove quuxly.txt", slack.response_url("q-member"), user="U0MEMBER")
        assert status == 200 and "only factbot's admins" in json.loads(body)["text"]  # refused in the ack
        forged = block_action("factbot_remove", "quuxly.txt", slack.response_url("q-forged"), user="U0MEMBER")
        a.action(forged)
        assert "only factbot's admins" in slack.wait_for("response/q-forged", timeout=30)[0].text
        _answers(a, slack, "quuxly picking arm", "warehouse picking arm", "q-still")
        b.action(block_action("factbot_remove", button["value"], slack.response_url("q-removed"), user=ADMIN))
        (removed,) = slack.wait_for("response/q-removed", timeout=30)
        assert "Removed `quuxly.txt`." in removed.all_text()
        _answers(a, slack, "quuxly picking arm", "warehouse picking arm", "q-gone", present=False)
        from store.corpus import audit
        from store.state import State

        state = State.open(database_url)
        try:
            (removal,) = [r for r in audit(state) if r["action"] == "removed"]
            assert (removal["name"], removal["actor"]) == ("quuxly.txt", f"slack:{ADMIN}")
            assert removal["at"].endswith("Z")
        finally:
            state.close()
    finally:
        a.stop()
        b.stop()
