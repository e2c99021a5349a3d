"""Socket Mode: the same Bolt app over WebSockets opened with SLACK_APP_TOKEN (no public URL, no inbound port).

Several connections per process (FACTBOT_SOCKET_CONNECTIONS, 2 by default; Slack allows 10 per app and
spreads the envelopes over the open ones), each replaced on its own the moment it fails, so a dropped
connection loses nothing: Slack sends the next envelopes to the others meanwhile.

Why not slack_sdk's built-in client (slack_bolt.adapter.socket_mode.SocketModeHandler): when its socket is
closed without a WebSocket close frame (a network fault, a proxy or NAT timing out), its receive loop takes
the end of the stream for "no data yet", and its monitor only gives up after five failed pings 10 s apart:
about a minute of silence ("Failed to check the state of sock ... Broken pipe" every 10 s). Here each
connection is a `websockets` client (the library the tests already use for the Slack stand-in): the end
of the stream ends the connection at once, and its own pings (every PING_INTERVAL s, PING_TIMEOUT s for the
pong) end a connection that went silent without closing. Either way the connection is replaced after a
short pause (0.2 s; longer, up to 10 s, while attempts keep failing: RETRY_PAUSES), with a fresh URL
from apps.connections.open. The envelopes go to Bolt through
slack_bolt's own Socket Mode functions (run_bolt_app, send_response), as its handler does.
"""
from __future__ import annotations

import json
import logging
import signal
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

log = logging.getLogger("factbot.socket_mode")

PING_INTERVAL = 2.0  # seconds between our pings
PING_TIMEOUT = 3.0  # seconds a pong may take before the connection counts as dead
OPEN_TIMEOUT = 10.0  # seconds for the WebSocket handshake
RETRY_PAUSES = (0.2, 1.0, 2.0, 5.0, 10.0)  # after the 1st, 2nd, ... failed attempt in a row; then the last again
MAX_MESSAGE = 4 * 1024 * 1024  # bytes; Slack's largest envelope (a 40,000-character message) is under 1 MB
FATAL_ERRORS = ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "not_allowed_token_type")


