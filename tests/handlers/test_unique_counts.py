"""Unique facts beside all facts: `/factbot sources`, the App Home and the reload report, with an
export that reprints the seed (every fact of it another outlet's report of one of the seed's)."""
from __future__ import annotations

import json

from tests.handlers.conftest import make_bot
from tests.slack_standin import event_callback, home_opened, slash_command
from tests.store.test_groups import SINA, reprint


def test_sources_home_and_reload_count_unique_facts(slack_api, tmp_path):
    bot = make_bot(slack_api, tmp_path, admin_users=("U0ADMIN",))
    reprint(tmp_path / "seeds", "001_sina.txt", SINA)
    bot.command(slash_command("/factbot", "reload", slack_api.response_url("r"), user="U0ADMIN"))
    *_, done = slack_api.wait_for("response/r", count=2)
    assert "4 articles and 62 facts (31 unique)" in done.text

    bot.command(slash_command("/factbot", "sources", slack_api.response_url("s")))
    (sources,) = slack_api.wait_for("response/s")
    assert "Indexed: 4 articles, 62 facts (31 unique)" in sources.text
    assert "*Indexed:* 4 articles, 62 facts (31 unique)" in json.dumps(sources.blocks, ensure_ascii=False)

    bot.event(event_callback(home_opened("U0ADMIN")))
    slack_api.wait_for("views.publish", user_id="U0ADMIN")
    view = json.dumps(slack_api.views["U0ADMIN"], ensure_ascii=False)
    assert "*What is indexed:* 4 articles, 62 facts (31 unique)" in view
