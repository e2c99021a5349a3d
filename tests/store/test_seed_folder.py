"""The seeds folder's stamps: which files a reload may trust by their stat without reading them.

A file's stat can hide a change made within the same timestamp tick as the one before (git's
"racily clean" files), so a file modified within a tick of the listing is read and hashed, and
trusted by its stat only from a later reload that finds its content unchanged. The tick is the
one the file system shows: timestamps with sub-second digits tick with the kernel's coarse clock
(milliseconds), whole-second ones (FAT, ext3, some network file systems) by the second.
"""
from __future__ import annotations

import os
import shutil
import time

from store.index import FINE_RACY_NS, RACY_NS, Reloader, SeedFolder, _ReloadLock
from tests.generated import corpus

EXPORT = """Search documents
宁德时代匈牙利工厂
Cai Lian She· 2025-11-21 09:30
Core Insights - Contemporary Amperex expands its Hungarian battery plant in Debrecen [1][2]. - The Debrecen factory starts production next year [3].
"""


class Counting(SeedFolder):
    def __init__(self, root):
        super().__init__(root)  # the default window: by the timestamps' resolution
        self.reads: list[str] = []

    def read(self, name):
        self.reads.append(name)
        return super().read(name)


def reload(db, folder):
    source = Counting(folder)
    with _ReloadLock(db, wait=True):
        report = Reloader(db, source, "test", workers=0).run()
    return report, source.reads


def _wait_older_than(folder, window_ns: int) -> None:
    """Until every file's last change is `window_ns` old (a deadline, not a guess)."""
    newest = max(max(p.stat().st_mtime_ns, p.stat().st_ctime_ns) for p in folder.iterdir())
    deadline = time.monotonic() + 5
    while time.time_ns() - newest < window_ns:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_files_copied_just_before_a_build_are_trusted_by_their_stat_at_the_next_reload(tmp_path):
    corpus(tmp_path / "generated", 3000, seed=11)
    seeds = tmp_path / "seeds"
    shutil.copytree(tmp_path / "generated", seeds)  # a bulk copy: every file changed just now
    copied = max(p.stat().st_ctime_ns for p in seeds.iterdir())
    assert all(p.stat().st_mtime_ns % 1_000_000_000 for p in seeds.iterdir())  # sub-second timestamps here
    _wait_older_than(seeds, FINE_RACY_NS + 1)
    db = tmp_path / "factbot.db"
    report, reads = reload(db, seeds)
    assert report.count("loaded") == len(reads) == len(list(seeds.iterdir()))
    assert time.time_ns() - copied < RACY_NS  # the build ran within the old two-second window
    (seeds / "zz_new.txt").write_text(EXPORT, "utf-8")
    report, reads = reload(db, seeds)
    assert reads == ["zz_new.txt"] and report.count("loaded") == 1  # nothing else read again


def test_a_file_changed_within_a_tick_is_read_again_then_trusted(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text(EXPORT, "utf-8")
    db = tmp_path / "factbot.db"
    reload(db, seeds)  # written just now: racy, no stamp stored
    report, reads = reload(db, seeds)
    assert reads == ["a.txt"] and report.count("unchanged") == 1  # read, unchanged by its hash: stamped
    _wait_older_than(seeds, FINE_RACY_NS + 1)
    report, reads = reload(db, seeds)
    if reads:  # the previous reload may still have found it racy; this one finds it settled
        report, reads = reload(db, seeds)
    assert reads == []


def test_whole_second_timestamps_keep_a_file_racy_for_two_seconds(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    path = seeds / "a.txt"
    path.write_text(EXPORT, "utf-8")
    whole = time.time_ns() // 1_000_000_000 * 1_000_000_000  # as a file system keeping whole seconds writes it
    os.utime(path, ns=(whole, whole))
    _wait_older_than(seeds, FINE_RACY_NS + 1)  # past the fine window, still within two seconds
    stamped = SeedFolder(seeds).stamped()
    if time.time_ns() - whole < RACY_NS:
        assert stamped[0].stamp is None
    assert SeedFolder(seeds, settle_ns=0).stamped()[0].stamp is not None  # an explicit window wins
