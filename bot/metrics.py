"""Prometheus metrics (prometheus_client), served as text at GET /metrics (bot/health.py).

    factbot_questions_total{surface,outcome}   questions asked in Slack: surface command | mention | dm |
                                               shortcut, outcome answered | no_match (a first page; More,
                                               Share and votes are not new questions)
    factbot_answer_seconds                     histogram: search and rendering of those answers
    factbot_reloads_total{outcome}             reloads run by this process (Slack, the watched seeds
                                               folder): ok | files_failed (some files did not load) |
                                               refused | failed | not_run (PostgreSQL down) | busy
    factbot_reload_failures_total              of those, the refused, failed and not run ones
    factbot_reload_duration_seconds            histogram of the reloads that ran
    factbot_reload_last_success_timestamp_seconds  the last reload that changed or checked the index
                                               (at start: the newest one in the index's audit trail)
    factbot_uploads_total{outcome}             exports shared with factbot: added | replaced | refused
                                               (errors in the file) | rejected (too large, not text, bad
                                               name, not downloadable) | failed (files.info failed)
    factbot_claims_failed_open_total           replicas: events answered without a claim, because
                                               PostgreSQL did not answer (store/claims.py)
    factbot_corpus_version                     replicas: the corpus version the local index holds
    factbot_facts_indexed, factbot_articles_indexed  what the index holds now (read at each scrape)
    process_*                                  prometheus_client's process collector (memory, CPU, fds)

One registry per Metrics object (not prometheus_client's global one), so that tests and several
apps in one process do not share counters. The handlers never import this module: Factbot gets
the object and calls `question` and `upload` on it; reloads are timed by wrapping the index's
`reload` where bot/ wires things together.
"""
from __future__ import annotations

import calendar
import logging
import time
from typing import Any, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger("factbot.metrics")

SURFACES = ("command", "mention", "dm", "shortcut")
UPLOADS = ("added", "replaced", "refused", "rejected", "failed")
RELOADS = ("ok", "files_failed", "refused", "failed", "not_run", "busy")
FAILURES = ("refused", "failed", "not_run")


class Metrics:
    def __init__(self) -> None:
        disable_created_metrics()  # no `_created` series beside every counter: nothing here reads them
        r = self.registry = CollectorRegistry()
        self.questions = Counter("factbot_questions", "Questions asked in Slack, by surface and outcome",
                                 ["surface", "outcome"], registry=r)
        self.answer_seconds = Histogram(
            "factbot_answer_seconds", "Time to search and render an answer to a question",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5), registry=r)
        self.reloads = Counter("factbot_reloads", "Reloads run by this process, by outcome", ["outcome"], registry=r)
        self.reload_failures = Counter("factbot_reload_failures", "Reloads refused, failed or not run", registry=r)
        self.reload_seconds = Histogram(
            "factbot_reload_duration_seconds", "Duration of the reloads that ran",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600), registry=r)
        self.reload_last_success = Gauge("factbot_reload_last_success_timestamp_seconds",
                                         "Unix time of the last reload that ran to its end", registry=r)
        self.uploads = Counter("factbot_uploads", "Exports shared with factbot, by outcome", ["outcome"], registry=r)
        for surface in SURFACES:
            for outcome in ("answered", "no_match"):
                self.questions.labels(surface, outcome)
        for outcome in RELOADS:
            self.reloads.labels(outcome)
        for outcome in UPLOADS:
            self.uploads.labels(outcome)
        self.index: Any = None
        self.claims: list[Any] = []
        r.register(_IndexCollector(self))
        ProcessCollector(registry=r)

    # -- what the handlers call (duck-typed: handlers/core.py never imports this module) --

    def question(self, surface: str, answered: bool, seconds: float) -> None:
        self.questions.labels(surface if surface in SURFACES else "other", "answered" if answered else "no_match").inc()
        self.answer_seconds.observe(seconds)

    def upload(self, outcome: str) -> None:
        self.uploads.labels(outcome).inc()

    # -- wiring (bot/cli.py) --

    def attach(self, index: Any, claims: Any = None) -> None:
        """Read the index's counts (and a replica's corpus version) at each scrape; count the claims
        a shared store granted without recording them; time the index's reloads."""
        self.index = index
        self.claims = [c for c in getattr(claims, "stores", ()) if hasattr(c, "failures")]
        self.timed_reloads(index)
        try:
            last = index.reloads(1)
            if last and last[0].get("at"):
                self.reload_last_success.set(_epoch(last[0]["at"]))
        except Exception as exc:  # noqa: BLE001 - a metric is no reason to fail a start
            log.debug("no last reload time: %s", exc)

    def timed_reloads(self, index: Any) -> None:
        """Wrap `index.reload` (a store Index or Replica): each call timed and counted by outcome."""
        inner: Callable[..., Any] = index.reload
        if getattr(inner, "_factbot_timed", False):
            return

        def reload(*args: Any, **kwargs: Any) -> Any:
            from store import ReloadBusy, ReloadRefused
            from store.errors import StateError

            started = time.perf_counter()
            try:
                report = inner(*args, **kwargs)
            except ReloadBusy:
                self.reloads.labels("busy").inc()
                raise
            except Exception as exc:  # ReloadFailed, a worker's death, a full disk...: "failed"
                outcome = ("refused" if isinstance(exc, ReloadRefused) else
                           "not_run" if isinstance(exc, StateError) else "failed")
                self.reloads.labels(outcome).inc()
                self.reload_failures.inc()
                raise
            self.reload_seconds.observe(time.perf_counter() - started)
            self.reload_last_success.set(time.time())
            self.reloads.labels("ok" if getattr(report, "ok", True) else "files_failed").inc()
            return report

        reload._factbot_timed = True  # type: ignore[attr-defined]
        index.reload = reload

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _IndexCollector:
    """Gauges read when Prometheus scrapes: what the index holds, a replica's corpus version, and the
    claims granted without PostgreSQL."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def describe(self) -> list:
        return []  # the families are created at collect time (their values come from the index)

    def collect(self):
        m = self.metrics
        index = m.index
        claims = CounterMetricFamily("factbot_claims_failed_open",
                                     "Events answered without a claim because PostgreSQL did not answer")
        claims.add_metric([], sum(c.failures for c in m.claims))
        yield claims
        if index is None:
            return
        status = index.status() if hasattr(index, "status") else {"ready": True, "version": None}
        if status.get("version") is not None:
            version = GaugeMetricFamily("factbot_corpus_version", "The corpus version the local index holds")
            version.add_metric([], status["version"])
            yield version
        if not status.get("ready", True):
            return
        try:
            articles, facts = index.counts()
        except Exception as exc:  # noqa: BLE001 - no index yet, or unreadable: no gauge
            log.debug("no counts for the metrics: %s", type(exc).__name__)
            return
        yield GaugeMetricFamily("factbot_facts_indexed", "Facts in the index", value=facts)
        yield GaugeMetricFamily("factbot_articles_indexed", "Articles in the index", value=articles)


def _epoch(stamp: str) -> float:
    """`2026-12-01T09:09:41Z` (the audit trail's time) as Unix time."""
    return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")))
