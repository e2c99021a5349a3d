"""Events: `@factbot <question>` in a channel or thread, and direct messages (message.im).

A mention is answered in its thread (the event's thread_ts, or its ts when it is top-level); a
DM in the conversation (in the thread when the DM was a thread reply). The question is read from
the event's rich_text blocks (handlers/markup.py). A DM that shares a file with a question
(subtype file_share) from an admin adds the file as an export (handlers/uploads.py, also for a
mention carrying files); anyone else's file is never read: their question is answered, and a
file alone gets a refusal (where someone can add exports at all; elsewhere no reply). Bot
messages, other message subtypes (edits, joins, ...) and the bot's own messages are ignored.
"""
from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from handlers.core import Asker, Factbot, event_text, parse_intent
from handlers.delivery import post_message
from handlers.uploads import share_files


def register(app: App, bot: Factbot) -> None:
    @app.event("app_mention")
    def on_mention(event: dict, client: Any, context: BoltContext) -> None:
        if _from_a_bot(event, context):
            return
        thread_ts = event.get("thread_ts") or event.get("ts")
        if event.get("files"):  # an export shared in the message that mentions the bot
            if share_files(bot, client, event, thread_ts, question=bool(event_text(event))) or not event_text(event):
                return
        converse(bot, client, event, thread_ts)

    @app.event("message")
    def on_message(event: dict, client: Any, context: BoltContext) -> None:
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
        converse(bot, client, event, event.get("thread_ts"))


def _from_a_bot(event: dict, context: BoltContext) -> bool:
    if event.get("bot_id") or event.get("bot_profile") or event.get("subtype") == "bot_message":
        return True
    user = event.get("user")
    return not user or user == context.bot_user_id


def converse(bot: Factbot, client: Any, event: dict, thread_ts: str | None) -> None:
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
    post_message(client, channel, bot.respond_to(intent, share=False, more=True, asker=asker), thread_ts)
