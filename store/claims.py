"""Event claims in the state store: the first replica to claim an event_id answers it, the others skip.

    claims = SharedClaims(state, ttl=3600)
    if claims.claim(body["event_id"]):   # True once per event_id across every replica (within ttl)
        answer()

A claim is one upsert: insert the event_id, or take over a claim older than `ttl` (an expired one);
RETURNING says who won. Expired rows are deleted now and then. When the store does not
answer, claim() fails open: it returns True (answering twice beats staying silent) and logs a
warning; the next claim tries the store again (SQLAlchemy's pre-ping replaces dead connections).

The claim runs before Slack's acknowledgement, so it gets a `budget` (seconds, well under a second):
it runs on a small pool of its own and the caller waits at most that long. A PostgreSQL that
stalls (packets dropped rather than refused: connecting and reading wait for their own timeouts)
costs each event `budget` at most, then the claim fails open and is logged. A claim whose caller
gave up while it queued behind threads still waiting on the store is dropped without asking the
store. A claim given up may still land later; that only means another replica skips the event.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Callable

from sqlalchemy import Column, Float, Index, String, Table, delete
from sqlalchemy.dialects import postgresql, sqlite

from store.state import State, StateUnavailable, metadata

log = logging.getLogger("factbot.claims")

event_claims = Table(
    "event_claims", metadata,
    Column("event_id", String(255), primary_key=True),
    Column("claimed_at", Float, nullable=False),  # seconds since the epoch
    Column("replica", String(200), nullable=False),  # host:pid of the claimant, for people reading the table
    Index("event_claims_claimed_at", "claimed_at"),
)

PURGE_EVERY = 60.0  # seconds between deletions of expired claims


def replica_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class SharedClaims:
    """claim(event_id) -> bool against the state store, shared by every process that uses it."""

    def __init__(self, state: State, ttl: float = 3600.0, replica: str | None = None,
                 clock: Callable[[], float] = time.time, budget: float | None = None, threads: int = 8):
        self.state = state
        self.ttl = ttl
        self.replica = replica or replica_name()
        self._clock = clock
        self._insert = postgresql.insert if state.engine.dialect.name == "postgresql" else sqlite.insert
        self._purged = 0.0
        self._lock = threading.Lock()
        self.failures = 0  # claims granted because the store did not answer (in time)
        self.budget = budget  # seconds a claim may take; None: no limit (the caller's thread waits)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="factbot-claim") if budget else None

    def claim(self, event_id: str) -> bool:
        if self._pool is None:
            return self._claim(event_id)
        deadline = time.monotonic() + self.budget
        future = self._pool.submit(self._claim_in_time, event_id, deadline)
        try:
            return future.result(timeout=self.budget)
        except FutureTimeout:
            with self._lock:
                self.failures += 1
            log.warning("event %s: claim not answered within %.0f ms, answering anyway", event_id, self.budget * 1000)
            return True

    def _claim_in_time(self, event_id: str, deadline: float) -> bool:
        """The claim, unless its caller gave up on it while it queued (the store is not asked then:
        while it stalls, the queue behind the waiting threads empties at once)."""
        if time.monotonic() >= deadline:
            return True
        return self._claim(event_id)

    def _claim(self, event_id: str) -> bool:
        now = self._clock()
        stmt = self._insert(event_claims).values(event_id=event_id, claimed_at=now, replica=self.replica)
        stmt = stmt.on_conflict_do_update(
            index_elements=[event_claims.c.event_id],
            set_={"claimed_at": now, "replica": self.replica},
            where=event_claims.c.claimed_at < now - self.ttl,
        ).returning(event_claims.c.event_id)  # a row comes back only when this claim won
        try:
            with self.state.begin() as conn:
                won = conn.execute(stmt).first() is not None
            self._purge(now)
            return won
        except StateUnavailable as exc:
            with self._lock:
                self.failures += 1
            log.warning("event %s: claim not recorded, answering anyway: %s", event_id, exc)
            return True

    def _purge(self, now: float) -> None:
        with self._lock:
            if now - self._purged < PURGE_EVERY:
                return
            self._purged = now
        with self.state.begin() as conn:
            conn.execute(delete(event_claims).where(event_claims.c.claimed_at < now - self.ttl))
