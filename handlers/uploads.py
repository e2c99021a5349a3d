"""Exports added by DM: an admin shares an export file with factbot (in a DM, or in a message that
mentions it), and factbot keeps it in the corpus of record as an upload; and their removal.

For each file: the admin check first (anyone else's file is refused and never downloaded: no
files.info, no download); files.info for its size, type and download URL; the size limit
(FACTBOT_MAX_UPLOAD_MB) and the type (a text file) before downloading; the download, with the bot
token, only from Slack's own hosts; then store/uploads.py checks the export whole. A file with any
error is not added (the reply lists every error with its line, and the index is untouched). One
that parses is stored as an upload (store.corpus.store_upload: by whom, when) and indexed by the
normal reload (Factbot.reload: its lock, rules and audit trail). When a file of that name is stored
already (an upload, or a seeds folder's file), the uploader is asked first: Replace (the old
content stays in the corpus' history: `factbot restore`), Keep both (stored under "name (2).txt")
or Cancel; the file waits in the state store meanwhile, so the answer may reach any replica.

Removal (admins only, each time checked again): `/factbot remove <file>` answers with a Remove
button (with Slack's confirmation dialog) and Cancel; an admin's App Home lists the uploaded files,
each with a Remove button. Every removal is in the corpus' audit trail (store.corpus.audit).
"""
from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ConfirmObject

from handlers.core import Factbot
from handlers.delivery import describe_error, post_message
from handlers.render import (
    MAX_BLOCKS, MAX_FALLBACK, Message, block_dicts, chunk_lines, clip, clip_escaped, context, escape, plural,
    render_notice, section,
)

log = logging.getLogger("factbot.handlers")

REFUSED = "Sorry, only factbot's admins can add exports. Your file was not read."
NOT_ADMIN = "Sorry, only factbot's admins can remove or replace files. Nothing was changed."
GONE = "That upload is no longer waiting (answered already, or more than a day old). Share the file again."
REPLACE_ACTION, KEEP_ACTION, CANCEL_ACTION = "factbot_upload_replace", "factbot_upload_keep", "factbot_upload_cancel"
REMOVE_ACTION, REMOVE_CANCEL_ACTION = "factbot_remove", "factbot_remove_cancel"
UPLOAD_BLOCK, REMOVE_BLOCK = "factbot_upload_choice", "factbot_remove_choice"
TEXT_TYPES = {"text", "txt", "plain_text"}
TIMEOUT = 30
RELOAD_WAIT = 5.0  # seconds the reload after an upload or a removal waits for another one, then "busy"


class UploadError(Exception):
    """A file that cannot be taken; the message is for the admin (already escaped mrkdwn)."""


def uploads_enabled(settings: Any) -> bool:
    """Exports can be added by DM: someone can be an admin and FACTBOT_MAX_UPLOAD_MB is not 0."""
    return settings.max_upload_mb > 0 and bool(settings.admin_users or settings.admins_from_workspace)


def share_files(bot: Factbot, client: Any, event: dict, thread_ts: str | None, question: bool = False) -> bool:
    """Files in `event` (a DM's file_share, or a mention carrying files); `question`: the message
    also asks something.

    True when they were taken care of (an admin's: each read as an export and answered; anyone
    else's file alone: refused, unread); False when the caller should answer the message's text as
    a question (anyone else's file with a question, or where nobody can add exports at all: then a
    file is just a file, as in any DM).
    """
    files = [f for f in event.get("files") or [] if isinstance(f, dict) and f.get("id")]
    channel, user = event.get("channel"), event.get("user")
    if not files or not channel or not uploads_enabled(bot.settings):
        return False
    if not bot.is_admin(user, client):
        if question:
            return False
        post_message(client, channel, render_notice(REFUSED), thread_ts)
        return True
    for shared in files:
        post_message(client, channel, add_file(bot, client, shared["id"], user), thread_ts)
    return True


