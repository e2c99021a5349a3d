"""Slash commands: `/factbot <question>|help|sources|reload` and the topic commands (`/ipo seres`).

Every command is acknowledged at once; the answer follows on the response_url, ephemeral
(Slack does not show the user what they typed, so the answer repeats the question).
"""
from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from handlers.core import REFUSAL, Asker, Factbot, clean_text, parse_intent
from handlers.delivery import post_response
from handlers.render import MAIN_COMMAND
from handlers.uploads import NOT_ADMIN, ask_removal


def register(app: App, bot: Factbot) -> None:
    def on_command(ack: Ack, command: dict, client: Any, logger: Any) -> None:
        name = command.get("command") or MAIN_COMMAND
        intent = parse_intent(clean_text(command.get("text")), command=name)
        user = command.get("user_id")
        response_url = command.get("response_url")

        if intent.kind == "reload":
            if bot.surely_not_admin(user):
                ack(response_type="ephemeral", text=REFUSAL)
                return
            ack()  # users.info may be asked, and the reload runs: after the acknowledgement
            bot.request_reload(user, client, deliver=lambda message: post_response(client, response_url, message))
            return

        if intent.kind == "remove":  # an admin's removal of a stored file: asked to confirm first
            if bot.surely_not_admin(user):
                ack(response_type="ephemeral", text=NOT_ADMIN)
                return
            ack()
            post_response(client, response_url, ask_removal(bot, client, user, intent.query))
            return

        ack()
        asker = Asker(user, command.get("channel_id") or "", "command") if user else None
        message = bot.respond_to(intent, share=True, more=True, asker=asker)
        post_response(client, response_url, message)

    for name in bot.commands:
        app.command(name)(on_command)
