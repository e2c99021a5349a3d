#!/usr/bin/env python3
"""Load test of `factbot serve`: signed slash commands from concurrent clients, on loopback only.

    .venv/bin/python benchmarks/load.py                 # 300 requests, 16 clients, a 100k-fact index
    .venv/bin/python benchmarks/load.py --selftest      # the stand-in and the signing only (no factbot)
    .venv/bin/python benchmarks/load.py --replicas 2    # 1, then 2 replicas sharing a throwaway PostgreSQL

It starts a stand-in for Slack's Web API on 127.0.0.1 (every method answers {"ok": true}; auth.test
with user_id/bot_id/team_id) that also takes the response_url POSTs, starts `factbot serve` on a
free port (SLACK_API_URL pointing at the stand-in, FACTBOT_DB = a copy of the harness's 100k-fact
index, built with benchmarks/generate.py if missing), waits for GET /healthz, then sends signed
`/factbot <query>` slash commands the way Slack does (form body, X-Slack-Request-Timestamp,
X-Slack-Signature = v0=HMAC-SHA256(secret, "v0:{ts}:{body}")) and waits for every answer on its
response_url. It prints throughput, acknowledgement latency p50/p99, the answer latency (request
sent -> answer at the response_url), the count of 200s and whether every answer arrived; then it
stops the server. Exit status 1 when a request was not answered 200, p99 >= 1 s, or an answer
did not arrive; 2 when the server could not be started.

With --replicas N it runs the same load against 1, 2, ... N `factbot serve` replicas sharing one
PostgreSQL (a throwaway server started with tests/pg.py, or --database-url), each with its own
copy of the index: the slash commands round-robin over the replicas (a load balancer), then as
many app_mention events, each sent to every replica at once; each mention must be answered exactly
once (no duplicate, none lost) and every command answered on its response_url.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

SECRET = "bench-signing-secret-0123456789abcdef"
TOKEN = "xoxb-test"
HOST = "127.0.0.1"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values, p):
    import math
    if not values:
        return None
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))]


# --------------------------------------------------------------------------- Slack stand-in

class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # the default listen backlog of 5 drops SYNs under 16 clients (1 s retries)


class StandIn:
    """Slack's Web API and response_urls, on 127.0.0.1: {"ok": true} to everything."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers: dict[int, list[tuple[float, dict]]] = {}
        self.api_calls: dict[str, int] = {}
        self.posts: dict[str, list[float]] = {}  # chat.postMessage by thread_ts (answers to mentions)
        self.bad = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 15

            def log_message(self, *args):  # quiet
                pass

            def _send(self, obj, status=200):
                data = (obj if isinstance(obj, str) else json.dumps(obj)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain" if isinstance(obj, str) else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def do_GET(self):
                self._handle(b"")

            def do_POST(self):
                self._handle(self._body())

            def _handle(self, body: bytes):
                path = urllib.parse.urlsplit(self.path).path
                if path.startswith("/respond/"):
                    try:
                        n = int(path.rsplit("/", 1)[1])
                        payload = json.loads(body or b"{}")
                    except ValueError:
                        with outer.lock:
                            outer.bad += 1
                        self._send("invalid_payload", 400)
                        return
                    with outer.lock:
                        outer.answers.setdefault(n, []).append((time.perf_counter(), payload))
                    self._send("ok")
                    return
                method = path.rsplit("/", 1)[-1]
                with outer.lock:
                    outer.api_calls[method] = outer.api_calls.get(method, 0) + 1
                if method == "auth.test":
                    self._send({"ok": True, "url": "https://bench.slack.com/", "team": "bench", "user": "factbot",
                                "team_id": "T0BENCH01", "user_id": "U0BOT0001", "bot_id": "B0BOT0001",
                                "is_enterprise_install": False})
                elif method == "chat.postMessage":
                    try:
                        params = json.loads(body) if body.startswith(b"{") else dict(urllib.parse.parse_qsl(body.decode()))
                    except ValueError:
                        params = {}
                    with outer.lock:
                        outer.posts.setdefault(str(params.get("thread_ts")), []).append(time.perf_counter())
                    self._send({"ok": True, "channel": "C0BENCH01", "ts": f"{time.time():.6f}", "message": {}})
                elif method == "users.info":
                    self._send({"ok": True, "user": {"id": "U0BENCH01", "is_admin": False, "is_owner": False}})
                else:
                    self._send({"ok": True})

        self.server = Server((HOST, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.port}/api/"

    def respond_url(self, n: int) -> str:
        return f"http://{HOST}:{self.port}/respond/{n}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------- signing

def slash_body(text: str, response_url: str, n: int, command: str = "/factbot") -> bytes:
    return urllib.parse.urlencode({
        "token": "verification-token-unused", "team_id": "T0BENCH01", "team_domain": "bench",
        "channel_id": "C0BENCH01", "channel_name": "general", "user_id": f"U0BENCH{n % 50:02d}",
        "user_name": f"bench{n % 50}", "command": command, "text": text, "api_app_id": "A0BENCH01",
        "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": f"{1000 + n}.{123456789 + n}.{hashlib.md5(str(n).encode()).hexdigest()}",
    }).encode()


def sign(secret: str, ts: str, body: bytes) -> str:
    base = b"v0:" + ts.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- the index

def ensure_index(size: int, seed: int, workdir: Path) -> tuple[Path, Path]:
    """A private copy of the harness's cached index of `size` facts (built if missing)."""
    import harness
    corpus, manifest, cached = harness.ensure_corpus(size, seed, fresh=False)
    db, _, _ = harness.ensure_factbot(size, seed, corpus, manifest, False, harness.store_hash(), cached)
    workdir.mkdir(parents=True, exist_ok=True)
    copy = workdir / "factbot.db"
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(str(copy) + suffix).unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    dst = sqlite3.connect(str(copy))
    src.backup(dst)
    dst.close()
    src.close()
    return copy, corpus


def queries(n: int, seed: int, size: int) -> list[str]:
    import harness
    qs = [q["q"] for q in harness.build_queries(seed, size) if q["kind"] != "syntax"]
    return [qs[i % len(qs)] for i in range(n)]


# --------------------------------------------------------------------------- the load

def send(port: int, body: bytes, secret: str, timeout: float, path: str = "/slack/events",
         content_type: str = "application/x-www-form-urlencoded") -> tuple[int, bytes]:
    ts = str(int(time.time()))
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
               "X-Slack-Signature": sign(secret, ts, body), "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def run_load(port: int | list[int], standin: StandIn, texts: list[str], clients: int, timeout: float, deadline: float,
             secret: str = SECRET, command: str = "/factbot") -> dict:
    """Signed slash commands; with several ports, request n goes to ports[n % len(ports)] (a round-robin load balancer)."""
    ports = port if isinstance(port, list) else [port]
    jobs: queue.Queue = queue.Queue()
    for n, text in enumerate(texts):
        jobs.put((n, slash_body(text, standin.respond_url(n), n, command)))
    results: dict[int, dict] = {}
    lock = threading.Lock()
    stop_at = time.perf_counter() + deadline

    def worker():
        while time.perf_counter() < stop_at:
            try:
                n, body = jobs.get_nowait()
            except queue.Empty:
                return
            t0 = time.perf_counter()
            try:
                status, data = send(ports[n % len(ports)], body, secret, timeout)
                err = None
            except Exception as exc:  # timeouts, refused connections: counted, not raised
                status, data, err = 0, b"", f"{type(exc).__name__}: {exc}"
            t1 = time.perf_counter()
            with lock:
                results[n] = {"status": status, "sent": t0, "ms": (t1 - t0) * 1000, "error": err,
                              "ack_body": data[:200].decode("utf-8", "replace")}

    t_start = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, stop_at - time.perf_counter()) + timeout + 1)
    wall = time.perf_counter() - t_start

    # every answer goes to its response_url: wait for the stragglers (bounded)
    wanted = {n for n, r in results.items() if r["status"] == 200}
    answer_deadline = time.perf_counter() + max(5.0, timeout)
    while time.perf_counter() < answer_deadline:
        with standin.lock:
            if wanted <= set(standin.answers):
                break
        time.sleep(0.05)
    with standin.lock:
        answers = {n: list(v) for n, v in standin.answers.items()}
    ack_ms = [r["ms"] for r in results.values() if r["status"] == 200]
    answer_ms = [(answers[n][0][0] - results[n]["sent"]) * 1000 for n in results if n in answers]
    statuses: dict[str, int] = {}
    for r in results.values():
        statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
    missing = sorted(set(range(len(texts))) - set(answers))
    duplicates = sorted(n for n, v in answers.items() if len(v) > 1)
    no_match = sum(1 for v in answers.values() if "couldn't find a confident match" in str(v[0][1].get("text", "")))
    return {
        "requests": len(texts), "sent": len(results), "clients": clients, "wall_s": wall,
        "throughput_rps": len(results) / wall if wall else None, "statuses": statuses,
        "ok200": statuses.get("200", 0), "ack_p50_ms": pct(ack_ms, 50), "ack_p99_ms": pct(ack_ms, 99),
        "ack_max_ms": max(ack_ms) if ack_ms else None,
        "all_ms_p99": pct([r["ms"] for r in results.values()], 99),
        "answers": len(answers), "missing_answers": missing[:20], "missing_count": len(missing),
        "duplicate_answers": duplicates[:20], "answer_p50_ms": pct(answer_ms, 50), "answer_p99_ms": pct(answer_ms, 99),
        "no_match_answers": no_match,
        "errors": sorted({r["error"] for r in results.values() if r["error"]})[:5],
        "non200_examples": [{"n": n, "status": r["status"], "body": r["ack_body"]} for n, r in results.items()
                            if r["status"] != 200][:5],
        "sample_answer": (next(iter(answers.values()))[0][1] if answers else None),
    }


