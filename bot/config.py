"""Settings: from the environment, or from a `.env` file in the working directory.

Every setting is listed, with its default, in `.env.example`.
"""
from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# the settings the command line also takes as options (click reads them with envvar=, then hands
# the merged value to Settings.from_env as an override)
ENV_SEEDS, DEFAULT_SEEDS = "FACTBOT_SEEDS", Path("seeds")
ENV_DB, DEFAULT_DB = "FACTBOT_DB", Path("factbot.db")
ENV_PORT, DEFAULT_PORT = "PORT", 3000


# what Slack accepts as a slash command's name: "/" and at most 31 more characters, lower case, no spaces
COMMAND_NAME = re.compile(r"/[a-z0-9_\-]{1,31}")
AGENT_VIEWS = ("on", "assistant", "off")  # FACTBOT_AGENT_VIEW


class ConfigError(Exception):
    """A missing or malformed setting; its message is one line naming the setting."""


def load_env_file() -> None:
    """Put `.env` (in the working directory) into the environment, under what is already set there."""
    load_dotenv(Path.cwd() / ".env", override=False)


def _on(value: str) -> bool:
    return value.strip().lower() not in ("0", "false", "no", "off")


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _number(env, name: str, default: str, kind: type) -> float | int:
    text = (env.get(name) or default).strip()
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{name} must be a {'whole ' if kind is int else ''}number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name} must be a number of 0 or more, got {text!r}")
    return value


