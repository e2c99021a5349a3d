"""Two `factbot serve` replicas while their PostgreSQL stops and starts again (a server of this module's own)."""
from __future__ import annotations

import time

import pytest

from tests.bot.test_replicas import ADMIN, NEW_SEED, _answer, _http_pair, _ts, _wait_log
from tests.slack_standin import BOT_USER_ID, event_callback, mention


@pytest.fixture(scope="module")
def cluster():
    from tests import pg

    server = pg.Cluster(pg.require())
    yield server
    server.destroy()


@pytest.fixture(scope="module")
def pair(slack_api_module, cluster, tmp_path_factory):
    work = tmp_path_factory.mktemp("pgdown")
    url = cluster.create_database()
    a, b = _http_pair(slack_api_module, url, work)
    yield a, b
    a.stop()
    b.stop()


def test_postgresql_down_searches_answer_reloads_refuse_and_after_it_is_back_everything_works(
        pair, cluster, slack_api_module):
    a, b = pair
    slack = slack_api_module
    version = a.health()["version"]
    assert version == b.health()["version"] == 1
    cluster.stop()
    try:
        for bot, name in ((a, "down-a"), (b, "down-b")):
            assert "Seres" in _answer(bot, slack, "ipo seres", name)
            assert bot.health()["ready"] is True
        # an event is still answered (its claim fails open), and the replica says why
        a.event(event_callback(mention(f"<@{BOT_USER_ID}> fairwater 2", ts=_ts(1), channel="C0DOWNEV"), event_id="Ev0DOWN1"))
        slack.wait_for("chat.postMessage", channel="C0DOWNEV")
        _wait_log(a, "event Ev0DOWN1: claim not recorded, answering anyway: PostgreSQL is unreachable")
        # its retry to the same replica is still caught, by the replica's own memory
        a.event(event_callback(mention(f"<@{BOT_USER_ID}> fairwater 2", ts=_ts(1), channel="C0DOWNEV"),
                               event_id="Ev0DOWN1"), retry_num=1)
        # the signal that A dealt with the retry: it said so
        _wait_log(a, "event Ev0DOWN1 delivered again (retry 1): acknowledged, not answered again")
        assert len(slack.calls_to("chat.postMessage", channel="C0DOWNEV")) == 1
        (a.folder / "seeds" / "030_catl.txt").write_text(NEW_SEED, "utf-8")
        a.command("/factbot", "reload", slack.response_url("down-reload"), user=ADMIN)
        _, refusal = slack.wait_for("response/down-reload", count=2, timeout=30)
        assert "The reload was not run: PostgreSQL is unreachable" in refusal.text
        assert "Hungarian" not in _answer(a, slack, "hungarian battery plant", "down-after")
    finally:
        cluster.start()

    # back: claims across replicas work again, without restarting anything
    payload = event_callback(mention(f"<@{BOT_USER_ID}> ipo seres", ts=_ts(2), channel="C0BACKEV"), event_id="Ev0BACK1")
    a.event(payload)
    slack.wait_for("chat.postMessage", channel="C0BACKEV")
    b.event(payload, retry_num=1)
    _wait_log(b, "event Ev0BACK1 delivered again (retry 1): acknowledged, not answered again")
    assert len(slack.calls_to("chat.postMessage", channel="C0BACKEV")) == 1
    # and reloads: A's reload reaches B
    a.command("/factbot", "reload", slack.response_url("back-reload"), user=ADMIN)
    _, report = slack.wait_for("response/back-reload", count=2, timeout=30)
    assert "Reload finished" in report.text and "1 loaded" in report.all_text()
    deadline = time.monotonic() + 10
    while b.health()["version"] != version + 1:
        assert time.monotonic() < deadline, "B did not follow the reload within 10 s"
        time.sleep(0.1)
    assert "Hungarian battery plant" in _answer(b, slack, "hungarian battery plant", "back-b")
    assert "PostgreSQL is reachable again" in b.output()
