"""GET /metrics of `factbot serve`: Prometheus text counting questions, reloads and uploads as they happen."""
from __future__ import annotations

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from handlers.shortcuts import FIND_FACTS
from tests.slack_standin import (
    BOT_USER_ID, HttpBot, bot_env, copy_seeds, direct_message, event_callback, mention, message_shortcut,
)

ADMIN = "U0ADMIN"
EXPORT = """Search documents
宁德时代匈牙利工厂
Cai Lian She· 2025-11-21 09:30
Core Insights - Contemporary Amperex expands its Hungarian battery plant in Debrecen to serve European carmakers [1][2]. - The Debrecen factory starts production next year [3].
"""


@pytest.fixture(scope="module")
def bot(slack, tmp_path_factory):
    work = tmp_path_factory.mktemp("metrics")
    env = bot_env(slack, work / "factbot.db", copy_seeds(work / "seeds"), FACTBOT_ADMIN_USERS=ADMIN)
    proc = HttpBot(env, work)
    yield proc
    proc.stop()


def scrape(bot) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(bot.url + "/metrics", timeout=5) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = resp.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def q(surface: str, outcome: str) -> tuple:
    return ("factbot_questions_total", (("outcome", outcome), ("surface", surface)))


def test_questions_are_counted_by_surface_and_outcome_with_their_answer_time(bot, slack):
    before = scrape(bot)
    assert before[q("command", "answered")] == 0 and before[("factbot_facts_indexed", ())] == 31
    assert before[("factbot_answer_seconds_count", ())] == 0
    bot.command("/ipo", "seres", slack.response_url("m1"))
    bot.command("/factbot", "recipe for banana bread", slack.response_url("m2"))
    bot.event(event_callback(mention(f"<@{BOT_USER_ID}> fairwater 2", ts="1700009000.000001", channel="C0MET")))
    bot.event(event_callback(direct_message("azure margins", ts="1700009000.000002", channel="D0MET")))
    bot.action(message_shortcut(FIND_FACTS, "seres ipo", slack.response_url("m3")))
    slack.wait_for("response/m1"), slack.wait_for("response/m2"), slack.wait_for("response/m3")
    slack.wait_for("chat.postMessage", channel="C0MET"), slack.wait_for("chat.postMessage", channel="D0MET")
    after = scrape(bot)
    assert after[q("command", "answered")] == 1 and after[q("command", "no_match")] == 1
    assert after[q("mention", "answered")] == 1 and after[q("dm", "answered")] == 1
    assert after[q("shortcut", "answered")] == 1
    assert after[("factbot_answer_seconds_count", ())] == 5 and after[("factbot_answer_seconds_sum", ())] > 0
    assert after[("factbot_claims_failed_open_total", ())] == 0  # no replicas: no shared claims


def test_factbot_watch_off_watches_nothing_and_says_so(bot):
    # the tests' environment sets FACTBOT_WATCH=off (tests/slack_standin.bot_env)
    assert "the seeds folder is not watched (FACTBOT_WATCH=off)" in bot.output()
    assert "watching " not in bot.output()


def test_reloads_and_uploads_are_counted(bot, slack):
    before = scrape(bot)
    assert before[("factbot_reload_last_success_timestamp_seconds", ())] > 0  # the startup build
    info = slack.add_file("F0MET1", "030_catl.txt", EXPORT.encode(), user=ADMIN)
    event = direct_message("", ts="1700009100.000001", user=ADMIN, channel="D0METUP", subtype="file_share",
                           files=[{k: info[k] for k in ("id", "name", "mimetype", "filetype")}])
    bot.event(event_callback(event))
    (reply,) = slack.wait_for("chat.postMessage", channel="D0METUP")
    assert "Added" in reply.all_text()
    after = scrape(bot)
    assert after[("factbot_uploads_total", (("outcome", "added"),))] == 1
    assert after[("factbot_reloads_total", (("outcome", "ok"),))] == before[("factbot_reloads_total", (("outcome", "ok"),))] + 1
    assert after[("factbot_reload_duration_seconds_count", ())] == before[("factbot_reload_duration_seconds_count", ())] + 1
    assert after[("factbot_reload_last_success_timestamp_seconds", ())] > before[("factbot_reload_last_success_timestamp_seconds", ())]
    assert after[("factbot_reload_failures_total", ())] == 0
    assert after[("factbot_facts_indexed", ())] == 33


def test_claims_that_failed_open_are_counted(tmp_path):
    """A replica whose PostgreSQL does not answer grants every claim (answering twice beats silence): counted."""
    from bot.metrics import Metrics
    from handlers.middleware import ChainedClaims, SeenEvents
    from store import Index
    from store.claims import SharedClaims
    from store.state import State
    from tests.slack_standin import free_port

    state = State.connect(f"postgresql://factbot@127.0.0.1:{free_port()}/factbot")  # nothing listens there
    claims = ChainedClaims(SeenEvents(), SharedClaims(state))
    index = Index.open(tmp_path / "factbot.db", seeds=copy_seeds(tmp_path / "seeds"), semantic=False)
    metrics = Metrics()
    metrics.attach(index, claims)
    try:
        assert claims.claim("Ev1") and claims.claim("Ev2") and not claims.claim("Ev1")  # Ev1 again: seen here
        text = metrics.exposition()[0].decode()
        assert "factbot_claims_failed_open_total 2.0" in text and "factbot_facts_indexed 31.0" in text
    finally:
        index.close()
        state.close()
