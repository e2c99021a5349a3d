"""Two factbot replicas sharing one real PostgreSQL (a throwaway server), the Slack stand-in for Slack.

Each replica is a real `factbot serve` (or `factbot socket`) subprocess with its own index file and
seeds folder; only DATABASE_URL is shared.
"""
from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter

import pytest

from tests.slack_standin import (
    APP_TOKEN, BOT_USER_ID, BotProcess, HttpBot, bot_env, copy_seeds, event_callback, free_port, mention,
)

ADMIN = "U0ADMIN"
NEW_SEED = """Search documents
宁德时代海外扩张
Cai Lian She· 2025-11-21 09:30
Core Insights - Contemporary Amperex expands its Hungarian battery plant to serve European carmakers [1][2]. - The Debrecen factory starts production next year [3].
"""
OTHER_SEED = """Search documents
比亚迪匈牙利工厂
Cai Lian She· 2025-11-22 10:30
Core Insights - BYD starts trial production at its Szeged plant for compact electric cars [1].
"""


def _ts(n: int) -> str:
    return f"1700005000.{n:06d}"


def _replica(slack, database_url, work, name, **extra):
    folder = work / name
    env = bot_env(slack, folder / "factbot.db", copy_seeds(folder / "seeds"), DATABASE_URL=database_url,
                  FACTBOT_ADMIN_USERS=ADMIN, **extra)
    return env, folder


def _http_bot(slack, database_url, work, name, **extra) -> HttpBot:
    env, folder = _replica(slack, database_url, work, name, **extra)
    bot = HttpBot(env, work)
    bot.folder = folder
    return bot


def _http_pair(slack, database_url, work) -> tuple[HttpBot, HttpBot]:
    """Replicas a and b, started at the same time (each HttpBot waits for its /readyz)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda name: _http_bot(slack, database_url, work, name), ("a", "b"))
    return a, b


@pytest.fixture(scope="module")
def shared_db(pg_cluster):
    return pg_cluster.create_database()


@pytest.fixture(scope="module")
def pair(slack_api_module, shared_db, tmp_path_factory):
    work = tmp_path_factory.mktemp("replicas")
    a, b = _http_pair(slack_api_module, shared_db, work)
    yield a, b
    a.stop()
    b.stop()


def _skipped(bots, event_id: str) -> int:
    """How many deliveries of `event_id` the replicas acknowledged without answering (logged each)."""
    line = f"event {event_id} delivered again"
    return sum(bot.output().count(line) for bot in bots)


def _wait_skipped(bots, event_ids, count: int, timeout: float = 30.0) -> None:
    """Each event's deliveries all dealt with: `count` of them acknowledged without an answer (the
    signal per event; Bolt runs listeners in a pool, so a later event's answer proves nothing)."""
    deadline = time.monotonic() + timeout
    for event_id in event_ids:
        while _skipped(bots, event_id) < count:
            assert time.monotonic() < deadline, f"{event_id}: not every delivery dealt with within {timeout}s"
            time.sleep(0.05)


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
    # the signal that B dealt with the retry: it said so (before that, nothing proves it answered nothing)
    _wait_log(b, "event Ev0REPLICARETRY delivered again (retry 1): acknowledged, not answered again")
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
    # four deliveries of each event: one answered, three acknowledged without an answer, each logged
    _wait_skipped((a, b), [f"Ev0BURST{n:03d}" for n in range(100)], count=3)
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
        for name in ("a", "b"):  # started together; each connects once its index is built from the corpus
            # one connection each, so that connections 0 and 1 are the two replicas
            env, _ = _replica(slack, database_url, tmp_path, name, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET="",
                              FACTBOT_SOCKET_CONNECTIONS="1")
            procs.append(BotProcess(["socket"], env, tmp_path))
        for proc in procs:
            proc.wait_until(lambda: len(server.outboxes) >= 2, timeout=30)
        events = [event_callback(mention(f"<@{BOT_USER_ID}> ipo seres", ts=_ts(300 + n), channel="C0SOCKREP"),
                                 event_id=f"Ev0SOCKREP{n:03d}") for n in range(30)]
        sent = []
        for payload in events:  # each event to both connections, as when Slack retries on the other one
            sent += [server.send(_envelope(payload), connection=0), server.send(_envelope(payload), connection=1)]
        for envelope_id in sent:
            server.wait_ack(envelope_id)
        slack.wait_for("chat.postMessage", count=30, timeout=30, channel="C0SOCKREP")
        # two deliveries of each event: one answered, the other acknowledged without an answer (logged)
        _wait_skipped(procs, [f"Ev0SOCKREP{n:03d}" for n in range(30)], count=1)
        answered = Counter(c.params["thread_ts"] for c in slack.calls_to("chat.postMessage", channel="C0SOCKREP"))
        assert answered == Counter({_ts(300 + n): 1 for n in range(30)})
    finally:
        for proc in procs:  # both close their connections at the same time
            if proc.proc.poll() is None:
                proc.proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.stop()


