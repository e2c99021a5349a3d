"""The corpus of record (store/corpus.py) and replicas following it (store/replica.py), on a real PostgreSQL."""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from store import Index, ReloadBusy, ReloadRefused
from store.corpus import RELOAD_LOCK, CorpusSource, corpus_files, current_version, publish
from store.index import SeedFolder
from store.replica import Replica
from store.state import State, state_url
from tests.store.conftest import SEED, article

NEW = article("宁德时代海外扩张", "Cai Lian She", "2025-11-21 09:30",
              "Core Insights - Contemporary Amperex expands its Hungarian battery plant to serve European carmakers [1][2].")
NEW2 = article("宁德时代海外扩张", "Cai Lian She", "2025-11-21 09:30",
               "Core Insights - Contemporary Amperex opens a Debrecen gigafactory for Zwickau deliveries [1].")


def _seeds(folder: Path, *extra: tuple[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, folder / SEED.name)
    for name, text in extra:
        (folder / name).write_text(text, "utf-8")
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = state_url(None, tmp_path / "factbot.db") if request.param == "sqlite" else request.getfixturevalue("database_url")
    s = State.open(url)
    yield s
    s.close()


@pytest.fixture
def pg(database_url):
    s = State.open(database_url)
    yield s
    s.close()


def _texts(index, query: str) -> list[str]:
    return [h.text for h in index.search(query, limit=5).hits]


def test_a_reload_stores_the_files_and_a_new_version_only_when_something_changed(store, tmp_path):
    seeds = _seeds(tmp_path / "seeds")
    first = publish(store, SeedFolder(seeds), "cli:ana")
    assert first.version == 1 and first.changed and [f.status for f in first.files] == ["loaded"]
    again = publish(store, SeedFolder(seeds), "cli:ana")
    assert again.version == 1 and not again.changed and [f.status for f in again.files] == ["unchanged"]
    (seeds / "030_new.txt").write_text(NEW, "utf-8")
    third = publish(store, SeedFolder(seeds), "slack:U1")
    assert third.version == 2 and {f.path: f.status for f in third.files} == {SEED.name: "unchanged", "030_new.txt": "loaded"}
    with store.begin() as conn:
        row = conn.execute(select(corpus_files).where(corpus_files.c.name == "030_new.txt")).one()
    assert bytes(row.data) == NEW.encode() and row.added_by == "slack:U1" and row.version == 2 and row.facts == 1


def test_a_file_that_turns_bad_keeps_its_stored_content_and_a_removed_one_goes(store, tmp_path):
    seeds = _seeds(tmp_path / "seeds", ("030_new.txt", NEW))
    publish(store, SeedFolder(seeds), "cli")
    (seeds / "030_new.txt").write_bytes(b"\xff\xfe not an export")
    (seeds / "040_broken.txt").write_text("just some notes\n", "utf-8")
    result = publish(store, SeedFolder(seeds), "cli")
    by_name = {f.path: f for f in result.files}
    assert by_name["030_new.txt"].status == "failed" and by_name["030_new.txt"].facts == 1
    assert "not UTF-8" in by_name["030_new.txt"].errors[0]
    assert by_name["040_broken.txt"].status == "failed" and by_name["040_broken.txt"].facts == 0
    assert not result.changed and result.version == 1
    with store.begin() as conn:
        stored = dict(conn.execute(select(corpus_files.c.name, corpus_files.c.data)).all())
    assert set(stored) == {SEED.name, "030_new.txt"} and bytes(stored["030_new.txt"]) == NEW.encode()
    (seeds / "030_new.txt").unlink()
    gone = publish(store, SeedFolder(seeds), "cli")
    assert gone.removed == ["030_new.txt"] and gone.version == 2


def test_a_reload_that_would_empty_the_corpus_is_refused(store, tmp_path):
    seeds = _seeds(tmp_path / "seeds")
    publish(store, SeedFolder(seeds), "cli")
    with pytest.raises(ReloadRefused, match="the corpus is unchanged"):
        publish(store, SeedFolder(tmp_path / "missing"), "cli")
    (seeds / SEED.name).rename(seeds / "renamed.txt")  # every file this folder put there gone at once
    with pytest.raises(ReloadRefused, match="every file the corpus holds"):
        publish(store, SeedFolder(seeds), "cli")
    assert current_version(store) == 1
    # another folder (another replica's) without that file removes nothing: it never put it there
    other = _seeds(tmp_path / "other")
    (other / SEED.name).rename(other / "renamed.txt")
    assert publish(store, SeedFolder(other), "cli").removed == []


def test_reloads_are_serialised_across_replicas_by_an_advisory_lock(pg, tmp_path):
    seeds = _seeds(tmp_path / "seeds")
    held = threading.Event()
    release = threading.Event()

    def hold():
        with pg.begin() as conn:
            conn.execute(select(func.pg_advisory_xact_lock(RELOAD_LOCK)))
            held.set()
            release.wait(20)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        with pytest.raises(ReloadBusy, match="another replica"):
            publish(pg, SeedFolder(seeds), "cli")
        assert current_version(pg) == 0
    finally:
        release.set()
        holder.join(10)
    assert publish(pg, SeedFolder(seeds), "cli").version == 1  # the lock went with the transaction


def test_a_replica_follows_another_replicas_reload_by_notification(pg, database_url, tmp_path):
    a_seeds = _seeds(tmp_path / "a" / "seeds")
    a = Replica(Index(tmp_path / "a" / "factbot.db", seeds=a_seeds), pg, a_seeds, poll=30)
    b_state = State.open(database_url)
    b = Replica(Index(tmp_path / "b" / "factbot.db", seeds=_seeds(tmp_path / "b" / "seeds")), b_state,
                tmp_path / "b" / "seeds", poll=30)  # polling far slower than the wait below: NOTIFY does it
    try:
        a.start()
        assert a.wait_ready(20) and a.version == 1
        b.start()
        assert b.wait_ready(20) and b.version == 1
        assert _texts(b, "contemporary amperex hungarian") == []
        (a_seeds / "030_new.txt").write_text(NEW, "utf-8")
        report = a.reload(actor="slack:U1")
        assert report.count("loaded") == 1 and report.facts == a.index.counts()[1]
        deadline = time.monotonic() + 10
        while b.version != 2:
            assert time.monotonic() < deadline, "B did not follow within 10 s"
            time.sleep(0.05)
        assert any("Hungarian battery plant" in t for t in _texts(b, "contemporary amperex hungarian"))
        assert b.index.counts() == a.index.counts()
        (row,) = pg.reloads(limit=1)
        assert (row["actor"], row["version"], row["loaded"]) == ("slack:U1", 2, 1)
    finally:
        a.stop()
        b.stop()
        b_state.close()


def test_following_reads_only_the_files_that_changed(pg, tmp_path):
    from benchmarks.generate import generate

    seeds = tmp_path / "seeds"
    generate(3000, seeds, seed=5, jobs=1, real=None)
    publish(pg, SeedFolder(seeds), "cli")
    follower = Replica(Index(tmp_path / "f.db", seeds=tmp_path / "none"), pg, tmp_path / "none")
    follower.sync()
    files = len(SeedFolder(seeds).files())
    assert files > 5 and follower.index.counts()[1] >= 3000
    name, _ = SeedFolder(seeds).files()[2]
    (seeds / name).write_bytes((seeds / name).read_bytes() + b"\n" + NEW2.encode())
    publish(pg, SeedFolder(seeds), "cli")
    reads: list[str] = []
    original = CorpusSource.read

    def counting(self, n):
        reads.append(n)
        return original(self, n)

    CorpusSource.read = counting
    try:
        assert follower.sync() == 2
    finally:
        CorpusSource.read = original
    assert reads == [name]
    assert any("Debrecen gigafactory" in t for t in _texts(follower, "debrecen gigafactory zwickau"))


def test_the_first_replicas_seeds_become_the_corpus_and_the_next_ones_follow_it(pg, database_url, tmp_path):
    other = State.open(database_url)
    a_seeds = _seeds(tmp_path / "a" / "seeds", ("030_new.txt", NEW))
    b_seeds = _seeds(tmp_path / "b" / "seeds")  # a different folder: it must not replace A's import
    a = Replica(Index(tmp_path / "a.db", seeds=a_seeds), pg, a_seeds)
    b = Replica(Index(tmp_path / "b.db", seeds=b_seeds), other, b_seeds)
    try:
        threads = [threading.Thread(target=r.sync) for r in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert a.version == b.version == 1 and current_version(pg) == 1
        with pg.begin() as conn:
            stored = set(conn.execute(select(corpus_files.c.name)).scalars())
        assert stored in ({SEED.name, "030_new.txt"}, {SEED.name})  # one folder, whole: the first to import
        hungarian = [bool(_texts(r, "contemporary amperex hungarian")) for r in (a, b)]
        assert hungarian == [len(stored) == 2] * 2 and a.index.counts() == b.index.counts()
        (row,) = pg.reloads()  # the import, as a reload by startup
        assert (row["actor"], row["version"], row["loaded"]) == ("startup", 1, len(stored))
    finally:
        other.close()


def test_a_lost_notification_is_made_up_for_by_polling(pg, database_url, tmp_path):
    from store.corpus import corpus_versions, digest

    seeds = _seeds(tmp_path / "seeds")
    publish(pg, SeedFolder(seeds), "cli")
    b_state = State.open(database_url)
    b = Replica(Index(tmp_path / "b.db", seeds=tmp_path / "none"), b_state, tmp_path / "none", poll=0.5)
    try:
        b.start()
        assert b.wait_ready(20) and b.version == 1
        with pg.begin() as conn:  # a new version written without its NOTIFY (as if the notification were lost)
            conn.execute(corpus_files.insert().values(
                name="030_new.txt", data=NEW.encode(), hash=digest(NEW.encode()), size=len(NEW.encode()), articles=1,
                facts=1, errors="[]", added_by="test", added_at="2025-11-21T09:30:00Z", version=2))
            conn.execute(corpus_versions.insert().values(version=2, at="2025-11-21T09:30:00Z", actor="test", files=2,
                                                         loaded=1, removed=0))
        deadline = time.monotonic() + 10
        while b.version != 2:
            assert time.monotonic() < deadline, "the poll did not pick up version 2"
            time.sleep(0.05)
        assert any("Hungarian battery plant" in t for t in _texts(b, "contemporary amperex hungarian"))
    finally:
        b.stop()
        b_state.close()


def test_an_upload_survives_every_folders_reload_until_an_admin_removes_it(store, tmp_path):
    from store.corpus import audit, history, remove_file, restore_file, store_upload

    a, b = _seeds(tmp_path / "a"), _seeds(tmp_path / "b")
    publish(store, SeedFolder(a), "startup", folder="a")
    store_upload(store, "050_up.txt", NEW.encode(), "slack:UADMIN")
    (a / "030_only_a.txt").write_text(NEW2, "utf-8")
    publish(store, SeedFolder(a), "cli", folder="a")
    # B's folder holds neither the upload nor A's new file: its reload removes neither
    result = publish(store, SeedFolder(b), "slack:UB", folder="b")
    assert result.removed == []
    stored = {f["name"]: f for f in _files(store)}
    assert set(stored) == {SEED.name, "030_only_a.txt", "050_up.txt"}
    assert (stored["050_up.txt"]["origin"], stored["050_up.txt"]["added_by"]) == ("upload", "slack:UADMIN")
    assert (stored["030_only_a.txt"]["origin"], stored["030_only_a.txt"]["folder"]) == ("folder", "a")
    # A's own file gone from A's folder goes; the upload stays whatever any folder holds
    (a / "030_only_a.txt").unlink()
    assert publish(store, SeedFolder(a), "cli:ana", folder="a").removed == ["030_only_a.txt"]
    assert {f["name"] for f in _files(store)} == {SEED.name, "050_up.txt"}
    removed = remove_file(store, "050_up.txt", "cli:root")
    assert removed.removed == ["050_up.txt"] and {f["name"] for f in _files(store)} == {SEED.name}
    trail = [(r["action"], r["name"], r["actor"]) for r in audit(store)]
    assert trail[:2] == [("removed", "050_up.txt", "cli:root"), ("removed", "030_only_a.txt", "cli:ana")]
    assert all(r["at"].endswith("Z") for r in audit(store))
    # removed, not lost: its content is in the history and comes back
    assert [h["why"] for h in history(store, "050_up.txt")] == ["removed"]
    restore_file(store, "050_up.txt", "cli:root")
    with store.begin() as conn:
        data = conn.execute(select(corpus_files.c.data).where(corpus_files.c.name == "050_up.txt")).scalar_one()
    assert bytes(data) == NEW.encode()


def test_an_upload_under_a_taken_name_is_refused_unless_replacing_and_any_version_restores(store, tmp_path):
    from store.corpus import NameTaken, NotStored, free_name, history, restore_file, store_upload

    seeds = _seeds(tmp_path / "seeds")
    publish(store, SeedFolder(seeds), "startup", folder="a")
    with pytest.raises(NameTaken):
        store_upload(store, SEED.name, NEW.encode(), "slack:U1")
    assert free_name(store, SEED.name) == SEED.name.replace(".txt", " (2).txt")
    original = (seeds / SEED.name).read_bytes()
    first = store_upload(store, SEED.name, NEW.encode(), "slack:U1", replace=True)
    store_upload(store, SEED.name, NEW2.encode(), "slack:U1", replace=True)
    assert [h["version"] for h in history(store, SEED.name)] == [1, first.version]
    # a folder's reload never overwrites the upload that replaced its file
    assert not publish(store, SeedFolder(seeds), "cli", folder="a").changed
    restore_file(store, SEED.name, "cli:root", version=1)
    with store.begin() as conn:
        data = conn.execute(select(corpus_files.c.data).where(corpus_files.c.name == SEED.name)).scalar_one()
    assert bytes(data) == original
    with pytest.raises(NotStored):
        restore_file(store, SEED.name, "cli:root", version=99)


def _files(store):
    from store.corpus import list_files

    return list_files(store)


def test_a_new_version_with_a_broken_article_keeps_the_stored_one_through_two_replicas(pg, tmp_path):
    good = NEW
    half_broken = NEW2 + "第二篇文章\nCore Insights - This article has no source and date line [1].\n"
    a = _seeds(tmp_path / "a", ("030_new.txt", good))
    b = _seeds(tmp_path / "b")
    ra = Replica(Index(tmp_path / "a.db", seeds=a), pg, a, folder="a")
    rb = Replica(Index(tmp_path / "b.db", seeds=b), pg, b, folder="b")
    ra.sync(), rb.sync()
    ra.reload("cli")
    (a / "030_new.txt").write_text(half_broken, "utf-8")
    report = ra.reload("cli")
    assert [f.status for f in report.files if f.path == "030_new.txt"] == ["failed"]
    rb.reload("cli")  # B's folder lacks the file: it stays
    rb.sync()
    for replica in (ra, rb):
        assert any("Hungarian battery plant" in t for t in _texts(replica, "hungarian battery plant"))
        assert not any("Debrecen gigafactory" in t for t in _texts(replica, "debrecen gigafactory"))
    with pg.begin() as conn:
        data = conn.execute(select(corpus_files.c.data).where(corpus_files.c.name == "030_new.txt")).scalar_one()
    assert bytes(data) == good.encode()


def test_a_reload_hung_reading_a_file_holds_no_lock_and_a_waiting_one_gives_up_busy(pg, tmp_path):
    import os

    a = _seeds(tmp_path / "a")
    b = _seeds(tmp_path / "b", ("030_new.txt", NEW))
    fifo = a / "050_hung.txt"
    os.mkfifo(fifo)  # whoever reads it waits (a hung network mount)
    outcome: list = []
    hung = threading.Thread(target=lambda: outcome.append(publish(pg, SeedFolder(a), "cli:a", folder="a")))
    hung.start()
    try:
        # B's reload goes through while A's is stuck reading: A read its files before any lock
        assert publish(pg, SeedFolder(b), "cli:b", folder="b", wait=True, lock_wait=2).version == 1
        assert hung.is_alive() and not outcome
    finally:
        with open(fifo, "wb"):  # an empty file after all: A's reload goes on
            pass
        hung.join(20)
    # A's seed file was stored by B meanwhile; the FIFO read empty: nothing for A to change
    assert outcome and not outcome[0].changed and {f.path: f.status for f in outcome[0].files}["050_hung.txt"] == "failed"
    # a reload that waits for the lock waits within its budget, then says busy
    held, release, result = threading.Event(), threading.Event(), []

    def hold():
        with pg.begin() as conn:
            conn.execute(select(func.pg_advisory_xact_lock(RELOAD_LOCK)))
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        (b / "031_more.txt").write_text(NEW2, "utf-8")

        def waiting():
            try:
                publish(pg, SeedFolder(b), "cli:b", folder="b", wait=True, lock_wait=0.3)
            except ReloadBusy as exc:
                result.append(exc)

        waiter = threading.Thread(target=waiting)
        waiter.start()
        waiter.join(20)  # the budget ends the wait, not the holder
        assert not waiter.is_alive() and result and "running" in str(result[0])
    finally:
        release.set()
        holder.join(10)


def test_postgresql_sessions_are_bounded(pg):
    with pg.begin() as conn:
        shown = {name: conn.execute(text(f"SHOW {name}")).scalar() for name in
                 ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")}
    assert shown == {"statement_timeout": "30s", "lock_timeout": "10s", "idle_in_transaction_session_timeout": "1min"}


def test_a_file_stored_before_origins_were_kept_belongs_to_the_first_folder_that_lists_it(store, tmp_path):
    from sqlalchemy import update

    a, b = _seeds(tmp_path / "a", ("030_new.txt", NEW)), _seeds(tmp_path / "b")
    publish(store, SeedFolder(a), "startup", folder="a")
    with store.begin() as conn:  # as a corpus of schema 1 left them
        conn.execute(update(corpus_files).values(origin=None, folder=None))
    assert publish(store, SeedFolder(b), "cli", folder="b").removed == []  # B lists the seed only: owns it
    (a / "030_new.txt").unlink()
    assert publish(store, SeedFolder(a), "cli", folder="a").removed == []  # A never listed it since
    with store.begin() as conn:
        owners = dict(conn.execute(select(corpus_files.c.name, corpus_files.c.folder)).all())
    assert owners == {SEED.name: "b", "030_new.txt": None}
    (b / "031_keep.txt").write_text(NEW2, "utf-8")
    publish(store, SeedFolder(b), "cli", folder="b")
    (b / SEED.name).unlink()  # the claimed file gone from its folder goes, as any of its own
    assert publish(store, SeedFolder(b), "cli", folder="b").removed == [SEED.name]
