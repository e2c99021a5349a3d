"""Exports added by DM: an admin shares an export file with factbot (in a DM, or in a message that
mentions it), and factbot adds it to the seeds.

For each file: the admin check first (anyone else's file is refused and never downloaded: no
files.info, no download); files.info for its size, type and download URL; the size limit
(FACTBOT_MAX_UPLOAD_MB) and the type (a text file) before downloading; the download, with the bot
token, only from Slack's own hosts; then store/uploads.py checks the export whole. A file with any
error is not added (the reply lists every error with its line, and the index is untouched); one
that parses is written into the seeds folder (replacing a file of the same name) and indexed by
the normal reload (Factbot.reload: its lock, rules and audit trail), and the reply says what it
added and what the index holds now.
"""
from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from handlers.core import Factbot
from handlers.delivery import describe_error, post_message
from handlers.render import (
    MAX_BLOCKS, MAX_FALLBACK, Message, _chunk_lines, _dicts, clip, clip_escaped, context, escape, render_notice,
    section,
)

log = logging.getLogger("factbot.handlers")

REFUSED = "Sorry, only factbot's admins can add exports. Your file was not read."
TEXT_TYPES = {"text", "txt", "plain_text"}
TIMEOUT = 30


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
    from store.uploads import add_to_folder, check_export, export_name

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
    replaced = add_to_folder(bot.index.seeds, name, data)
    log.info("export %s added by %s (%s articles, %s facts)", name, user, check.articles, check.facts)
    bot.count_upload("replaced" if replaced else "added")
    return render_export_added(check, replaced, bot.reload(actor=f"slack:{user}", wait=True))


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


def _s(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def render_export_errors(check: Any) -> Message:
    """Every error of a refused export, with its line; says nothing was added."""
    head = (f"*`{clip_escaped(check.name, 200)}` was not added:* {_s(len(check.errors), 'error')}. "
            "Nothing was added and the index is unchanged; fix the file and share it again.")
    lines = [f"• {clip_escaped(str(e), 1000)}" for e in check.errors]
    blocks = [section(head)]
    chunks = _chunk_lines(lines)
    for i, chunk in enumerate(chunks):
        if len(blocks) >= MAX_BLOCKS - 1:
            rest = sum(c.count("\n• ") + 1 for c in chunks[i:])
            blocks.append(context(f"… and {rest} more errors"))
            break
        blocks.append(section(chunk))
    text = head.replace("*", "") + "\n" + "\n".join(lines)
    return Message(text=clip(text, MAX_FALLBACK), blocks=_dicts(blocks))


def render_export_added(check: Any, replaced: bool, report: Message) -> Message:
    """What an added export held, followed by the reload's report."""
    verb = "Replaced" if replaced else "Added"
    head = f"*{verb} `{clip_escaped(check.name, 200)}`:* {_s(check.articles, 'article')}, {_s(check.facts, 'fact')}."
    blocks = [section(head).to_dict()] + list(report.blocks)
    return Message(text=clip(head.replace("*", "") + "\n" + report.text, MAX_FALLBACK), blocks=blocks[:MAX_BLOCKS])
