"""The watched seeds folder (bot/watch.py): added, changed and removed exports reloaded with no
command, a burst of copies as one reload, hidden files ignored, the admins told only of failures."""
from __future__ import annotations

import queue
import shutil

import pytest

from bot.watch import SeedWatcher
from store import Index
from tests.generated import corpus
from tests.slack_standin import HttpBot, bot_env, copy_seeds

EXPORT = """Search documents
宁德时代匈牙利工厂
Cai Lian She· 2025-11-21 09:30
Core Insights - Contemporary Amperex expands its Hungarian battery plant in Debrecen [1][2]. - The Debrecen factory starts production next year [3].
"""
MARKER = """Search documents
Marker {n}
Cai Lian She· 2025-11-2{n} 09:30
Core Insights - Marker article number {n} about zebrafish{n} farming [1].
"""


@pytest.fixture
def watched(tmp_path):
    corpus(tmp_path / "generated", 1500, seed=21)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(next((tmp_path / "generated").glob("*.txt")), seeds)
    index = Index.open(tmp_path / "factbot.db", seeds=seeds, semantic=False)
    events: "queue.Queue[tuple[list[str], object]]" = queue.Queue()
    told: list = []
    watcher = SeedWatcher(seeds, lambda: index.reload(actor="watch", wait=True), told.append, quiet_ms=200,
                          on_reload=lambda names, outcome: events.put((names, outcome)))
    watcher.start()
    assert watcher.watching.wait(10)
    yield seeds, index, events, told, tmp_path / "generated"
    watcher.stop()
    index.close()


def next_reload(events) -> tuple[list[str], object]:
    return events.get(timeout=15)


def test_a_burst_of_copies_is_one_reload_and_answers_at_once(watched):
    seeds, index, events, told, generated = watched
    files = sorted(generated.glob("*.txt"))[1:]
    assert len(files) >= 5
    for path in files:  # a bulk copy
        shutil.copy(path, seeds)
    names, report = next_reload(events)
    assert names == sorted(p.name for p in files) and report.ok
    assert {f.path for f in report.files if f.status == "loaded"} <= set(names) and report.count("loaded") >= 5
    (seeds / "marker1.txt").write_text(MARKER.format(n=1), "utf-8")
    names, report = next_reload(events)
    assert names == ["marker1.txt"]  # no second reload for the burst came in between
    assert index.search("zebrafish1 farming").hits and told == []


def test_changed_removed_and_hidden_files(watched):
    seeds, index, events, told, _ = watched
    (seeds / "catl.txt").write_text(EXPORT, "utf-8")
    assert next_reload(events)[0] == ["catl.txt"]
    assert "Debrecen" in index.search("debrecen factory").hits[0].text
    (seeds / "catl.txt").write_text(EXPORT.replace("next year", "in 2027"), "utf-8")
    names, report = next_reload(events)
    assert names == ["catl.txt"] and report.count("loaded") == 1
    assert "2027" in index.search("debrecen factory").hits[0].text
    (seeds / "catl.txt").unlink()
    names, report = next_reload(events)
    assert names == ["catl.txt"] and report.removed == ["catl.txt"] and not index.search("debrecen factory").hits
    (seeds / ".catl.txt.123.upload").write_text(EXPORT, "utf-8")  # an upload's temporary file
    (seeds / ".hidden").mkdir()
    (seeds / ".hidden" / "x.txt").write_text(EXPORT, "utf-8")
    (seeds / "marker2.txt").write_text(MARKER.format(n=2), "utf-8")
    assert next_reload(events)[0] == ["marker2.txt"]
    assert told == []


def test_a_failed_reload_is_told_to_the_admins(watched):
    seeds, index, events, told, _ = watched
    (seeds / "broken.txt").write_bytes(b"\xff\xfe not an export")
    names, report = next_reload(events)
    assert names == ["broken.txt"] and not report.ok
    assert told == [report] and report.failed[0].path == "broken.txt"


def test_factbot_serve_watches_its_seeds_folder_and_dms_the_admins_when_a_reload_fails(slack_api, tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    env = bot_env(slack_api, tmp_path / "factbot.db", seeds, FACTBOT_ADMIN_USERS="U0ADMIN,U0OTHER",
                  FACTBOT_WATCH="on")
    bot = HttpBot(env, tmp_path)
    try:
        bot.wait_until(lambda: "watching " in bot.output())
        facts = bot.health()["facts"]
        (seeds / "030_catl.txt").write_text(EXPORT, "utf-8")
        bot.wait_until(lambda: bot.health()["facts"] == facts + 2, timeout=15)
        assert "reload after the seeds folder changed" in bot.output()
        assert slack_api.calls_to("chat.postMessage") == []  # a reload that worked is not told
        (seeds / "031_broken.txt").write_bytes(b"\xff\xfe")
        (told,) = slack_api.wait_for("chat.postMessage", channel="U0ADMIN", timeout=15)
        assert "031_broken.txt" in told.all_text() and "not UTF-8" in told.all_text()
        slack_api.wait_for("chat.postMessage", channel="U0OTHER")
    finally:
        bot.stop()
