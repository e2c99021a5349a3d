"""The SQLite index: building, incremental reloads, bad files, atomicity, the lock, the audit trail."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from store import Index, ReloadBusy
from store.index import _ReloadLock
from tests.store.conftest import SEED, article

EXTRA = article("英伟达财报超预期", "Xin Lang Cai Jing", "2025-11-20 09:30",
                "Core Viewpoint - Nvidia reported record data center revenue of 51 billion USD [1][2]. "
                "Group 1: Guidance - The company guided fourth quarter revenue to 65 billion USD [3].")


def test_builds_the_example_with_its_figures(index):
    assert index.counts() == (2, 31)
    conn = sqlite3.connect(index.db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    (citations,) = conn.execute(
        "SELECT citations FROM facts WHERE section = 'Fairwater 2 Data Center' ORDER BY position LIMIT 1").fetchone()
    assert citations == "[5, 13]"
    (path, hash_, n_articles, n_facts) = conn.execute("SELECT path, hash, articles, facts FROM files").fetchone()
    assert (path, n_articles, n_facts) == (SEED.name, 2, 31) and len(hash_) == 32
    assert conn.execute("SELECT count(*) FROM facts_fts WHERE facts_fts MATCH 'fairwater'").fetchone()[0] == 2


def test_second_reload_skips_unchanged_files(index):
    report = index.reload()
    assert report.to_json() == {"articles": 2, "facts": 31, "unique_facts": 31, "files": [
        {"path": SEED.name, "articles": 2, "facts": 31, "status": "unchanged", "errors": []}]}
    assert report.ok


def test_added_changed_and_removed_files(index, seeds):
    (seeds / "nvidia.txt").write_text("英伟达\nSearch documents\n" + EXTRA, encoding="utf-8")
    report = index.reload()
    assert (report.articles, report.facts) == (3, 33)
    assert {f.path: f.status for f in report.files} == {SEED.name: "unchanged", "nvidia.txt": "loaded"}
    assert index.search("nvidia data center revenue").hits[0].article.title == "英伟达财报超预期"

    (seeds / "nvidia.txt").write_text(EXTRA.replace("51 billion", "57 billion"), encoding="utf-8")
    report = index.reload()
    assert {f.path: f.status for f in report.files}["nvidia.txt"] == "loaded"
    assert report.facts == 33
    assert "57 billion" in index.search("nvidia data center revenue").hits[0].text

    (seeds / "nvidia.txt").unlink()
    report = index.reload()
    assert (report.articles, report.facts, report.removed) == (2, 31, ["nvidia.txt"])
    assert index.search("nvidia data center revenue").hits == []


def test_bad_new_file_is_reported_by_name_and_line_and_others_load(index, seeds):
    (seeds / "binary.txt").write_bytes(b"\x00\x01\x02 not text")
    (seeds / "latin1.txt").write_bytes("Résumé\n".encode("latin-1"))
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "good.txt").write_text(EXTRA, encoding="utf-8")
    report = index.reload()
    status = {f.path: f for f in report.files}
    assert not report.ok
    assert status["good.txt"].status == "loaded"
    for name in ("binary.txt", "latin1.txt", "empty.txt"):
        assert status[name].status == "failed", name
        assert status[name].errors and all(e.startswith(name) for e in status[name].errors)
    assert "binary" in status["binary.txt"].errors[0]
    assert status["latin1.txt"].errors[0].startswith("latin1.txt:1:")
    assert (report.articles, report.facts) == (3, 33)
    # still failing on the next reload, though unchanged
    again = {f.path: f.status for f in index.reload().files}
    assert again["binary.txt"] == "failed" and again["good.txt"] == "unchanged"


def test_file_turning_bad_keeps_its_facts_until_fixed_or_removed(index, seeds):
    seed = seeds / SEED.name
    original = seed.read_bytes()
    seed.write_bytes(original[: len(original) // 3] + b"\xff\xfe broken")
    report = index.reload()
    (only,) = report.files
    assert only.status == "failed" and "not UTF-8" in only.errors[0]
    assert (only.articles, only.facts) == (2, 31)
    assert (report.articles, report.facts) == (2, 31)
    assert index.search("fairwater 2").hits, "facts of the previous version stay searchable"

    seed.write_bytes(original)
    report = index.reload()
    assert report.ok and report.files[0].status == "loaded"

    (seeds / "nvidia.txt").write_text(EXTRA, encoding="utf-8")
    index.reload()
    seed.unlink()
    report = index.reload()
    assert (report.articles, report.facts, report.removed) == (1, 2, [SEED.name])
    assert index.search("fairwater 2").hits == []


def test_audit_trail_records_every_reload(index, seeds):
    index.reload(actor="U123ADMIN")
    (seeds / "bad.txt").write_bytes(b"\x00")
    index.reload(actor="cli")
    trail = index.reloads()
    assert [r["actor"] for r in trail[:3]] == ["cli", "U123ADMIN", "startup"]
    assert trail[0]["failed"] == 1 and "bad.txt" in trail[0]["errors"]
    assert trail[1]["unchanged"] == 1 and trail[1]["facts"] == 31
    assert all(r["at"].endswith("Z") for r in trail)


def test_second_reload_at_once_says_one_is_running(index):
    with _ReloadLock(index.db_path, wait=True):
        with pytest.raises(ReloadBusy):
            index.reload(wait=False)
        # another process-level holder: the flock is held, a new Index on the same file is refused too
        with pytest.raises(ReloadBusy):
            Index(index.db_path, seeds=index.seeds).reload(wait=False)
    assert index.reload(wait=False).ok


def test_concurrent_reloads_run_one_after_the_other(index, seeds):
    (seeds / "nvidia.txt").write_text(EXTRA, encoding="utf-8")
    results, errors = [], []

    def go():
        try:
            results.append(Index(index.db_path, seeds=seeds).reload())
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(r.count("loaded") for r in results) == [0, 0, 0, 1]
    assert all((r.articles, r.facts) == (3, 33) for r in results)
    assert sqlite3.connect(index.db_path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_readers_see_the_old_or_the_new_index_during_reloads(index, seeds):
    """Readers in other threads never get an error or a half-built index while reloads commit."""
    stop = threading.Event()
    seen, errors = [], []

    def reader():
        idx = Index(index.db_path, seeds=seeds)
        while not stop.is_set():
            try:
                hits = idx.search("fairwater 2").hits
                seen.append(len(hits))
            except Exception as exc:
                errors.append(repr(exc))
        idx.close()

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    big = "".join(EXTRA.replace("英伟达", f"英伟达{i}") for i in range(200))
    try:
        for i in range(6):
            if i % 2 == 0:
                (seeds / "big.txt").write_text(big, encoding="utf-8")
            else:
                (seeds / "big.txt").unlink()
            index.reload()
            time.sleep(0.02)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert errors == []
    assert seen and all(n >= 1 for n in seen)


READER = r"""
import sys, time, json
from store import Index
idx = Index(sys.argv[1])
errors, answers, deadline = [], [], time.time() + float(sys.argv[2])
while time.time() < deadline:
    try:
        answers.append(len(idx.search("fairwater 2").hits))
        idx.counts()
    except Exception as exc:
        errors.append(repr(exc))
