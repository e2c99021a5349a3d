"""The Bolt app factory, and logging that never shows a token or the signing secret."""
from __future__ import annotations

import logging
import re
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.error import HTTPError, URLError

from slack_bolt import App, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk import WebClient
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler, RetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest

from bot.config import Settings
from handlers import actions, assistant, commands, events, feedback, home, middleware, shortcuts, uploads
from handlers.core import Factbot
from handlers.delivery import error_code


# Web API methods that may safely be sent twice: reads, and writes that set a state (views.publish,
# chat.update) rather than add something. Every other call, and every response_url post, adds a
# message: it is retried only when Slack surely did not act on it.
IDEMPOTENT_METHODS = frozenset({
    "auth.test", "apps.connections.open", "bots.info", "conversations.info", "team.info", "users.info",
    "chat.update", "views.publish",
})


class _IdempotencyAware:
    """A retry handler that knows which requests may be sent again: idempotent Web API methods of
    `api_url`, nothing else (every response_url post adds a message)."""

    def __init__(self, api_url: str, max_retry_count: int = 2):
        super().__init__(max_retry_count=max_retry_count)  # type: ignore[call-arg]
        self.api_url = api_url

    def idempotent(self, request: HttpRequest) -> bool:
        url = request.url.split("?", 1)[0]
        return url.startswith(self.api_url) and url[len(self.api_url):] in IDEMPOTENT_METHODS


def _never_sent(error: BaseException | None) -> bool:
    """True when the request surely never reached Slack: the connection was refused or the host unknown.

    urllib raises URLError (not HTTPError) for failures while connecting; a reset or a lost
    connection after the request went out (RemoteDisconnected, timeouts) may have been acted on.
    """
    if not isinstance(error, URLError) or isinstance(error, HTTPError):
        return False
    return isinstance(error.reason, (ConnectionRefusedError, socket.gaierror))


class SafeConnectionErrorRetryHandler(_IdempotencyAware, ConnectionErrorRetryHandler):
    """Connection errors: retried for idempotent calls; for the others only when nothing was sent."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:  # type: ignore[override]
        if not self.idempotent(request):
            return _never_sent(error)
        return super()._can_retry(state=state, request=request, response=response, error=error)


class IdempotentServerErrorRetryHandler(_IdempotencyAware, ServerErrorRetryHandler):
    """Every 5xx (502/504 from proxies too, where slack-sdk's handler knows 500 and 503), for idempotent
    calls only: a 5xx to chat.postMessage may come after Slack posted the message."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:  # type: ignore[override]
        return response is not None and 500 <= response.status_code <= 599 and self.idempotent(request)


def retry_handlers(api_url: str) -> list[RetryHandler]:
    """Web API retries: 429 for every call (waiting Retry-After: Slack did not act on it); 5xx and
    connection errors for idempotent calls; a refused connection for every call."""
    return [
        SafeConnectionErrorRetryHandler(api_url),
        RateLimitErrorRetryHandler(max_retry_count=2),
        IdempotentServerErrorRetryHandler(api_url),
    ]


def create_client(settings: Settings) -> WebClient:
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=retry_handlers(settings.slack_api_url),
        logger=logging.getLogger("factbot.slack_sdk"),
    )


