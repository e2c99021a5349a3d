"""The Slack app manifest for this configuration (paste it at api.slack.com/apps → Create New App).

Socket Mode when SLACK_APP_TOKEN is set or no URL is given; otherwise every request URL is
`<url>/slack/events`. The result validates against SchemaStore's slack-app-manifest schema.
"""
from __future__ import annotations

import json
from typing import Any

import yaml

from bot.config import Settings
from handlers.render import MAIN_COMMAND
from handlers.shortcuts import FIND_FACTS, FIND_FACTS_NAME
from handlers.uploads import uploads_enabled

NAME = "factbot"
DESCRIPTION = "Answers questions from the team's article digests with sourced facts."
LONG_DESCRIPTION = (
    "factbot searches the team's digests of Chinese financial news (summarised in English) and answers "
    "with the best-matching facts, each with its article, source, date, section and citations. "
    "Ask with /factbot <question>, a topic command such as /ipo seres, by mentioning @factbot in a "
    "channel (answered in the thread) or in a direct message. /factbot sources lists what is indexed; "
    "admins can /factbot reload after the seed files change."
)
BOT_SCOPES = ["app_mentions:read", "chat:write", "commands", "im:history"]
BOT_EVENTS = ["app_home_opened", "app_mention", "message.im"]  # message.im carries file shares in DMs too
UPLOAD_SCOPES = ["files:read"]  # downloading exports that admins share with the bot
ASSISTANT_SCOPES = ["assistant:write"]  # assistant.threads.setStatus / setSuggestedPrompts / setTitle
# the older split pane (FACTBOT_AGENT_VIEW=assistant): Bolt's Assistant listens to these
ASSISTANT_EVENTS = ["assistant_thread_context_changed", "assistant_thread_started"]
# what factbot is, when no index can be read at manifest time (general words, nothing of a seed)
GENERAL_AGENT_DESCRIPTION = ("Answers questions from the team's digests of Chinese financial news (summarised in "
                             "English) with sourced facts, each with its article, source, date and citations.")
MAX_AGENT_DESCRIPTION = 500


def bot_scopes(settings: Settings) -> list[str]:
    """The scopes this configuration uses, and no other: users:read only for the workspace-admin
    check, files:read only when someone can add an export by DM."""
    scopes = list(BOT_SCOPES)
    if settings.admins_from_workspace:
        scopes.append("users:read")  # users.info: is the user a workspace admin or owner?
    if uploads_enabled(settings):
        scopes += UPLOAD_SCOPES
    if settings.agent_view != "off":
        scopes += ASSISTANT_SCOPES
    return sorted(scopes)


def agent_description(settings: Settings) -> str:
    """What factbot knows, for the agent view: drawn from the index at FACTBOT_DB when one can be read
    (how many articles, the names its facts hold most), else general words. Never builds an index."""
    try:
        from store import Index
        from store.index import SCHEMA_VERSION
        from store.overview import overview

        index = Index(settings.db_path, settings.seeds)
        if not settings.db_path.exists() or index.schema_version() != SCHEMA_VERSION:
            return GENERAL_AGENT_DESCRIPTION
        try:
            seen = overview(index, newest=0, names=4, topics=0, examples=0)
        finally:
            index.close()
    except Exception:  # an unreadable index: the manifest still goes out, in general words
        return GENERAL_AGENT_DESCRIPTION
    if not seen.articles:
        return GENERAL_AGENT_DESCRIPTION
    names = [name for name, _ in seen.names]
    about = ""
    if names:
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        about = f" Knows most about {listed}."
    articles = f"{seen.articles} article{'s' if seen.articles != 1 else ''}"
    text = (f"Answers questions from the team's digests of Chinese financial news ({articles}, summarised in English) "
            f"with sourced facts, each with its article, source, date and citations.{about}")
    return text[:MAX_AGENT_DESCRIPTION]


def check_url(url: str) -> str:
    """`url` as the manifest's base URL, or ValueError saying why Slack would reject it: Slack posts
    only to public https:// addresses (a host, no query or fragment)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or " " in url.strip():
        raise ValueError(f"--url must be factbot's public https:// address (such as https://factbot.example.com),"
                         f" got {url!r}")
    return url.strip()


def build_manifest(settings: Settings, url: str | None = None) -> dict[str, Any]:
    if url is not None:
        url = check_url(url)
    socket_mode = bool(settings.slack_app_token) or not url
    events_url = None if socket_mode else url.rstrip("/") + "/slack/events"  # type: ignore[union-attr]

    def command(name: str, description: str, hint: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"command": name, "description": description, "usage_hint": hint,
                                 "should_escape": False}
        if events_url:
            entry["url"] = events_url
        return entry

    slash = [command(MAIN_COMMAND, "Ask factbot for sourced facts from the article digests",
                     "[question] | sources | help | reload | remove <file>")]
    for name in settings.commands:
        if name == MAIN_COMMAND:
            continue
        word = name.lstrip("/")
        slash.append(command(name, f"Ask factbot about {word} (same as {MAIN_COMMAND} {word} …)", "[question]"))

    bot_events = list(BOT_EVENTS) + (ASSISTANT_EVENTS if settings.agent_view == "assistant" else [])
    event_subscriptions: dict[str, Any] = {"bot_events": bot_events}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if events_url:
        event_subscriptions = {"request_url": events_url, **event_subscriptions}
        interactivity["request_url"] = events_url

    features: dict[str, Any] = {
        "app_home": {"home_tab_enabled": True, "messages_tab_enabled": True,
                     "messages_tab_read_only_enabled": False},
        "bot_user": {"display_name": NAME, "always_online": True},
    }
    if settings.agent_view == "on":  # Slack's agent view: conversations in the Messages tab
        features["agent_view"] = {"agent_description": agent_description(settings)}
    elif settings.agent_view == "assistant":  # the older split pane, for apps created before the agent view
        features["assistant_view"] = {"assistant_description": agent_description(settings)}
    features["shortcuts"] = [{"name": FIND_FACTS_NAME, "type": "message", "callback_id": FIND_FACTS,
                              "description": "Show only you the indexed facts that match this message's text"}]
    features["slash_commands"] = slash

    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": NAME,
            "description": DESCRIPTION,
            "long_description": LONG_DESCRIPTION,
            "background_color": "#1d3557",
        },
        "features": features,
        "oauth_config": {"scopes": {"bot": bot_scopes(settings)}},
        "settings": {
            "event_subscriptions": event_subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def to_json(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False)


def to_yaml(manifest: dict[str, Any]) -> str:
    """The manifest as block-style YAML, keys in the manifest's order (PyYAML quotes what YAML could misread)."""
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100).rstrip("\n")
