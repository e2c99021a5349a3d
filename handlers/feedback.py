"""👍 / 👎 on an answer: the vote is recorded (one per person and answer, the latest wins) and the
message says thanks, keeping its content.

The button's value names the search page and the facts shown; the voter is the payload's `user`
(set by Slack), never anything in the value. An answer is identified by its channel and message ts.
"""
from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from handlers.actions import EXPIRED, _channel, _is_ephemeral
from handlers.core import Factbot
from handlers.delivery import post_response
from handlers.render import (
    VOTE_DOWN_ACTION, VOTE_UP_ACTION, Message, decode_vote, escape, render_notice, with_thanks,
)

THANKS = "Thanks for the feedback: it helps whoever curates the digests."
NOT_RECORDED = "Sorry, I couldn't record that vote just now; please try again later."


def register(app: App, bot: Factbot) -> None:
    @app.action(VOTE_UP_ACTION)
    def on_vote_up(ack: Ack, body: dict, client: Any) -> None:
        ack()
        on_vote(bot, body, client, +1)

    @app.action(VOTE_DOWN_ACTION)
    def on_vote_down(ack: Ack, body: dict, client: Any) -> None:
        ack()
        on_vote(bot, body, client, -1)


def on_vote(bot: Factbot, body: dict, client: Any, vote: int) -> None:
    action = (body.get("actions") or [{}])[0]
    page = decode_vote(action.get("value"))
    response_url = body.get("response_url")
    user = (body.get("user") or {}).get("id")
    channel = _channel(body)
    if page is None or not user or not channel:
        post_response(client, response_url, render_notice(escape(EXPIRED)))
        return
    query, offset, fact_ids = page
    message = body.get("message") or {}
    ts = (body.get("container") or {}).get("message_ts") or message.get("ts")
    answer = f"{channel}:{ts}" if ts else f"{channel}:{query}:{offset}"
    if not bot.vote(answer, user, vote, query, fact_ids, channel):
        post_response(client, response_url, render_notice(NOT_RECORDED))
        return
    ephemeral = _is_ephemeral(body)
    if message.get("blocks"):  # a visible message comes with its blocks: keep them as they are
        original = Message(text=str(message.get("text") or ""), blocks=list(message["blocks"]))
    else:  # an ephemeral answer does not: draw the same page again
        original = bot.answer(query, offset, share=ephemeral, more=True)
    thanked = Message(text=original.text, blocks=with_thanks(original.blocks, THANKS))
    post_response(client, response_url, thanked, ephemeral=ephemeral, replace_original=True)
