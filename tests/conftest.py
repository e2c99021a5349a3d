"""Shared fixtures for the Slack side (stand-ins live in tests/slack_standin.py). Imports nothing from the store."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.slack_standin import SocketModeStandIn, WebAPIStandIn, copy_seeds


@pytest.fixture
def slack_api():
    """A fresh Web API stand-in for one test."""
    standin = WebAPIStandIn()
    yield standin
    standin.close()


@pytest.fixture(scope="module")
def slack_api_module():
    """A Web API stand-in shared by a module's tests (for a bot process started once per module)."""
    standin = WebAPIStandIn()
    yield standin
    standin.close()


@pytest.fixture
def socket_mode_server():
    server = SocketModeStandIn()
    yield server
    server.close()


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    """A tmp copy of the test seed (two articles: Microsoft/Azure interview, Seres IPO)."""
    return copy_seeds(tmp_path / "seeds")


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL server for the whole run (tests/pg.py); skips where none is installed."""
    from tests import pg

    cluster = pg.Cluster(pg.require())
    yield cluster
    cluster.destroy()


@pytest.fixture
def database_url(pg_cluster) -> str:
    """A fresh, empty PostgreSQL database on the throwaway server: its DATABASE_URL."""
    return pg_cluster.create_database()