print(json.dumps({"errors": errors[:5], "answers": len(answers), "empty": answers.count(0)}))
"""


def test_other_processes_read_the_old_or_the_new_index_during_reloads(index, seeds):
    """`factbot ask` in another process while reloads run: never an error, never an empty index."""
    import json
    import subprocess
    import sys

    reader = subprocess.Popen([sys.executable, "-c", READER, str(index.db_path), "4"],
                              stdout=subprocess.PIPE, text=True)
    big = "".join(EXTRA.replace("英伟达", f"英伟达{i}") for i in range(300))
    deadline = time.time() + 3
    reloads = 0
    while time.time() < deadline:
        if reloads % 2 == 0:
            (seeds / "big.txt").write_text(big, encoding="utf-8")
        else:
            (seeds / "big.txt").unlink()
        index.reload()
        reloads += 1
    out, _ = reader.communicate(timeout=30)
    result = json.loads(out)
    assert result["errors"] == [] and result["empty"] == 0
    assert result["answers"] > 10 and reloads >= 2


def test_huge_line_and_truncated_and_foreign_files(index, seeds):
    """A 10 MB line, a file cut off mid-article: each reported with path, line and reason; what
    parses cleanly is indexed; nothing wrong is. A file that is not a *.txt export is not read."""
    huge = EXTRA + "标题\nXin Lang Cai Jing· 2025-11-21 10:00\n" + "Core Viewpoint - " + "x" * 10_000_000 + " [1].\n"
    (seeds / "huge.txt").write_text(huge, encoding="utf-8")
    (seeds / "truncated.txt").write_text(EXTRA + "半截文章\nXin Lang Cai Jing· 2025-11-22 10:00\n", encoding="utf-8")
    (seeds / "notes.md").write_text("# Meeting notes\n\n- buy more GPUs\n", encoding="utf-8")
    started = time.perf_counter()
    report = index.reload()
    assert time.perf_counter() - started < 30
    status = {f.path: f for f in report.files}
    huge_err = status["huge.txt"].errors
    assert status["huge.txt"].status == "failed" and huge_err[0].startswith("huge.txt:6:") and "too long" in huge_err[0]
    assert status["truncated.txt"].status == "failed" and status["truncated.txt"].errors[0].startswith("truncated.txt:4:")
    assert "notes.md" not in status  # not an export: not read, not a failure (only *.txt files are)
    # the clean articles of the bad files are searchable, the broken ones are not
    assert (status["huge.txt"].articles, status["truncated.txt"].articles) == (1, 1)
    assert report.articles == 2 + 1  # the seed's two, and EXTRA once though both bad files hold it
    assert all("xxxx" not in h.text for h in index.search("core viewpoint").hits)


def test_an_index_of_another_version_is_rebuilt_whole(index):
    conn = sqlite3.connect(index.db_path)
    conn.execute("UPDATE meta SET value = 'old' WHERE key = 'schema'")
    conn.commit()
    report = index.reload()
    assert report.files[0].status == "loaded" and (report.articles, report.facts) == (2, 31)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] != "old"
    assert conn.execute("SELECT count(*) FROM facts_fts WHERE facts_fts MATCH 'fairwater'").fetchone()[0] == 2
    assert index.search("fairwater 2").hits[0].citations == [5, 13]


def _indexes(db) -> set[tuple[str, tuple[str, ...]]]:
    conn = sqlite3.connect(db)
    try:
        return {(table, tuple(c for _, _, c in conn.execute(f"PRAGMA index_info('{name}')")))
                for name, table in conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'"
                                                " AND name NOT LIKE 'sqlite_autoindex%'")}
    finally:
        conn.close()


def test_a_new_or_rebuilt_index_has_every_table_index(index):
    """A first build and a rebuild fill the tables first and make their indexes afterwards: none
    may be missing (the deletes of every later reload go through them)."""
    from store.index import INDEXES
    from store.schema import PARTIAL_INDEXES

    wanted = {(table, tuple(columns)) for table, lists in INDEXES.items() for columns in lists}
    wanted |= {(table, (column,)) for table, column, _ in PARTIAL_INDEXES.values()}
    assert _indexes(index.db_path) == wanted
    conn = sqlite3.connect(index.db_path)
    conn.execute("UPDATE meta SET value = 'old' WHERE key = 'schema'")
    conn.commit()
    conn.close()
    assert index.reload().files[0].status == "loaded"
    assert _indexes(index.db_path) == wanted


def test_an_unreadable_file_keeps_its_facts(index, seeds, tmp_path):
    seed = seeds / SEED.name
    seed.unlink()
    seed.symlink_to(tmp_path / "gone.txt")  # a dangling link: reading fails, even for root
    report = index.reload()
    (only,) = report.files
    assert only.status == "failed" and "cannot read file" in only.errors[0]
    assert (only.articles, only.facts, report.facts) == (2, 31, 31)
    assert index.search("fairwater 2").hits


def test_every_citation_of_a_fact_is_kept_in_order(index):
    """The seed's `... (AGI) [1][4][37]` keeps all three numbers, in the index and in the hit."""
    conn = sqlite3.connect(index.db_path)
    stored = {row[0] for row in conn.execute("SELECT citations FROM facts")}
    assert "[1, 4, 37]" in stored and "[1, 2, 6]" in stored
    hit = index.search("commercialization of general artificial intelligence agi").hits[0]
    assert hit.citations == [1, 4, 37]


