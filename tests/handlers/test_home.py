"""handlers/home.py in-process: seed text and recorded questions arrive escaped on the Home tab."""
from __future__ import annotations

import json

from tests.handlers.conftest import make_bot
from tests.slack_standin import event_callback, home_opened, slash_command

HOSTILE = """Search documents
Evil <!channel> Headline <@U123> & Co
Mallory <!here> News· 2026-01-20 10:00
Core Insights - Shares of Mallory Holdings ping <!channel> and <@U123> via <http://evil.example|click here> [1]. Mallory Plans - Staff of Mallory Holdings write <b>tags</b> and & signs [2]. - Buyers of Mallory Holdings again [3]. - Rivals of Mallory Holdings [4]. - Fans of Mallory Holdings [5]. - Foes of Mallory Holdings [6]. - Friends of Mallory Holdings [7]. - Heirs of Mallory Holdings [8].
"""
RAW = ("<!channel>", "<!here>", "<@U123>", "<http://evil", "<b>", "<question>", "<text>")


def test_the_home_tab_escapes_seed_text_and_recorded_queries(slack_api, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "010_hostile.txt").write_text(HOSTILE, "utf-8")
    bot = make_bot(slack_api, tmp_path, admin_users=("U0ADMIN",))
    bot.command(slash_command("/factbot", "zzqq &lt;b&gt; xxww", slack_api.response_url("nomatch")))  # typed "<b>"
    slack_api.wait_for("response/nomatch")
    bot.event(event_callback(home_opened("U0ADMIN")))
    slack_api.wait_for("views.publish", user_id="U0ADMIN")
    view = json.dumps(slack_api.views["U0ADMIN"], ensure_ascii=False)
    for raw in RAW:
        assert raw not in view, raw
    assert "Evil &lt;!channel&gt; Headline &lt;@U123&gt; &amp; Co" in view  # the newest article, escaped
    assert "zzqq &lt;b&gt; xxww" in view  # the unanswered question, escaped
    assert "Most covered: Mallory Holdings (8 facts)" in view  # the name the corpus holds most
