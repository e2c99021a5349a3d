"""Stand-ins for Slack in tests: a Web API server, a Socket Mode server, signed requests, the bot as a subprocess.

The approach follows slack-sdk's and slack-bolt's own test suites (a real HTTP server in a thread
that records what the client sent; a real WebSocket server speaking Socket Mode envelopes), on
127.0.0.1 with ephemeral ports, every wait bounded by a timeout. Nothing here imports the store.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parent.parent
BOT_TOKEN = "xoxb-1111-2222-STANDINbottoken"
APP_TOKEN = "xapp-1-A111-3333-STANDINapptoken"
SIGNING_SECRET = "standin-signing-secret-0123456789abcdef"
BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0STANDIN"
WAIT = 10.0  # the longest any test waits for one thing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the Web API stand-in -----------------------------------------------------------------


@dataclass
class Call:
    """One request the stand-in received."""

    method: str  # API method ("chat.postMessage") or "response/<name>" for response_url POSTs
    params: dict
    headers: dict
    status: int = 200  # 0: the stand-in read the request and closed the connection without answering
    at: float = field(default_factory=time.monotonic)  # when the request arrived
    answered_at: float | None = None  # when the answer went out (None while it is held back, or dropped)

    @property
    def blocks(self) -> list:
        blocks = self.params.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else blocks

    @property
    def text(self) -> str:
        return str(self.params.get("text") or "")

    def all_text(self) -> str:
        """The fallback text and every text in the blocks, joined (for asserting on content)."""
        return self.text + "\n" + json.dumps(self.blocks, ensure_ascii=False)


# assistant.threads.*: the arguments Slack requires of each (docs.slack.dev/reference/methods), checked
ASSISTANT_METHODS = {
    "assistant.threads.setStatus": ("channel_id", "thread_ts", "status"),
    "assistant.threads.setSuggestedPrompts": ("channel_id", "prompts"),
    "assistant.threads.setTitle": ("channel_id", "thread_ts", "title"),
}
MAX_SUGGESTED_PROMPTS = 4


def _assistant_answer(method: str, params: dict) -> dict:
    """Slack's answer to an assistant.threads call: invalid_arguments when a required one is missing
    (an empty status is allowed: it clears the status), or when the prompts are not 1 to 4 of
    {"title", "message"}."""
    for name in ASSISTANT_METHODS[method]:
        if name not in params or (params[name] in ("", None) and name != "status"):
            return {"ok": False, "error": "invalid_arguments", "missing": name}
    if method == "assistant.threads.setSuggestedPrompts":
        prompts = params["prompts"]
        prompts = json.loads(prompts) if isinstance(prompts, str) else prompts
        if (not isinstance(prompts, list) or not 1 <= len(prompts) <= MAX_SUGGESTED_PROMPTS
                or not all(isinstance(p, dict) and p.get("title") and p.get("message") for p in prompts)):
            return {"ok": False, "error": "invalid_arguments"}
    return {"ok": True}


class WebAPIStandIn:
    """A stand-in for https://slack.com/api/ that records every call and answers like Slack.

    base_url goes into SLACK_API_URL; response_url(name) gives a response_url that lands here too.
    fail(method, times, status, retry_after) makes the next `times` calls to `method` fail (status 0:
    the request is read, as if Slack acted on it, and the connection closed without an answer);
    slow(method, seconds) holds back the answer to the next call.
    add_file(...) makes a file that files.info describes; its url_private_download serves the bytes
    only to a request carrying the bot token (each download is recorded as "download/<file id>").
    views.publish keeps the latest view per user in `views`.
    """

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        self.failures: dict[str, list[tuple[int, int | None]]] = {}
        self.delays: dict[str, list[float]] = {}
        self.canned: dict[str, list[dict]] = {}
        self.users: dict[str, dict] = {}
        self.files: dict[str, dict] = {}
        self.views: dict[str, dict] = {}
        self.ws_url: str | None = None
        self._ts = 0
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                parsed = urllib.parse.urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                params: dict = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}
                if raw.startswith("{"):
                    params.update(json.loads(raw))
                elif raw:
                    params.update({k: v[0] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()})
                headers = {k.lower(): v for k, v in self.headers.items()}
                if parsed.path.startswith("/api/"):
                    method = parsed.path[len("/api/"):]
                elif parsed.path.startswith("/response/"):
                    method = "response/" + parsed.path[len("/response/"):]
                elif parsed.path.startswith("/files-pri/"):
                    method = "download/" + parsed.path[len("/files-pri/"):].split("/")[0]
                else:
                    method = parsed.path
                received = time.monotonic()
                if method.startswith("download/"):
                    status, extra_headers, body = standin._download(method[len("download/"):], headers)
                else:
                    status, extra_headers, body = standin._answer(method, params, headers)
                call = Call(method, params, headers, status, at=received)
                with standin.lock:
                    standin.calls.append(call)
                    delays = standin.delays.get(method)
                    delay = delays.pop(0) if delays else 0.0
                if status == 0:  # Slack (or a proxy) took the request and the connection broke
                    self.close_connection = True
                    return
                if delay:
                    time.sleep(delay)  # a slow answer: what the client sends meanwhile is still recorded
                call.answered_at = time.monotonic()
                data = body if isinstance(body, bytes) else body.encode("utf-8")
                self.send_response(status)
                for k, v in extra_headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    # -- configuration --

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def fail(self, method: str, times: int = 1, status: int = 500, retry_after: int | None = None) -> None:
        with self.lock:
            self.failures.setdefault(method, []).extend([(status, retry_after)] * times)

    def slow(self, method: str, seconds: float, times: int = 1) -> None:
        """Answer the next `times` calls to `method` only after `seconds` (what else arrives meanwhile is recorded)."""
        with self.lock:
            self.delays.setdefault(method, []).extend([seconds] * times)

    def add_file(self, file_id: str, name: str, content: bytes, *, mimetype: str = "text/plain",
                 filetype: str = "text", user: str = "U0ASKER") -> dict:
        """A file as Slack holds it; the dict is what files.info says of it (and what an event carries)."""
        url = f"http://127.0.0.1:{self.port}/files-pri/{file_id}/{urllib.parse.quote(name)}"
        info = {"id": file_id, "name": name, "title": name, "mimetype": mimetype, "filetype": filetype,
                "size": len(content), "user": user, "mode": "hosted", "url_private": url,
                "url_private_download": url + "?download=1"}
        with self.lock:
            self.files[file_id] = dict(info, content=content)
        return info

    def answer_next(self, method: str, body: dict) -> None:
        """Answer the next call to `method` with `body` (HTTP 200), e.g. {"ok": False, "error": "not_in_channel"}."""
        with self.lock:
            self.canned.setdefault(method, []).append(body)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.failures.clear()
            self.delays.clear()
            self.canned.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    # -- what was received --

    def calls_to(self, method: str, **where: Any) -> list[Call]:
        with self.lock:
            calls = list(self.calls)
        return [c for c in calls if (c.method == method or (method.endswith("*") and c.method.startswith(method[:-1])))
                and all(c.params.get(k) == v for k, v in where.items())]

    def wait_for(self, method: str, count: int = 1, timeout: float = WAIT, **where: Any) -> list[Call]:
        """The calls to `method` (matching `where`) once there are at least `count`; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            calls = [c for c in self.calls_to(method, **where) if c.status == 200]
            if len(calls) >= count:
                return calls
            if time.monotonic() > deadline:
                with self.lock:
                    seen = [(c.method, c.status) for c in self.calls]
                raise AssertionError(f"expected {count} call(s) to {method} {where or ''} within {timeout}s; saw {seen}")
            time.sleep(0.02)

    # -- answers --

    def _answer(self, method: str, params: dict, headers: dict) -> tuple[int, dict, str]:
        with self.lock:
            pending = self.failures.get(method)
            failure = pending.pop(0) if pending else None
            canned = self.canned.get(method)
            canned_body = canned.pop(0) if canned else None
        if failure is not None:
            status, retry_after = failure
            extra = {"Content-Type": "application/json"}
            if retry_after is not None:
                extra["Retry-After"] = str(retry_after)
            error = "ratelimited" if status == 429 else "internal_error"
            return status, extra, json.dumps({"ok": False, "error": error})
        if method.startswith("response/"):
            return 200, {"Content-Type": "text/html"}, "ok"
        auth = headers.get("authorization", "")
        wanted = "Bearer xapp-" if method == "apps.connections.open" else "Bearer xoxb-"
        if not auth.startswith(wanted):
            return 200, {"Content-Type": "application/json"}, json.dumps({"ok": False, "error": "not_authed"})
        if canned_body is not None:
            return 200, {"Content-Type": "application/json"}, json.dumps(canned_body)
        body: dict = {"ok": True}
        if method == "auth.test":
            body.update({"url": "https://standin.slack.com/", "team": "Stand-in", "user": "factbot",
                         "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False})
        elif method == "chat.postMessage":
            with self.lock:
                self._ts += 1
                ts = f"1700000000.{self._ts:06d}"
            body.update({"channel": params.get("channel"), "ts": ts,
                         "message": {"text": params.get("text"), "ts": ts, "bot_id": BOT_ID}})
        elif method == "users.info":
            user = self.users.get(params.get("user", ""))
            body = {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        elif method == "files.info":
            with self.lock:
                found = self.files.get(params.get("file", ""))
            info = {k: v for k, v in found.items() if k != "content"} if found else None
            body = {"ok": True, "file": info} if info else {"ok": False, "error": "file_not_found"}
        elif method == "views.publish":
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            with self.lock:
                self.views[params.get("user_id", "")] = view
            body = {"ok": True, "view": dict(view or {}, id="V0STANDIN")}
        elif method == "apps.connections.open":
            body = {"ok": True, "url": self.ws_url} if self.ws_url else {"ok": False, "error": "no_socket"}
        elif method in ASSISTANT_METHODS:
            body = _assistant_answer(method, params)
        return 200, {"Content-Type": "application/json"}, json.dumps(body)


    def _download(self, file_id: str, headers: dict) -> tuple[int, dict, bytes | str]:
        """A file download: the bytes for the bot token; Slack's sign-in page (HTML) for anyone else."""
        with self.lock:
            found = self.files.get(file_id)
        if headers.get("authorization", "") != f"Bearer {BOT_TOKEN}" or found is None:
            return 200, {"Content-Type": "text/html"}, "<!DOCTYPE html><html><body>Sign in to Slack</body></html>"
        return 200, {"Content-Type": "application/octet-stream"}, found["content"]


# --- Socket Mode stand-in -----------------------------------------------------------------


class SocketModeStandIn:
    """A WebSocket server speaking Socket Mode: `hello` on connect, then envelopes; records the acks.

    drop(n) breaks the n-th connection as a network fault does: the TCP connection closes with no
    WebSocket close frame and no `disconnect` message; `opened_at` says when each connection came."""

    def __init__(self) -> None:
        from websockets.sync.server import serve

        self.outbox: "queue.Queue[dict]" = queue.Queue()  # to whichever connection is free, as Slack does
        self.outboxes: list["queue.Queue[dict]"] = []  # one per connection, in the order they connected
        self.opened_at: list[float] = []  # time.monotonic() of each connection's hello
        self.drops: list[threading.Event] = []  # set: break that connection
        self.ended: list[threading.Event] = []  # set once that connection's loop is over
        self.acks: list[dict] = []
        self.received: list[Any] = []
        self.connected = threading.Event()
        self.lock = threading.Lock()
        self.server = serve(self._connection, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link?ticket=standin"

    def _connection(self, ws: Any) -> None:
        ws.send(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A111"},
                            "debug_info": {"host": "standin", "approximate_connection_time": 3600}}))
        own: "queue.Queue[dict]" = queue.Queue()
        drop, ended = threading.Event(), threading.Event()
        with self.lock:
            self.outboxes.append(own)
            self.opened_at.append(time.monotonic())
            self.drops.append(drop)
            self.ended.append(ended)
        self.connected.set()
        try:
            self._serve_connection(ws, own, drop)
        finally:
            ended.set()

    def _serve_connection(self, ws: Any, own: "queue.Queue[dict]", drop: threading.Event) -> None:
        while True:
            if drop.is_set():  # the network fault: no close frame, no disconnect message
                try:
                    ws.socket.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            for box in (own, self.outbox):
                try:
                    while True:
                        ws.send(json.dumps(box.get_nowait()))
                except queue.Empty:
                    pass
            try:
                message = ws.recv(timeout=0.05)
            except TimeoutError:
                continue
            except Exception:  # connection closed
                return
            try:
                data = json.loads(message)
            except (TypeError, ValueError):
                continue
            with self.lock:
                self.received.append(data)
                if isinstance(data, dict) and "envelope_id" in data:
                    self.acks.append(data)

    def send(self, envelope: dict, connection: int | None = None) -> str:
        """Send `envelope` to one connection: the `connection`-th to connect, or any free one."""
        if connection is None:
            self.outbox.put(envelope)
        else:
            with self.lock:
                box = self.outboxes[connection]
            box.put(envelope)
        return envelope["envelope_id"]

    def drop(self, connection: int) -> None:
        """Break the `connection`-th connection (see the class) and wait until it no longer takes envelopes."""
        with self.lock:
            drop, ended = self.drops[connection], self.ended[connection]
        drop.set()
        if not ended.wait(WAIT):
            raise AssertionError(f"Socket Mode connection {connection} did not end within {WAIT}s")

    def wait_connections(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.outboxes) >= count:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} Socket Mode connections expected within {timeout}s")
            time.sleep(0.05)

    def wait_ack(self, envelope_id: str, timeout: float = WAIT) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for ack in self.acks:
                    if ack.get("envelope_id") == envelope_id:
                        return ack
            time.sleep(0.02)
        raise AssertionError(f"no ack for envelope {envelope_id} within {timeout}s")

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


class Relay:
    """A TCP relay on 127.0.0.1 to `port`, whose connections can be frozen: from freeze(n) on, no byte passes
    either way on the n-th connection and neither side is closed, as when a network path dies silently
    (no FIN, no RST: only the peers' own timeouts can tell)."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.pairs: list[tuple[socket.socket, socket.socket, threading.Event]] = []
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.acceptor = threading.Thread(target=self._accept, name="relay-accept", daemon=True)
        self.acceptor.start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=WAIT)
            except OSError:
                return
            frozen = threading.Event()
            with self.lock:
                self.pairs.append((client, upstream, frozen))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst, frozen), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, frozen: threading.Event) -> None:
        src.settimeout(0.05)
        while not self.closed.is_set():
            if frozen.is_set():  # hold both sockets open, pass nothing
                time.sleep(0.05)
                continue
            try:
                data = src.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            try:
                dst.sendall(data)
            except OSError:
                break
        if not frozen.is_set():
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def freeze(self, connection: int) -> None:
        with self.lock:
            self.pairs[connection][2].set()

    def close(self) -> None:
        self.closed.set()
        try:  # wakes the accept() blocked in the other thread (close() alone does not)
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            for client, upstream, _ in self.pairs:
                client.close()
                upstream.close()
        self.acceptor.join(timeout=5)
        assert not self.acceptor.is_alive(), "the relay's accept loop did not stop"


# --- what Slack sends ---------------------------------------------------------------------


def signed_headers(body: str | bytes, timestamp: int | None = None, secret: str = SIGNING_SECRET,
                   content_type: str = "application/x-www-form-urlencoded", retry_num: int | None = None) -> dict:
    """Headers exactly as Slack signs a request: v0=HMAC-SHA256(secret, "v0:{ts}:{body}") (bytes: signed as
    they are, even when they are not UTF-8)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    if isinstance(body, bytes):
        digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        signature = "v0=" + digest
    else:
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


def slash_command(command: str, text: str, response_url: str, user: str = "U0ASKER", channel: str = "C0GENERAL") -> dict:
    return {
        "token": "legacy-verification-token", "team_id": TEAM_ID, "team_domain": "standin",
        "channel_id": channel, "channel_name": "general", "user_id": user, "user_name": "asker",
        "command": command, "text": text, "api_app_id": "A111", "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": "111.222.standin",
    }


_event_counter = [0]


def event_callback(event: dict, event_id: str | None = None) -> dict:
    _event_counter[0] += 1
    return {
        "token": "legacy-verification-token", "team_id": TEAM_ID, "api_app_id": "A111", "type": "event_callback",
        "event_id": event_id or f"Ev{int(time.time() * 1000)}{_event_counter[0]:04d}",
        "event_time": int(time.time()), "event": event,
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True,
                            "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    }


def mention(text: str, ts: str, thread_ts: str | None = None, user: str = "U0ASKER", channel: str = "C0GENERAL") -> dict:
    event = {"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts,
             "team": TEAM_ID}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def direct_message(text: str, ts: str, user: str = "U0ASKER", channel: str = "D0ASKER", **extra: Any) -> dict:
    event = {"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts, "channel": channel,
             "event_ts": ts, "team": TEAM_ID}
    event.update(extra)
    return event


def block_action(action_id: str, value: str, response_url: str, user: str = "U0ASKER", channel: str = "C0GENERAL",
                 ephemeral: bool = True, message: dict | None = None) -> dict:
    container = {"type": "message", "message_ts": (message or {}).get("ts", "1700000000.000001"),
                 "channel_id": channel, "is_ephemeral": ephemeral}
    payload = {
        "type": "block_actions", "team": {"id": TEAM_ID, "domain": "standin"},
        "user": {"id": user, "username": "asker", "name": "asker", "team_id": TEAM_ID},
        "api_app_id": "A111", "token": "legacy-verification-token", "container": container,
        "trigger_id": "111.222.standin", "channel": {"id": channel, "name": "general"},
        "response_url": response_url,
        "actions": [{"type": "button", "action_id": action_id, "block_id": "factbot_buttons", "value": value,
                     "text": {"type": "plain_text", "text": "button"}, "action_ts": str(time.time())}],
    }
    if message is not None:
        payload["message"] = message
    return payload


def message_shortcut(callback_id: str, text: str, response_url: str, user: str = "U0ASKER",
                     channel: str = "C0GENERAL", ts: str = "1700000000.000100") -> dict:
    """A message shortcut ("message_action") on a message of someone else's with `text`."""
    return {
        "type": "message_action", "token": "legacy-verification-token", "action_ts": str(time.time()),
        "team": {"id": TEAM_ID, "domain": "standin"}, "user": {"id": user, "name": "asker", "team_id": TEAM_ID},
        "channel": {"id": channel, "name": "general"}, "is_enterprise_install": False, "enterprise": None,
        "callback_id": callback_id, "trigger_id": "111.222.standin", "response_url": response_url,
        "message_ts": ts, "message": {"type": "message", "user": "U0AUTHOR", "ts": ts, "text": text},
    }


def home_opened(user: str, tab: str = "home") -> dict:
    return {"type": "app_home_opened", "user": user, "channel": f"D0{user[1:]}", "tab": tab,
            "event_ts": str(time.time())}


def home_action(action_id: str, value: str, user: str) -> dict:
    """A button clicked on the App Home tab (no response_url, no channel: a view)."""
    return {
        "type": "block_actions", "team": {"id": TEAM_ID, "domain": "standin"},
        "user": {"id": user, "username": "someone", "name": "someone", "team_id": TEAM_ID},
        "api_app_id": "A111", "token": "legacy-verification-token", "trigger_id": "111.222.standin",
        "container": {"type": "view", "view_id": "V0STANDIN"},
        "view": {"id": "V0STANDIN", "type": "home", "team_id": TEAM_ID, "blocks": []},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "factbot_home_admin", "value": value,
                     "text": {"type": "plain_text", "text": "button"}, "action_ts": str(time.time())}],
    }


