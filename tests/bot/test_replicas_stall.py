"""A PostgreSQL that stalls (packets dropped, not refused) never holds up an ack: two real
`factbot serve` replicas reach PostgreSQL through a loopback proxy that, when told to, accepts
connections and forwards nothing (tests/pg.py: StallingProxy)."""
from __future__ import annotations

import time
from collections import Counter

from tests.pg import StallingProxy
from tests.slack_standin import BOT_USER_ID, HttpBot, bot_env, copy_seeds, event_callback, mention

ADMIN = "U0ADMIN"


def _ack(bot, payload, latencies: list[float]) -> None:
    started = time.perf_counter()
    status, _ = bot.event(payload)
    latencies.append(time.perf_counter() - started)
    assert status == 200


def _event(n: int, channel: str) -> dict:
    return event_callback(mention(f"<@{BOT_USER_ID}> ipo seres", ts=f"1700007000.{n:06d}", channel=channel),
                          event_id=f"Ev0STALL{channel}{n:03d}")


def _wait_log(bots, text: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(text in bot.output() for bot in bots):
        assert time.monotonic() < deadline, f"{text!r} not in a log within {timeout}s"
        time.sleep(0.05)


def test_acks_stay_under_a_second_while_postgresql_stalls_and_claims_come_back(
        slack_api, pg_cluster, database_url, tmp_path):
    slack = slack_api
    proxy = StallingProxy(pg_cluster.port)
    bots = []
    try:
        for name in ("a", "b"):
            env = bot_env(slack, tmp_path / name / "factbot.db", copy_seeds(tmp_path / name / "seeds"),
                          DATABASE_URL=proxy.url(database_url), FACTBOT_ADMIN_USERS=ADMIN)
            bots.append(HttpBot(env, tmp_path))
        a, b = bots
        for bot in bots:
            bot.wait_until(lambda bot=bot: (bot.health() or {}).get("ready") is True, timeout=60)
        proxy.stall()
        latencies: list[float] = []
        n_events = 6
        for n in range(n_events):  # each event to both replicas, as when Slack retries on the other one
            payload = _event(n, "C0STALL")
            _ack(a, payload, latencies)
            _ack(b, payload, latencies)
            _ack(a, payload, latencies)  # a retry to the same replica: its own set catches it
        stalled = list(latencies)
        assert max(stalled) < 1.0, f"acks while PostgreSQL stalls: {sorted(stalled)}"
        # each event answered, at most once per replica: both replicas fail open, one answer each
        slack.wait_for("chat.postMessage", count=2 * n_events, timeout=30, channel="C0STALL")
        for n in range(n_events):
            _wait_log([a], f"event Ev0STALLC0STALL{n:03d} delivered again")
        answered = Counter(c.params["thread_ts"] for c in slack.calls_to("chat.postMessage", channel="C0STALL"))
        assert answered == Counter({f"1700007000.{n:06d}": 2 for n in range(n_events)})
        assert "answering anyway" in a.output() and "answering anyway" in b.output()  # logged
        proxy.recover()
        # back: after the claims reach PostgreSQL again, every event is answered exactly once
        deadline = time.monotonic() + 30
        n = 100
        while True:  # one event at a time until a claim is won on one replica and lost on the other
            n += 1
            payload = _event(n, "C0BACK")
            _ack(a, payload, latencies)
            slack.wait_for("chat.postMessage", timeout=30, channel="C0BACK", thread_ts=f"1700007000.{n:06d}")
            _ack(b, payload, latencies)
            try:
                _wait_log([b], f"event Ev0STALLC0BACK{n:03d} delivered again", timeout=5)
                break
            except AssertionError:
                assert time.monotonic() < deadline, "claims never worked again after PostgreSQL came back"
        for m in range(200, 205):
            payload = _event(m, "C0AFTER")
            _ack(a, payload, latencies)
            _ack(b, payload, latencies)
            _wait_log([a, b], f"event Ev0STALLC0AFTER{m:03d} delivered again")
        slack.wait_for("chat.postMessage", count=5, timeout=30, channel="C0AFTER")
        answered = Counter(c.params["thread_ts"] for c in slack.calls_to("chat.postMessage", channel="C0AFTER"))
        assert answered == Counter({f"1700007000.{m:06d}": 1 for m in range(200, 205)})
        assert max(latencies) < 1.0
        print(f"\nack latency while stalled: max {max(stalled) * 1000:.0f} ms, median "
              f"{sorted(stalled)[len(stalled) // 2] * 1000:.0f} ms over {len(stalled)} requests;"
              f" overall max {max(latencies) * 1000:.0f} ms over {len(latencies)}")
    finally:
        for bot in bots:
            bot.stop()
        proxy.close()
