#!/usr/bin/env python3
"""Hostile traffic against `factbot serve`, and network faults against `factbot socket`, on loopback only.

    .venv/bin/python benchmarks/flood.py                     # all five scenarios below, ~2 min
    .venv/bin/python benchmarks/flood.py flood --seconds 30  # one of them: flood, quiet, held, huge, drops
    .venv/bin/python benchmarks/flood.py --json benchmarks/out/flood.json

Each scenario starts the bot as a subprocess (the repository's bundled seeds, a scratch folder) with
Slack's Web API (and its Socket Mode server) stood in on 127.0.0.1 by tests/slack_standin.py, and stops
it at the end. The bot's resident memory (RSS, psutil) is sampled every 50 ms.

- flood: for --seconds, at fixed rates: signed slash commands (each answered on its response_url),
  signed app_mention events each delivered twice (the retry with X-Slack-Retry-Num 1 half a second
  later), unsigned or forged garbage, bodies claiming or streaming 300 MB, and a pool of connections
  that send half a request and wait (reopened as soon as the bot closes one). Every signed request
  must be acked 200 in under a second, every event answered exactly once, every command answered.
- held: 200 connections send half a request and wait; then 20 signed commands one after another,
  the ack time of each.
- huge: for 5 s, 20 clients at once, 10 claiming 300 MB in Content-Length, 10 streaming 300 MB
  chunked, each sending until the bot hangs up and then starting again: the RSS (sampled every 10 ms)
  before and at its peak, how much any request got to send.
- quiet: the flood's signed traffic alone, to compare with.
- drops: `factbot socket` with its default two connections; 5 times, one connection is broken (closed
  without a close frame or a disconnect message) and a slash command sent at once: the time to its ack
  and until the broken connection is replaced; then 3 times a connection goes silent (a relay stops
  passing bytes, closes nothing): the time until it is replaced.

Exit status 1 when a target is missed: a signed ack >= 1 s or not 200, an event answered other than
once, an answer missing, RSS growing more than 50 MiB, or a replacement taking 10 s or more.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from tests.slack_standin import (  # noqa: E402
    APP_TOKEN,
    BOT_USER_ID,
    BotProcess,
    HttpBot,
    Relay,
    SocketModeStandIn,
    WebAPIStandIn,
    bot_env,
    event_callback,
    mention,
    signed_headers,
    slash_command,
)

HUGE = 300 * 1024 * 1024
GARBAGE = [
    (b"{not json", "application/json"), (b"\xff\xfe\x00\xc3\x28", "application/json"), (b"[]", "application/json"),
    (b'"x"', "application/json"), (b"payload=%7Bbad", "application/x-www-form-urlencoded"),
]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class Memory:
    """The RSS of `pid`, sampled every 50 ms in a thread: baseline (at start), peak, last."""

    def __init__(self, pid: int, every: float = 0.05):
        self.process = psutil.Process(pid)
        self.every = every
        self.baseline = self.peak = self.last = self.process.memory_info().rss
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop.wait(self.every):
            try:
                self.last = self.process.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, self.last)

    def done(self) -> dict:
        self.stop.set()
        self.thread.join(timeout=2)
        mib = 1024 * 1024
        return {"rss_before_mib": round(self.baseline / mib, 1), "rss_peak_mib": round(self.peak / mib, 1),
                "rss_after_mib": round(self.last / mib, 1), "rss_growth_mib": round((self.peak - self.baseline) / mib, 1)}


def start_http(work: Path, slack: WebAPIStandIn, **extra: str) -> HttpBot:
    seeds = work / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    env = bot_env(slack, work / "factbot.db", seeds, FACTBOT_LOG_LEVEL="INFO", **extra)
    bot = HttpBot(env, work)
    bot.wait_until(lambda: (bot.health() or {}).get("ready") is True, timeout=60)
    return bot


def post(port: int, body: bytes, headers: dict, timeout: float = 10) -> tuple[int, float]:
    """(status, seconds to the answer) of one POST /slack/events on a new connection; status 0: no answer."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/slack/events", body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.monotonic() - started
    except OSError:
        return 0, time.monotonic() - started
    finally:
        conn.close()


def command(port: int, slack: WebAPIStandIn, name: str) -> tuple[int, float]:
    body = urllib.parse.urlencode(slash_command("/factbot", "seres ipo", slack.response_url(name))).encode()
    return post(port, body, signed_headers(body))


def half_request(port: int) -> socket.socket | None:
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: factbot\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"half\": ")
        return sock
    except OSError:
        return None


