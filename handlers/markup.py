"""The question in a Slack message: read from its rich_text blocks where Slack sends them, from the
message text otherwise (slash commands, older clients, the shell).

Only what the person typed is a query word. Mentions of users, channels and user groups, `@here`
and `@channel`, links, dates and emoji (`:eyes:`, also typed as a shortcode in plain text or a
slash command) are not: a mention names who is asked, not what, and a link's label or an emoji says
nothing the facts hold. Text in lists, quotes and code blocks is read like any other text.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from handlers import render

# Slack's markup in message text: <@U123>, <@U123|name>, <#C123|name>, <!here>, <!subteam^S1>,
# <!date^...|...>, <https://x|label>, <mailto:a@b|label>
_ANGLE = re.compile(r"<[@#!][^>]*>|<(?:https?|mailto|ftp|tel|slack):[^>]*>")
# emoji shortcodes: :rocket:, :+1:, :thumbsup::skin-tone-2:, :flag-cn: (a name holds a letter or +)
_EMOJI = re.compile(r"(?<![\w:]):(?=[a-z0-9_+'-]*[a-z+])[a-z0-9_+'-]+:(?::skin-tone-\d:)?(?![\w])")
# rich_text element types that carry no query words
_NOT_WORDS = frozenset({"user", "channel", "usergroup", "broadcast", "link", "emoji", "date", "team", "color"})


def clean_text(text: str | None) -> str:
    """A query from Slack message text: mentions, channels, user groups, links and emoji dropped,
    entities decoded, whitespace collapsed."""
    text = _ANGLE.sub(" ", text or "")
    text = render.unescape(text)
    text = _EMOJI.sub(" ", text)
    return " ".join(text.split())


def _rich_text_words(elements: Iterable[Any], out: list[str]) -> None:
    for element in elements or ():
        if not isinstance(element, dict):
            continue
        kind = element.get("type")
        if kind == "text":
            text = element.get("text")
            if isinstance(text, str):
                out.append(text)
        elif kind in _NOT_WORDS:
            out.append(" ")
        elif isinstance(element.get("elements"), list):  # sections, lists, quotes, preformatted
            _rich_text_words(element["elements"], out)
            out.append("\n")


def rich_text(blocks: Any) -> str | None:
    """The typed text of a message's rich_text blocks, or None when it has none."""
    if not isinstance(blocks, list):
        return None
    out: list[str] = []
    found = False
    for block in blocks:
        if isinstance(block, dict) and block.get("type") == "rich_text":
            found = True
            _rich_text_words(block.get("elements"), out)
    return "".join(out) if found else None


def event_text(event: dict) -> str:
    """The question of a message or app_mention event: its rich_text blocks when it has them
    (a text element's content as typed, no markup to undo), else its text."""
    typed = rich_text(event.get("blocks"))
    if typed is not None:
        # text elements hold plain characters (no &lt; escapes); emoji typed as text still go
        return " ".join(_EMOJI.sub(" ", typed).split())
    return clean_text(event.get("text"))
