"""handlers/core.py and handlers/middleware.py: query cleaning, intents, the seen-events set."""
from __future__ import annotations

import threading

from handlers.core import Intent, clean_text, parse_intent, strip_shell_mention
from handlers.middleware import SeenEvents


def test_clean_text():
    assert clean_text("<@U123> ipo  seres") == "ipo seres"
    assert clean_text("<@U123|factbot> what about <#C1|general>?") == "what about ?"
    assert clean_text("<!here> <https://a.example|A link> and <mailto:x@y.z>") == "and"
    assert clean_text("a &amp; b &lt;c&gt;") == "a & b <c>"
    assert clean_text(None) == "" and clean_text("<@W0ENTERPRISE>") == ""


def test_parse_intent():
    assert parse_intent("") == Intent("help")
    assert parse_intent("HELP") == Intent("help")
    assert parse_intent("sources") == Intent("sources")
    assert parse_intent("reload!") == Intent("reload")
    assert parse_intent("reload the ipo facts") == Intent("search", "reload the ipo facts")
    assert parse_intent("seres", command="/ipo") == Intent("search", "ipo seres")
    assert parse_intent("reload", command="/ipo") == Intent("search", "ipo reload")
    assert parse_intent("help", command="/azure") == Intent("search", "azure help")
    assert parse_intent("sources", command="/factbot") == Intent("sources")


def test_strip_shell_mention():
    assert strip_shell_mention("@factbot what about fairwater?") == "what about fairwater?"
    assert strip_shell_mention("@factbot, reload") == "reload"


def test_seen_events_forget_after_ttl_and_cap_their_size():
    now = [0.0]
    seen = SeenEvents(ttl=10, max_size=3, clock=lambda: now[0])
    assert seen.claim("a") and not seen.claim("a")
    now[0] = 11
    assert seen.claim("a")
    for key in "bcde":
        seen.claim(key)
    assert len(seen) <= 3


def test_seen_events_are_thread_safe():
    seen = SeenEvents()
    wins = []
    barrier = threading.Barrier(16)

    def racer():
        barrier.wait(timeout=5)
        wins.append(seen.claim("Ev1"))

    threads = [threading.Thread(target=racer) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    assert wins.count(True) == 1 and len(wins) == 16


def test_one_helper_reads_a_web_api_error_code():
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web import SlackResponse

    from handlers.delivery import describe_error, error_code

    response = SlackResponse(client=None, http_verb="POST", api_url="https://slack.com/api/chat.postMessage",
                             req_args={}, data={"ok": False, "error": "not_in_channel"}, headers={}, status_code=200)
    assert error_code(SlackApiError("failed", response)) == "not_in_channel"
    assert describe_error(SlackApiError("failed", response)) == "SlackApiError: not_in_channel"
    assert error_code(BoltError("The auth.test API error: invalid_auth")) == "invalid_auth"
    assert error_code(ConnectionRefusedError()) is None and describe_error(TimeoutError()) == "TimeoutError"


CATL = """Search documents
宁德时代海外扩张
Cai Lian She· 2025-11-21 09:30
Core Insights - Contemporary Amperex expands its Hungarian battery plant to serve European carmakers [1][2]. Plant Progress - The Debrecen factory of Contemporary Amperex starts production next year [3]. - Contemporary Amperex hires local engineers for the Debrecen plant [4].
"""


def test_help_examples_and_no_match_suggestions_come_from_the_corpus(tmp_path):
    from bot.config import Settings
    from handlers.core import Factbot
    from store import Index
    from store.overview import overview

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "catl.txt").write_text(CATL, "utf-8")
    index = Index.open(tmp_path / "h.db", seeds=seeds)
    bot = Factbot(index, Settings(commands=("/ipo",)))
    help_text = bot.help().text
    examples = overview(index).examples
    assert examples and f"/factbot {examples[0]}" in help_text
    assert "seres" not in help_text.lower() and "fairwater" not in help_text.lower() and "azure" not in help_text.lower()
    assert all(index.search(e, limit=1).hits for e in examples)  # each example finds facts
    no_match = bot.answer("zzqqxx wwvvuu").text
    assert "宁德时代海外扩张" in no_match and "Plant Progress" in no_match
    assert "Core Insights" not in no_match  # an article's overview heading suggests nothing