@dataclass(frozen=True)
class Settings:
    seeds: Path = DEFAULT_SEEDS
    db: Path = DEFAULT_DB  # ./factbot.db, in the working directory (not beside the seeds)
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    admin_users: tuple[str, ...] = ()
    admins_from_workspace: bool = False
    commands: tuple[str, ...] = ("/ipo", "/azure")
    port: int = DEFAULT_PORT
    log_level: str = "INFO"
    glossary: tuple[Path, ...] = ()  # the user's own glossary files, added to store/data/glossary*.txt
    aliases: tuple[Path, ...] = ()  # the user's own alias files, added to store/data/aliases.txt
    related_words: bool = True  # expand questions with store/data/related-words.txt
    semantic: bool = True  # re-rank questions' candidates with wordllama's static embeddings
    database_url: str | None = None  # PostgreSQL shared by replicas; None: the embedded SQLite state file
    max_upload_mb: float = 20.0  # exports added by DM; 0 turns that off
    log_days: int = 90  # unanswered questions, votes and threads' turns are deleted after this many days
    reload_workers: int | None = None  # processes parsing a large reload; None: one per CPU; 0: none
    health_port: int | None = None  # /healthz, /readyz, /metrics on a port of their own (bot/health.py)
    health_host: str = "0.0.0.0"
    watch: bool = True  # reload when a file of the seeds folder is added, changed or removed (bot/watch.py)
    # HTTP mode against hostile traffic (bot/serve.py, docs/security.md)
    max_request_kb: int = 1024  # largest request body; Slack's largest (a 40,000-character message) is ~640 KB
    read_timeout: float = 5.0  # seconds a connection gets for its headers, then again for its body
    max_connections: int = 1000  # open HTTP connections at once
    socket_connections: int = 2  # Socket Mode WebSockets per process (Slack allows 10 per app)
    claim_budget_ms: int = 500  # replicas: the most an event's claim in PostgreSQL holds up its ack (then fails open)
    seeds_id: str | None = None  # this seeds folder's identity in the shared corpus; None: host:absolute path
    # Slack's AI surfaces (docs/agent-view.md): "on" the agent view (features.agent_view), "assistant" the
    # older split pane (features.assistant_view, through Bolt's Assistant), "off" neither
    agent_view: str = "on"

    @property
    def db_path(self) -> Path:
        return self.db

    @classmethod
    def from_env(cls, env: dict | None = None, dotenv: bool = True, **options: object) -> "Settings":
        """The settings from `env` (default: the environment, after `.env`), with `options` (fields given
        on the command line, None when not given) taking their place."""
        if dotenv and env is None:
            load_env_file()
        e = os.environ if env is None else env
        port = int(_number(e, ENV_PORT, str(DEFAULT_PORT), int))
        max_upload_mb = _number(e, "FACTBOT_MAX_UPLOAD_MB", "20", float)
        log_days = _number(e, "FACTBOT_LOG_DAYS", "90", int)
        workers_text = (e.get("FACTBOT_RELOAD_WORKERS") or "auto").strip().lower()
        reload_workers = None if workers_text == "auto" else int(_number(e, "FACTBOT_RELOAD_WORKERS", "auto", int))
        health_text = (e.get("FACTBOT_HEALTH_PORT") or "").strip()
        health_port = int(_number(e, "FACTBOT_HEALTH_PORT", health_text, int)) if health_text else None
        if health_port is not None and not 1 <= health_port <= 65535:
            raise ConfigError(f"FACTBOT_HEALTH_PORT must be a port number from 1 to 65535, got {health_text!r}")
        max_request_kb = int(_number(e, "FACTBOT_MAX_REQUEST_KB", "1024", int))
        read_timeout = _number(e, "FACTBOT_READ_TIMEOUT", "5", float)
        max_connections = int(_number(e, "FACTBOT_MAX_CONNECTIONS", "1000", int))
        socket_connections = int(_number(e, "FACTBOT_SOCKET_CONNECTIONS", "2", int))
        claim_budget_ms = int(_number(e, "FACTBOT_CLAIM_BUDGET_MS", "500", int))
        if not 10 <= claim_budget_ms <= 2000:
            raise ConfigError(f"FACTBOT_CLAIM_BUDGET_MS must be from 10 to 2000 (Slack waits 3 s for the ack), got {claim_budget_ms}")
        for name, value, low in (("FACTBOT_MAX_REQUEST_KB", max_request_kb, 1), ("FACTBOT_READ_TIMEOUT", read_timeout, 0.5),
                                 ("FACTBOT_MAX_CONNECTIONS", max_connections, 20)):
            if value < low:
                raise ConfigError(f"{name} must be at least {low}, got {value}")
        if not 1 <= socket_connections <= 10:
            raise ConfigError(f"FACTBOT_SOCKET_CONNECTIONS must be from 1 to 10 (Slack's limit per app), got {socket_connections}")
        if log_days < 1:
            raise ConfigError(f"FACTBOT_LOG_DAYS must be at least 1, got {log_days}")
        agent_view = (e.get("FACTBOT_AGENT_VIEW") or "on").strip().lower()
        agent_view = {"true": "on", "yes": "on", "1": "on", "false": "off", "no": "off", "0": "off"}.get(agent_view, agent_view)
        if agent_view not in AGENT_VIEWS:
            raise ConfigError(f"FACTBOT_AGENT_VIEW must be on, assistant or off, got {e.get('FACTBOT_AGENT_VIEW')!r}")
        commands = tuple(c if c.startswith("/") else "/" + c for c in _split(e.get("FACTBOT_COMMANDS", "/ipo,/azure")))
        for command in commands:
            if not COMMAND_NAME.fullmatch(command):
                raise ConfigError(f"FACTBOT_COMMANDS: {command!r} is not a Slack command name (a / and up to 31"
                                  " lower-case letters, digits, - or _, no spaces)")
        api = e.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        if not api.endswith("/"):
            api += "/"
        lexicon_files = {}
        for name in ("FACTBOT_GLOSSARY", "FACTBOT_ALIASES"):
            paths = tuple(Path(p) for p in _split(e.get(name)))
            for path in paths:
                if not path.is_file():
                    raise ConfigError(f"{name} names {path}, which is not a file")
            lexicon_files[name] = paths
        settings = cls(
            glossary=lexicon_files["FACTBOT_GLOSSARY"],
            aliases=lexicon_files["FACTBOT_ALIASES"],
            related_words=_on(e.get("FACTBOT_RELATED_WORDS", "on")),
            semantic=_on(e.get("FACTBOT_SEMANTIC", "on")),
            seeds=Path(e.get(ENV_SEEDS) or DEFAULT_SEEDS),
            db=Path(e.get(ENV_DB) or DEFAULT_DB),
            slack_bot_token=e.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=e.get("SLACK_SIGNING_SECRET") or None,
            slack_app_token=e.get("SLACK_APP_TOKEN") or None,
            slack_api_url=api,
            admin_users=_split(e.get("FACTBOT_ADMIN_USERS")),
            admins_from_workspace=(e.get("FACTBOT_WORKSPACE_ADMINS", "").lower() in ("1", "true", "yes", "on")),
            commands=commands,
            port=port,
            log_level=(e.get("FACTBOT_LOG_LEVEL") or "INFO").upper(),
            database_url=e.get("DATABASE_URL") or None,
            max_upload_mb=max_upload_mb,
            log_days=log_days,
            reload_workers=reload_workers,
            health_port=health_port,
            health_host=(e.get("FACTBOT_HEALTH_HOST") or "0.0.0.0").strip(),
            watch=_on(e.get("FACTBOT_WATCH", "on")),
            max_request_kb=max_request_kb,
            read_timeout=read_timeout,
            max_connections=max_connections,
            socket_connections=socket_connections,
            claim_budget_ms=claim_budget_ms,
            seeds_id=(e.get("FACTBOT_SEEDS_ID") or "").strip() or None,
            agent_view=agent_view,
        )
        given = {name: value for name, value in options.items() if value is not None}
        return dataclasses.replace(settings, **given) if given else settings

    def require(self, *names: str) -> None:
        """Raise ConfigError naming the first missing setting (names as in the environment)."""
        for name in names:
            if not getattr(self, name.lower(), None):
                raise ConfigError(f"{name} is not set (put it in the environment or in .env; see .env.example)")