def add_file(bot: Factbot, client: Any, file_id: str, user: str) -> Message:
    """Read one shared file as an export and add it; the reply."""
    from store.uploads import check_export, export_name

    limit = int(bot.settings.max_upload_mb * 1024 * 1024)
    try:
        info = (client.files_info(file=file_id).get("file") or {})
    except Exception as exc:
        log.error("files.info for %s failed: %s", file_id, describe_error(exc))
        bot.count_upload("failed")
        return render_notice(f"I couldn't look at that file ({escape(describe_error(exc))}); is the `files:read` scope granted?")
    shown = clip_escaped(info.get("name") or file_id, 200)
    name = export_name(info.get("name"))
    try:
        if name is None:
            raise UploadError(f"`{shown}` cannot be a seed file name (hidden, a path, or too long); rename it and share it again.")
        if int(info.get("size") or 0) > limit:
            raise UploadError(f"`{shown}` is {_mb(int(info['size']))}; the limit is {_mb(limit)} (FACTBOT_MAX_UPLOAD_MB).")
        if not _is_text(info):
            kind = escape(str(info.get("mimetype") or info.get("filetype") or "unknown"))
            raise UploadError(f"`{shown}` is not a text export (it is {kind}); factbot reads the search site's text exports.")
        data = download(client, info, limit, bot.settings.slack_api_url)
    except UploadError as exc:
        bot.count_upload("rejected")
        return render_notice(f"{exc} Nothing was added; the index is unchanged.")
    check = check_export(name, data)
    if not check.ok:
        log.info("export %s from %s refused: %d errors", name, user, len(check.errors))
        bot.count_upload("refused")
        return render_export_errors(check)
    from store.corpus import NameTaken, hold_upload, stored_file

    state = corpus_state(bot)
    try:
        return store(bot, check, data, user, replace=False)
    except NameTaken:
        pending = hold_upload(state, name, data, user)
        log.info("export %s from %s: the name is taken, asking", name, user)
        return render_name_taken(check, stored_file(state, name), pending)


def corpus_state(bot: Factbot) -> Any:
    """The state store holding the corpus: the replica's PostgreSQL, or the embedded SQLite file."""
    return getattr(bot, "state", None) or getattr(bot.index, "state")


def store(bot: Factbot, check: Any, data: bytes, user: str, replace: bool) -> Message:
    """Store the checked export as `user`'s upload, then reload; the reply."""
    from store.corpus import NameTaken, store_upload

    if not replace and _in_seeds_folder(bot, check.name):  # a seed file of this process' folder
        raise NameTaken(check.name)  # (with replicas it is in the corpus too; without, only there)
    store_upload(corpus_state(bot), check.name, data, actor=f"slack:{user}", replace=replace)
    log.info("export %s %s by %s (%s articles, %s facts)", check.name, "replaced" if replace else "added", user,
             check.articles, check.facts)
    bot.count_upload("replaced" if replace else "added")
    return render_export_added(check, replace, bot.reload(actor=f"slack:{user}", wait=RELOAD_WAIT))


def _in_seeds_folder(bot: Factbot, name: str) -> bool:
    seeds = getattr(bot.index, "seeds", None)
    try:
        return seeds is not None and (seeds / name).is_file()
    except OSError:
        return False


def render_name_taken(check: Any, row: dict | None, pending: str) -> Message:
    """The question to the uploader: Replace / Keep both / Cancel."""
    shown = clip_escaped(check.name, 200)
    held = " (a file of the seeds folder)"
    if row:
        origin = "uploaded" if row.get("origin") == "upload" else "from a seeds folder"
        held = (f" ({origin}, added by {clip_escaped(str(row.get('added_by')), 100)} at "
                f"{escape(str(row.get('added_at')))}: {plural(int(row.get('articles') or 0), 'article')}, "
                f"{plural(int(row.get('facts') or 0), 'fact')})")
    head = (f"*`{shown}` is stored already*{held}. Your file has {plural(check.articles, 'article')}, "
            f"{plural(check.facts, 'fact')}. Replace the stored one (it stays recoverable with `factbot restore`),"
            " keep both (yours under a new name), or cancel?")
    buttons = ActionsBlock(block_id=UPLOAD_BLOCK, elements=[
        ButtonElement(text="Replace", action_id=REPLACE_ACTION, value=pending, style="danger"),
        ButtonElement(text="Keep both", action_id=KEEP_ACTION, value=pending),
        ButtonElement(text="Cancel", action_id=CANCEL_ACTION, value=pending)])
    return Message(text=clip(head.replace("*", ""), MAX_FALLBACK), blocks=[section(head).to_dict(), buttons.to_dict()])


def _respond(respond: Any, message: Message) -> None:
    try:
        respond(text=message.text, blocks=message.blocks, replace_original=True)
    except Exception as exc:
        log.error("answering on the response_url failed: %s", describe_error(exc))


def _clicked(body: dict) -> tuple[str | None, str]:
    actions = body.get("actions") or [{}]
    return (body.get("user") or {}).get("id"), str(actions[0].get("value") or "")