def huge_client(port: int, chunked: bool, seconds: float = 15.0) -> tuple[int, bool]:
    """Claim (or stream chunked) 300 MB and send until the bot hangs up: (bytes sent, whether it hung up)."""
    head = b"Transfer-Encoding: chunked\r\n" if chunked else b"Content-Length: %d\r\n" % HUGE
    block = (b"%x\r\n" % 65536 + b"A" * 65536 + b"\r\n") if chunked else b"A" * 65536
    sent, deadline = 0, time.monotonic() + seconds
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: factbot\r\n" + head + b"\r\n")
            while sent < HUGE and time.monotonic() < deadline:
                sock.sendall(block)
                sent += len(block)
            return sent, False
    except OSError:  # reset, broken pipe, or a send that blocked because the bot stopped reading
        return sent, True


# --- scenarios ----------------------------------------------------------------------------


def scenario_flood(work: Path, seconds: float, rates: dict, idle: int) -> dict:
    slack = WebAPIStandIn()
    bot = start_http(work, slack)
    port = bot.port
    memory = Memory(bot.proc.pid)
    stop = threading.Event()
    lock = threading.Lock()
    acks: dict[str, list[tuple[int, float]]] = {k: [] for k in ("command", "event", "retry")}
    statuses: dict[str, Counter] = {k: Counter() for k in ("garbage", "huge")}
    huge_sent: list[int] = []
    events: list[str] = []  # the ts of every event sent (answered in a thread with that thread_ts)
    commands: list[str] = []
    workers: list[threading.Thread] = []
    idle_opened = [0]

    def spawn(target, *args) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)
        t.start()
        with lock:
            workers.append(t)

    def send_command(n: int) -> None:
        name = f"flood-{n}"
        result = command(port, slack, name)
        with lock:
            acks["command"].append(result)
            commands.append(name)

    def send_event(n: int) -> None:
        ts = f"1700009000.{n:06d}"
        payload = json.dumps(event_callback(mention(f"<@{BOT_USER_ID}> seres ipo", ts=ts, channel="C0FLOOD"),
                                            event_id=f"Ev0FLOOD{n:06d}")).encode()
        first = post(port, payload, signed_headers(payload, content_type="application/json"))
        with lock:
            acks["event"].append(first)
            events.append(ts)
        time.sleep(0.5)  # Slack's retry, same event_id
        retry = post(port, payload, signed_headers(payload, content_type="application/json", retry_num=1))
        with lock:
            acks["retry"].append(retry)

    def send_garbage(n: int) -> None:
        body, content_type = GARBAGE[n % len(GARBAGE)]
        headers = {"Content-Type": content_type}
        if n % 2:
            headers = signed_headers(body, content_type=content_type, secret="forged")
        status, _ = post(port, body, headers)
        with lock:
            statuses["garbage"][status] += 1

    def send_huge(n: int) -> None:
        sent, hung_up = huge_client(port, chunked=bool(n % 2), seconds=10)
        with lock:
            statuses["huge"]["cut off" if hung_up else "not cut off"] += 1
            huge_sent.append(sent)

    def hold_idle() -> None:
        held: list[socket.socket] = []
        while not stop.is_set():
            alive = []
            for sock in held:  # drop those the bot closed
                try:
                    sock.setblocking(False)
                    if sock.recv(1) == b"":
                        sock.close()
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    sock.close()
                    continue
                alive.append(sock)
            held = alive
            while len(held) < idle and not stop.is_set():
                sock = half_request(port)
                if sock is None:
                    break
                held.append(sock)
                idle_opened[0] += 1
            stop.wait(0.2)
        for sock in held:
            sock.close()

    holder = threading.Thread(target=hold_idle, daemon=True)
    holder.start()
    time.sleep(1.0)  # the idle pool is in place
    log(f"flood: {seconds:.0f} s at {rates} per second, {idle} idle connections held")
    started = time.monotonic()
    counters = Counter()
    kinds = {"command": send_command, "event": send_event, "garbage": send_garbage, "huge": send_huge}
    tick = 0.05
    next_at = {k: started for k in kinds}
    while time.monotonic() - started < seconds:
        now = time.monotonic()
        for kind, target in kinds.items():
            rate = rates.get(kind, 0)
            while rate and next_at[kind] <= now:
                spawn(target, counters[kind])
                counters[kind] += 1
                next_at[kind] += 1.0 / rate
        time.sleep(tick)
    stop.set()
    for t in list(workers):
        t.join(timeout=30)
    holder.join(timeout=10)
    # every answer: each command on its response_url, each event once in its thread
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answered = Counter(c.params.get("thread_ts") for c in slack.calls_to("chat.postMessage", channel="C0FLOOD"))
        replied = {c.method[len("response/"):] for c in slack.calls_to("response/*")}
        if all(answered[ts] >= 1 for ts in events) and all(name in replied for name in commands):
            break
        time.sleep(0.2)
    time.sleep(1.0)  # a late duplicate would show now
    answered = Counter(c.params.get("thread_ts") for c in slack.calls_to("chat.postMessage", channel="C0FLOOD"))
    replied = {c.method[len("response/"):] for c in slack.calls_to("response/*")}
    figures = memory.done()
    cpu = memory.process.cpu_times()
    figures["bot_cpu_s"] = round(cpu.user + cpu.system, 1)
    output = bot.output()
    if os.environ.get("FLOOD_LOG"):
        print(output, file=sys.stderr)
    bot.stop()
    slack.close()
    signed = [a for kind in ("command", "event", "retry") for a in acks[kind]]
    latencies = [t for status, t in signed]
    result = {
        "seconds": seconds, "rates_per_s": rates, "idle_held": idle, "idle_connections_opened": idle_opened[0],
        "sent": dict(counters), "signed_requests": len(signed),
        "signed_not_200": sum(1 for status, _ in signed if status != 200),
        "ack_p50_ms": round(pct(latencies, 50) * 1000, 1), "ack_p99_ms": round(pct(latencies, 99) * 1000, 1),
        "ack_max_ms": round(max(latencies, default=0) * 1000, 1),
        "acks_over_1s": sum(1 for t in latencies if t >= 1.0),
        "events": len(events), "events_answered_once": sum(1 for ts in events if answered[ts] == 1),
        "events_answered_twice_or_more": sum(1 for ts in events if answered[ts] > 1),
        "commands_answered": sum(1 for name in commands if name in replied), "commands": len(commands),
        "garbage_statuses": dict(statuses["garbage"]), "huge": dict(statuses["huge"]),
        "huge_max_sent_mib": round(max(huge_sent, default=0) / 2**20, 1),
        "rejection_log_lines": sum(1 for line in output.splitlines() if "rejected" in line and "factbot.serve" in line),
        "log_lines": len(output.splitlines()), "tracebacks": output.count("Traceback"),
    } | figures
    result["ok"] = (result["signed_not_200"] == 0 and result["acks_over_1s"] == 0
                    and result["events_answered_once"] == result["events"]
                    and result["commands_answered"] == result["commands"] and result["tracebacks"] == 0
                    and result["rss_growth_mib"] < 50)
    return result


