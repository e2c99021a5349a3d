"""HTTP mode: Bolt's WSGI adapter on waitress, behind a front that hostile traffic cannot get past.

POST /slack/events   slash commands, events and interactivity: the body is capped (413), its signature
                     checked on the raw bytes (401), then its shape (400), all before Bolt sees it
GET  /healthz        liveness: 200 while the process answers (bot/health.py)
GET  /readyz         readiness for load balancers: 503 with the reason until factbot can answer, then
                     200 and {"ok": true, "ready": true, "version": v, "articles": n, "facts": m, ...}
GET  /metrics        Prometheus text (bot/metrics.py)
"""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import math
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl

from slack_bolt import App, BoltContext
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context
from slack_bolt.response import BoltResponse

log = logging.getLogger("factbot.serve")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class FactbotRequestHandler(SlackRequestHandler):
    """Bolt's WSGI adapter, with a fix for form bodies that merely contain the word "payload".

    slack-bolt 1.30 (slack_bolt.request.internals.parse_body) takes any form-encoded body in which
    the text "payload" occurs for an interactivity payload; a slash command such as
    `/factbot hostile payload` then parses as {} and is dropped as unhandled. Here such a body
    is parsed as the plain form it is. Signature verification still runs on the raw body.
    """

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        bolt_request = BoltRequest(body=request.get_body(), query=request.query_string,
                                   headers=request.get_headers())
        raw = bolt_request.raw_body
        if not bolt_request.body and raw and not raw.lstrip().startswith("{") and "payload" in raw:
            form = dict(parse_qsl(raw, keep_blank_values=True))
            if "payload" not in form:
                bolt_request.body = form
                bolt_request.context = build_context(BoltContext({}), form)
        return self.app.dispatch(bolt_request)


@dataclass(frozen=True)
class Limits:
    """What one `factbot serve` process lets a client do (FACTBOT_MAX_REQUEST_KB, FACTBOT_READ_TIMEOUT,
    FACTBOT_MAX_CONNECTIONS; docs/security.md says how they were chosen)."""

    max_body: int = 1024 * 1024  # bytes of request body
    read_timeout: float = 5.0  # seconds for the headers (from the connection's opening or its last answer), again for the body
    max_connections: int = 1000
    threads: int = 16
    max_header: int = 32 * 1024  # bytes of request line and headers (Slack's are about 1 KB)

    @classmethod
    def from_settings(cls, settings: Any) -> "Limits":
        return cls(max_body=settings.max_request_kb * 1024, read_timeout=settings.read_timeout,
                   max_connections=settings.max_connections)