def report(res: dict, api_calls: dict) -> bool:
    f = lambda v: "-" if v is None else f"{v:.1f} ms"  # noqa: E731
    print(f"requests        {res['sent']}/{res['requests']} sent by {res['clients']} clients in {res['wall_s']:.2f} s")
    print(f"throughput      {res['throughput_rps']:.1f} requests/s")
    print(f"HTTP statuses   {res['statuses']}  (200s: {res['ok200']})")
    print(f"ack latency     p50 {f(res['ack_p50_ms'])}  p99 {f(res['ack_p99_ms'])}  max {f(res['ack_max_ms'])}")
    print(f"answer latency  p50 {f(res['answer_p50_ms'])}  p99 {f(res['answer_p99_ms'])}  (sent -> response_url)")
    print(f"response_url    {res['answers']}/{res['requests']} answers arrived"
          + ("" if not res["missing_count"] else f"; missing {res['missing_count']}: {res['missing_answers']}")
          + ("" if not res["duplicate_answers"] else f"; answered twice: {res['duplicate_answers']}"))
    print(f"no-match        {res['no_match_answers']} answers were \"I couldn't find a confident match\"")
    print(f"Web API calls   {api_calls}")
    if res["errors"]:
        print(f"client errors   {res['errors']}")
    if res["non200_examples"]:
        print(f"non-200s        {res['non200_examples']}")
    fails = []
    if res["ok200"] != res["requests"]:
        fails.append(f"{res['requests'] - res['ok200']} requests not answered 200")
    p99 = res["all_ms_p99"]
    if p99 is None or p99 >= 1000:
        fails.append(f"p99 {f(p99)} >= 1 s")
    if res["missing_count"]:
        fails.append(f"{res['missing_count']} answers never reached the response_url")
    print("RESULT          " + ("PASS" if not fails else "FAIL: " + "; ".join(fails)))
    return not fails


