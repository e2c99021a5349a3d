"""What people asked that factbot could not answer, and their votes on its answers.

Two tables in the state store (store/state.py: its SQLite file by default, PostgreSQL with
DATABASE_URL; `Records` takes the Engine):

    unanswered_queries  one row per question with no confident answer: query, user, channel, time
    answer_votes        one row per (answer, user): 👍 (+1) or 👎 (-1), the query, the fact ids
                        shown, user, channel, time; a second click by the same user replaces it
    welcomes            one row per (user, UTC day) someone was greeted on (the agent view's
                        Messages tab greets at most once a day); rows of earlier days are deleted

Rows older than `keep_days` are deleted (when the store is opened, and at most hourly after
that as rows are written). Nothing here knows about Slack: an "answer" is any key the caller
chooses that names one answer shown to people (the handlers use the message's channel and ts).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

import sqlalchemy as sa

from store.state import Purging, metadata

unanswered_queries = sa.Table(
    "unanswered_queries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False, index=True),  # UTC
    sa.Column("query", sa.Text, nullable=False),
    sa.Column("norm", sa.Text, nullable=False, index=True),  # the query folded: case, spaces
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
)

answer_votes = sa.Table(
    "answer_votes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("answer", sa.String(255), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("vote", sa.SmallInteger, nullable=False),  # +1 or -1
    sa.Column("query", sa.Text, nullable=False),
    sa.Column("norm", sa.Text, nullable=False, index=True),
    sa.Column("fact_ids", sa.Text, nullable=False),  # JSON list, in the order shown
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False, index=True),  # UTC
    sa.UniqueConstraint("answer", "user_id", name="answer_votes_one_per_user"),
)

welcomes = sa.Table(
    "welcomes", metadata,
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),  # UTC, YYYY-MM-DD
)

MAX_QUERY = 500


def fold(query: str) -> str:
    """The form two askings of the same question share: case folded, spaces collapsed."""
    return " ".join(str(query).casefold().split())[:MAX_QUERY]


def _utc(at: datetime | None, clock: Callable[[], float]) -> datetime:
    if at is None:
        return datetime.fromtimestamp(clock(), timezone.utc).replace(tzinfo=None)
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    return at


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class UnansweredQuery:
    query: str
    count: int  # how many times it was asked
    users: int  # by how many people
    last: str  # ISO UTC time of the latest asking

    def to_json(self) -> dict:
        return {"query": self.query, "count": self.count, "users": self.users, "last_asked": self.last}


@dataclass(frozen=True)
class DownvotedAnswer:
    query: str
    fact_ids: tuple[int, ...]
    count: int  # 👎 votes (one per person)
    up: int  # 👍 votes on the same answer
    last: str

    def to_json(self) -> dict:
        return {"query": self.query, "fact_ids": list(self.fact_ids), "count": self.count, "up": self.up,
                "last_voted": self.last}


@dataclass
class Report:
    since: str
    unanswered: list[UnansweredQuery] = field(default_factory=list)
    downvoted: list[DownvotedAnswer] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"since": self.since, "unanswered": [u.to_json() for u in self.unanswered],
                "downvoted": [d.to_json() for d in self.downvoted]}

    def render(self, facts: dict[int, dict] | None = None) -> str:
        """The report as text; with `facts` ({id: {"text": ...}}), each down-voted answer's first fact."""
        lines = [f"Since {self.since}:", "", "Unanswered queries (times asked, people):"]
        lines += [f"  {u.count:>5}  {u.users:>3}  {u.query}" for u in self.unanswered] or ["  none"]
        lines += ["", "Down-voted answers (👎, 👍, fact ids):"]
        for d in self.downvoted:
            lines.append(f"  {d.count:>5}  {d.up:>3}  {d.query}  [{', '.join(map(str, d.fact_ids))}]")
            first = next((facts[i] for i in d.fact_ids if facts and i in facts), None)
            if first:
                text = " ".join(str(first["text"]).split())
                lines.append(f"              1st fact: {text[:100] + ('…' if len(text) > 100 else '')}")
        if not self.downvoted:
            lines.append("  none")
        return "\n".join(lines)


