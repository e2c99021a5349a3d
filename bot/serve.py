"""HTTP mode: Bolt's WSGI adapter on waitress.

POST /slack/events   slash commands, events and interactivity (signed by Slack; Bolt verifies)
GET  /healthz        liveness: 200 while the process answers (bot/health.py)
GET  /readyz         readiness for load balancers: 503 with the reason until factbot can answer, then
                     200 and {"ok": true, "ready": true, "version": v, "articles": n, "facts": m, ...}
GET  /metrics        Prometheus text (bot/metrics.py)
"""
from __future__ import annotations

import logging
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


def create_wsgi_app(app: App, index: Any, endpoints: Any = None) -> Callable[[dict, Callable], Iterable[bytes]]:
    """`endpoints`: bot.health.Endpoints (/healthz, /readyz, /metrics); by default readiness of `index` alone."""
    from bot.health import Endpoints, Health

    slack = FactbotRequestHandler(app, path=EVENTS_PATH)
    endpoints = endpoints if endpoints is not None else Endpoints(Health(index))

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") in endpoints.paths:
            return endpoints(environ, start_response)
        return slack(environ, start_response)

    return wsgi


def serve(app: App, index: Any, host: str = "0.0.0.0", port: int = 3000, threads: int = 16,
          endpoints: Any = None) -> None:
    """Serve until interrupted (waitress: multi-threaded, production-grade)."""
    from waitress import serve as waitress_serve

    log.info("factbot listening on http://%s:%s%s (health: %s)", host, port, EVENTS_PATH, HEALTH_PATH)
    waitress_serve(create_wsgi_app(app, index, endpoints), host=host, port=port, threads=threads, ident="factbot")