class _ClientCarriesToken(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused when a client is given; ours is given on purpose
    (it carries the token, SLACK_API_URL and the retry handlers), so the warning is only noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


LISTENER_THREADS = 100  # Bolt listeners at once, most of them waiting on Slack's API


def create_app(settings: Settings, index: Any, *, client: WebClient | None = None, claims: Any = None,
               records: Any = None, metrics: Any = None, state: Any = None) -> App:
    """The Bolt App for `settings`, answering from `index`; `claims` (claim(event_id) -> bool) decides
    which events to answer (default: this process's own set of event_ids seen); `records`
    (store.records.Records) keeps unanswered questions and votes (opened from the settings when not given);
    `metrics` (bot/metrics.py) counts questions and uploads.

    Building it calls auth.test on settings.slack_api_url (Bolt's token verification), so a bad
    token fails at startup rather than at the first question.
    """
    bolt_log = logging.getLogger("factbot.bolt")
    if not any(isinstance(f, _ClientCarriesToken) for f in bolt_log.filters):
        bolt_log.addFilter(_ClientCarriesToken())
    # one pool for every listener and for the work they hand on (a reload after its ack, the answer to
    # an unknown button): Bolt's own, the same for HTTP and Socket Mode, drained by drain(app)
    executor = ListenerPool(max_workers=LISTENER_THREADS, thread_name_prefix="factbot-listener")
    app = App(
        client=client or create_client(settings),
        signing_secret=settings.slack_signing_secret or "",
        logger=bolt_log,
        # the one deployment-wide bot token; no OAuth install flow
        token_verification_enabled=True,
        # a request no listener took goes to on_error, whatever order the listeners were registered in
        raise_error_for_unhandled_request=True,
        # a listener holds its thread until its answer is posted: while Slack's API is slow or rate
        # limits, Bolt's default pool (CPUs + 4 threads) fills with answers and the next request's ack()
        # waits behind them past Slack's 3 s (tests/bot/test_serve_hostile.py); threads start as needed
        listener_executor=executor,
    )
    bot = Factbot(index, settings, records=records if records is not None else open_records(settings), metrics=metrics)
    bot.executor = executor
    app.factbot_executor = executor  # type: ignore[attr-defined]
    # the corpus' state store, for uploads and removals: the replica's, else the embedded one
    bot.state = state if state is not None else (getattr(index, "state", None) or open_state(settings))
    bot.threads = open_threads(settings, bot.state)
    middleware.register(app, claims)
    commands.register(app, bot)
    events.register(app, bot)
    actions.register(app, bot)
    feedback.register(app, bot)
    shortcuts.register(app, bot)
    assistant.register(app, bot)  # before home: the Messages tab's app_home_opened is the agent view's
    home.register(app, bot)
    uploads.register(app, bot)

    @app.error
    def on_error(error: Exception, body: Any, client: WebClient, logger: logging.Logger) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            return _unhandled(body, client, logger, executor)
        logger.error("listener failed: %s: %s", type(error).__name__, error)
        return None

    return app


class ListenerPool(ThreadPoolExecutor):
    """Bolt's listener executor, counting the work it holds (queued or running), so that a shutdown
    can wait until it is all done: a listener's work may hand on more (a reload after its ack)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        with self._idle:
            self._pending += 1
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Any) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)


def drain(app: App, timeout: float = 30.0) -> bool:
    """At shutdown, once no new request comes in: the listeners' work under way (answers, reloads and
    what they hand on) finished within `timeout` seconds, then the pool closed; True when it all finished."""
    pool = getattr(app, "factbot_executor", None)
    if pool is None:
        return True
    finished = pool.wait_idle(timeout)
    if finished:
        pool.shutdown(wait=False)
    return finished


def _unhandled(body: Any, client: WebClient, logger: logging.Logger, executor: Any = None) -> BoltResponse | None:
    """A request no listener took. A button click is acknowledged (a 404 shows the user an error) and
    answered, after the acknowledgement (on the listeners' pool), with an "out of date" notice;
    anything else stays a 404."""
    if actions.is_button_click(body):
        action_id = ((body.get("actions") or [{}])[0] or {}).get("action_id")
        logger.info("a click on a button factbot does not know (%r): told it is out of date", str(action_id)[:100])
        if executor is not None:
            executor.submit(actions.answer_unknown_button, body, client)
        else:
            actions.answer_unknown_button(body, client)
        return BoltResponse(status=200, body="")
    logger.warning("no listener for this request (%s): answered 404", str((body or {}).get("type"))[:50]
                   if isinstance(body, dict) else "?")
    return None


# --- logging ------------------------------------------------------------------------------

_TOKEN = re.compile(r"\b(xox[abposre]|xapp)-[A-Za-z0-9-]+")


class RedactingFormatter(logging.Formatter):
    """Formats a record (message, arguments and traceback), then blanks out every secret in it."""

    def __init__(self, fmt: str, secrets: tuple[str, ...] = ()):
        super().__init__(fmt)
        self.secrets = tuple(sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return _TOKEN.sub(lambda m: m.group(1) + "-[redacted]", text)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


def configure_logging(settings: Settings, stream: Any = None) -> logging.Handler:
    """Log to stderr at FACTBOT_LOG_LEVEL through a RedactingFormatter; uncaught errors go there too."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s",
        secrets=(settings.slack_bot_token or "", settings.slack_signing_secret or "", settings.slack_app_token or "",
                 _url_password(settings.database_url)),
    ))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    level = getattr(logging, str(settings.log_level).upper(), logging.INFO)
    root.setLevel(level if isinstance(level, int) else logging.INFO)

    def excepthook(exc_type, exc, tb):  # pragma: no cover - last resort
        logging.getLogger("factbot").critical("uncaught %s", exc_type.__name__, exc_info=(exc_type, exc, tb))

    def thread_excepthook(args):  # pragma: no cover - last resort
        if args.exc_type is SystemExit:
            return
        logging.getLogger("factbot").error(
            "uncaught %s in thread %s", args.exc_type.__name__, getattr(args.thread, "name", "?"),
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
    return handler


# --- startup --------------------------------------------------------------------------------


def _url_password(url: str | None) -> str:
    if not url:
        return ""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).password or ""
    except Exception:  # a malformed URL is reported where it is used
        return ""


