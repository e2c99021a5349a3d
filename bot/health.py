"""Liveness, readiness and metrics over HTTP: GET /healthz, /readyz and /metrics.

    /healthz  200 whenever the process answers HTTP (for a container's HEALTHCHECK or a
              liveness probe: restart it when this stops answering)
    /readyz   200 once factbot can answer well: the index is built, the semantic model is loaded
              (FACTBOT_SEMANTIC on) and, with replicas (DATABASE_URL), the local index has caught up
              with the corpus version it found at start; 503 with the reason before that
              (for a load balancer, or a rollout that waits for the new replica)
    /metrics  Prometheus text (bot/metrics.py)

`factbot serve` answers them on its own port beside POST /slack/events; with FACTBOT_HEALTH_PORT
set, any run mode (`socket` above all, which has no HTTP port of its own) also answers them on
that port, from before the index is built (so /readyz can say it is being built).

A replica's readiness asks PostgreSQL for the corpus version only until the replica has caught
up with it once. After that it is not taken away by the short lag of following a reload (a second
or two, answering from the previous version), nor by PostgreSQL going down: searches keep
answering from the local index, so the replica stays in the load balancer (the outage is logged,
and `version` in the body shows what the index holds).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, Callable, Iterable

log = logging.getLogger("factbot.health")

LIVE_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
PATHS = (LIVE_PATH, READY_PATH, METRICS_PATH)

OK, UNAVAILABLE = "200 OK", "503 Service Unavailable"


class Health:
    """What /healthz and /readyz say about this process; `attach` the index once it is open."""

    def __init__(self, index: Any = None, reason: str = "starting", semantic: bool = False):
        self.started = time.monotonic()
        self.index = None
        self.reason = reason  # why not ready while no index is attached
        self.semantic = "off"  # off | loading | loaded | unavailable (wordllama did not load)
        self._caught_up = False
        if index is not None:
            self.attach(index, semantic=semantic)

    def attach(self, index: Any, semantic: bool = False) -> None:
        """The index answers from now on; with `semantic`, load the re-ranking model in a thread
        (ready once it is loaded, or once it failed to load: the search is then lexical)."""
        self.index = index
        if semantic and getattr(index, "semantic", False):
            self.semantic = "loading"
            threading.Thread(target=self._load_semantic, args=(index,), name="factbot-semantic-load",
                             daemon=True).start()

    def _load_semantic(self, index: Any) -> None:
        try:
            wait = getattr(index, "wait_ready", None)
            while wait is not None and not wait(1.0):  # a replica building its index: no searcher yet
                pass
            started = time.perf_counter()
            # the searcher's re-ranker (store/semantic.py) loads the model once per process
            reranker = index.searcher().reranker
            model = reranker.model() if reranker is not None else None
            self.semantic = "loaded" if model is not None else "unavailable"
            log.info("semantic model %s (%.2f s)", self.semantic, time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - readiness must not hang on it
            self.semantic = "unavailable"
            log.warning("semantic model not loaded: %s: %s", type(exc).__name__, exc)

    # -- the answers --

    def live(self) -> tuple[str, dict]:
        return OK, {"ok": True, "alive": True, "uptime_s": round(time.monotonic() - self.started, 1)}

    def ready(self) -> tuple[str, dict]:
        index = self.index
        if index is None:
            return self._not_ready(self.reason, None)
        state = index.status() if hasattr(index, "status") else {"ready": True, "version": None}
        version = state.get("version")
        if not state["ready"]:
            return self._not_ready("building the index from the shared corpus", version)
        body: dict = {"ok": True, "ready": True, "version": version}
        shared = getattr(index, "state", None)  # a store.replica.Replica: the corpus in PostgreSQL
        if shared is not None:
            corpus = self._corpus(index, shared)
            if isinstance(corpus, str):
                return self._not_ready(corpus, version)
        try:
            body["articles"], body["facts"] = index.counts()
        except Exception as exc:  # noqa: BLE001 - the index is unusable: tell the load balancer
            log.error("readiness: the index cannot be read: %s", type(exc).__name__)
            return self._not_ready(f"the index cannot be read ({type(exc).__name__})", version)
        body["semantic"] = self.semantic
        if self.semantic == "loading":
            return self._not_ready("loading the semantic model", version, body)
        return OK, body

    def _corpus(self, replica: Any, shared: Any) -> Any:
        """Before the replica first caught up: the reason it is not ready (a str), or the corpus
        version once it has. After that PostgreSQL is not asked again (a probe must not wait on
        it, and the replica answers from its local index whatever PostgreSQL does): None."""
        if self._caught_up:
            return None
        from store.corpus import current_version

        try:
            latest = current_version(shared)
        except Exception as exc:  # noqa: BLE001 - StateUnavailable and kin
            return f"PostgreSQL does not answer, so the index may be behind the corpus ({type(exc).__name__})"
        if replica.version is None or replica.version < latest:
            return f"catching up with the corpus: the index is at version {replica.version}, the corpus at {latest}"
        self._caught_up = True
        return latest

    @staticmethod
    def _not_ready(reason: str, version: Any, body: dict | None = None) -> tuple[str, dict]:
        out = dict(body or {})
        out.update({"ok": False, "ready": False, "version": version, "reason": reason})
        return UNAVAILABLE, out


class Endpoints:
    """A WSGI app answering GET/HEAD /healthz, /readyz and /metrics (404 for anything else)."""

    paths = PATHS

    def __init__(self, health: Health, metrics: Any = None):
        self.health = health
        self.metrics = metrics

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path not in PATHS:
            return _send(start_response, "404 Not Found", b"not found\n", "text/plain", method)
        if method not in ("GET", "HEAD"):
            return _send(start_response, "405 Method Not Allowed", b"GET only\n", "text/plain", method,
                         [("Allow", "GET, HEAD")])
        if path == METRICS_PATH:
            if self.metrics is None:
                return _send(start_response, "404 Not Found", b"no metrics\n", "text/plain", method)
            data, content_type = self.metrics.exposition()
            return _send(start_response, OK, data, content_type, method)
        status, body = self.health.live() if path == LIVE_PATH else self.health.ready()
        return _send(start_response, status, json.dumps(body).encode(), "application/json", method)


def _send(start_response: Callable, status: str, data: bytes, content_type: str, method: str | None,
          extra: list | None = None) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data))),
                            ("Cache-Control", "no-store")] + (extra or []))
    return [b"" if method == "HEAD" else data]


class HealthServer:
    """The endpoints on a port of their own (FACTBOT_HEALTH_PORT), in a thread, on waitress."""

    def __init__(self, endpoints: Endpoints, host: str, port: int):
        from waitress.server import create_server

        self.server = create_server(endpoints, host=host, port=port, threads=2, ident="factbot-health",
                                    clear_untrusted_proxy_headers=True)
        self.port = self.server.effective_port
        self.thread = threading.Thread(target=self.server.run, name="factbot-health", daemon=True)

    def start(self) -> "HealthServer":
        self.thread.start()
        log.info("health and metrics on http://%s:%s (%s)", self.server.effective_host, self.port, ", ".join(PATHS))
        return self

    def close(self) -> None:
        self.server.close()
