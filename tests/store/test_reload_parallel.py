"""Reloads that parse in worker processes (store/prepare.py): the same index as parsing in one
process, results in order with a bounded read-ahead, and no worker outliving its reload, whatever
happens to it or to the reloading process."""
from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from store import ReloadFailed
from store import reload as reload_module  # the Reloader, whose worker pool the tests replace
from store import prepare as prep
from store.index import Reloader, SeedFolder, _ReloadLock
from tests.store.conftest import SEED
from tests.store.test_reload_incremental import write_export

DEADLINE = 60.0  # seconds for a process to be seen gone


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """About 9,000 generated facts in 30 exports, the real seed, a file exporting articles of two
    others (duplicates), a broken file and a traditional-Chinese export."""
    folder = tmp_path_factory.mktemp("parallel") / "seeds"
    folder.mkdir()
    for n in range(1, 31):
        write_export(folder, n)
    shutil.copy(SEED, folder / SEED.name)
    overlap = ["Search documents"] + articles(folder / "0003.txt", 2) + articles(folder / "0017.txt", 2)
    (folder / "0100-overlap.txt").write_text("\n".join(overlap) + "\n", encoding="utf-8")
    (folder / "0101-broken.txt").write_text("Search documents\n標題\nno source line\n", encoding="utf-8")
    seed_text = SEED.read_text(encoding="utf-8")
    (folder / "0102-traditional.txt").write_text(
        seed_text.replace("赛力斯", "賽力斯").replace("微软", "微軟"), encoding="utf-8")
    return folder


def articles(path: Path, n: int) -> list[str]:
    """The lines of the first `n` articles of an export (title, source line, summary)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    sources = [i for i, line in enumerate(lines) if re.search(r"· \d{4}-\d\d-\d\d \d", line)]
    return [line for i in sources[:n] for line in lines[i - 1:i + 2]]


def dump(db: Path) -> dict:
    """Everything a search reads, table by table, plus what FTS5 finds for every indexed word."""
    conn = sqlite3.connect(db)
    try:
        out = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
               for t in ("articles", "article_files", "facts", "vocab", "aliases", "alias_evidence")}
        out["files"] = conn.execute("SELECT path, hash, failed_hash, articles, facts, errors"
                                    " FROM files ORDER BY path").fetchall()
        out["fts"] = {term: conn.execute("SELECT rowid FROM facts_fts WHERE facts_fts MATCH ? ORDER BY rowid",
                                         (f'"{term}"',)).fetchall()
                      for (term,) in conn.execute("SELECT term FROM vocab ORDER BY df DESC LIMIT 300")}
        return out
    finally:
        conn.close()


def reload(db: Path, folder: Path, workers: int, parallel_bytes: int = 0, progress=None):
    with _ReloadLock(db, wait=True):
        return Reloader(db, SeedFolder(folder, settle_ns=0), "test", progress,
                        workers=workers, parallel_bytes=parallel_bytes).run()


class ChildWatch:
    """A progress sink that records the reloading process's live children at every update."""

    def __init__(self):
        self.children: set[int] = set()
        self.updates = 0

    def update(self, **_):
        self.updates += 1
        self.children.update(c.pid for c in psutil.Process().children())

    def finish(self):
        pass


# --------------------------------------------------------------------------- same index

def test_a_reload_parsed_by_workers_writes_the_index_one_process_writes(corpus, tmp_path):
    one, many = tmp_path / "one.db", tmp_path / "many.db"
    alone = reload(one, corpus, workers=0)
    watch = ChildWatch()
    shared = reload(many, corpus, workers=2, progress=watch)
    assert len(watch.children) >= 2, "the reload did not parse in worker processes"
    assert alone.to_json() == shared.to_json()
    assert alone.facts > 8000 and [f.path for f in alone.failed] == ["0101-broken.txt"]
    a, b = dump(one), dump(many)
    assert a["aliases"] and a["alias_evidence"] and len(a["article_files"]) > len(a["articles"])
    for table in a:
        assert a[table] == b[table], table
    conn = sqlite3.connect(many)
    conn.execute("INSERT INTO facts_fts(facts_fts, rank) VALUES ('integrity-check', 0)")
    assert dict(conn.execute("SELECT k, v FROM facts_fts_config WHERE k != 'version'")) == {
        "automerge": 4, "crisismerge": 16, "hashsize": 1 << 20}
    conn.close()


