"""What factbot does, independent of how the question arrived (slash command, mention, DM, shell).

`Factbot` wraps the store's Index: it answers, lists sources, shows help and reloads, always
returning a render.Message. The Bolt listeners (commands, events, actions) and the shell run mode
both call it, so Slack and the terminal give the same answer. No Bolt import here.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from handlers import render
from handlers.delivery import describe_error
from handlers.markup import clean_text, event_text  # noqa: F401 (the question in a Slack message)
from handlers.render import MAIN_COMMAND, Message

log = logging.getLogger("factbot.handlers")

PAGE_SIZE = 5
SUBCOMMANDS = ("help", "sources", "reload")

_LEADING_AT = re.compile(r"^\s*@\S+[\s,:]*")
# headings that say nothing about a topic: an article's overview, bare numbering
_GENERIC_HEADING = re.compile(r"^(core|group \d|summary|\d+\.|market overview|overview)", re.I)

REFUSAL = "Sorry, only factbot's admins can reload the index. Ask one of them if the facts look stale."
BUSY = "A reload is already running; its report will arrive when it is done. Try again in a moment."
RELOADING = "Reloading…"
UNREACHABLE = ("The reload was not run: {reason}. Nothing changed; searches keep answering from the index"
               " as it is. Try again once the database is back.")


def strip_shell_mention(text: str) -> str:
    """`@factbot what about x` -> `what about x` (the shell's spelling of a mention)."""
    return _LEADING_AT.sub("", text, count=1)


@dataclass(frozen=True)
class Asker:
    """Who asked, and where (recorded with a question that had no confident answer)."""

    user: str
    channel: str
    surface: str = ""  # command | mention | dm | shortcut: where the question came from (metrics)


@dataclass(frozen=True)
class Intent:
    kind: str  # "search" | "help" | "sources" | "reload"
    query: str = ""


def parse_intent(text: str, command: str | None = None) -> Intent:
    """What a cleaned message or command text asks for.

    `/factbot help|sources|reload` (and the same single words in a mention or DM) are
    subcommands; empty text is help; a topic command such as `/ipo seres` asks "ipo seres".
    """
    text = " ".join((text or "").split())
    if command and command != MAIN_COMMAND:
        word = command.lstrip("/")
        return Intent("search", f"{word} {text}".strip())
    if not text or text in ("?",):
        return Intent("help")
    lowered = text.lower().rstrip("!.?")
    if lowered in SUBCOMMANDS:
        return Intent(lowered)
    if lowered.startswith("remove ") and command == MAIN_COMMAND:  # `/factbot remove <file>`
        return Intent("remove", text[len("remove "):].strip().strip("`"))
    return Intent("search", text)


class Factbot:
    """The bot's behaviour over a store Index (thread-safe: the index is, and nothing else is shared).

    `records` (a store.records.Records, or None) keeps the unanswered questions and the votes;
    with it, every answer carries 👍 / 👎 buttons. The shell runs without it. `metrics` (bot/metrics.py's
    Metrics, or None) counts the questions by surface and outcome, their answer time and the uploads.
    `threads` (a store.threads.Threads, or None) keeps what each thread was asked and answered: a
    question asked in a thread is read with the thread's context (docs/threads.md).
    """

    def __init__(self, index: Any, settings: Any, page_size: int = PAGE_SIZE, records: Any = None,
                 metrics: Any = None, threads: Any = None):
        self.index = index
        self.settings = settings
        self.page_size = page_size
        self.records = records
        self.metrics = metrics
        self.threads = threads
        from store.overview import OverviewCache

        self._overviews = OverviewCache()

    @property
    def commands(self) -> tuple[str, ...]:
        return (MAIN_COMMAND,) + tuple(c for c in self.settings.commands if c != MAIN_COMMAND)

    # -- answers --

    def answer(self, query: str, offset: int = 0, *, share: bool = False, more: bool = True,
               shared_by: str | None = None, asker: Asker | None = None, thread: Any = None) -> Message:
        """A page of facts for `query`; a first page with no confident answer is recorded for `asker`.
        `thread` (a store.threads.ThreadKey): the thread the question was asked in; its first page
        is read with the thread's context, and recorded as the thread's newest turn; a later page
        with the context its first page had."""
        started = time.perf_counter()
        asked = " ".join((query or "").split())
        query = asked[: render.MAX_QUERY]
        in_thread = thread is not None and self.threads is not None and offset == 0 and bool(query)
        paging = thread is not None and self.threads is not None and offset > 0 and bool(query)
        # a later page ("More results"): the context its first page was read with
        context = self._thread_context(thread, before=query if paging else None) if in_thread or paging else None
        options = {"context": context} if context else {}  # no context: the search as it always was
        result = self.index.search(query, limit=self.page_size, offset=max(0, int(offset)), **options)
        if in_thread:
            self._record("thread turn", self.threads.record, thread, query, getattr(result, "about", []),
                         [getattr(h, "article_id", 0) for h in result.hits], [h.id for h in result.hits])
        suggestions: list[str] = []
        if not result.hits:
            if asker is not None and offset == 0 and query:
                self._record("unanswered", self.records and self.records.record_unanswered,
                             query, asker.user, asker.channel)
            try:
                suggestions = self.suggestions(n=5)
            except Exception:  # suggestions are a nicety; the no-match answer must still go out
                log.exception("finding suggestions failed")
        message = render.render_answer(result, offset=offset, share=share, more=more, shared_by=shared_by,
                                       suggestions=suggestions, feedback=self.records is not None,
                                       asked_length=len(asked) if offset == 0 else 0)
        if self.metrics is not None and asker is not None:  # a question (not a page, a share or a vote)
            self.metrics.question(asker.surface, bool(result.hits), time.perf_counter() - started)
        return message

    def _thread_context(self, thread: Any, before: str | None = None) -> Any:
        """The thread's context (before the newest turn that asked `before`, when given); None when
        the state store does not answer: the question is then read on its own."""
        try:
            return self.threads.context(thread, before=before)
        except Exception as exc:  # a broken state store must not stop the answers
            log.error("reading the thread's context failed: %s", type(exc).__name__)
            return None

    def count_upload(self, outcome: str) -> None:
        """An export shared with factbot: added, replaced, refused, rejected or failed (metrics)."""
        if self.metrics is not None:
            self.metrics.upload(outcome)

    def vote(self, answer: str, user: str, vote: int, query: str, fact_ids: list[int], channel: str) -> bool:
        """Record `user`'s 👍 (+1) or 👎 (-1) on an answer (their earlier vote on it is replaced)."""
        return self._record("vote", self.records and self.records.record_vote,
                            answer, user, vote, query, fact_ids, channel)

    def _record(self, what: str, write: Any, *args: Any) -> bool:
        if not write:
            return False
        try:
            write(*args)
            return True
        except Exception as exc:  # a broken state store must not stop the answers
            log.error("recording the %s failed: %s", what, type(exc).__name__)
            return False

    def suggestions(self, n: int = 5) -> list[str]:
        """What to suggest when nothing matched: the newest titles, then the headings most used lately,
        without the generic ones (an article's overview, bare numbering), each once."""
        titles = self.index.recent_titles(n)
        headings = [h for h in self.index.common_headings(n * 3) if h and not _GENERIC_HEADING.match(h)]
        return list(dict.fromkeys(titles + headings))[:n]

    def overview(self) -> Any:
        """What the index holds, for people (store.overview): counts, newest articles, names, examples."""
        return self._overviews.get(self.index)

    def help(self) -> Message:
        try:
            examples = self.overview().examples
        except Exception:  # examples are a nicety; the help must still go out
            log.exception("drawing the overview failed")
            examples = []
        return render.render_help(self.commands, examples)

    def sources(self) -> Message:
        unique = getattr(self.index, "unique_facts", None)
        return render.render_sources(self.index.sources(), self.index.counts(), unique() if unique else None)

    def respond_to(self, intent: Intent, **answer_options: Any) -> Message:
        """The message for a help/sources/search intent (reload is handled by the caller)."""
        if intent.kind == "help":
            return self.help()
        if intent.kind == "sources":
            return self.sources()
        return self.answer(intent.query, **answer_options)

    # -- reload --

    def surely_not_admin(self, user_id: str | None) -> bool:
        """True when `user_id` cannot be an admin and Slack need not be asked: not in FACTBOT_ADMIN_USERS,
        and FACTBOT_WORKSPACE_ADMINS off (a slash command then refuses in its acknowledgement)."""
        if not user_id or not isinstance(user_id, str):
            return True
        return user_id not in self.settings.admin_users and not self.settings.admins_from_workspace

    def is_admin(self, user_id: str | None, client: Any = None) -> bool:
        """In FACTBOT_ADMIN_USERS, or (opt-in FACTBOT_WORKSPACE_ADMINS) a workspace admin/owner per users.info."""
        if self.surely_not_admin(user_id):
            return False
        if user_id in self.settings.admin_users:
            return True
        if client is None:
            return False
        try:
            user = client.users_info(user=user_id).get("user") or {}
        except Exception as exc:  # SlackApiError, connection errors: not an admin then
            log.warning("users.info for %s failed: %s", user_id, describe_error(exc))
            return False
        # deleted users, bots and guests (multi-channel: is_restricted, single-channel: is_ultra_restricted)
        # are never admins, whatever else their profile says
        if any(user.get(flag) for flag in ("deleted", "is_bot", "is_restricted", "is_ultra_restricted")):
            return False
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))

    def request_reload(self, user_id: str | None, client: Any, deliver: Callable[[Message], Any]) -> bool:
        """A reload asked for from Slack (command, mention, DM, Home button), the one route for all of them.

        An admin's runs after the acknowledgement: "Reloading…" and the report are handed to `deliver`
        from one thread; anyone else is handed the refusal and nothing is reloaded. True when it runs.
        """
        if not self.is_admin(user_id, client):
            log.warning("reload asked by %s, who is not an admin: refused", user_id)
            deliver(render.render_notice(REFUSAL))
            return False
        self.reload_in_background(actor=f"slack:{user_id}", deliver=deliver)
        return True

    def reload(self, actor: str, wait: bool = False, progress: Any = None) -> Message:
        """Run a reload now and return its report as a message (or the "busy" notice)."""
        from store import ReloadBusy, ReloadFailed, ReloadRefused
        from store.state import StateUnavailable

        try:
            report = self.index.reload(actor=actor, wait=wait, progress=progress)
        except ReloadBusy:
            return render.render_notice(BUSY)
        except ReloadRefused as exc:
            log.warning("reload by %s refused: %s", actor, exc)
            return render.render_notice(f"The reload was refused: {render.escape(str(exc))}.")
        except ReloadFailed as exc:
            log.error("reload by %s failed: %s", actor, exc)
            return render.render_notice(f"The reload failed: {render.escape(str(exc))}.")
        except StateUnavailable as exc:  # replicas: the shared store is down; nothing was changed
            log.warning("reload by %s not run: %s", actor, exc)
            return render.render_notice(UNREACHABLE.format(reason=render.escape(str(exc))))
        except Exception as exc:
            log.exception("reload by %s failed", actor)
            return render.render_notice(f"The reload failed: {render.escape(type(exc).__name__)}. The details are in the bot's log.")
        log.info("reload by %s: %s articles, %s facts, ok=%s", actor, report.articles, report.facts, report.ok)
        return render.render_reload_report(report)

    def reload_messages(self, actor: str, wait: bool = False) -> Iterator[Message]:
        """What a reload says, in order: "Reloading…" (before it starts), then its report."""
        yield render.render_notice(RELOADING)
        yield self.reload(actor, wait=wait)

    def reload_in_background(self, actor: str, deliver: Callable[[Message], Any]) -> Any:
        """After the acknowledgement, on the app's listener pool (`executor`, set by bot/app.py: a
        shutdown drains it; HTTP and Socket Mode alike): deliver "Reloading…", reload, deliver the
        report, one after the other, so that the report cannot overtake the notice. Without an
        executor (no Bolt app: the shell), a thread of its own."""

        def job() -> None:
            for message in self.reload_messages(actor):
                try:
                    deliver(message)
                except Exception as exc:
                    log.error("could not deliver a reload message to %s: %s", actor, describe_error(exc))

        executor = getattr(self, "executor", None)
        if executor is not None:
            return executor.submit(job)
        thread = threading.Thread(target=job, name="factbot-reload", daemon=True)
        thread.start()
        return thread