# --------------------------------------------------------------------------- replicas

def event_body(n: int, text: str) -> bytes:
    ts = f"1700000000.{n:06d}"
    return json.dumps({
        "token": "verification-token-unused", "team_id": "T0BENCH01", "api_app_id": "A0BENCH01",
        "type": "event_callback", "event_id": f"Ev0LOAD{n:06d}", "event_time": int(time.time()),
        "event": {"type": "app_mention", "user": f"U0BENCH{n % 50:02d}", "text": f"<@U0BOT0001> {text}",
                  "ts": ts, "channel": "C0BENCH01", "event_ts": ts},
        "authorizations": [{"team_id": "T0BENCH01", "user_id": "U0BOT0001", "is_bot": True}],
    }).encode()


def run_events(ports: list[int], standin: StandIn, texts: list[str], clients: int, timeout: float,
               deadline: float) -> dict:
    """Every app_mention sent to every replica at about the same moment (as when Slack retries on
    another replica); each must be answered exactly once (chat.postMessage in its thread)."""
    jobs: queue.Queue = queue.Queue()
    for n, text in enumerate(texts):
        body = event_body(n, text)
        for port in ports:  # adjacent in the queue: taken by two clients at once
            jobs.put((n, port, body))
    sent: dict[int, float] = {}
    acks: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    stop_at = time.perf_counter() + deadline

    def worker():
        while time.perf_counter() < stop_at:
            try:
                n, port, body = jobs.get_nowait()
            except queue.Empty:
                return
            t0 = time.perf_counter()
            try:
                status, _ = send(port, body, SECRET, timeout, content_type="application/json")
            except Exception:  # noqa: BLE001 - counted
                status = 0
            t1 = time.perf_counter()
            with lock:
                sent.setdefault(n, t0)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if status == 200:
                    acks.append((t1 - t0) * 1000)

    t_start = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, stop_at - time.perf_counter()) + timeout + 1)
    wall = time.perf_counter() - t_start
    wanted = {f"1700000000.{n:06d}": n for n in range(len(texts))}
    answer_deadline = time.perf_counter() + max(5.0, timeout)
    while time.perf_counter() < answer_deadline:
        with standin.lock:
            if set(wanted) <= set(standin.posts):
                break
        time.sleep(0.05)
    time.sleep(1.0)  # a late second answer would arrive within this
    with standin.lock:
        posts = {k: list(v) for k, v in standin.posts.items() if k in wanted}
    answer_ms = [(v[0] - sent[wanted[k]]) * 1000 for k, v in posts.items() if wanted[k] in sent]
    return {"events": len(texts), "requests": sum(statuses.values()), "wall_s": wall,
            "throughput_rps": sum(statuses.values()) / wall if wall else None, "statuses": statuses,
            "ack_p50_ms": pct(acks, 50), "ack_p99_ms": pct(acks, 99),
            "answer_p50_ms": pct(answer_ms, 50), "answer_p99_ms": pct(answer_ms, 99),
            "answered": len(posts), "lost": len(wanted) - len(posts),
            "duplicates": sum(1 for v in posts.values() if len(v) > 1)}


