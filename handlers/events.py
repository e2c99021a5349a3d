"""Events: `@factbot <question>` in a channel or thread, and direct messages (message.im).

A mention is answered in its thread (the event's thread_ts, or its ts when it is top-level); a
DM in the conversation (in the thread when the DM was a thread reply). The question is read from
the event's rich_text blocks (handlers/markup.py). A DM that shares a file with a question
(subtype file_share) from an admin adds the file as an export (handlers/uploads.py, also for a
mention carrying files); anyone else's file is never read: their question is answered, and a
file alone gets a refusal (where someone can add exports at all; elsewhere no reply). Bot
messages, other message subtypes (edits, joins, ...) and the bot's own messages are ignored.

With Slack's AI surfaces on (FACTBOT_AGENT_VIEW, docs/agent-view.md), a question in a DM or an
assistant thread first sets the thread's status ("Searching the digests…", which Slack clears when
the answer is posted in that thread; factbot clears it itself when the answer went to the top level
of the DM or could not be posted), and a thread
(which those surfaces title) gets the question as its title once.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from slack_bolt import App, BoltContext

from handlers.core import Asker, Factbot, event_text, parse_intent
from handlers.delivery import post_message
from handlers.render import clip
from handlers.uploads import share_files
from store.threads import ThreadKey

log = logging.getLogger("factbot.events")

SEARCHING = "Searching the digests…"
MAX_TITLE = 80


def register(app: App, bot: Factbot) -> None:
    @app.event("app_mention")
    def on_mention(event: dict, client: Any, context: BoltContext) -> None:
        if _from_a_bot(event, context):
            return
        thread_ts = event.get("thread_ts") or event.get("ts")
        if event.get("files"):  # an export shared in the message that mentions the bot
            if share_files(bot, client, event, thread_ts, question=bool(event_text(event))) or not event_text(event):
                return
        converse(bot, client, event, thread_ts, context)

    @app.event("message")
    def on_message(event: dict, client: Any, context: BoltContext) -> None:
        on_direct_message(bot, event, client, context)


def on_direct_message(bot: Factbot, event: dict, client: Any, context: BoltContext) -> None:
    """A DM (or a message in an assistant thread, handlers/assistant.py): a question, or files shared."""
    if event.get("channel_type") != "im" or _from_a_bot(event, context):
        return
    subtype = event.get("subtype")
    if subtype == "file_share":
        # an admin's file is an export to add (handlers/uploads.py); anyone else's is refused
        # unread, and the question that came with it, if any, is answered
        question = bool(event_text(event))
        if share_files(bot, client, event, event.get("thread_ts"), question) or not question:
            return
    elif subtype:
        return
    converse(bot, client, event, event.get("thread_ts"), context)


def _from_a_bot(event: dict, context: BoltContext) -> bool:
    if event.get("bot_id") or event.get("bot_profile") or event.get("subtype") == "bot_message":
        return True
    user = event.get("user")
    return not user or user == context.bot_user_id


class _Titled:
    """The assistant threads already titled by this process (the newest few thousand)."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, channel: str, thread_ts: str) -> bool:
        with self._lock:
            key = (channel, thread_ts)
            if key in self._seen:
                return False
            self._seen[key] = None
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)
            return True


_titled = _Titled()


def _assist(call: Any, what: str, *args: Any) -> bool:
    """An assistant.threads call (status, title): a nicety, never in the answer's way."""
    try:
        result = call(*args)
        return bool(result.get("ok", True)) if hasattr(result, "get") else True
    except Exception as exc:
        log.warning("setting the thread's %s failed: %s", what, type(exc).__name__)
        return False


def thread_key(event: dict, context: Any = None) -> ThreadKey | None:
    """The thread a message belongs to: its thread_ts, or its own ts when it starts one (a top-level
    mention, whose answer opens a thread under it; a top-level DM, which a reply can thread on)."""
    root = event.get("thread_ts") or event.get("ts")
    channel = event.get("channel")
    if not root or not channel:
        return None
    team = (context.get("team_id") if hasattr(context, "get") else None) or event.get("team") or ""
    return ThreadKey(str(team), str(channel), str(root))


def converse(bot: Factbot, client: Any, event: dict, thread_ts: str | None, context: Any = None) -> None:
    channel = event.get("channel")
    user = event.get("user")
    if not channel:
        return
    intent = parse_intent(event_text(event))
    if intent.kind == "reload":
        bot.request_reload(user, client, deliver=lambda message: post_message(client, channel, message, thread_ts))
        return
    surface = "mention" if event.get("type") == "app_mention" else "dm"
    asker = Asker(user, channel, surface) if user else None
    assisted = surface == "dm" and context is not None and getattr(bot.settings, "agent_view", "off") != "off"
    thread = thread_key(event, context)
    set_status = context.get("set_status") if assisted else None
    status_set = bool(set_status) and intent.kind == "search" and _assist(set_status, "status", SEARCHING)
    set_title = context.get("set_title") if assisted else None
    if set_title and thread_ts and intent.kind == "search" and intent.query and _titled.first(channel, thread_ts):
        _assist(set_title, "title", clip(" ".join(intent.query.split()), MAX_TITLE))
    result = post_message(client, channel, bot.respond_to(intent, share=False, more=True, asker=asker, thread=thread),
                          thread_ts)
    # Slack clears a thread's status when the app replies in it; an answer posted elsewhere (a top-level
    # DM, whose status sits on the question's ts) or not at all leaves it: factbot clears it then
    if status_set and (not result.get("ok") or not thread_ts):
        _assist(set_status, "status", "")
