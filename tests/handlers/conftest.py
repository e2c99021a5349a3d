"""The Bolt app in-process (bot.app.create_app) against the Web API stand-in and a real index.

Requests go through App.dispatch exactly as the HTTP adapter hands them over (raw body, signed
headers), so request verification, middleware and listeners all run.
"""
from __future__ import annotations

import dataclasses
import json
import urllib.parse

import pytest

from tests.slack_standin import SIGNING_SECRET, WebAPIStandIn, copy_seeds, signed_headers


@dataclasses.dataclass
class InProcessBot:
    app: object
    index: object
    slack: WebAPIStandIn
    settings: object

    def dispatch(self, body: str, content_type: str, retry_num: int | None = None):
        from slack_bolt.request import BoltRequest

        headers = signed_headers(body, content_type=content_type, retry_num=retry_num)
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def command(self, payload: dict):
        return self.dispatch(urllib.parse.urlencode(payload), "application/x-www-form-urlencoded")

    def event(self, payload: dict, retry_num: int | None = None):
        return self.dispatch(json.dumps(payload), "application/json", retry_num)

    def action(self, payload: dict):
        return self.dispatch(urllib.parse.urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


def make_bot(slack: WebAPIStandIn, tmp_path, **settings_overrides) -> InProcessBot:
    from bot.app import create_app
    from bot.config import Settings
    from store import Index

    settings = Settings(
        seeds=copy_seeds(tmp_path / "seeds"), db=tmp_path / "factbot.db", slack_bot_token="xoxb-inprocess-token",
        slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.base_url, **settings_overrides,
    )
    index = Index.open(settings.db_path, seeds=settings.seeds)
    return InProcessBot(create_app(settings, index), index, slack, settings)


@pytest.fixture
def inprocess(slack_api, tmp_path) -> InProcessBot:
    return make_bot(slack_api, tmp_path, admin_users=("U0ADMIN",))