# --- the bot as a subprocess --------------------------------------------------------------


def factbot_argv(*args: str) -> list[str]:
    """The installed `factbot` console script, or the same entry point through the venv's python."""
    script = Path(sys.executable).with_name("factbot")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from bot.cli import main; main()", *args]


def bot_env(standin: WebAPIStandIn | None, db: Path, seeds: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FACTBOT_"))}
    env.update({
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "FACTBOT_DB": str(db), "FACTBOT_SEEDS": str(seeds), "FACTBOT_LOG_LEVEL": "DEBUG",
        "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT),
        # a test's own reloads only: one that changes the seeds folder says so with FACTBOT_WATCH=on
        "FACTBOT_WATCH": "off",
    })
    if standin is not None:
        env["SLACK_API_URL"] = standin.base_url
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


class BotProcess:
    """`factbot <args>` in a subprocess; output goes to a file (read it with .output())."""

    def __init__(self, args: list[str], env: dict, workdir: Path):
        self.log_path = workdir / f"factbot-{args[0]}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")
        # cwd is a scratch folder so that no developer .env is picked up
        self.proc = subprocess.Popen(factbot_argv(*args), env=env, cwd=workdir, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text("utf-8", errors="replace")

    def wait_until(self, ready: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"factbot exited with {self.proc.returncode}:\n{self.output()[-3000:]}")
            if ready():
                return
            time.sleep(0.05)
        raise AssertionError(f"factbot not ready within {timeout}s:\n{self.output()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


class HttpBot(BotProcess):
    """`factbot serve` on a free loopback port, ready once GET /readyz answers 200."""

    def __init__(self, env: dict, workdir: Path):
        self.port = free_port()
        env = dict(env, PORT=str(self.port))
        super().__init__(["serve", "--host", "127.0.0.1"], env, workdir)
        self.wait_until(lambda: self.health() is not None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def health(self) -> dict | None:
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=1) as resp:
                return json.loads(resp.read())
        except (OSError, ValueError):
            return None

    def post(self, body: str | bytes, headers: dict, path: str = "/slack/events") -> tuple[int, str]:
        """POST `body` (bytes as they are, even when they are not UTF-8): the status and the answer's text."""
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=WAIT) as resp:
                return resp.status, resp.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", errors="replace")

    def command(self, command: str, text: str, response_url: str, **kw: Any) -> tuple[int, str]:
        body = urllib.parse.urlencode(slash_command(command, text, response_url, **kw))
        return self.post(body, signed_headers(body))

    def event(self, payload: dict, retry_num: int | None = None) -> tuple[int, str]:
        body = json.dumps(payload)
        return self.post(body, signed_headers(body, content_type="application/json", retry_num=retry_num))

    def action(self, payload: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.post(body, signed_headers(body))


def reload_count(db: Path) -> int:
    """How many reloads the bot's database records (its audit trail), to prove none happened."""
    from store import Index  # the store only where a test asks for it

    index = Index(db)
    try:
        return len(index.reloads(limit=1000))
    finally:
        index.close()


def copy_seeds(dest: Path, *extra: tuple[str, str]) -> Path:
    """The repository's test seed (two articles) in `dest`, plus (name, text) extra files."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "seeds" / "000_d15f99b5a61b95c3.txt", dest / "000_d15f99b5a61b95c3.txt")
    for name, text in extra:
        (dest / name).write_text(text, "utf-8")
    return dest


_MARKUP = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|<#([CG][A-Z0-9]+)(?:\|[^>]*)?>|<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>"
                     r"|<!(here|channel|everyone)(?:\|[^>]*)?>|<((?:https?|mailto):[^|>]*)(?:\|([^>]*))?>"
                     r"|(?<![\w:]):([a-z0-9_+'-]+):")


def rich_text_blocks(text: str) -> list[dict]:
    """The rich_text block Slack's client sends along with a message `text` (mentions, channels,
    user groups, broadcasts, links and emoji as their own elements; the rest as text elements)."""
    elements: list[dict] = []
    pos = 0

    def plain(chunk: str) -> None:
        chunk = chunk.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        if chunk:
            elements.append({"type": "text", "text": chunk})

    for m in _MARKUP.finditer(text):
        plain(text[pos:m.start()])
        user, channel, group, broadcast, url, label, emoji = m.groups()
        if user:
            elements.append({"type": "user", "user_id": user})
        elif channel:
            elements.append({"type": "channel", "channel_id": channel})
        elif group:
            elements.append({"type": "usergroup", "usergroup_id": group})
        elif broadcast:
            elements.append({"type": "broadcast", "range": broadcast})
        elif url:
            elements.append({"type": "link", "url": url, **({"text": label} if label else {})})
        else:
            elements.append({"type": "emoji", "name": emoji})
        pos = m.end()
    plain(text[pos:])
    return [{"type": "rich_text", "block_id": "rt1", "elements": [{"type": "rich_text_section", "elements": elements}]}]


def with_rich_text(event: dict) -> dict:
    """`event` with the rich_text blocks Slack sends for its text."""
    return event | {"blocks": rich_text_blocks(event.get("text") or "")}
