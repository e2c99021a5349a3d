"""Fixtures shared by the tests of bot/ that run `factbot serve` against the Slack stand-in."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def slack(slack_api_module):
    """The module's Slack stand-in (a module may override it to seed users first)."""
    return slack_api_module
