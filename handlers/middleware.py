"""A global middleware: an event Slack delivers again (same event_id) is acknowledged, not answered again.

Slack re-sends an Events API payload when it did not see a 200 in time (HTTP: X-Slack-Retry-Num;
Socket Mode: retry_attempt > 0), or when a second connection gets it. Both carry the first
delivery's event_id, so a small thread-safe TTL set of event_ids seen is enough for one process.
Several replicas claim each event_id in the shared store too (store.claims.SharedClaims, wired by
bot/app.py): the middleware asks any object with `claim(event_id) -> bool`.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from cachetools import TTLCache
from slack_bolt import App, BoltResponse


class SeenEvents:
    """The event_ids this process has seen: a cachetools.TTLCache (each key forgotten `ttl` seconds
    after it was added, the oldest dropped beyond `max_size`) behind a lock."""

    def __init__(self, ttl: float = 3600.0, max_size: int = 50_000, clock: Callable[[], float] = time.monotonic):
        self._seen: TTLCache = TTLCache(maxsize=max_size, ttl=ttl, timer=clock)
        self._lock = threading.Lock()

    def claim(self, key: str) -> bool:
        """True the first time `key` is offered (within ttl), False for every repeat."""
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = True
            return True

    def __len__(self) -> int:
        with self._lock:
            self._seen.expire()
            return len(self._seen)


class ChainedClaims:
    """A claim granted only when every store grants it, asked in order: this process's own set first
    (a retry to the same process costs nothing and is caught even when the shared store is down),
    then the store shared by the replicas."""

    def __init__(self, *stores: Any):
        self.stores = stores

    def claim(self, key: str) -> bool:
        return all(store.claim(key) for store in self.stores)


def register(app: App, seen: Any = None) -> Any:
    """Install the middleware; `seen` is anything with claim(event_id) -> bool (default: a SeenEvents)."""
    seen = seen if seen is not None else SeenEvents()

    @app.middleware
    def skip_redelivered_events(body: dict, next: Callable[[], Any], logger: Any, request: Any) -> Any:  # noqa: A002
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if isinstance(event_id, str) and event_id and not seen.claim(event_id):
            retry = (request.headers.get("x-slack-retry-num") or ["?"])[0] if request is not None else "?"
            logger.info("event %s delivered again (retry %s): acknowledged, not answered again", event_id, retry)
            return BoltResponse(status=200, body="")
        return next()

    return seen
