"""Event claims (store/claims.py) on both backends: one winner per event_id, expiry, failing open."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from store.claims import SharedClaims, event_claims
from store.state import State, state_url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return state_url(None, tmp_path / "factbot.db")
    return request.getfixturevalue("database_url")


@pytest.fixture
def two_stores(url):
    a, b = State.open(url), State.open(url)
    yield a, b
    a.close()
    b.close()


def test_the_first_claim_wins_and_every_other_process_skips(two_stores):
    a, b = two_stores
    ca, cb = SharedClaims(a, replica="A"), SharedClaims(b, replica="B")
    assert ca.claim("Ev1") is True
    assert cb.claim("Ev1") is False and ca.claim("Ev1") is False
    assert cb.claim("Ev2") is True and ca.claim("Ev2") is False
    with a.begin() as conn:
        rows = dict(conn.execute(select(event_claims.c.event_id, event_claims.c.replica)).all())
    assert rows == {"Ev1": "A", "Ev2": "B"}


def test_a_claim_expires_after_its_ttl(two_stores):
    a, b = two_stores
    now = [1000.0]
    ca = SharedClaims(a, ttl=3600, replica="A", clock=lambda: now[0])
    cb = SharedClaims(b, ttl=3600, replica="B", clock=lambda: now[0])
    assert ca.claim("Ev1")
    now[0] += 3599
    assert not cb.claim("Ev1")
    now[0] += 2  # more than an hour after the first claim
    assert cb.claim("Ev1") and not ca.claim("Ev1")


def test_expired_claims_are_deleted(two_stores):
    a, _ = two_stores
    now = [1000.0]
    claims = SharedClaims(a, ttl=10, clock=lambda: now[0])
    for n in range(5):
        claims.claim(f"Old{n}")
    now[0] += 100  # the old claims expired, and the purge is due
    claims.claim("New")
    with a.begin() as conn:
        assert conn.execute(select(event_claims.c.event_id)).scalars().all() == ["New"]


def test_concurrent_claims_from_two_processes_have_exactly_one_winner_each(two_stores):
    a, b = two_stores
    stores = [SharedClaims(a, replica="A"), SharedClaims(b, replica="B")]
    ids = [f"Ev{n}" for n in range(60)]
    wins: list[str] = []
    lock = threading.Lock()

    def worker(claims):
        for event_id in ids:
            if claims.claim(event_id):
                with lock:
                    wins.append(event_id)

    threads = [threading.Thread(target=worker, args=(stores[n % 2],)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(wins) == sorted(ids)
    with a.begin() as conn:
        assert conn.execute(select(func.count()).select_from(event_claims)).scalar() == len(ids)


def test_an_unreachable_store_fails_open_and_says_so(caplog):
    from store.state import _engine
    from tests.pg import _free_port

    state = State(_engine(f"postgresql://factbot@127.0.0.1:{_free_port()}/factbot"))
    claims = SharedClaims(state)
    with caplog.at_level(logging.WARNING, logger="factbot.claims"):
        assert claims.claim("Ev1") is True and claims.claim("Ev1") is True
    assert claims.failures == 2
    assert "event Ev1: claim not recorded, answering anyway: PostgreSQL is unreachable" in caplog.text
    state.close()
