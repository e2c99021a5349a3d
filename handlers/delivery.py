"""Sending messages: to a response_url (ephemeral answers) or with chat.postMessage.

Both go through slack-sdk clients configured with the app's retry handlers (bot/app.py: a post is
retried only when Slack surely did not act on it: 429, a refused connection); what still fails is logged by its API error code (never a token) and the
bot carries on.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from slack_sdk.webhook import WebhookClient

from handlers.render import Message

log = logging.getLogger("factbot.handlers")

# Bolt reports a failed auth.test in its message text, not in a response
_CODE_IN_TEXT = re.compile(r"API error: ([a-z_]+)|'error': '([a-z_]+)'")


def error_code(exc: BaseException) -> str | None:
    """The Web API's error code a failure carries ("ratelimited", "not_in_channel"), or None.

    From the response of a SlackApiError, else from the code named in the message (Bolt's
    auth.test failure). Never the request, so never a token."""
    response = getattr(exc, "response", None)
    try:
        code = response.get("error") if response is not None and hasattr(response, "get") else None
    except Exception:  # a response that cannot be read as a dict
        code = None
    if code:
        return str(code)
    match = _CODE_IN_TEXT.search(str(exc))
    return (match.group(1) or match.group(2)) if match else None


def describe_error(exc: BaseException) -> str:
    """A short description of a failure for the log: "SlackApiError: ratelimited", or the exception's name."""
    code = error_code(exc)
    return f"{type(exc).__name__}: {code}" if code else type(exc).__name__


def post_response(client: Any, response_url: str | None, message: Message | None, *, ephemeral: bool = True,
                  replace_original: bool | None = None, delete_original: bool = False) -> bool:
    """Send `message` to a slash command's or a button's response_url. True when Slack took it.

    replace_original: True replaces the message the button was on, False keeps it (a new message);
    None leaves it to Slack."""
    if not response_url:
        log.warning("no response_url to answer on")
        return False
    webhook = WebhookClient(
        url=response_url,
        timeout=getattr(client, "timeout", 30),
        ssl=getattr(client, "ssl", None),
        proxy=getattr(client, "proxy", None),
        retry_handlers=list(getattr(client, "retry_handlers", None) or []) or None,
        logger=logging.getLogger("factbot.slack_sdk.webhook"),
    )
    body: dict[str, Any] = {}
    if delete_original:
        body["delete_original"] = True
    else:
        body.update(message.payload() if message is not None else {})
        body["response_type"] = "ephemeral" if ephemeral else "in_channel"
        if replace_original is not None:
            body["replace_original"] = replace_original
    try:
        resp = webhook.send_dict(body)
    except Exception as exc:
        log.error("posting to the response_url failed: %s", describe_error(exc))
        return False
    if resp.status_code != 200:
        log.error("the response_url answered %s: %s", resp.status_code, str(resp.body)[:200])
        return False
    return True


def post_message(client: Any, channel: str, message: Message, thread_ts: str | None = None) -> dict:
    """chat.postMessage `message` into `channel` (in `thread_ts` when given).

    The API's answer; on failure {"ok": False, "error": <API error code or exception name>}.
    """
    kwargs: dict[str, Any] = {"channel": channel, "text": message.text, "blocks": message.blocks,
                              "unfurl_links": False, "unfurl_media": False, "link_names": False}
    if thread_ts:
        kwargs["thread_ts"] = thread_ts
    try:
        return client.chat_postMessage(**kwargs).data
    except Exception as exc:
        log.error("chat.postMessage to %s failed: %s", channel, describe_error(exc))
        return {"ok": False, "error": error_code(exc) or type(exc).__name__}
