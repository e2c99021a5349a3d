"""The Bolt app factory, and logging that never shows a token or the signing secret."""
from __future__ import annotations

import logging
import re
import sys
import threading
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler, RetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from bot.config import Settings
from handlers import actions, commands, events, feedback, middleware
from handlers.core import Factbot


class AnyServerErrorRetryHandler(ServerErrorRetryHandler):
    """slack-sdk's ServerErrorRetryHandler retries 500 and 503; this one every 5xx (502/504 from proxies too)."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:  # type: ignore[override]
        return response is not None and 500 <= response.status_code <= 599


def retry_handlers() -> list[RetryHandler]:
    """Web API retries: 429 (waiting Retry-After), 5xx (exponential backoff), connection errors."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=2),
        AnyServerErrorRetryHandler(max_retry_count=2),
    ]


def create_client(settings: Settings) -> WebClient:
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=retry_handlers(),
        logger=logging.getLogger("factbot.slack_sdk"),
    )


class _ClientCarriesToken(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused when a client is given; ours is given on purpose
    (it carries the token, SLACK_API_URL and the retry handlers), so the warning is only noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def create_app(settings: Settings, index: Any, *, client: WebClient | None = None, claims: Any = None,
               records: Any = None) -> App:
    """The Bolt App for `settings`, answering from `index`; `claims` (claim(event_id) -> bool) decides
    which events to answer (default: this process's own set of event_ids seen); `records`
    (store.records.Records) keeps unanswered questions and votes (opened from the settings when not given).

    Building it calls auth.test on settings.slack_api_url (Bolt's token verification), so a bad
    token fails at startup rather than at the first question.
    """
    bolt_log = logging.getLogger("factbot.bolt")
    if not any(isinstance(f, _ClientCarriesToken) for f in bolt_log.filters):
        bolt_log.addFilter(_ClientCarriesToken())
    app = App(
        client=client or create_client(settings),
        signing_secret=settings.slack_signing_secret or "",
        logger=bolt_log,
        # the one deployment-wide bot token; no OAuth install flow
        token_verification_enabled=True,
    )
    bot = Factbot(index, settings, records=records if records is not None else open_records(settings))
    middleware.register(app, claims)
    commands.register(app, bot)
    events.register(app, bot)
    actions.register(app, bot)
    feedback.register(app, bot)

    @app.error
    def on_error(error: Exception, logger: logging.Logger) -> None:
        logger.error("listener failed: %s: %s", type(error).__name__, error)

    return app


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


def open_index(settings: Settings) -> Any:
    """The store's index; built from the seeds when the database file does not exist yet."""
    from store import Index

    return Index.open(settings.db_path, seeds=settings.seeds, glossary=settings.glossary, aliases=settings.aliases)


def open_claims(settings: Settings) -> Any:
    """With DATABASE_URL: claims in the shared store, behind this process's own set; else None (the default set)."""
    if not settings.database_url:
        return None
    from store.claims import SharedClaims
    from store.state import State, StateError

    try:
        state = State.open(settings.database_url)
    except StateError as exc:
        raise StartupError(str(exc)) from None
    return middleware.ChainedClaims(middleware.SeenEvents(), SharedClaims(state))


def open_records(settings: Settings) -> Any:
    """Unanswered questions and votes (store.records) in the state store, kept FACTBOT_LOG_DAYS days."""
    from store.records import Records
    from store.state import State, state_url

    return Records(State.open(state_url(settings.database_url, settings.db_path)).engine,
                   keep_days=settings.log_days)


def boot(settings: Settings, *required: str) -> tuple[App, Any]:
    """Check `required` settings, set up logging, open the index and build the app (auth.test included)."""
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    settings.require(*required)  # ConfigError names the missing setting
    configure_logging(settings)
    claims = open_claims(settings)
    index = open_index(settings)
    try:
        app = create_app(settings, index, claims=claims)
    except (BoltError, SlackApiError) as exc:
        response = getattr(exc, "response", None)
        code = response.get("error") if response is not None and hasattr(response, "get") else None
        reason = code or _reason(exc)
        raise StartupError(f"Slack did not accept SLACK_BOT_TOKEN (auth.test at {settings.slack_api_url}: {reason})") from None
    except OSError as exc:
        raise StartupError(f"cannot reach the Slack Web API at {settings.slack_api_url} ({type(exc).__name__})") from None
    return app, index


def _reason(exc: BaseException) -> str:
    text = str(exc)
    match = re.search(r"auth\.test API error: ([a-z_]+)|'error': '([a-z_]+)'", text)
    if match:
        return match.group(1) or match.group(2)
    return type(exc).__name__
