"""👍 / 👎 on an answer: the vote is recorded (one per person and answer, the latest wins) and the
message says thanks, keeping its content.

Posted answers (mention threads, DMs, shared answers) carry Slack's feedback_buttons (one action_id,
the vote in the value): Slack shows the pressed button itself, so the message is left as it is and
the thanks goes to the voter alone (an ephemeral reply through the response_url). Ephemeral answers
keep the two buttons of before, thanked in place. Both land in the same records (`factbot report`).

The button's value names the search page and the facts shown; the voter is the payload's `user`
(set by Slack), never anything in the value. An answer is identified by its channel and message ts.
"""
from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from handlers.actions import EXPIRED, _channel, _is_ephemeral
from handlers.core import Factbot
from handlers.delivery import post_response
from handlers.render import (
    FEEDBACK_ACTION, VOTE_DOWN_ACTION, VOTE_UP_ACTION, Message, decode_feedback, decode_vote, escape, render_notice,
    with_thanks,
)

log = logging.getLogger("factbot.feedback")

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

    @app.action(FEEDBACK_ACTION)
    def on_feedback(ack: Ack, body: dict, client: Any) -> None:
        ack()
        on_feedback_buttons(bot, body, client)


def on_feedback_buttons(bot: Factbot, body: dict, client: Any) -> None:
    """A click on Slack's feedback_buttons: recorded like 👍 / 👎, acknowledged to the voter only."""
    action = (body.get("actions") or [{}])[0]
    page = decode_feedback(action.get("value"))
    response_url = body.get("response_url")
    user = (body.get("user") or {}).get("id")
    channel = _channel(body)
    if page is None or not user or not channel:
        post_response(client, response_url, render_notice(escape(EXPIRED)), replace_original=False)
        return
    query, offset, fact_ids, vote = page
    message = body.get("message") or {}
    ts = (body.get("container") or {}).get("message_ts") or message.get("ts")
    answer = f"{channel}:{ts}" if ts else f"{channel}:{query}:{offset}"
    recorded = bot.vote(answer, user, vote, query, fact_ids, channel)
    notice = render_notice(THANKS if recorded else NOT_RECORDED)
    if response_url:
        post_response(client, response_url, notice, replace_original=False)
        return
    try:  # no response_url (Slack sends one with every message click, but a client may not): the voter only
        client.chat_postEphemeral(channel=channel, user=user, thread_ts=message.get("thread_ts"), **notice.payload())
    except Exception as exc:
        log.warning("thanking for a vote failed: %s", type(exc).__name__)


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
