"""Slack's AI surfaces (FACTBOT_AGENT_VIEW; docs/agent-view.md).

on (the agent view): the Messages tab opened (`app_home_opened`, tab "messages") sets 3-4 suggested
prompts built from what is indexed (store.overview.suggested_questions: the names and topics held
most, the newest articles' titles, in Chinese where those are) and, at most once per person and UTC
day (kept in the state store, so replicas agree), posts a short welcome. Questions are DMs,
answered by handlers/events.py, which sets the status while it searches.

assistant (the older split pane): Bolt's `Assistant` middleware takes the assistant threads: a thread
started gets the same prompts; a message in it is answered as a DM (status, title, feedback).

off: nothing here is registered (and the manifest asks for no assistant:write).
"""
from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, Assistant, BoltContext

from handlers.core import Factbot
from handlers.delivery import post_message
from handlers.events import on_direct_message
from handlers.render import clip, render_welcome

log = logging.getLogger("factbot.assistant")

PROMPTS = 4
MAX_PROMPT_TITLE = 75
PROMPTS_TITLE = "Try asking"


def suggested_prompts(bot: Factbot, n: int = PROMPTS) -> list[dict[str, str]]:
    """{"title", "message"} for Slack's suggested prompts, from what is indexed (may be empty)."""
    from store.overview import suggested_questions

    try:
        questions = suggested_questions(bot.index, bot.overview(), n=n)
    except Exception:  # prompts are a nicety: a broken overview must not stop the rest
        log.exception("drawing the suggested prompts failed")
        return []
    return [{"title": clip(q, MAX_PROMPT_TITLE), "message": q} for q in questions]


def _set_prompts(set_suggested_prompts: Any, bot: Factbot) -> None:
    prompts = suggested_prompts(bot)
    if not prompts or set_suggested_prompts is None:
        return
    try:
        set_suggested_prompts(prompts=prompts, title=PROMPTS_TITLE)
    except Exception as exc:
        log.warning("setting the suggested prompts failed: %s", type(exc).__name__)


def welcome_due(bot: Factbot, user: str) -> bool:
    """Whether `user` is to be greeted now: the first time today (UTC) per the state store; never
    without one (nothing could keep the once-a-day promise), nor when it fails."""
    records = bot.records
    if records is None or not user:
        return False
    try:
        return bool(records.first_visit_today(user))
    except Exception as exc:
        log.error("recording the welcome failed: %s", type(exc).__name__)
        return False


def on_messages_tab(bot: Factbot, event: dict, client: Any, context: BoltContext) -> None:
    user, channel = event.get("user"), event.get("channel")
    if not user or not channel:
        return
    _set_prompts(context.get("set_suggested_prompts"), bot)
    if welcome_due(bot, user):
        post_message(client, channel, render_welcome(bot.index.counts()[0], bot.commands))


def register(app: App, bot: Factbot) -> None:
    """Register before handlers/home.py: the Messages tab's app_home_opened is taken here."""
    mode = getattr(bot.settings, "agent_view", "off")
    if mode == "off":
        return

    @app.event("app_home_opened", matchers=[lambda event: event.get("tab") == "messages"])
    def on_messages_opened(event: dict, client: Any, context: BoltContext) -> None:
        on_messages_tab(bot, event, client, context)

    if mode != "assistant":
        return
    assistant = Assistant(logger=logging.getLogger("factbot.bolt.assistant"))

    @assistant.thread_started
    def on_thread_started(context: BoltContext) -> None:
        _set_prompts(context.get("set_suggested_prompts"), bot)

    @assistant.user_message
    def on_user_message(payload: dict, client: Any, context: BoltContext) -> None:
        on_direct_message(bot, payload, client, context)

    app.assistant(assistant)