def _answer(bot, slack, text: str, name: str) -> str:
    """The text of `bot`'s answer to `/factbot text` (waited for on its response_url)."""
    bot.command("/factbot", text, slack.response_url(name))
    (call,) = slack.wait_for(f"response/{name}")
    return call.all_text()


def test_a_reload_through_one_replica_reaches_the_other_within_ten_seconds(pair, slack_api_module):
    a, b = pair
    slack = slack_api_module
    before = a.health()
    assert before["ready"] is True and before["version"] == b.health()["version"] >= 1
    assert "Hungarian" not in _answer(b, slack, "hungarian battery plant", "rep-before")
    (a.folder / "seeds" / "030_catl.txt").write_text(NEW_SEED, "utf-8")
    a.command("/factbot", "reload", slack.response_url("rep-reload"), user=ADMIN)
    _, report = slack.wait_for("response/rep-reload", count=2, timeout=30)
    assert "Reload finished" in report.text and "1 loaded" in report.all_text()
    reported = time.monotonic()
    n = 0
    while True:  # B answers the new fact within 10 s of the report
        n += 1
        if "Hungarian battery plant" in _answer(b, slack, "hungarian battery plant", f"rep-after-{n}"):
            break
        assert time.monotonic() - reported < 10, "B did not answer the new fact within 10 s"
    ha, hb = a.health(), b.health()
    assert ha["version"] == hb["version"] == before["version"] + 1
    assert (ha["articles"], ha["facts"]) == (hb["articles"], hb["facts"]) == (before["articles"] + 1, before["facts"] + 2)


def _advisory_lock_held(database_url: str) -> bool:
    import psycopg

    from store.corpus import RELOAD_LOCK

    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                           " AND ((classid::bigint << 32) | objid::bigint) = %s", (RELOAD_LOCK,)).fetchone()
    return row[0] > 0


def test_a_reload_hung_reading_a_file_stops_no_other_reload_and_killing_it_leaves_the_other_working(
        slack_api, database_url, tmp_path):
    slack = slack_api
    a, b = _http_pair(slack, database_url, tmp_path)  # a pair of its own: this test kills one
    try:
        # A's seeds folder gets a file that blocks whoever reads it (a FIFO, like a hung network mount):
        # A's reload stops while reading, before it takes the reload lock
        os.mkfifo(a.folder / "seeds" / "050_hung.txt")
        a.command("/factbot", "reload", slack.response_url("kill-reload"), user=ADMIN)
        assert [c.text for c in slack.wait_for("response/kill-reload")] == ["Reloading…"]
        assert "Seres" in _answer(b, slack, "ipo seres", "kill-during")
        version = b.health()["version"]
        (b.folder / "seeds" / "030_catl.txt").write_text(NEW_SEED, "utf-8")
        b.command("/factbot", "reload", slack.response_url("during-hung"), user=ADMIN)
        _, report = slack.wait_for("response/during-hung", count=2, timeout=30)  # not held up by A's
        assert "Reload finished" in report.text and "1 loaded" in report.all_text()
        assert not _advisory_lock_held(database_url)
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(timeout=10)
        assert "Seres" in _answer(b, slack, "ipo seres", "kill-after")
        (b.folder / "seeds" / "060_byd.txt").write_text(OTHER_SEED, "utf-8")
        b.command("/factbot", "reload", slack.response_url("kill-next"), user=ADMIN)
        _, report = slack.wait_for("response/kill-next", count=2, timeout=30)
        assert "Reload finished" in report.text and "1 loaded" in report.all_text()
        assert b.health()["version"] == version + 2
        assert "Szeged plant" in _answer(b, slack, "byd szeged", "kill-byd")
        assert [c.text for c in slack.calls_to("response/kill-reload")] == ["Reloading…"]  # A died before its report
    finally:
        a.stop()
        b.stop()


