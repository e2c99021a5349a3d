"""An admin's `/factbot reload` of a large seeds folder against `factbot serve`: the server is
threaded, so the reload's parsing workers come from a fork server; the report and the answers are
those of any reload."""
from __future__ import annotations

import psutil

from tests.slack_standin import HttpBot, bot_env, copy_seeds
from tests.store.test_reload_incremental import write_export

ADMIN = "U0ADMIN"


def test_a_large_admin_reload_is_parsed_by_workers_from_a_fork_server(slack, tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    env = bot_env(slack, tmp_path / "factbot.db", seeds, FACTBOT_ADMIN_USERS=ADMIN, FACTBOT_RELOAD_WORKERS="2")
    bot = HttpBot(env, tmp_path)
    try:
        assert not [k for k in psutil.Process(bot.proc.pid).children() if "forkserver" in " ".join(k.cmdline())]
        for n in range(1, 61):  # about 15,000 facts, 2.6 MB: enough to read for worker processes
            write_export(seeds, n, facts=250)
        assert sum(p.stat().st_size for p in seeds.iterdir()) > 2 << 20
        status, _ = bot.command("/factbot", "reload", slack.response_url("large"), user=ADMIN)
        assert status == 200
        reloading, report = slack.wait_for("response/large", count=2, timeout=120)
        assert reloading.text == "Reloading…" and "Reload finished" in report.text
        after = bot.health()
        assert after["facts"] > 15_000
        assert f"{after['articles']} articles and {after['facts']} facts" in report.all_text()
        assert "60 loaded, 1 unchanged" in report.all_text()
        # the fork server the workers came from stays, a child of the server, for the next reload
        assert [k for k in psutil.Process(bot.proc.pid).children() if "forkserver" in " ".join(k.cmdline())]
        bot.command("/factbot", "sources", slack.response_url("large"), user=ADMIN)  # still answering
        (_, _, sources) = slack.wait_for("response/large", count=3, timeout=30)
        assert "Indexed:" in sources.text
    finally:
        bot.stop()
