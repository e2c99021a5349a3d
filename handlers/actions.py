"""Buttons on an answer: "Share in channel" and "More results".

A button's value is only ever read as a search page ({"q": query, "o": offset}); whatever a
forged payload carries, the most it can do is run a search. No button reloads or does anything
privileged. A click on a button factbot does not know (a message posted before an action_id was
renamed keeps its old buttons) is acknowledged and the clicker told that the button is out of date.
"""
from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from handlers.core import Factbot
from handlers.delivery import post_message, post_response
from handlers.render import MORE_ACTION, SHARE_ACTION, decode_value, escape, render_notice
from store.threads import ThreadKey

EXPIRED = "Sorry, that button no longer works. Ask again with `/factbot <question>`."
OUT_OF_DATE = "Sorry, that button is out of date: factbot no longer knows it. Ask again with `/factbot <question>`."


def _page(body: dict) -> tuple[str, int] | None:
    actions = body.get("actions") or [{}]
    return decode_value(actions[0].get("value"))


def _is_ephemeral(body: dict) -> bool:
    return bool((body.get("container") or {}).get("is_ephemeral"))


def _channel(body: dict) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def register(app: App, bot: Factbot) -> None:
    @app.action(MORE_ACTION)
    def on_more(ack: Ack, body: dict, client: Any) -> None:
        ack()
        page = _page(body)
        response_url = body.get("response_url")
        if page is None:
            post_response(client, response_url, render_notice(escape(EXPIRED)))
            return
        query, offset = page
        if _is_ephemeral(body):
            post_response(client, response_url, bot.answer(query, offset, share=True, more=True), replace_original=True)
            return
        # a visible answer (mention, DM, shared): the next page follows it, in its thread
        channel = _channel(body)
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts")
        if not thread_ts and channel and not channel.startswith("D"):
            thread_ts = message.get("ts") or (body.get("container") or {}).get("message_ts")
        # an answer in a thread pages on as its first page was read: in the thread's context then
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or ""
        thread = ThreadKey(str(team), channel, message["thread_ts"]) if channel and message.get("thread_ts") else None
        if channel:
            post_message(client, channel, bot.answer(query, offset, share=False, more=True, thread=thread), thread_ts)

    @app.action(SHARE_ACTION)
    def on_share(ack: Ack, body: dict, client: Any) -> None:
        ack()
        page = _page(body)
        response_url = body.get("response_url")
        user = (body.get("user") or {}).get("id")
        channel = _channel(body)
        if page is None or not channel:
            post_response(client, response_url, render_notice(escape(EXPIRED)))
            return
        query, offset = page
        message = bot.answer(query, offset, share=False, more=False, shared_by=user)
        result = post_message(client, channel, message)
        if result.get("ok"):
            post_response(client, response_url, None, delete_original=True)
        else:
            error = escape(str(result.get("error") or "unknown error"))
            hint = " Invite me to the channel first (`/invite @factbot`)." if error in ("not_in_channel", "channel_not_found") else ""
            post_response(client, response_url, render_notice(f"I couldn't share that here ({error}).{hint}"))



def is_button_click(body: Any) -> bool:
    return isinstance(body, dict) and body.get("type") == "block_actions"


def answer_unknown_button(body: dict, client: Any) -> None:
    """A click on a button no listener knows (a message posted before an action_id was renamed keeps
    its old buttons): tell the clicker, ephemerally, that the button is out of date."""
    post_response(client, body.get("response_url"), render_notice(escape(OUT_OF_DATE)), replace_original=False)
