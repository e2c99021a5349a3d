"""The message shortcut "Find facts about this message": on any message (the bot need not have been
mentioned or even be in the channel), the facts matching its text, shown only to whoever asked.

The question is read from the message as a mention's is (handlers/markup.py: rich_text blocks,
mentions, links and emoji left out). Acknowledged at once; the answer goes to the shortcut's response_url as an ephemeral message, with
the same buttons as a slash command's answer.
"""
from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from handlers.core import Asker, Factbot, event_text
from handlers.delivery import post_response
from handlers.render import render_notice

FIND_FACTS = "factbot_find_facts"
FIND_FACTS_NAME = "Find facts about this message"
NO_TEXT = "That message has no text to look up."


def register(app: App, bot: Factbot) -> None:
    @app.message_shortcut(FIND_FACTS)
    def on_find_facts(ack: Ack, shortcut: dict, client: Any) -> None:
        ack()
        query = event_text(shortcut.get("message") or {})  # its rich_text blocks, else its text
        user = (shortcut.get("user") or {}).get("id")
        channel = (shortcut.get("channel") or {}).get("id") or ""
        response_url = shortcut.get("response_url")
        if not query:
            post_response(client, response_url, render_notice(NO_TEXT))
            return
        asker = Asker(user, channel, "shortcut") if user else None
        post_response(client, response_url, bot.answer(query, share=True, more=True, asker=asker))
