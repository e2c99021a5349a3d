"""Slash commands: `/factbot <question>|help|sources|reload` and the topic commands (`/ipo seres`).

Every command is acknowledged at once; the answer follows on the response_url, ephemeral
(Slack does not show the user what they typed, so the answer repeats the question).
"""
from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from handlers.core import REFUSAL, Asker, Factbot, clean_text, parse_intent
from handlers.delivery import post_response
from handlers.render import MAIN_COMMAND, render_notice


def register(app: App, bot: Factbot) -> None:
    def on_command(ack: Ack, command: dict, client: Any, logger: Any) -> None:
        name = command.get("command") or MAIN_COMMAND
        intent = parse_intent(clean_text(command.get("text")), command=name)
        user = command.get("user_id")
        response_url = command.get("response_url")

        if intent.kind == "reload":
            handle_reload(ack, bot, user, response_url, client)
            return

        ack()
        asker = Asker(user, command.get("channel_id") or "") if user else None
        message = bot.respond_to(intent, share=True, more=True, asker=asker)
        post_response(client, response_url, message)

    for name in bot.commands:
        app.command(name)(on_command)


def handle_reload(ack: Ack, bot: Factbot, user: str | None, response_url: str | None, client: Any) -> None:
    """`/factbot reload`: admins only. Acknowledged at once; "Reloading…" and the report follow on the
    response_url, sent one after the other from one thread."""

    def deliver(message: Any) -> None:
        post_response(client, response_url, message)

    if not bot.settings.admins_from_workspace and not (user and user in bot.settings.admin_users):
        ack(response_type="ephemeral", text=REFUSAL)
        return
    ack()  # asking users.info may take a moment: it is asked after the acknowledgement
    if bot.is_admin(user, client):
        bot.reload_in_background(actor=f"slack:{user}", deliver=deliver)
    else:
        post_response(client, response_url, render_notice(REFUSAL))
