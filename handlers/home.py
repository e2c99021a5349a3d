"""The App Home tab (app_home_opened -> views.publish), and its Reload button.

Everyone sees how to ask (the slash commands, a mention, a DM, the message shortcut), examples
built from what is indexed (store/overview.py: the names and topics the corpus holds most, each
example checked to find facts), and what is indexed (counts, the newest articles). Admins (the
one check, Factbot.is_admin) see in addition the last reloads, a Reload button, the questions
nobody got an answer to in the last 7 days and the down-voted answers.

The Reload button is rendered only for admins, and its click is checked again: a forged click
from anyone else gets a refusal on their Home tab and reloads nothing.
"""
from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any, Sequence

from slack_bolt import Ack, App
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ConfirmObject, DividerBlock, HeaderBlock, SectionBlock
from slack_sdk.models.views import View

from handlers.core import Factbot
from handlers.delivery import describe_error
from handlers.render import (
    MAIN_COMMAND, Message, chunk_lines, clip_escaped, context, escape, plural, section, unique_part,
)
from handlers.shortcuts import FIND_FACTS_NAME

log = logging.getLogger("factbot.handlers")

HOME_RELOAD_ACTION = "factbot_home_reload"
HOME_REMOVE_ACTION = "factbot_home_remove"
MAX_UPLOADS_SHOWN = 20
ADMIN_BLOCK = "factbot_home_admin"
WINDOW = timedelta(days=7)
MAX_HOME_BLOCKS = 100


def register(app: App, bot: Factbot) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict, client: Any) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        publish(bot, client, event["user"])

    @app.action(HOME_RELOAD_ACTION)
    def on_home_reload(ack: Ack, body: dict, client: Any) -> None:
        ack()
        user = (body.get("user") or {}).get("id")
        if not user:
            return
        # the one reload route: an admin gets "Reloading…", then the report, each at the top of their Home
        # tab; anyone else (a forged click) the refusal, and nothing is reloaded
        bot.request_reload(user, client, deliver=lambda message: publish(bot, client, user, notice=message))

    @app.action(HOME_REMOVE_ACTION)
    def on_home_remove(ack: Ack, body: dict, client: Any) -> None:
        ack()
        from handlers.uploads import remove

        user = (body.get("user") or {}).get("id")
        name = str(((body.get("actions") or [{}])[0] or {}).get("value") or "")
        if user:  # the admin check is remove()'s: a forged click gets the refusal on its Home tab
            publish(bot, client, user, notice=remove(bot, client, user, name))


def publish(bot: Factbot, client: Any, user: str, notice: Message | None = None) -> bool:
    """Draw `user`'s Home tab and views.publish it; False (logged) when Slack did not take it."""
    admin = bot.is_admin(user, client)
    view = render_home(bot, bot.overview(), admin=admin, notice=notice)
    try:
        client.views_publish(user_id=user, view=view)
        return True
    except Exception as exc:
        log.error("views.publish for %s failed: %s", user, describe_error(exc))
        return False


def _how_to_ask(commands: Sequence[str]) -> list[str]:
    topics = [c for c in commands if c != MAIN_COMMAND]
    lines = ["*How to ask*",
             f"• `{MAIN_COMMAND} <question>` anywhere: only you see the answer, a button shares it"]
    if topics:
        lines.append("• topic commands: " + ", ".join(f"`{c} <text>`" for c in topics))
    lines += ["• `@factbot <question>` in a channel: answered in the thread",
              "• a direct message (the *Messages* tab above): answered in the conversation",
              f"• on any message, ⋯ → *{FIND_FACTS_NAME}*: the facts about it, only for you"]
    return [escape(line) for line in lines]  # "<question>" is text, not Slack markup


def render_home(bot: Factbot, overview: Any, admin: bool = False, notice: Message | None = None) -> dict:
    """The Home tab as a view dict (built with slack_sdk's models, which check Slack's limits)."""
    blocks: list[Block | dict] = []
    if notice is not None:
        blocks += list(notice.blocks)
        blocks.append(DividerBlock())
    blocks.append(HeaderBlock(text="factbot"))
    blocks.append(section("Answers questions from the team's article digests with sourced facts."))
    blocks.append(section("\n".join(_how_to_ask(bot.commands))))
    if overview.examples:
        forms = [f"`{MAIN_COMMAND} {{}}`", "`@factbot what about {}?`", "a DM: `{}`"]
        lines = [forms[i % len(forms)].format(clip_escaped(q, 200)) for i, q in enumerate(overview.examples)]
        blocks.append(section("*Try*\n" + "\n".join(f"• {line}" for line in lines)))

    indexed = [f"*What is indexed:* {plural(overview.articles, 'article')}, {plural(overview.facts, 'fact')}"
               + unique_part(overview.facts, getattr(overview, "unique", None))]
    if overview.names:
        indexed.append("Most covered: " + ", ".join(
            f"{clip_escaped(name, 80)} ({plural(n, 'fact')})" for name, n in overview.names))
    if overview.topics:
        indexed.append("Topics: " + ", ".join(clip_escaped(t, 60) for t, _ in overview.topics))
    blocks.append(section("\n".join(indexed)))
    if overview.newest:
        lines = ["*Newest articles*"] + [
            f"• *{clip_escaped(a.title, 200)}*\n   {clip_escaped(a.source, 100)} · {escape(a.published.replace('T', ' '))}"
            for a in overview.newest]
        blocks += [section(chunk) for chunk in chunk_lines(lines)]
    blocks.append(context(f"`{MAIN_COMMAND} sources` lists every indexed article."))
    if admin:
        blocks += _admin_blocks(bot)
    return View(type="home", blocks=blocks[:MAX_HOME_BLOCKS]).to_dict()