def test_a_file_a_worker_cannot_read_keeps_its_facts_as_in_one_process(corpus, tmp_path):
    """The workers read the files they parse: one they cannot read is reported as the reloading
    process reports it, and what it held stays searchable."""
    dbs, reports = {}, {}
    for w in (0, 2):
        folder = tmp_path / f"seeds-{w}"
        shutil.copytree(corpus, folder)
        dbs[w] = tmp_path / f"{w}.db"
        first = reload(dbs[w], folder, workers=w)
        (folder / "0005.txt").unlink()
        (folder / "0005.txt").symlink_to(tmp_path / "gone.txt")  # dangling: unreadable, even for root
        reports[w] = reload(dbs[w], folder, workers=w)
    assert reports[0].to_json() == reports[2].to_json()
    gone = next(f for f in reports[2].failed if f.path == "0005.txt")
    assert gone.errors == ["0005.txt: cannot read file: No such file or directory"]
    assert gone.facts > 200 and reports[2].facts == first.facts
    assert dump(dbs[0]) == dump(dbs[2])


class HandedOver(SeedFolder):
    """A source that can only hand its files' bytes over (as the corpus of record does)."""

    path = None


def test_workers_parse_bytes_handed_over_by_a_source_they_cannot_read_from(corpus, tmp_path):
    watch = ChildWatch()
    with _ReloadLock(tmp_path / "handed.db", wait=True):
        handed = Reloader(tmp_path / "handed.db", HandedOver(corpus, settle_ns=0), "test", watch,
                          workers=2, parallel_bytes=0).run()
    assert len(watch.children) >= 2, "the reload did not parse in worker processes"
    alone = reload(tmp_path / "alone.db", corpus, workers=0)
    assert handed.to_json() == alone.to_json()
    assert dump(tmp_path / "handed.db") == dump(tmp_path / "alone.db")


def test_parsing_makes_no_reference_cycles(corpus):
    """The workers parse with the cyclic garbage collector off (store.prepare._worker_start):
    that is only safe while parsing leaves no cycles behind, which this checks."""
    import gc

    gc.collect()
    gc.disable()
    try:
        for path in sorted(corpus.iterdir()):
            prep.prepare(path.name, path.read_bytes())
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_reload_reading_little_parses_here(corpus, tmp_path):
    watch = ChildWatch()
    report = reload(tmp_path / "small.db", corpus, workers=2, parallel_bytes=10**9, progress=watch)
    assert report.ok is False and report.facts > 8000 and watch.updates
    assert not watch.children


def test_incremental_reloads_by_workers_match_one_process(corpus, tmp_path):
    """Changed, added and removed files, replaced articles shared with other files: the same
    index either way, step after step."""
    folders = {w: tmp_path / f"seeds-{w}" for w in (0, 2)}
    for folder in folders.values():
        shutil.copytree(corpus, folder)
    dbs = {w: tmp_path / f"{w}.db" for w in folders}
    for w in folders:
        reload(dbs[w], folders[w], workers=w)
    steps = [
        lambda f: (f / "0003.txt").unlink(),  # its articles stay: 0100-overlap.txt holds some
        lambda f: [write_export(f, n, facts=200) for n in (5, 6, 7, 200, 201)],  # changed and new
        lambda f: (f / "0101-broken.txt").write_text((f / "0017.txt").read_text(encoding="utf-8"),
                                                     encoding="utf-8"),  # fixed: a copy of another
    ]
    for step in steps:
        reports = {}
        for w, folder in folders.items():
            step(folder)
            reports[w] = reload(dbs[w], folder, workers=w).to_json()
        assert reports[0] == reports[2]
        a, b = dump(dbs[0]), dump(dbs[2])
        for table in a:
            assert a[table] == b[table], table