class Records(Purging):
    """Unanswered queries and votes over `engine`; thread-safe (SQLAlchemy pools connections)."""

    def __init__(self, engine: sa.Engine, keep_days: int = 90, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.keep_days = int(keep_days)
        self._purging(clock)
        metadata.create_all(engine, tables=[unanswered_queries, answer_votes, welcomes])  # State.open does it too
        self.purge()

    # writing ------------------------------------------------------------------------------
    def record_unanswered(self, query: str, user: str, channel: str, at: datetime | None = None) -> None:
        query = " ".join(str(query).split())[:MAX_QUERY]
        if not query:
            return
        with self.engine.begin() as conn:
            conn.execute(unanswered_queries.insert().values(
                at=_utc(at, self.clock), query=query, norm=fold(query), user_id=str(user), channel=str(channel)))
        self._maybe_purge()

    def record_vote(self, answer: str, user: str, vote: int, query: str, fact_ids: Iterable[int], channel: str,
                    at: datetime | None = None) -> None:
        """Record `user`'s vote (+1 or -1) on `answer`, replacing their earlier vote on it."""
        if vote not in (1, -1):
            raise ValueError("a vote is +1 or -1")
        query = " ".join(str(query).split())[:MAX_QUERY]
        values = {"answer": str(answer)[:255], "user_id": str(user), "vote": vote, "query": query,
                  "norm": fold(query), "fact_ids": json.dumps([int(i) for i in fact_ids]),
                  "channel": str(channel), "at": _utc(at, self.clock)}
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            raise RuntimeError(f"unsupported state store {dialect}")
        stmt = insert(answer_votes).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["answer", "user_id"],
            set_={k: stmt.excluded[k] for k in ("vote", "query", "norm", "fact_ids", "channel", "at")})
        with self.engine.begin() as conn:
            conn.execute(stmt)
        self._maybe_purge()

    def first_visit_today(self, user: str, at: datetime | None = None) -> bool:
        """True the first time this is asked for `user` on a UTC day (one row, written atomically, so
        replicas sharing PostgreSQL agree); False on every later call that day."""
        values = {"user_id": str(user)[:64], "day": _utc(at, self.clock).strftime("%Y-%m-%d")}
        stmt = (self._insert(welcomes).values(**values).on_conflict_do_nothing(index_elements=["user_id", "day"])
                .returning(welcomes.c.user_id))  # a row back when written (rowcount is -1 on PostgreSQL here)
        with self.engine.begin() as conn:
            written = conn.execute(stmt).first() is not None
        self._maybe_purge()
        return written

    def _insert(self, table: sa.Table):
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            raise RuntimeError(f"unsupported state store {dialect}")
        return insert(table)

    def purge(self, now: datetime | None = None) -> int:
        """Delete the records older than keep_days (the welcomes of days before today); how many were deleted."""
        today = _utc(now, self.clock)
        cutoff = today - timedelta(days=self.keep_days)
        with self.engine.begin() as conn:
            n = conn.execute(unanswered_queries.delete().where(unanswered_queries.c.at < cutoff)).rowcount
            n += conn.execute(answer_votes.delete().where(answer_votes.c.at < cutoff)).rowcount
            n += conn.execute(welcomes.delete().where(welcomes.c.day < today.strftime("%Y-%m-%d"))).rowcount
        self._purged_at = self.clock()
        return n


    # reading ------------------------------------------------------------------------------
    def votes(self, answer: str | None = None) -> list[dict]:
        """Every vote (of `answer` when given), oldest first, as plain dicts."""
        stmt = sa.select(answer_votes).order_by(answer_votes.c.id)
        if answer is not None:
            stmt = stmt.where(answer_votes.c.answer == answer)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
        for row in rows:
            row["fact_ids"] = json.loads(row["fact_ids"])
            row["at"] = _iso(row["at"])
        return rows

    def report(self, since: timedelta | None = None, limit: int = 20) -> Report:
        """The most frequent unanswered queries and the most down-voted answers since `since` ago
        (default: everything kept)."""
        self.purge()
        now = _utc(None, self.clock)
        start = now - (since if since is not None else timedelta(days=self.keep_days))
        u = unanswered_queries.c
        unanswered = sa.select(
            sa.func.max(u.query), sa.func.count(), sa.func.count(sa.distinct(u.user_id)), sa.func.max(u.at),
        ).where(u.at >= start).group_by(u.norm).order_by(sa.func.count().desc(), sa.func.max(u.at).desc()).limit(limit)
        v = answer_votes.c
        down = sa.func.sum(sa.case((v.vote < 0, 1), else_=0))
        up = sa.func.sum(sa.case((v.vote > 0, 1), else_=0))
        downvoted = sa.select(sa.func.max(v.query), v.fact_ids, down, up, sa.func.max(v.at)).where(
            v.at >= start).group_by(v.norm, v.fact_ids).having(down > 0).order_by(
            down.desc(), sa.func.max(v.at).desc()).limit(limit)
        with self.engine.connect() as conn:
            report = Report(since=_iso(start))
            report.unanswered = [UnansweredQuery(q, int(n), int(users), _iso(last))
                                 for q, n, users, last in conn.execute(unanswered)]
            report.downvoted = [DownvotedAnswer(q, tuple(json.loads(ids)), int(d), int(up_), _iso(last))
                                for q, ids, d, up_, last in conn.execute(downvoted)]
        return report


def parse_since(text: str) -> timedelta:
    """`7d`, `24h`, `30m`, `2w` (or a bare number of days) as a timedelta; ValueError otherwise."""
    text = str(text).strip().lower()
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "d")
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"not a duration: {text!r} (use 7d, 24h, 30m or 2w)") from None
    try:
        if not value > 0:  # also NaN
            raise OverflowError
        return timedelta(**{units[unit]: value})
    except OverflowError:
        raise ValueError(f"not a duration: {text!r} (use 7d, 24h, 30m or 2w)") from None
