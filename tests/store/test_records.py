"""store/records.py: unanswered queries and votes in the real state store (its SQLite file and a
throwaway PostgreSQL), purged after keep_days."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from store.records import Records, parse_since
from store.state import State


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> float:
        return self.at.timestamp()


@pytest.fixture
def clock():
    return Clock(datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc))


@pytest.fixture(params=["sqlite", "postgresql"])
def state(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'factbot.state.db'}" if request.param == "sqlite" \
        else request.getfixturevalue("database_url")
    state = State.open(url)
    yield state
    state.close()


@pytest.fixture
def records(state, clock):
    return Records(state.engine, keep_days=90, clock=clock)


def test_a_second_vote_by_the_same_user_replaces_the_first(records):
    records.record_vote("C1:1.0001", "U1", 1, "ipo seres", [7, 8], "C1")
    records.record_vote("C1:1.0001", "U1", -1, "ipo seres", [7, 8], "C1")
    records.record_vote("C1:1.0001", "U2", 1, "ipo seres", [7, 8], "C1")
    votes = records.votes("C1:1.0001")
    assert [(v["user_id"], v["vote"]) for v in votes] == [("U1", -1), ("U2", 1)]
    assert votes[0]["fact_ids"] == [7, 8] and votes[0]["query"] == "ipo seres" and votes[0]["channel"] == "C1"
    with pytest.raises(ValueError):
        records.record_vote("C1:1.0001", "U3", 0, "ipo seres", [7], "C1")


def test_report_counts_unanswered_queries_across_spelling_and_downvotes(records, clock):
    for user, text in (("U1", "banana bread"), ("U2", "Banana  Bread"), ("U1", "banana bread"), ("U3", "other")):
        records.record_unanswered(text, user, "C1")
    records.record_unanswered("   ", "U1", "C1")  # nothing asked: nothing recorded
    records.record_vote("C1:1", "U1", -1, "azure margins", [3, 4], "C1")
    records.record_vote("C1:2", "U2", -1, "Azure margins", [3, 4], "C2")
    records.record_vote("C1:2", "U3", 1, "azure margins", [3, 4], "C2")
    records.record_vote("C1:3", "U1", 1, "fine answer", [9], "C1")
    report = records.report()
    assert [(u.query.lower(), u.count, u.users) for u in report.unanswered] == [("banana bread", 3, 2), ("other", 1, 1)]
    assert [(d.query.lower(), d.fact_ids, d.count, d.up) for d in report.downvoted] == [("azure margins", (3, 4), 2, 1)]
    assert report.to_json()["unanswered"][0]["count"] == 3
    assert "banana bread" in report.render().lower()


def test_since_limits_the_report_and_old_records_are_deleted(records, clock):
    start = clock.at
    records.record_unanswered("old question", "U1", "C1")
    clock.at = start + timedelta(days=10)
    records.record_unanswered("recent question", "U1", "C1")
    assert [u.query for u in records.report(since=timedelta(days=7)).unanswered] == ["recent question"]
    assert {u.query for u in records.report().unanswered} == {"old question", "recent question"}
    clock.at = start + timedelta(days=95)  # the first is 95 days old, the second 85
    assert records.purge() == 1
    assert [u.query for u in records.report().unanswered] == ["recent question"]


def test_opening_the_store_deletes_what_is_too_old(state, clock):
    Records(state.engine, keep_days=90, clock=clock).record_vote("a", "U1", -1, "q", [1], "C1")
    clock.at += timedelta(days=91)
    assert Records(state.engine, keep_days=90, clock=clock).votes() == []


def test_a_plain_engine_gets_the_tables_too(tmp_path, clock):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    Records(engine, clock=clock).record_unanswered("q", "U1", "C1")
    assert Records(engine, clock=clock).report().unanswered[0].count == 1
    engine.dispose()


@pytest.mark.parametrize("text, expected", [("7d", timedelta(days=7)), ("24h", timedelta(hours=24)),
                                            ("30m", timedelta(minutes=30)), ("2w", timedelta(weeks=2)),
                                            ("3", timedelta(days=3))])
def test_parse_since(text, expected):
    assert parse_since(text) == expected


@pytest.mark.parametrize("text", ["", "d", "-1d", "0d", "soon", "nand", "1e12w"])
def test_parse_since_refuses_what_is_not_a_duration(text):
    with pytest.raises(ValueError):
        parse_since(text)