LOCK_HOLDER = r"""
import sys
from pathlib import Path
from store.index import _ReloadLock
with _ReloadLock(Path(sys.argv[1]), wait=True):
    print("held", flush=True)
    sys.stdin.readline()  # hold it until the test says so
"""


def test_a_reload_lock_held_by_another_process_refuses_a_reload(index, seeds):
    """The lock works across processes (flock), not only between threads of one process."""
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(index.db_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"  # the other process holds the lock now
        (seeds / "nvidia.txt").write_text(EXTRA, encoding="utf-8")
        with pytest.raises(ReloadBusy):
            index.reload(wait=False)
        assert index.counts() == (2, 31)
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(10)
    assert index.reload(wait=False).count("loaded") == 1  # released with the process


def test_a_file_whose_new_version_has_one_broken_article_keeps_all_its_old_facts(index, seeds):
    two = EXTRA + article("英伟达发布新芯片", "Xin Lang Cai Jing", "2025-11-21 09:30",
                          "Core Viewpoint - Nvidia unveiled a new inference chip for data centers [1].")
    (seeds / "nvidia.txt").write_text(two, encoding="utf-8")
    index.reload()
    assert index.search("nvidia inference chip").hits
    # the new version: the first article changed, the second cut off after its title
    broken = EXTRA.replace("51 billion", "57 billion") + "英伟达发布新芯片\n"
    (seeds / "nvidia.txt").write_text(broken, encoding="utf-8")
    report = index.reload()
    status = {f.path: f for f in report.files}["nvidia.txt"]
    assert status.status == "failed" and status.errors
    assert (status.articles, status.facts) == (2, 3) and (report.articles, report.facts) == (4, 34)
    assert index.search("nvidia inference chip").hits, "the old facts of the broken article stay"
    assert "51 billion" in index.search("nvidia data center revenue").hits[0].text  # the old version, whole


def test_readers_never_see_a_changing_file_missing(index, seeds):
    """Readers ask one-word queries whose answers live only in a file that changes at every
    reload: between the old version and the new one there is no moment without either (the
    deletion of the old facts and the insertion of the new ones commit together)."""
    words = ["quillon", "ferrotech", "brannock"]
    body = "".join(article(f"{w}公司{i}", "Xin Lang Cai Jing", f"2025-11-{10 + i % 15:02d} 09:30",
                           f"Core Viewpoint - {w.title()} shipped {i} units of gear [1]. "
                           f"Group 1: Outlook - {w.title()} expects demand to grow [2].")
                   for i in range(400) for w in words)
    (seeds / "changing.txt").write_text(body, encoding="utf-8")
    index.reload()
    stop = threading.Event()
    answers, errors = [], []

    def reader(word):
        idx = Index(index.db_path, seeds=seeds)
        while not stop.is_set():
            try:
                answers.append((word, len(idx.search(word).hits)))
            except Exception as exc:
                errors.append(repr(exc))
        idx.close()

    threads = [threading.Thread(target=reader, args=(w,)) for w in words]
    for t in threads:
        t.start()
    try:
        for n in range(6):  # each reload changes every article of the file
            (seeds / "changing.txt").write_text(body.replace("units", f"units (revision {n})"), encoding="utf-8")
            assert {f.path: f.status for f in index.reload().files}["changing.txt"] == "loaded"
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert errors == []
    assert len(answers) > 30
    assert [a for a in answers if a[1] == 0] == []