def register(app: App, bot: Factbot) -> None:
    """The buttons of an upload under a taken name, and of a removal."""

    def on_choice(ack: Ack, body: dict, client: Any, respond: Any, action: dict) -> None:
        ack()
        from store.corpus import free_name, take_upload
        from store.uploads import check_export

        user, pending = _clicked(body)
        if not bot.is_admin(user, client):
            _respond(respond, render_notice(NOT_ADMIN))
            return
        state = corpus_state(bot)
        taken = take_upload(state, pending, user)
        if taken is None:
            _respond(respond, render_notice(GONE))
            return
        name, data = taken
        if action.get("action_id") == CANCEL_ACTION:
            _respond(respond, render_notice(f"Cancelled: `{clip_escaped(name, 200)}` was not added; the stored one stays."))
            return
        replace = action.get("action_id") == REPLACE_ACTION
        if not replace:
            name = free_name(state, name)
        _respond(respond, _stored_or_busy(bot, check_export(name, data), data, user, replace))

    for action_id in (REPLACE_ACTION, KEEP_ACTION, CANCEL_ACTION):
        app.action(action_id)(on_choice)

    @app.action(REMOVE_ACTION)
    def on_remove(ack: Ack, body: dict, client: Any, respond: Any) -> None:
        ack()
        user, name = _clicked(body)
        _respond(respond, remove(bot, client, user, name))

    @app.action(REMOVE_CANCEL_ACTION)
    def on_remove_cancel(ack: Ack, body: dict, respond: Any) -> None:
        ack()
        _respond(respond, render_notice(f"Cancelled: `{clip_escaped(_clicked(body)[1], 200)}` stays."))


def _stored_or_busy(bot: Factbot, check: Any, data: bytes, user: str, replace: bool) -> Message:
    from store import ReloadBusy
    from store.corpus import NameTaken

    try:
        return store(bot, check, data, user, replace=replace)
    except NameTaken:  # Keep both, and another upload took the free name meanwhile
        return render_notice(f"`{clip_escaped(check.name, 200)}` was taken meanwhile; share the file again.")
    except ReloadBusy:
        return render_notice("The corpus is busy with another change; nothing was added. Try again in a moment.")


def ask_removal(bot: Factbot, client: Any, user: str | None, name: str) -> Message:
    """`/factbot remove <file>`: the stored file described, with Remove (confirmed) and Cancel buttons."""
    from store.corpus import stored_file

    if not bot.is_admin(user, client):
        return render_notice(NOT_ADMIN)
    name = " ".join(name.split())
    if not name:
        return render_notice("Say which file: `/factbot remove <file>`.")
    row = stored_file(corpus_state(bot), name)
    shown = clip_escaped(name, 200)
    if row is None and _in_seeds_folder(bot, name):  # without replicas the folder's files are the folder's
        return render_notice(f"`{shown}` is a file of the seeds folder: delete it there, and the next reload"
                             " removes it. Only uploaded files are removed from Slack.")
    if row is None:
        return render_notice(f"No file named `{shown}` in the corpus. `/factbot sources` lists what is indexed.")
    origin = "uploaded" if row.get("origin") == "upload" else "from a seeds folder (it comes back at that folder's next reload unless deleted there)"
    head = (f"*Remove `{shown}`?* {origin}, added by {clip_escaped(str(row['added_by']), 100)} at "
            f"{escape(str(row['added_at']))}: {plural(int(row['articles']), 'article')}, {plural(int(row['facts']), 'fact')}."
            " It stays recoverable with `factbot restore`.")
    return Message(text=clip(head.replace("*", ""), MAX_FALLBACK),
                   blocks=[section(head).to_dict(), remove_buttons(name, REMOVE_BLOCK).to_dict()])


def remove_buttons(name: str, block_id: str, cancel: bool = True) -> ActionsBlock:
    confirm = ConfirmObject(title="Remove the file?", text=f"{name[:250]} leaves the index of every replica.",
                            confirm="Remove", deny="Keep it", style="danger")
    elements = [ButtonElement(text="Remove", action_id=REMOVE_ACTION, value=name[:2000], style="danger",
                              confirm=confirm)]
    if cancel:
        elements.append(ButtonElement(text="Cancel", action_id=REMOVE_CANCEL_ACTION, value=name[:2000]))
    return ActionsBlock(block_id=block_id, elements=elements)