def _status(url: str) -> tuple[int, dict] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except (OSError, ValueError):
        return None


def test_readyz_says_503_until_the_index_is_built_from_the_corpus_then_200_with_the_version(
        slack_api, database_url, tmp_path):
    import psycopg

    from store.corpus import RELOAD_LOCK

    # the corpus is empty, so the replica's first job is importing its seeds folder, under the
    # reload lock; while the test holds that lock the replica cannot be ready
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (RELOAD_LOCK,))
        env, folder = _replica(slack_api, database_url, tmp_path, "c")
        port = free_port()
        proc = BotProcess(["serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path)
        try:
            url = f"http://127.0.0.1:{port}/readyz"
            proc.wait_until(lambda: _status(url) is not None, timeout=30)
            status, body = _status(url)
            assert (status, body["ok"], body["ready"], body["version"]) == (503, False, False, None)
            assert body["reason"] == "building the index from the shared corpus"
            assert _status(f"http://127.0.0.1:{port}/healthz")[0] == 200  # alive all the same
            assert not (folder / "factbot.db").exists()
            holder.rollback()  # the lock goes with the transaction
            proc.wait_until(lambda: _status(url)[0] == 200, timeout=30)
            status, body = _status(url)
            assert body["ok"] is True and body["ready"] is True and body["version"] == 1
            assert body["articles"] == 2 and body["facts"] > 20
        finally:
            proc.stop()


def test_factbot_reload_from_the_command_line_goes_into_the_shared_corpus(database_url, tmp_path):
    import subprocess

    from store.state import State
    from tests.slack_standin import factbot_argv

    seeds = copy_seeds(tmp_path / "seeds", ("030_catl.txt", NEW_SEED))
    env = bot_env(None, tmp_path / "cli.db", seeds, DATABASE_URL=database_url)
    result = subprocess.run(factbot_argv("reload", "--json"), env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [f["status"] for f in report["files"]] == ["loaded", "loaded"] and report["articles"] == 3
    state = State.open(database_url)
    try:
        (row,) = state.reloads()
        assert row["actor"].startswith("cli") and row["version"] == 1 and row["loaded"] == 2
    finally:
        state.close()
    env["DATABASE_URL"] = f"postgresql://factbot:pw@127.0.0.1:{free_port()}/factbot"  # nothing listens there
    result = subprocess.run(factbot_argv("reload"), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("Error: reload not run: PostgreSQL is unreachable (")
    assert result.stderr.strip().endswith("; nothing changed") and "Traceback" not in result.stderr


def test_the_database_password_never_reaches_the_log(tmp_path):
    import io
    import logging

    from bot.app import configure_logging
    from bot.config import Settings

    stream = io.StringIO()
    handler = configure_logging(Settings(database_url="postgresql://factbot:s3cr3t-pw@db.internal/factbot"), stream)
    try:
        logging.getLogger("factbot.test").error("cannot reach postgresql://factbot:s3cr3t-pw@db.internal/factbot")
    finally:
        logging.getLogger().removeHandler(handler)
    assert "s3cr3t-pw" not in stream.getvalue() and "[redacted]" in stream.getvalue()