class LogLimiter:
    """A token bucket for log lines: `burst` lines at once, then one per `every` seconds, so that a flood of
    bad requests cannot fill the disk. allow() is None to drop a line, else how many were dropped before it."""

    def __init__(self, burst: int = 10, every: float = 6.0, clock: Callable[[], float] = time.monotonic):
        self.burst, self.every, self.clock = burst, every, clock
        self.tokens, self.since, self.dropped = burst, clock(), 0
        self.lock = threading.Lock()

    def allow(self) -> int | None:
        with self.lock:
            now = self.clock()
            earned = int((now - self.since) // self.every)
            if earned:
                self.tokens = min(self.burst, self.tokens + earned)
                self.since = now if self.tokens == self.burst else self.since + earned * self.every
            if self.tokens < 1:
                self.dropped += 1
                return None
            if self.tokens == self.burst:
                self.since = now  # a full bucket earns nothing while it waits
            self.tokens -= 1
            dropped, self.dropped = self.dropped, 0
            return dropped


class RateLimitedFilter(logging.Filter):
    """Lets a logger's records through at a LogLimiter's rate (waitress' own warnings under a flood)."""

    def __init__(self, limiter: LogLimiter | None = None):
        super().__init__()
        self.limiter = limiter or LogLimiter()

    def filter(self, record: logging.LogRecord) -> bool:
        dropped = self.limiter.allow()
        if dropped is None:
            return False
        if dropped:
            record.msg = f"{record.msg} ({dropped} similar lines not logged)"
        return True


SIGNATURE_MAX_AGE = 60 * 5  # seconds, as Slack's own verifiers allow


def signature_ok(secret: str, body: bytes, timestamp: str | None, signature: str | None,
                 now: float | None = None) -> bool:
    """Slack's v0 signature on the raw bytes (https://api.slack.com/authentication/verifying-requests-from-slack),
    whatever they contain: HMAC-SHA256(secret, b"v0:" + timestamp + b":" + body), timestamp within 5 minutes."""
    if not secret or not timestamp or not signature or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > SIGNATURE_MAX_AGE:
        return False
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


# the fields Bolt reads to route a request and build its context (slack_bolt.request.internals), with the
# types Slack sends them as; another type there makes Bolt raise instead of answering
_TEXT = ("type", "team_id", "user_id", "channel_id", "enterprise_id", "api_app_id", "event_id", "command", "text",
         "response_url", "trigger_id", "callback_id", "ts", "thread_ts", "event_ts", "subtype", "bot_id")
_TEXT_OR_OBJECT = ("team", "user", "channel", "enterprise")
_OBJECT = ("event", "container", "view", "message", "authorizations[]", "actions[]")


def shape_problem(data: dict, where: str = "") -> str | None:
    """Which field of a parsed body Bolt would choke on (`where`: the path so far), or None."""
    for key in _TEXT:
        if data.get(key) is not None and not isinstance(data[key], str):
            return f"{where}{key} is not a string"
    for key in _TEXT_OR_OBJECT:
        if data.get(key) is not None and not isinstance(data[key], (str, dict)):
            return f"{where}{key} is neither a string nor an object"
    for key in _OBJECT:
        listed = key.endswith("[]")
        name = key[:-2] if listed else key
        value = data.get(name)
        if value is None:
            continue
        items = value if listed and isinstance(value, list) else [value] if not listed else None
        if items is None or not all(isinstance(item, dict) for item in items):
            return f"{where}{name} is not {'a list of objects' if listed else 'an object'}"
        if name == "event":
            problem = shape_problem(value, "event.")
            if problem:
                return problem
    return None


def malformed(body: str, content_type: str | None) -> str | None:
    """Why Bolt could not parse `body` (the way slack_bolt.request.internals.parse_body reads it) or route
    it (shape_problem), or None."""
    if not body:
        return None
    if content_type == "application/json" or body.startswith("{"):
        try:
            data = json.loads(body)
        except ValueError:
            return "not JSON"
        return shape_problem(data) if isinstance(data, dict) else "JSON that is not an object"
    form = dict(parse_qsl(body, keep_blank_values=True))
    if "payload" in form:
        try:
            data = json.loads(form["payload"])
        except ValueError:
            return "a payload that is not JSON"
        return shape_problem(data) if isinstance(data, dict) else "a payload that is not a JSON object"
    return None


class SlackFront:
    """The WSGI app for POST /slack/events: caps the body, checks Slack's signature on the raw bytes, then
    the body's shape, before `inner` (Bolt) sees it. Every rejection is one log line, at LogLimiter's rate,
    naming the reason and the client, never the body."""

    def __init__(self, inner: Callable, signing_secret: str, max_body: int, limiter: LogLimiter | None = None):
        self.inner, self.secret, self.max_body = inner, signing_secret, max_body
        self.limiter = limiter or LogLimiter()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.reject(environ, start_response, "405 Method Not Allowed", "not a POST",
                               [("Allow", "POST")])
        text = (environ.get("CONTENT_LENGTH") or "0").strip()
        if not text.isdigit():
            return self.reject(environ, start_response, "400 Bad Request", "no usable Content-Length")
        if int(text) > self.max_body:  # the server's own cap answers first; this one holds under any server
            return self.reject(environ, start_response, "413 Content Too Large", f"a body of {text} bytes")
        body = environ["wsgi.input"].read(int(text)) if int(text) else b""
        if not signature_ok(self.secret, body, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
                            environ.get("HTTP_X_SLACK_SIGNATURE")):
            if body.startswith(b"ssl_check=1") and len(body) < 1024:  # Slack checking the certificate
                return self.answer(start_response, "200 OK", b"")
            return self.reject(environ, start_response, "401 Unauthorized", "no valid Slack signature")
        try:
            decoded = body.decode("utf-8")
        except UnicodeDecodeError:
            return self.reject(environ, start_response, "400 Bad Request", "signed, but not UTF-8")
        problem = malformed(decoded, (environ.get("CONTENT_TYPE") or None))
        if problem:
            return self.reject(environ, start_response, "400 Bad Request", f"signed, but {problem}")
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        try:
            return self.inner(environ, start_response)
        except Exception as exc:  # a signed request Bolt raised on: one line, where, not the traceback
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
            return self.reject(environ, start_response, "500 Internal Server Error",
                               f"signed, but Bolt failed on it: {type(exc).__name__} at {where}")

    @staticmethod
    def answer(start_response: Callable, status: str, data: bytes, extra: list | None = None) -> list[bytes]:
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                                *(extra or [])])
        return [data]

    def reject(self, environ: dict, start_response: Callable, status: str, reason: str,
               extra: list | None = None) -> list[bytes]:
        dropped = self.limiter.allow()
        if dropped is not None:
            more = f"; {dropped} more rejected since the last such line" if dropped else ""
            log.warning("rejected %s %s from %s: %s (%s)%s", str(environ.get("REQUEST_METHOD"))[:10],
                        EVENTS_PATH, environ.get("REMOTE_ADDR"), reason, status.split()[0], more)
        data = json.dumps({"error": status.split(" ", 1)[1].lower()}).encode()
        return self.answer(start_response, status, data, extra)