def _facts(bot: Factbot, ids: list[int]) -> dict[int, dict]:
    from store.overview import facts_by_id

    try:
        return facts_by_id(bot.index, ids)
    except Exception as exc:  # the list still shows the ids
        log.error("reading voted facts failed: %s", type(exc).__name__)
        return {}


def _admin_blocks(bot: Factbot) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), HeaderBlock(text="For admins")]
    lines = ["*Last reloads*"]
    try:
        reloads = bot.index.reloads(limit=5)
    except Exception as exc:
        log.error("reading the reloads failed: %s", type(exc).__name__)
        reloads = []
    for r in reloads:
        errors = json.loads(r.get("errors") or "[]") if isinstance(r.get("errors"), str) else (r.get("errors") or [])
        line = (f"• {escape(str(r.get('at', '')))} · {clip_escaped(str(r.get('actor', '')), 100)} · "
                f"{int(r.get('articles') or 0)} articles, {int(r.get('facts') or 0)} facts · "
                f"{int(r.get('loaded') or 0)} loaded, {int(r.get('unchanged') or 0)} unchanged, "
                f"{int(r.get('failed') or 0)} failed")
        if errors:
            line += "\n   " + clip_escaped("; ".join(str(e) for e in errors[:3]), 600)
        lines.append(line)
    if not reloads:
        lines.append("• none yet")
    blocks += [section(chunk) for chunk in chunk_lines(lines)]
    if bot.settings.max_upload_mb > 0:
        blocks.append(context("To add a digest, share its export file with factbot in a direct message."))
    blocks += _upload_blocks(bot)
    blocks.append(ActionsBlock(block_id=ADMIN_BLOCK, elements=[
        ButtonElement(text="Reload", action_id=HOME_RELOAD_ACTION, value="reload", style="primary")]))

    report = None
    if bot.records is not None:
        try:
            report = bot.records.report(since=WINDOW, limit=10)
        except Exception as exc:
            log.error("reading the records failed: %s", type(exc).__name__)
    unanswered = ["*Unanswered questions, last 7 days*"]
    unanswered += [f"• “{clip_escaped(u.query, 200)}” · asked {u.count}× by {u.users}"
                   for u in (report.unanswered if report else [])] or ["• none"]
    downvoted = ["*Down-voted answers, last 7 days*"]
    voted = list(report.downvoted if report else [])
    facts = _facts(bot, [i for d in voted for i in d.fact_ids[:1]])
    for d in voted:
        line = f"• “{clip_escaped(d.query, 200)}” · 👎 {d.count}, 👍 {d.up}"
        first = facts.get(d.fact_ids[0]) if d.fact_ids else None
        line += f"\n   first fact: _{clip_escaped(first['text'], 200)}_" if first else \
            " · facts " + escape(", ".join(map(str, d.fact_ids[:10])))
        downvoted.append(line)
    if not voted:
        downvoted.append("• none")
    for lines in (unanswered, downvoted):
        blocks += [section(chunk) for chunk in chunk_lines(lines)]
    return blocks


def _upload_blocks(bot: Factbot) -> list[Block]:
    """The uploaded files (kept until an admin removes them), each with a Remove button."""
    from store.corpus import UPLOAD, list_files

    state = getattr(bot, "state", None) or getattr(bot.index, "state", None)
    if state is None:
        return []
    try:
        files = list_files(state, origin=UPLOAD)
    except Exception as exc:
        log.error("reading the uploaded files failed: %s", type(exc).__name__)
        return []
    if not files:
        return []
    blocks: list[Block] = [section("*Uploaded files* (kept until an admin removes them)")]
    for row in files[:MAX_UPLOADS_SHOWN]:
        name = str(row["name"])
        confirm = ConfirmObject(title="Remove the file?", text=f"{name[:250]} leaves the index of every replica.",
                                confirm="Remove", deny="Keep it", style="danger")
        blocks.append(SectionBlock(
            text=(f"`{clip_escaped(name, 200)}` · {int(row['articles'])} articles, {int(row['facts'])} facts · "
                  f"by {clip_escaped(str(row['added_by']), 100)} at {escape(str(row['added_at']))}"),
            accessory=ButtonElement(text="Remove", action_id=HOME_REMOVE_ACTION, value=name[:2000], style="danger",
                                    confirm=confirm)))
    if len(files) > MAX_UPLOADS_SHOWN:
        blocks.append(context(f"… and {len(files) - MAX_UPLOADS_SHOWN} more: `factbot remove FILE` on the command line."))
    return blocks