def remove(bot: Factbot, client: Any, user: str | None, name: str) -> Message:
    """An admin's removal of `name` from the corpus (checked again here), then the reload."""
    from store import ReloadBusy
    from store.corpus import NotStored, remove_file

    if not bot.is_admin(user, client):
        log.warning("removal of %s asked by %s, who is not an admin: refused", name[:200], user)
        return render_notice(NOT_ADMIN)
    try:
        remove_file(corpus_state(bot), name, actor=f"slack:{user}")
    except NotStored:
        return render_notice(f"No file named `{clip_escaped(name, 200)}` in the corpus (removed already?).")
    except ReloadBusy:
        return render_notice("The corpus is busy with another change; nothing was removed. Try again in a moment.")
    log.info("%s removed by %s", name[:200], user)
    report = bot.reload(actor=f"slack:{user}", wait=RELOAD_WAIT)
    head = f"*Removed `{clip_escaped(name, 200)}`.* `factbot restore {clip_escaped(name, 200)}` brings it back."
    return Message(text=clip(head.replace("*", "") + "\n" + report.text, MAX_FALLBACK),
                   blocks=([section(head).to_dict()] + list(report.blocks))[:MAX_BLOCKS])


def _is_text(info: dict) -> bool:
    mimetype = str(info.get("mimetype") or "")
    return mimetype.startswith("text/") or str(info.get("filetype") or "").lower() in TEXT_TYPES


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.2f} MB".replace(".00 MB", " MB")


def _trusted_host(url: str, api_url: str) -> bool:
    """Slack's hosts, or the host of SLACK_API_URL (GovSlack, a test stand-in): the bot token goes nowhere else."""
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    api = (urllib.parse.urlsplit(api_url).hostname or "").lower()
    slack_domains = ("slack.com", "slack-edge.com", "slack-files.com", "slack-gov.com")
    return bool(host) and (host == api or any(host == d or host.endswith("." + d) for d in slack_domains))


class _SlackOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, api_url: str):
        self.api_url = api_url

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401
        if not _trusted_host(newurl, self.api_url):
            raise UploadError("Slack sent the download somewhere else; it was not followed.")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def download(client: Any, info: dict, limit: int, api_url: str) -> bytes:
    """The file's bytes from url_private_download, with the bot token (files:read); at most `limit`."""
    url = str(info.get("url_private_download") or info.get("url_private") or "")
    if urllib.parse.urlsplit(url).scheme not in ("https", "http") or not _trusted_host(url, api_url):
        raise UploadError("That file has no download address on Slack.")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})
    opener = urllib.request.build_opener(_SlackOnlyRedirects(api_url))
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            if response.headers.get_content_type() == "text/html":  # Slack's sign-in page: no access
                raise UploadError("Slack did not hand over the file (is the `files:read` scope granted?).")
            data = response.read(limit + 1)
    except urllib.error.URLError as exc:
        log.error("downloading file %s failed: %s", info.get("id"), type(exc).__name__)
        raise UploadError(f"Downloading the file failed ({escape(type(exc).__name__)}).") from None
    except OSError as exc:
        log.error("downloading file %s failed: %s", info.get("id"), type(exc).__name__)
        raise UploadError(f"Downloading the file failed ({escape(type(exc).__name__)}).") from None
    if len(data) > limit:
        raise UploadError(f"That file is larger than the limit of {_mb(limit)} (FACTBOT_MAX_UPLOAD_MB).")
    return data


def render_export_errors(check: Any) -> Message:
    """Every error of a refused export, with its line; says nothing was added."""
    head = (f"*`{clip_escaped(check.name, 200)}` was not added:* {plural(len(check.errors), 'error')}. "
            "Nothing was added and the index is unchanged; fix the file and share it again.")
    lines = [f"• {clip_escaped(str(e), 1000)}" for e in check.errors]
    blocks = [section(head)]
    chunks = chunk_lines(lines)
    for i, chunk in enumerate(chunks):
        if len(blocks) >= MAX_BLOCKS - 1:
            rest = sum(c.count("\n• ") + 1 for c in chunks[i:])
            blocks.append(context(f"… and {rest} more errors"))
            break
        blocks.append(section(chunk))
    text = head.replace("*", "") + "\n" + "\n".join(lines)
    return Message(text=clip(text, MAX_FALLBACK), blocks=block_dicts(blocks))


def render_export_added(check: Any, replaced: bool, report: Message) -> Message:
    """What an added export held, followed by the reload's report."""
    verb = "Replaced" if replaced else "Added"
    head = f"*{verb} `{clip_escaped(check.name, 200)}`:* {plural(check.articles, 'article')}, {plural(check.facts, 'fact')}."
    blocks = [section(head).to_dict()] + list(report.blocks)
    return Message(text=clip(head.replace("*", "") + "\n" + report.text, MAX_FALLBACK), blocks=blocks[:MAX_BLOCKS])
