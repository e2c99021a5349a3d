"""Socket Mode: the same Bolt app over a WebSocket opened with SLACK_APP_TOKEN (no public URL).

Uses slack_bolt.adapter.socket_mode (slack_sdk's built-in client, no extra dependency); the
WebSocket URL comes from apps.connections.open on SLACK_API_URL.
"""
from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger("factbot.socket_mode")


def run(app: App, app_token: str, index: Any = None) -> None:
    """Connect and answer until SIGINT/SIGTERM; a replica (`index` with wait_ready) connects only once
    its index can answer, since Slack gives each event to any open connection."""
    handler = SocketModeHandler(app, app_token, logger=logging.getLogger("factbot.socket_mode.client"))
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
    handler.connect()
    log.info("factbot connected in Socket Mode")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        log.info("factbot: closing the Socket Mode connection")
        handler.close()
