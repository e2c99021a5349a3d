"""Two factbot replicas sharing one real PostgreSQL (a throwaway server), the Slack stand-in for Slack.

Each replica is a real `factbot serve` (or `factbot socket`) subprocess with its own index file and
seeds folder; only DATABASE_URL is shared.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest

from tests.slack_standin import (
    APP_TOKEN, BOT_USER_ID, BotProcess, HttpBot, bot_env, copy_seeds, event_callback, mention,
)


def _ts(n: int) -> str:
    return f"1700005000.{n:06d}"


def _replica(slack, database_url, work, name, **extra):
    folder = work / name
    env = bot_env(slack, folder / "factbot.db", copy_seeds(folder / "seeds"), DATABASE_URL=database_url, **extra)
    return env, folder


@pytest.fixture(scope="module")
def shared_db(pg_cluster):
    return pg_cluster.create_database()


@pytest.fixture(scope="module")
def pair(slack_api_module, shared_db, tmp_path_factory):
    work = tmp_path_factory.mktemp("replicas")
    a = HttpBot(_replica(slack_api_module, shared_db, work, "a")[0], work)
    b = HttpBot(_replica(slack_api_module, shared_db, work, "b")[0], work)
    yield a, b
    a.stop()
    b.stop()


def _marker(bot, slack, channel: str) -> None:
    """A fresh event through `bot`, and its answer: whatever `bot` was asked before has been dealt with."""
    bot.event(event_callback(mention(f"<@{BOT_USER_ID}> fairwater 2", ts=_ts(999), channel=channel)))
    slack.wait_for("chat.postMessage", channel=channel)


def _wait_log(bot, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in bot.output():
        assert time.monotonic() < deadline, f"{text!r} not in the log within {timeout}s"
        time.sleep(0.05)


def test_a_retry_sent_to_the_other_replica_is_not_answered_again(pair, slack_api_module):
    a, b = pair
    slack = slack_api_module
    payload = event_callback(mention(f"<@{BOT_USER_ID}> ipo seres", ts=_ts(1), channel="C0REPRETRY"),
                             event_id="Ev0REPLICARETRY")
    assert a.event(payload)[0] == 200
    slack.wait_for("chat.postMessage", channel="C0REPRETRY")
    assert b.event(payload, retry_num=1)[0] == 200
    _wait_log(b, "event Ev0REPLICARETRY delivered again (retry 1): acknowledged, not answered again")
    _marker(b, slack, "C0REPRETRYMARK")
    assert len(slack.calls_to("chat.postMessage", channel="C0REPRETRY")) == 1


def test_events_sent_to_both_replicas_at_once_are_each_answered_exactly_once(pair, slack_api_module):
    a, b = pair
    slack = slack_api_module
    events = [event_callback(mention(f"<@{BOT_USER_ID}> azure margins", ts=_ts(100 + n), channel="C0BURST"),
                             event_id=f"Ev0BURST{n:03d}") for n in range(100)]
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def send(bot, offset):
        barrier.wait(timeout=10)
        for payload in events[offset:] + events[:offset]:
            statuses.append(bot.event(payload)[0])

    threads = [threading.Thread(target=send, args=(bot, 0)) for bot in (a, b)]
    # a second pair of senders, the other way round, so that some events reach both at the same moment
    threads += [threading.Thread(target=send, args=(bot, 50)) for bot in (b, a)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert statuses == [200] * 400
    slack.wait_for("chat.postMessage", count=100, timeout=30, channel="C0BURST")
    _marker(a, slack, "C0BURSTMARKA")
    _marker(b, slack, "C0BURSTMARKB")
    answered = Counter(c.params["thread_ts"] for c in slack.calls_to("chat.postMessage", channel="C0BURST"))
    assert answered == Counter({_ts(100 + n): 1 for n in range(100)})
    # both replicas answered some: the claims, not one replica doing all the work, kept them apart
    assert "delivered again" in a.output() and "delivered again" in b.output()


def _envelope(payload: dict) -> dict:
    return {"envelope_id": str(uuid.uuid4()), "type": "events_api", "payload": payload,
            "accepts_response_payload": False, "retry_attempt": 0, "retry_reason": ""}


def test_two_socket_mode_replicas_answer_each_event_once(slack_api, socket_mode_server, database_url, tmp_path):
    slack, server = slack_api, socket_mode_server
    slack.ws_url = server.url
    procs = []
    try:
        for name in ("a", "b"):
            env, _ = _replica(slack, database_url, tmp_path, name, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET="")
            procs.append(BotProcess(["socket"], env, tmp_path))
            procs[-1].wait_until(lambda n=len(procs): len(server.outboxes) >= n, timeout=30)
        events = [event_callback(mention(f"<@{BOT_USER_ID}> ipo seres", ts=_ts(300 + n), channel="C0SOCKREP"),
                                 event_id=f"Ev0SOCKREP{n:03d}") for n in range(30)]
        sent = []
        for payload in events:  # each event to both connections, as when Slack retries on the other one
            sent += [server.send(_envelope(payload), connection=0), server.send(_envelope(payload), connection=1)]
        for envelope_id in sent:
            server.wait_ack(envelope_id)
        slack.wait_for("chat.postMessage", count=30, timeout=30, channel="C0SOCKREP")
        for n, proc in enumerate(procs):  # a marker through each connection, answered after the rest
            marker = event_callback(mention(f"<@{BOT_USER_ID}> fairwater 2", ts=_ts(990 + n), channel=f"C0SOCKMARK{n}"))
            server.send(_envelope(marker), connection=n)
            slack.wait_for("chat.postMessage", channel=f"C0SOCKMARK{n}")
        answered = Counter(c.params["thread_ts"] for c in slack.calls_to("chat.postMessage", channel="C0SOCKREP"))
        assert answered == Counter({_ts(300 + n): 1 for n in range(30)})
    finally:
        for proc in procs:
            proc.stop()