class StartupError(Exception):
    """The bot cannot start; the message is one line and carries no secret."""


def open_state(settings: Settings) -> Any:
    """The state store: PostgreSQL with DATABASE_URL, else the SQLite file beside the index."""
    from store.state import State, StateError, state_url

    try:
        return State.open(state_url(settings.database_url, settings.db_path))
    except StateError as exc:
        raise StartupError(str(exc)) from None


def open_index(settings: Settings, state: Any = None) -> Any:
    """The store's index; built from the seeds when the database file does not exist yet.

    With DATABASE_URL (and `state`, the shared store) a store.replica.Replica: the local index
    following the corpus of record, started here, ready once the index exists.
    """
    from store import Index

    lexicon = dict(glossary=settings.glossary, aliases=settings.aliases,
                   related_words=settings.related_words, semantic=settings.semantic,
                   workers=settings.reload_workers)
    if settings.database_url and state is not None and state.shared:
        from store.replica import Replica

        index = Index(settings.db_path, seeds=settings.seeds, **lexicon)
        return Replica(index, state, settings.seeds, folder=settings.seeds_id).start()
    return Index.open(settings.db_path, seeds=settings.seeds, **lexicon)


def open_claims(settings: Settings, state: Any) -> Any:
    """With DATABASE_URL: claims in the shared store, behind this process's own set; else None (the default set)."""
    if not settings.database_url:
        return None
    from store.claims import SharedClaims

    return middleware.ChainedClaims(middleware.SeenEvents(), SharedClaims(state, budget=settings.claim_budget_ms / 1000))


def open_records(settings: Settings, state: Any = None) -> Any:
    """Unanswered questions and votes (store.records) in the state store, kept FACTBOT_LOG_DAYS days."""
    from store.records import Records

    return Records((state or open_state(settings)).engine, keep_days=settings.log_days)


def open_threads(settings: Settings, state: Any) -> Any:
    """What each thread was asked and answered (store.threads), in the state store, kept
    FACTBOT_LOG_DAYS days as the records are; None (questions read on their own) when it cannot open."""
    from store.threads import Threads

    try:
        return Threads(state.engine, keep_days=settings.log_days)
    except Exception as exc:  # a broken state store must not stop the answers
        logging.getLogger("factbot").error("opening the threads' turns failed: %s", type(exc).__name__)
        return None


def boot(settings: Settings, *required: str, metrics: Any = None) -> tuple[App, Any]:
    """Check `required` settings, set up logging, open the state store and the index and build the
    app (auth.test included); `metrics` (bot/metrics.py), when given, is attached to the index."""
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    settings.require(*required)  # ConfigError names the missing setting
    configure_logging(settings)
    state = open_state(settings)
    claims = open_claims(settings, state)
    records = open_records(settings, state)
    index = open_index(settings, state)
    try:
        app = create_app(settings, index, claims=claims, records=records, metrics=metrics, state=state)
    except (BoltError, SlackApiError) as exc:
        reason = error_code(exc) or type(exc).__name__
        raise StartupError(f"Slack did not accept SLACK_BOT_TOKEN (auth.test at {settings.slack_api_url}: {reason})") from None
    except OSError as exc:
        raise StartupError(f"cannot reach the Slack Web API at {settings.slack_api_url} ({type(exc).__name__})") from None
    if metrics is not None:
        metrics.attach(index, claims)
    return app, index