def scenario_held(work: Path, count: int = 200, commands: int = 20) -> dict:
    slack = WebAPIStandIn()
    bot = start_http(work, slack)
    held = [s for s in (half_request(bot.port) for _ in range(count)) if s is not None]
    times = []
    statuses = Counter()
    for n in range(commands):
        status, took = command(bot.port, slack, f"held-{n}")
        statuses[status] += 1
        times.append(took)
    still_open = 0
    for sock in held:
        sock.setblocking(False)
        try:
            if sock.recv(1) != b"":
                still_open += 1
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass
        sock.close()
    output = bot.output()
    bot.stop()
    slack.close()
    if os.environ.get("FLOOD_LOG"):
        print(output, file=sys.stderr)
    result = {"half_requests_held": len(held), "still_open_after_the_commands": still_open,
              "commands": commands, "statuses": dict(statuses), "ack_p50_ms": round(pct(times, 50) * 1000, 1),
              "ack_max_ms": round(max(times) * 1000, 1)}
    result["ok"] = statuses[200] == commands and max(times) < 1.0 and len(held) == count
    return result


def scenario_huge(work: Path, clients: int = 20, seconds: float = 5.0) -> dict:
    slack = WebAPIStandIn()
    bot = start_http(work, slack)
    memory = Memory(bot.proc.pid, every=0.01)
    results: list[tuple[int, bool]] = []
    lock = threading.Lock()
    started = time.monotonic()

    def run(chunked: bool) -> None:  # one huge request after another, for `seconds`
        while time.monotonic() - started < seconds:
            r = huge_client(bot.port, chunked)
            with lock:
                results.append(r)

    threads = [threading.Thread(target=run, args=(n % 2 == 1,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    took = time.monotonic() - started
    status, ack = command(bot.port, slack, "after-huge")
    figures = memory.done()
    bot.stop()
    slack.close()
    result = {"clients_at_once": clients, "requests": len(results), "cut_off": sum(1 for _, hung_up in results if hung_up),
              "max_sent_mib": round(max(s for s, _ in results) / 2**20, 1), "seconds": round(took, 2),
              "command_after": status} | figures
    result["ok"] = result["cut_off"] == len(results) and result["rss_growth_mib"] < 50 and status == 200
    return result


def scenario_drops(work: Path, drops: int = 5, silences: int = 3) -> dict:
    slack, server = WebAPIStandIn(), SocketModeStandIn()
    relay = Relay(server.port)  # every connection through it, so that one can go silent
    slack.ws_url = f"ws://127.0.0.1:{relay.port}/link?ticket=flood"
    seeds = work / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    env = bot_env(slack, work / "factbot.db", seeds, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET="",
                  FACTBOT_LOG_LEVEL="INFO")
    proc = BotProcess(["socket"], env, work)
    acked, replaced, silent = [], [], []
    try:
        proc.wait_until(lambda: len(server.opened_at) >= 2, timeout=60)
        for n in range(drops):
            live = [i for i, ended in enumerate(server.ended) if not ended.is_set()]
            victim = live[n % len(live)]  # the older and the newer connection in turn
            opened = len(server.opened_at)
            server.drop(victim)
            dropped = time.monotonic()
            envelope = {"envelope_id": str(uuid.uuid4()), "type": "slash_commands", "accepts_response_payload": True,
                        "payload": slash_command("/ipo", "seres", slack.response_url(f"drop-{n}"))}
            server.send(envelope)
            server.wait_ack(envelope["envelope_id"], timeout=15)
            acked.append(time.monotonic() - dropped)
            server.wait_connections(opened + 1, timeout=15)
            replaced.append(server.opened_at[opened] - dropped)
            slack.wait_for(f"response/drop-{n}")
        for n in range(silences):  # the path dies without FIN or RST: only the bot's pings can tell
            opened = len(server.opened_at)
            with relay.lock:
                victim = max(i for i, (_, _, frozen) in enumerate(relay.pairs) if not frozen.is_set())
            relay.freeze(victim)
            frozen_at = time.monotonic()
            server.wait_connections(opened + 1, timeout=20)
            silent.append(server.opened_at[opened] - frozen_at)
    finally:
        output = proc.output()
        proc.stop()
        relay.close()
        server.close()
        slack.close()
    result = {"drops": drops, "ack_after_drop_max_ms": round(max(acked) * 1000, 1),
              "replaced_after_ms": [round(t * 1000) for t in replaced], "replaced_max_ms": round(max(replaced) * 1000),
              "silences": silences, "replaced_after_silence_ms": [round(t * 1000) for t in silent],
              "tracebacks": output.count("Traceback")}
    result["ok"] = max(replaced + silent) < 10 and max(acked) < 1.0 and result["tracebacks"] == 0
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", metavar="scenario",
                        help="flood, quiet, held, huge, drops (default: all of them)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the flood")
    parser.add_argument("--commands", type=float, default=10, help="signed slash commands per second")
    parser.add_argument("--events", type=float, default=5, help="signed events per second (each also retried)")
    parser.add_argument("--garbage", type=float, default=50, help="unsigned or forged bodies per second")
    parser.add_argument("--huge", type=float, default=2, help="300 MB bodies per second")
    parser.add_argument("--idle", type=int, default=300, help="half-request connections held during the flood")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    args.scenarios = args.scenarios or ["held", "huge", "drops", "quiet", "flood"]
    unknown = set(args.scenarios) - {"flood", "quiet", "held", "huge", "drops"}
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    results = {}
    for name in args.scenarios:
        with tempfile.TemporaryDirectory(prefix=f"factbot-flood-{name}-") as tmp:
            work = Path(tmp)
            log(f"scenario {name}")
            if name in ("flood", "quiet"):  # quiet: the same signed traffic, nothing hostile
                rates = {"command": args.commands, "event": args.events, "garbage": args.garbage, "huge": args.huge}
                if name == "quiet":
                    rates.update(garbage=0, huge=0)
                results[name] = scenario_flood(work, args.seconds, rates, args.idle if name == "flood" else 0)
            elif name == "held":
                results[name] = scenario_held(work)
            elif name == "huge":
                results[name] = scenario_huge(work)
            else:
                results[name] = scenario_drops(work)
            print(json.dumps({name: results[name]}, indent=1), flush=True)
    results["machine"] = {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))
    failed = [name for name, r in results.items() if isinstance(r, dict) and r.get("ok") is False]
    if failed:
        log(f"targets missed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