def not_found(environ: dict, start_response: Callable) -> list[bytes]:
    data = b'{"error": "not found"}'
    start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def create_wsgi_app(app: App, index: Any, endpoints: Any = None, *, limits: Limits | None = None,
                    signing_secret: str | None = None) -> Callable[[dict, Callable], Iterable[bytes]]:
    """`endpoints`: bot.health.Endpoints (/healthz, /readyz, /metrics); by default readiness of `index` alone.
    Paths: `routes` maps a path to its WSGI app (the health paths, then EVENTS_PATH); anything else is 404."""
    from bot.health import Endpoints, Health

    limits = limits or Limits()
    secret = app._signing_secret if signing_secret is None else signing_secret  # noqa: SLF001 (Bolt keeps no public one)
    slack = SlackFront(FactbotRequestHandler(app, path=EVENTS_PATH), secret, limits.max_body)
    endpoints = endpoints if endpoints is not None else Endpoints(Health(index))
    routes: dict[str, Callable] = {path: endpoints for path in endpoints.paths}
    routes[EVENTS_PATH] = slack

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        return routes.get(environ.get("PATH_INFO"), not_found)(environ, start_response)

    return wsgi


def create_server(wsgi_app: Callable, host: str, port: int, limits: Limits) -> Any:
    """A waitress server for `wsgi_app` that holds a slow client to `limits`.

    waitress reads every request whole on its one I/O thread before a worker thread sees it, so a client
    that sends slowly or not at all costs a socket and a buffer, never a thread. What it lacks is a deadline
    for the request itself: its channel_timeout only closes connections that have sent nothing for a while
    (a byte every few seconds keeps one open for ever), and it checks only every cleanup_interval (30 s).
    Here the sweep runs every second and closes a connection whose headers took more than
    limits.read_timeout since it opened (or since its last answer), or whose body took more than that again.
    Bodies over limits.max_body are answered 413 from their Content-Length, before they are read, and a
    chunked body is cut off there (waitress' max_request_body_size); headers are capped at 32 KB.
    """
    from waitress.channel import HTTPChannel
    from waitress.parser import HTTPRequestParser
    from waitress.server import TcpWSGIServer

    class TimedParser(HTTPRequestParser):
        """A request being read, with when its first byte came and when its headers were in."""

        def __init__(self, adj: Any):
            super().__init__(adj)
            self.started, self.headers_at = time.monotonic(), None

        def received(self, data: bytes) -> int:
            consumed = super().received(data)
            if self.headers_finished and self.headers_at is None:
                self.headers_at = time.monotonic()
            return consumed

    class TimedChannel(HTTPChannel):
        parser_class = TimedParser

        def __init__(self, *args: Any, **kw: Any):
            super().__init__(*args, **kw)
            self.waiting_since = time.monotonic()  # for the first byte of a request

        def service(self) -> None:
            super().service()
            self.waiting_since = time.monotonic()  # the next request's headers get their own read_timeout

    sweep_log = LogLimiter(burst=3, every=60.0)

    class Server(TcpWSGIServer):
        channel_class = TimedChannel

        def maintenance(self, now: float) -> None:  # noqa: ARG002 (waitress passes time.time())
            mono, cutoff, closed = time.monotonic(), limits.read_timeout, 0
            for channel in list(self.active_channels.values()):
                if channel.requests or channel.will_close:  # being answered, or closing already
                    continue
                request = channel.request
                if request is None:
                    late = mono - channel.waiting_since > cutoff
                elif request.headers_at is None:
                    late = mono - channel.waiting_since > cutoff  # headers: from the wait's start
                else:
                    late = mono - request.headers_at > cutoff
                if late:
                    channel.will_close = True
                    closed += 1
            if closed:
                dropped = sweep_log.allow()
                if dropped is not None:
                    log.info("closed %d connection(s) that sent no complete request within %.1f s", closed, cutoff)

    _raise_file_limit(limits.max_connections + 64)
    return Server(
        wsgi_app, host=host, port=port, threads=limits.threads, ident="factbot",
        connection_limit=limits.max_connections, cleanup_interval=1,
        channel_timeout=max(1, math.ceil(limits.read_timeout)),
        max_request_body_size=limits.max_body + 1,  # waitress refuses a body of this size or more
        max_request_header_size=limits.max_header,
        asyncore_use_poll=True,  # select() stops at 1024 descriptors
        expose_tracebacks=False,
    )


def _raise_file_limit(wanted: int) -> None:
    """Let this process open `wanted` files (sockets), up to the hard limit; a warning if that is short."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            target = soft
        if target < wanted:
            log.warning("only %d open files allowed (ulimit -n): FACTBOT_MAX_CONNECTIONS may not be reached", target)


def serve(app: App, index: Any, host: str = "0.0.0.0", port: int = 3000, threads: int = 16,
          endpoints: Any = None, limits: Limits | None = None) -> None:
    """Serve until interrupted (waitress: multi-threaded, production-grade; see create_server)."""
    limits = limits or Limits(threads=threads)
    for name in ("waitress", "waitress.queue"):
        waitress_log = logging.getLogger(name)
        if not any(isinstance(f, RateLimitedFilter) for f in waitress_log.filters):
            waitress_log.addFilter(RateLimitedFilter())
    server = create_server(create_wsgi_app(app, index, endpoints, limits=limits), host, port, limits)
    log.info("factbot listening on http://%s:%s%s (health: %s; bodies up to %d KB, %.0f s to send a request,"
             " %d connections)", host, port, EVENTS_PATH, HEALTH_PATH, limits.max_body // 1024,
             limits.read_timeout, limits.max_connections)
    server.run()
