"""What a thread was about: the last few questions factbot was asked in it, and what it answered.

One table in the state store (store/state.py: its SQLite file by default, PostgreSQL with
DATABASE_URL, shared by every replica; `Threads` takes the Engine):

    thread_turns  one row per question answered in a thread: team, channel, thread_ts, time, the
                  question, the entities the answer was about (JSON list of names), the articles
                  of its facts (JSON list of ids)

Per thread a context reads the newest MAX_TURNS turns (one more is kept, so that a later page of
the newest answer is read as its first page was; older ones are deleted as a turn is written),
and no turn outlives `keep_days` (the records' retention, FACTBOT_LOG_DAYS): older turns are never
read, and are deleted when the store is opened and at most hourly after that. Nothing is read
from Slack: the context is only what factbot itself was asked and answered.

    threads = Threads(state.engine, keep_days=90)
    key = ThreadKey("T1", "C1", "1712345678.000100")
    result = index.search("and the net profit?", context=threads.context(key))
    threads.record(key, "and the net profit?", result.about, [h.article_id for h in result.hits],
                   [h.id for h in result.hits])

The context of a thread is its newest turn that was about some entity: a question naming another
entity switches the thread to it. A thread never written to (a new thread) has an empty context,
which store/search.py reads as no context at all.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

import sqlalchemy as sa

from store.state import Purging, metadata

MAX_TURNS = 5  # per thread
MAX_QUESTION = 500
MAX_ENTITIES = 5  # per turn
MAX_ARTICLES = 20  # per turn

thread_turns = sa.Table(
    "thread_turns", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("team", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("thread_ts", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False, index=True),  # UTC
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("entities", sa.Text, nullable=False),  # JSON list of names
    sa.Column("articles", sa.Text, nullable=False),  # JSON list of article ids
    sa.Column("facts", sa.Text, nullable=False),  # JSON list of the fact ids shown
    sa.Index("thread_turns_thread", "team", "channel", "thread_ts", "id"),
)


@dataclass(frozen=True)
class ThreadKey:
    """One thread: the workspace, the conversation and the ts of the thread's first message."""

    team: str
    channel: str
    thread_ts: str


@dataclass(frozen=True)
class Turn:
    question: str
    entities: tuple[str, ...]
    articles: tuple[int, ...]
    facts: tuple[int, ...]
    at: str  # ISO UTC


@dataclass(frozen=True)
class ThreadContext:
    """What a follow-up leans on: the entities and articles of the thread's current subject (its
    newest turn about an entity), the facts the thread has shown (every turn kept), and the
    turns kept, newest first."""

    entities: tuple[str, ...] = ()
    articles: tuple[int, ...] = ()
    shown: frozenset[int] = frozenset()
    turns: tuple[Turn, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.entities or self.articles)


def _utc(clock: Callable[[], float]) -> datetime:
    return datetime.fromtimestamp(clock(), timezone.utc).replace(tzinfo=None)


class Threads(Purging):
    """The turns of threads over `engine`; thread-safe (SQLAlchemy pools connections)."""

    def __init__(self, engine: sa.Engine, keep_days: int = 90, max_turns: int = MAX_TURNS,
                 clock: Callable[[], float] = time.time):
        self.engine = engine
        self.keep_days = int(keep_days)
        self.max_turns = max(1, int(max_turns))
        self._purging(clock)
        metadata.create_all(engine, tables=[thread_turns])  # State.open does it too
        self.purge()

    def _cutoff(self) -> datetime:
        return _utc(self.clock) - timedelta(days=self.keep_days)

    @staticmethod
    def _where(key: ThreadKey):
        c = thread_turns.c
        return sa.and_(c.team == str(key.team)[:64], c.channel == str(key.channel)[:64],
                       c.thread_ts == str(key.thread_ts)[:64])

    def record(self, key: ThreadKey, question: str, entities: Iterable[str], articles: Iterable[int],
               facts: Iterable[int] = ()) -> None:
        """One answered question of the thread (the entities its answer is about, its facts' articles,
        the facts shown); the thread's turns beyond the newest max_turns go."""
        values = {"team": str(key.team)[:64], "channel": str(key.channel)[:64],
                  "thread_ts": str(key.thread_ts)[:64], "at": _utc(self.clock),
                  "question": " ".join(str(question).split())[:MAX_QUESTION],
                  "entities": json.dumps(list(dict.fromkeys(str(e) for e in entities))[:MAX_ENTITIES],
                                         ensure_ascii=False),
                  "articles": json.dumps(list(dict.fromkeys(int(a) for a in articles))[:MAX_ARTICLES]),
                  "facts": json.dumps(list(dict.fromkeys(int(f) for f in facts))[:MAX_ARTICLES])}
        c = thread_turns.c
        with self.engine.begin() as conn:
            conn.execute(thread_turns.insert().values(**values))
            # one turn more than a context reads: a later page of the newest answer is read with
            # the same turns as its first page was
            keep = sa.select(c.id).where(self._where(key)).order_by(c.id.desc()).limit(self.max_turns + 1)
            oldest_kept = conn.execute(sa.select(sa.func.min(keep.subquery().c.id))).scalar()
            if oldest_kept is not None:
                conn.execute(thread_turns.delete().where(self._where(key), c.id < oldest_kept))
        self._maybe_purge()

    def turns(self, key: ThreadKey) -> list[Turn]:
        """The thread's turns within the retention, newest first (max_turns, and the one before)."""
        c = thread_turns.c
        stmt = (sa.select(c.question, c.entities, c.articles, c.facts, c.at)
                .where(self._where(key), c.at >= self._cutoff()).order_by(c.id.desc()).limit(self.max_turns + 1))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [Turn(q, tuple(json.loads(e)), tuple(json.loads(a)), tuple(json.loads(f)),
                     at.strftime("%Y-%m-%dT%H:%M:%SZ")) for q, e, a, f, at in rows]

    def context(self, key: ThreadKey | None, before: str | None = None) -> ThreadContext:
        """What a follow-up in the thread leans on (empty for a new thread, or no thread). With
        `before` (a question the thread was asked): the context as it was when its newest asking
        was answered, the turns before that one (what a later page of that answer is read with;
        empty when no kept turn asked it)."""
        if key is None:
            return ThreadContext()
        turns = tuple(self.turns(key))
        if before is not None:
            asked = " ".join(str(before).split())[:MAX_QUESTION]
            at = next((i for i, turn in enumerate(turns) if turn.question == asked), None)
            turns = () if at is None else turns[at + 1:]
        turns = turns[:self.max_turns]
        shown = frozenset(f for turn in turns for f in turn.facts)
        for turn in turns:
            if turn.entities:
                return ThreadContext(turn.entities, turn.articles, shown, turns)
        return ThreadContext((), turns[0].articles if turns else (), shown, turns)

    def purge(self) -> int:
        """Delete the turns older than keep_days; how many."""
        with self.engine.begin() as conn:
            n = conn.execute(thread_turns.delete().where(thread_turns.c.at < self._cutoff())).rowcount
        self._purged_at = self.clock()
        return n