def test_a_reload_from_a_threaded_process_gets_its_workers_from_a_fork_server(corpus, tmp_path):
    """`factbot serve` reloads from a thread while others answer: forking such a process is
    unsafe, so its workers come from a fork server; the index is the same."""
    assert prep._context().get_start_method() == "fork"  # the test's own process has one thread
    started, stop = threading.Event(), threading.Event()
    other = threading.Thread(target=lambda: (started.set(), stop.wait()))
    other.start()
    try:
        started.wait()
        assert prep._context().get_start_method() == "forkserver"
        report = reload(tmp_path / "threaded.db", corpus, workers=2)
    finally:
        stop.set()
        other.join()
    alone = reload(tmp_path / "alone.db", corpus, workers=0)
    assert report.to_json() == alone.to_json()
    assert dump(tmp_path / "threaded.db") == dump(tmp_path / "alone.db")


# --------------------------------------------------------------------------- the pipeline

def _pid_of(name: str) -> int:
    return os.getpid()


def test_results_come_in_order_from_other_processes_with_passed_items_in_place():
    jobs = [(i, None if i % 3 == 0 else (f"f{i}",), 10) for i in range(40)]
    out = list(prep.prepared_in_order(iter(jobs), workers=2, fn=_pid_of, in_flight_bytes=50))
    assert [item for item, _ in out] == list(range(40))
    assert all((pid is None) == (i % 3 == 0) for i, pid in out)
    pids = {pid for _, pid in out if pid is not None}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_the_jobs_are_read_only_a_bounded_way_ahead():
    taken = []

    def jobs():
        for i in range(200):
            taken.append(i)
            yield i, (f"f{i}",), 1000

    ahead = []
    for item, _ in prep.prepared_in_order(jobs(), workers=2, fn=_pid_of, in_flight_bytes=8000):
        ahead.append(len(taken) - 1 - item)
    assert max(ahead) <= 9  # 8,000 bytes of 1,000-byte files, plus the one that tipped it over
    assert len(ahead) == 200


def _wait_for_file(path: str) -> int:
    """A job that cannot finish before `path` exists (at most DEADLINE seconds)."""
    deadline = time.monotonic() + DEADLINE
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return -1
        time.sleep(0.01)
    return os.getpid()


def test_the_caller_writes_while_it_would_wait_for_a_file(tmp_path):
    """`idle` runs here whenever the next file is not parsed yet: the job below only finishes
    once `idle` has run, so the results show that it did, before they came."""
    flag = tmp_path / "idle-ran"
    calls = []

    def idle():
        calls.append(len(calls))
        flag.touch()

    out = list(prep.prepared_in_order(iter([(0, (str(flag),), 1)]), workers=1, fn=_wait_for_file, idle=idle))
    assert calls and out[0][0] == 0 and out[0][1] not in (-1, os.getpid())


def test_one_process_runs_everything_here_in_order():
    out = list(prep.prepared_in_order(iter([(i, (f"f{i}",), 1) for i in range(5)]), workers=0, fn=_pid_of))
    assert out == [(i, os.getpid()) for i in range(5)]


def test_one_worker_is_one_process_beside_this_one():
    out = list(prep.prepared_in_order(iter([(i, (f"f{i}",), 1) for i in range(5)]), workers=1, fn=_pid_of))
    assert [i for i, _ in out] == list(range(5))
    assert len({pid for _, pid in out}) == 1 and out[0][1] != os.getpid()


# --------------------------------------------------------------------------- failures

def _gone(pids: set[int]) -> None:
    """Wait until none of `pids` is alive (a zombie counts as gone), at most DEADLINE seconds."""
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=DEADLINE)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"still running: {alive}"


def _wait_for_signal(name: str) -> None:
    signal.pause()  # until killed


