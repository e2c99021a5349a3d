"""store/uploads.py: an export is checked whole and written atomically; bad names never reach the folder."""
from __future__ import annotations

import pytest

from store.uploads import add_to_folder, check_export, export_name
from tests.store.conftest import SEED

GOOD = ("Search documents\n宁德时代匈牙利工厂\nCai Lian She· 2025-11-21 09:30\n"
        "Core Insights - Contemporary Amperex expands its plant [1]. - Output starts next year [2].\n").encode()


@pytest.mark.parametrize("name", ["", "   ", ".hidden.txt", "../escape.txt", "a/b.txt", "a\\b.txt", "x\x00.txt",
                                  "x" * 201, ".."])
def test_names_that_cannot_be_seed_files(name):
    assert export_name(name) is None


def test_a_good_name_is_kept():
    assert export_name(" 新闻 digest-2025.txt ") == "新闻 digest-2025.txt"


def test_check_counts_articles_and_facts_or_lists_every_error():
    assert (check_export("a.txt", GOOD).articles, check_export("a.txt", GOOD).facts, check_export("a.txt", GOOD).ok) \
        == (1, 2, True)
    for data, reason in ((b"\xff\xfe", "not UTF-8"), (b"", "empty"), (b"just notes\n", "")):
        check = check_export("b.txt", data)
        assert not check.ok and check.errors and all(str(e).startswith("b.txt") for e in check.errors)
        assert reason in " ".join(str(e) for e in check.errors)


def test_add_to_folder_replaces_atomically_and_leaves_no_temporary_file(tmp_path):
    seeds = tmp_path / "seeds"
    assert add_to_folder(seeds, "a.txt", GOOD) is False
    assert add_to_folder(seeds, "a.txt", GOOD + b"\n") is True
    assert (seeds / "a.txt").read_bytes() == GOOD + b"\n"
    assert sorted(p.name for p in seeds.iterdir()) == ["a.txt"]
    with pytest.raises(ValueError):
        add_to_folder(seeds, "../a.txt", GOOD)


OTHER = ("Search documents\n比亚迪匈牙利工厂\nCai Lian She· 2025-11-22 10:30\n"
         "Core Insights - BYD starts trial production at its Szeged plant for compact electric cars [1].\n").encode()


def test_without_replicas_an_upload_stays_through_reloads_and_only_a_removal_takes_it(seeds, tmp_path):
    """The single-process mode keeps and removes by the replicas' rules: uploads in the embedded store."""
    from store import Index
    from store.corpus import audit, remove_file, restore_file, store_upload
    from store.state import State, state_url

    (seeds / "010_folder.txt").write_bytes(OTHER)
    index = Index(tmp_path / "factbot.db", seeds=seeds, semantic=False)
    index.reload("startup")
    state = State.open(state_url(None, tmp_path / "factbot.db"))
    try:
        store_upload(state, "050_up.txt", GOOD, "slack:UADMIN")
        index.reload("slack:UADMIN")
        assert [h.text for h in index.search("contemporary amperex plant").hits][:1] == [
            "Contemporary Amperex expands its plant."]
        assert not (seeds / "050_up.txt").exists()  # kept in the store, not the folder
        # a file gone from the folder goes; the upload stays, reload after reload
        (seeds / "010_folder.txt").unlink()
        report = index.reload("cli:ana")
        assert report.removed == ["010_folder.txt"] and index.reload("cli:ana").removed == []
        assert {a.file for a in index.sources()} == {SEED.name, "050_up.txt"}
        remove_file(state, "050_up.txt", "cli:root")
        assert index.reload("cli:root").removed == ["050_up.txt"]
        assert [(r["action"], r["name"], r["actor"]) for r in audit(state)][0] == ("removed", "050_up.txt", "cli:root")
        restore_file(state, "050_up.txt", "cli:root")
        index.reload("cli:root")
        assert "050_up.txt" in {a.file for a in index.sources()}
    finally:
        state.close()
        index.close()


def test_writes_of_one_name_at_once_never_share_a_temporary_file(tmp_path):
    import threading

    seeds = tmp_path / "seeds"
    contents = [GOOD + f"\n{n}\n".encode() * 2000 for n in range(6)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(contents))

    def write(data):
        try:
            barrier.wait(10)
            for _ in range(10):
                add_to_folder(seeds, "a.txt", data)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(c,)) for c in contents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and (seeds / "a.txt").read_bytes() in contents
    assert sorted(p.name for p in seeds.iterdir()) == ["a.txt"]


def test_two_uploads_of_one_name_at_once_store_one_and_ask_about_the_other(database_url):
    import threading

    from store.corpus import NameTaken, history, store_upload
    from store.state import State

    state = State.open(database_url)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def upload(data):
        barrier.wait(10)
        try:
            store_upload(state, "a.txt", data, "slack:U1")
            outcomes.append("stored")
        except NameTaken:
            outcomes.append("asked")

    try:
        threads = [threading.Thread(target=upload, args=(d,)) for d in (GOOD, GOOD + b"\n")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes) == ["asked", "stored"] and history(state, "a.txt") == []
    finally:
        state.close()


def test_a_reload_waiting_for_another_waits_within_its_budget_then_says_busy(index):
    import threading

    from store import ReloadBusy
    from store.index import _ReloadLock

    held, release = threading.Event(), threading.Event()

    def hold():
        with _ReloadLock(index.db_path, wait=True):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    outcome: list = []
    try:
        assert held.wait(10)
        waiter = threading.Thread(target=lambda: outcome.append(_busy(index, ReloadBusy)))
        waiter.start()
        waiter.join(20)  # its budget ends the wait, not the holder
        assert not waiter.is_alive() and outcome == ["busy"]
    finally:
        release.set()
        holder.join(10)
    assert index.reload("cli", wait=0.3).ok  # free again


def _busy(index, busy) -> str:
    try:
        index.reload("cli", wait=0.3)
        return "ran"
    except busy:
        return "busy"