class OneLine(logging.Filter):
    """websockets logs the end of a connection whose pings went unanswered as an error with a traceback
    ("keepalive ping failed", ConnectionClosedError): an expected end, so one line without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            record.msg, record.args = f"{record.getMessage()}: {type(exc).__name__}: {exc}", None
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


ws_log = logging.getLogger("factbot.socket_mode.websockets")
ws_log.addFilter(OneLine())


class SocketModeError(Exception):
    """Slack refuses the app token: retrying will not help (the message is one line, without the token)."""


class Connection:
    """One Socket Mode WebSocket, kept open (replaced whenever it ends) until `stop` is set.

    It is also the `client` slack_bolt's send_response writes the acks to (send_socket_mode_response)."""

    def __init__(self, number: int, app: App, app_token: str, workers: ThreadPoolExecutor, stop: threading.Event,
                 on_open: Any = None):
        self.number, self.app, self.app_token, self.workers, self.stop = number, app, app_token, workers, stop
        self.on_open = on_open or (lambda connection: None)
        self.logger = log
        self.ws: Any = None
        self.send_lock = threading.Lock()
        self.opened = 0  # how many WebSockets this connection has opened
        self.first_url: str | None = None  # a URL SocketMode.start already asked for
        self.hello_at: float | None = None  # when the current WebSocket got Slack's hello
        self.thread = threading.Thread(target=self.run, name=f"socket-mode-{number}", daemon=True)

    def open_url(self) -> str:
        """A fresh WebSocket URL from apps.connections.open (each is good for one connection)."""
        try:
            response = self.app.client.apps_connections_open(app_token=self.app_token)
        except SlackApiError as exc:
            error = (exc.response.data or {}).get("error") if isinstance(exc.response.data, dict) else None
            if error in FATAL_ERRORS:
                raise SocketModeError(f"Slack did not accept SLACK_APP_TOKEN for Socket Mode ({error})") from None
            raise
        return response["url"]

    def run(self) -> None:
        failures = 0  # attempts in a row that did not get as far as Slack's hello
        while not self.stop.is_set():
            self.hello_at = None
            reason = self.session()
            if self.stop.is_set():
                return
            if self.hello_at is not None:  # it worked, then ended: replace it at once (not faster than 1 s apart)
                failures = 0
                pause = RETRY_PAUSES[0] if time.monotonic() - self.hello_at >= 1.0 else 1.0
            else:  # Slack or the network refusing: back off
                pause = RETRY_PAUSES[min(failures, len(RETRY_PAUSES) - 1)]
                failures += 1
            log.info("Socket Mode connection %d ended (%s); opening a new one in %.1f s", self.number, reason, pause)
            self.stop.wait(pause)

    def session(self) -> str:
        """Open one WebSocket and serve it until it ends; why it ended, in a few words."""
        from websockets.exceptions import ConnectionClosed, InvalidHandshake
        from websockets.sync.client import connect

        try:
            url, self.first_url = self.first_url or self.open_url(), None
            ws = connect(url, open_timeout=OPEN_TIMEOUT, ping_interval=PING_INTERVAL, ping_timeout=PING_TIMEOUT,
                         close_timeout=1, max_size=MAX_MESSAGE, proxy=self.app.client.proxy or True, user_agent_header="factbot",
                         logger=ws_log)
        except SocketModeError as exc:  # the token was revoked since the start: say so, and keep trying
            log.error("%s", exc)
            return "the app token was refused"
        except (SlackApiError, OSError, InvalidHandshake, TimeoutError) as exc:
            return f"could not open: {type(exc).__name__}"
        with self.send_lock:
            self.ws = ws
        self.opened += 1
        try:
            for message in ws:
                if not self.handle(message):
                    return "Slack asked for a new connection"
            return "closed by Slack"
        except ConnectionClosed as exc:
            return "dropped" if exc.rcvd is None else f"closed ({exc.rcvd.code})"
        except OSError as exc:
            return f"dropped: {type(exc).__name__}"
        finally:
            with self.send_lock:
                self.ws = None
            ws.close()

    def handle(self, message: str | bytes) -> bool:
        """One message from Slack; False when Slack wants this connection replaced."""
        try:
            data = json.loads(message)
        except ValueError:
            log.warning("Socket Mode connection %d: a message that is not JSON was ignored", self.number)
            return True
        if not isinstance(data, dict):
            return True
        kind = data.get("type")
        if kind == "hello":
            self.hello_at = time.monotonic()
            log.info("Socket Mode connection %d open", self.number)
            self.on_open(self)
            return True
        if kind == "disconnect":  # refresh_requested, warning, link_disabled: the others carry on meanwhile
            log.info("Socket Mode connection %d: Slack sent disconnect (%s)", self.number, data.get("reason"))
            return False
        if data.get("envelope_id"):
            self.workers.submit(self.dispatch, SocketModeRequest.from_dict(data))
        return True

    def dispatch(self, request: SocketModeRequest | None) -> None:
        if request is None:
            return
        started = time.time()
        try:
            response = run_bolt_app(self.app, request)
            send_response(self, request, response, started)
        except Exception as exc:  # must not end the connection; one line (type and place), not a traceback
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            log.error("Socket Mode connection %d: envelope %s failed: %s at %s:%d", self.number, request.envelope_id,
                      type(exc).__name__, frame.filename.rsplit("/", 1)[-1], frame.lineno)

    def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        """The ack, on the connection the envelope came on (if that one ended, Slack retries an event)."""
        message = json.dumps(response.to_dict())
        with self.send_lock:
            ws = self.ws
        if ws is None:
            log.info("Socket Mode connection %d ended before envelope %s was acked", self.number, response.envelope_id)
            return
        try:
            ws.send(message)
        except Exception as exc:  # closed meanwhile
            log.info("Socket Mode connection %d: the ack for %s was not sent (%s)", self.number, response.envelope_id,
                     type(exc).__name__)


class SocketMode:
    """`count` Connections sharing one pool of worker threads."""

    def __init__(self, app: App, app_token: str, count: int = 2, workers: int = 10):
        self.stop = threading.Event()
        self.workers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="socket-mode-envelope")
        self.first_open = threading.Event()
        self.connections = [Connection(n + 1, app, app_token, self.workers, self.stop,
                                       on_open=lambda c: self.first_open.set()) for n in range(count)]

    def start(self) -> "SocketMode":
        """Check the token with the first connection's apps.connections.open (SocketModeError if Slack refuses
        it), then connect."""
        try:
            self.connections[0].first_url = self.connections[0].open_url()
        except SocketModeError:
            raise
        except Exception as exc:  # Slack or the network failing for now: the connections keep trying
            log.warning("apps.connections.open failed (%s); retrying", type(exc).__name__)
        for connection in self.connections:
            connection.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        for connection in self.connections:
            with connection.send_lock:
                ws = connection.ws
            if ws is not None:
                ws.close()
        for connection in self.connections:
            connection.thread.join(timeout=5)
        self.workers.shutdown(wait=False, cancel_futures=True)


def run(app: App, app_token: str, index: Any = None, connections: int = 2) -> None:
    """Connect and answer until SIGINT/SIGTERM; a replica (`index` with wait_ready) connects only once
    its index can answer, since Slack gives each event to any open connection."""
    stop = threading.Event()

    def on_signal(signum, frame):  # noqa: ARG001
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, on_signal)
        except ValueError:  # not the main thread
            pass
    if index is not None and hasattr(index, "wait_ready"):
        while not index.wait_ready(0.5):
            if stop.is_set():
                return
    socket_mode = SocketMode(app, app_token, count=connections).start()
    log.info("factbot connecting in Socket Mode (%d connections)", connections)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        log.info("factbot: closing the Socket Mode connections")
        socket_mode.close()