def start_replicas(count: int, database_url: str, seeds: Path, db: Path, standin: StandIn, workdir: Path,
                   startup_timeout: float) -> list[tuple[subprocess.Popen, int]]:
    """`count` replicas of `factbot serve` sharing `database_url`, each with its own copy of `db`."""
    procs = []
    for r in range(count):
        folder = workdir / f"replica{r}"
        folder.mkdir(parents=True, exist_ok=True)
        copy = folder / "factbot.db"
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(str(copy) + suffix).unlink(missing_ok=True)
        src, dst = sqlite3.connect(f"file:{db}?mode=ro", uri=True), sqlite3.connect(str(copy))
        src.backup(dst)
        dst.close()
        src.close()
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FACTBOT_"))}
        env.update({"SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": standin.api_url,
                    "FACTBOT_DB": str(copy), "FACTBOT_SEEDS": str(seeds), "PORT": str(port),
                    "DATABASE_URL": database_url, "FACTBOT_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
        with open(folder / "server.log", "wb") as out:
            proc = subprocess.Popen(factbot_cmd() + ["serve", "--host", HOST, "--port", str(port)], cwd=str(folder),
                                    env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        procs.append((proc, port))
        health = wait_health(port, proc, startup_timeout)
        # ready, and at the corpus version (the first replica imports the seeds into an empty corpus)
        while health is not None and health.get("version") is None and proc.poll() is None:
            time.sleep(0.2)
            health = wait_health(port, proc, startup_timeout)
        if health is None:
            raise RuntimeError(f"replica {r} did not become healthy; log: {folder / 'server.log'}")
        log(f"replica {r} on {HOST}:{port}: {health}")
    return procs


def replicas_main(a, db: Path, seeds: Path, workdir: Path) -> int:
    """Figures for 1..a.replicas replicas sharing one PostgreSQL (a throwaway server, or --database-url)."""
    sys.path.insert(0, str(ROOT))
    cluster = None
    if not a.database_url:
        from tests import pg  # the tests' throwaway server: initdb + pg_ctl on a temporary folder

        where = pg.bin_dir()
        if where is None:
            log(pg.HOW_TO)
            return 2
        cluster = pg.Cluster(where)
    texts = queries(a.requests, a.seed, a.facts)
    rows, passed = [], True
    try:
        for count in range(1, a.replicas + 1):
            url = a.database_url or cluster.create_database()
            with StandIn() as standin:
                procs = start_replicas(count, url, seeds, db, standin, workdir / f"replicas{count}", a.startup_timeout)
                try:
                    ports = [port for _, port in procs]
                    slash = run_load(ports, standin, texts, a.clients, a.timeout, a.deadline)
                    events = run_events(ports, standin, texts, a.clients, a.timeout, a.deadline)
                finally:
                    for proc, _ in procs:
                        stop(proc)
            ok = (slash["ok200"] == slash["requests"] and not slash["missing_count"] and not slash["duplicate_answers"]
                  and events["lost"] == 0 and events["duplicates"] == 0 and events["statuses"] == {"200": events["requests"]})
            passed &= ok
            rows.append((count, slash, events, ok))
            if a.database_url:
                break  # one database given: the corpus and claims of one run only
    finally:
        if cluster is not None:
            cluster.destroy()
    f = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
    print(f"{a.requests} slash commands from {a.clients} clients, round-robin over the replicas; then {a.requests}"
          " mentions, each sent to every replica at once")
    print("replicas | commands/s | ack p50/p99 ms | answer p50/p99 ms | answered (dup, lost) || mention requests/s"
          " | ack p50/p99 ms | answer p50/p99 ms | answered once (dup, lost)")
    for count, s_, e, ok in rows:
        print(f"{count} | {s_['throughput_rps']:.0f} | {f(s_['ack_p50_ms'])} / {f(s_['ack_p99_ms'])} | "
              f"{f(s_['answer_p50_ms'])} / {f(s_['answer_p99_ms'])} | {s_['answers']}/{s_['requests']} "
              f"({len(s_['duplicate_answers'])}, {s_['missing_count']}) || {e['throughput_rps']:.0f} | "
              f"{f(e['ack_p50_ms'])} / {f(e['ack_p99_ms'])} | {f(e['answer_p50_ms'])} / {f(e['answer_p99_ms'])} | "
              f"{e['answered'] - e['duplicates']}/{e['events']} ({e['duplicates']}, {e['lost']})"
              + ("" if ok else "  FAIL"))
    (workdir / "replicas.json").write_text(json.dumps([{"replicas": c, "slash": {k: v for k, v in s_.items()
                                                         if k != "sample_answer"}, "events": e} for c, s_, e, _ in rows],
                                                       indent=1, ensure_ascii=False))
    print("RESULT          " + ("PASS" if passed else "FAIL"))
    return 0 if passed else 1


# --------------------------------------------------------------------------- selftest

def selftest(a) -> int:
    """The stand-in and the signing, against slack_sdk's own client and verifier and a fake bot."""
    from slack_sdk import WebClient
    from slack_sdk.signature import SignatureVerifier
    from slack_sdk.webhook import WebhookClient

    ok = True
    with StandIn() as standin:
        auth = WebClient(token=TOKEN, base_url=standin.api_url, timeout=5).auth_test()
        ok &= bool(auth["ok"] and auth["user_id"] and auth["bot_id"] and auth["team_id"])
        print(f"auth.test via slack_sdk: ok={auth['ok']} user_id={auth['user_id']} bot_id={auth['bot_id']}")
        r = WebhookClient(standin.respond_url(999), timeout=5).send_dict({"text": "hello"})
        ok &= bool(r.status_code == 200 and 999 in standin.answers)
        print(f"response_url via slack_sdk WebhookClient: {r.status_code} {r.body!r}")
        body = slash_body("ipo seres", standin.respond_url(1), 1)
        ts = str(int(time.time()))
        verifier = SignatureVerifier(SECRET)
        good = verifier.is_valid(body=body.decode(), timestamp=ts, signature=sign(SECRET, ts, body))
        bad = verifier.is_valid(body=body.decode(), timestamp=ts, signature=sign("other", ts, body))
        print(f"signature accepted by slack_sdk's SignatureVerifier: {good}; wrong secret rejected: {not bad}")
        ok &= bool(good and not bad)
        standin.answers.clear()

        # a fake bot: verifies the signature like Bolt, acks, answers on the response_url from a thread
        class Bot(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                data = self.rfile.read(int(self.headers["Content-Length"]))
                valid = verifier.is_valid(body=data.decode(), timestamp=self.headers["X-Slack-Request-Timestamp"],
                                          signature=self.headers["X-Slack-Signature"])
                form = dict(urllib.parse.parse_qsl(data.decode()))
                self.send_response(200 if valid and form.get("command") == "/factbot" else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if valid:
                    url = form["response_url"]
                    threading.Thread(target=lambda: WebhookClient(url, timeout=5).send_dict(
                        {"text": f"answer to {form['text']}", "response_type": "ephemeral"}), daemon=True).start()

        fake = Server((HOST, 0), Bot)
        threading.Thread(target=fake.serve_forever, daemon=True).start()
        try:
            res = run_load(fake.server_address[1], standin, queries(a.requests, a.seed, a.facts), a.clients,
                           a.timeout, a.deadline)
            ok &= report(res, standin.api_calls)
            res_bad = run_load(fake.server_address[1], standin, ["x"] * 3, 2, a.timeout, a.deadline, secret="wrong")
            print(f"wrong signing secret -> statuses {res_bad['statuses']} (expected 401s)")
            ok &= res_bad["statuses"] == {"401": 3}
        finally:
            fake.shutdown()
            fake.server_close()
    print("SELFTEST " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


# --------------------------------------------------------------------------- main

def factbot_cmd() -> list[str]:
    exe = ROOT / ".venv" / "bin" / "factbot"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "from bot.cli import main; main()"]


def wait_health(port: int, proc: subprocess.Popen, timeout: float) -> dict | None:
    stop = time.perf_counter() + timeout
    while time.perf_counter() < stop:
        if proc.poll() is not None:
            return None
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            if resp.status == 200:
                return json.loads(data or b"{}")
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    return None


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="load test of `factbot serve` on loopback (see benchmarks/README.md)")
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--facts", type=int, default=100_000, help="size of the index to serve (harness cache)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", default=None, help="serve this database instead (a copy is not made)")
    ap.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, seconds")
    ap.add_argument("--deadline", type=float, default=120.0, help="the whole load phase, seconds")
    ap.add_argument("--startup-timeout", type=float, default=60.0)
    ap.add_argument("--selftest", action="store_true", help="test the stand-in and signing without factbot")
    ap.add_argument("--replicas", type=int, default=0,
                    help="also run 1..N replicas sharing one PostgreSQL (a throwaway server unless --database-url)")
    ap.add_argument("--database-url", default=None, help="with --replicas: this PostgreSQL instead (one run)")
    a = ap.parse_args(argv)
    if a.selftest:
        return selftest(a)

    workdir = HERE / "out" / "load"
    if a.db:
        db, seeds = Path(a.db).resolve(), workdir / "no-seeds"
    else:
        log(f"preparing a {a.facts}-fact index (benchmarks/out cache)")
        db, seeds = ensure_index(a.facts, a.seed, workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if a.replicas:
        return replicas_main(a, db, seeds, workdir)
    texts = queries(a.requests, a.seed, a.facts)
    port = free_port()
    with StandIn() as standin:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FACTBOT_"))}
        env.update({"SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": standin.api_url,
                    "FACTBOT_DB": str(db), "FACTBOT_SEEDS": str(seeds), "PORT": str(port),
                    "FACTBOT_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", "NO_PROXY": "*"})
        env.pop("HTTP_PROXY", None)
        env.pop("http_proxy", None)
        server_log = workdir / "server.log"
        log(f"starting factbot serve on {HOST}:{port} (log: {server_log.relative_to(ROOT)})")
        with open(server_log, "wb") as out:
            # cwd = workdir: no developer's .env is read
            proc = subprocess.Popen(factbot_cmd() + ["serve", "--host", HOST, "--port", str(port)], cwd=str(workdir),
                                    env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            t0 = time.perf_counter()
            health = wait_health(port, proc, a.startup_timeout)
            if health is None:
                log(f"factbot serve did not become healthy (exit {proc.poll()}); log tail:")
                print(server_log.read_text(errors="replace")[-3000:], file=sys.stderr)
                return 2
            log(f"healthy after {time.perf_counter() - t0:.2f} s: {health}")
            res = run_load(port, standin, texts, a.clients, a.timeout, a.deadline)
            passed = report(res, standin.api_calls)
            if res["sample_answer"] is not None:
                print("sample answer   " + json.dumps(res["sample_answer"], ensure_ascii=False)[:300])
            (workdir / "load.json").write_text(json.dumps({k: v for k, v in res.items()}, indent=1, ensure_ascii=False))
        finally:
            stop(proc)
        tail = server_log.read_text(errors="replace")
        errors = [line for line in tail.splitlines() if " ERROR " in line or "Traceback" in line]
        if errors:
            print(f"server log      {len(errors)} error lines, e.g. {errors[0][:200]}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