def test_a_worker_killed_ends_the_pipeline_with_worker_died_and_no_worker_left():
    me = psutil.Process()
    killed: list[int] = []

    def kill_one_worker():
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            # this thread makes the process threaded: the workers are the fork server's children
            workers = [p for p in me.children(recursive=True) if p.ppid() != me.pid]
            if len(workers) >= 2:
                killed.extend(w.pid for w in workers)
                workers[0].kill()
                return
            time.sleep(0.01)  # polling for the workers to exist, not waiting for time to pass

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    jobs = iter([(i, (f"f{i}",), 1) for i in range(4)])
    with pytest.raises(prep.WorkerDied, match="worker process"):
        list(prep.prepared_in_order(jobs, workers=2, fn=_wait_for_signal))
    killer.join()
    assert len(killed) == 2
    _gone(set(killed))  # the other worker, waiting too, was stopped with the pool


def test_a_reload_whose_worker_died_fails_and_changes_nothing(corpus, tmp_path, monkeypatch):
    folder = tmp_path / "seeds"
    shutil.copytree(corpus, folder)
    db = tmp_path / "k.db"
    reload(db, folder, workers=0)
    before = dump(db)
    for n in range(1, 31):  # every export changes
        write_export(folder, n, facts=250)
    real = reload_module.prepared_in_order

    def dies_after_ten(jobs, workers, **kw):
        for n, result in enumerate(real(jobs, workers, **kw)):
            if n == 10:
                raise prep.WorkerDied("a worker process parsing the seeds ended before it was done")
            yield result

    monkeypatch.setattr(reload_module, "prepared_in_order", dies_after_ten)
    with pytest.raises(ReloadFailed, match="worker process.*the index is as it was"):
        reload(db, folder, workers=2)
    assert dump(db) == before
    monkeypatch.undo()
    assert reload(db, folder, workers=2).facts != len(before["facts"])


# a reload in a process of its own that prints its workers' pids once they run, then waits for a
# line on its standard input (where the tests kill or interrupt it)
RELOADER = textwrap.dedent("""
    import sys, psutil
    from pathlib import Path
    from store.index import Reloader, SeedFolder

    class Progress:
        def update(self, **kw):
            kids = psutil.Process().children()
            if len(kids) >= 2:
                print(" ".join(str(k.pid) for k in kids), flush=True)
                sys.stdin.readline()
        def finish(self):
            pass
""")


def test_a_reloading_process_killed_takes_its_workers_with_it(corpus, tmp_path):
    """SIGKILL leaves no orphan workers parsing on (or waiting forever for work)."""
    script = RELOADER + textwrap.dedent(f"""
        Reloader(Path({str(tmp_path / "orphans.db")!r}), SeedFolder({str(corpus)!r}), "test", Progress(),
                 workers=2, parallel_bytes=0).run()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=str(Path(__file__).resolve().parents[2]))
    try:
        line = proc.stdout.readline()
        assert line.strip(), proc.communicate(timeout=60)
        workers = {int(p) for p in line.split()}
        proc.kill()
        proc.wait(30)
        _gone(workers)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def test_ctrl_c_stops_a_parallel_reload_cleanly(corpus, tmp_path):
    """SIGINT to the process group (what a terminal's Ctrl-C sends): the reload stops with
    KeyboardInterrupt, the index is what it was, and no worker stays behind."""
    db = tmp_path / "c.db"
    reload(db, corpus, workers=0)
    before = dump(db)
    folder = tmp_path / "seeds"
    shutil.copytree(corpus, folder)
    for n in range(1, 31):
        write_export(folder, n, facts=250)
    script = RELOADER + textwrap.dedent(f"""
        try:
            Reloader(Path({str(db)!r}), SeedFolder({str(folder)!r}), "test", Progress(), workers=2,
                     parallel_bytes=0).run()
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(130)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            cwd=str(Path(__file__).resolve().parents[2]))
    try:
        workers = {int(p) for p in proc.stdout.readline().split()}
        assert workers
        os.killpg(proc.pid, signal.SIGINT)
        proc.stdin.write("\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    assert proc.returncode == 130 and "interrupted" in out, err
    assert "Traceback" not in err, err
    _gone(workers)
    assert dump(db) == before
