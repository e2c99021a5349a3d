"""The seeds folder: the export files a reload reads, each with the stamp that says it is unchanged."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import NamedTuple


class SeedFile(NamedTuple):
    name: str  # the path relative to the seeds folder, with "/"
    size: int  # bytes
    stamp: str | None  # what says the content is unchanged when it is the same; None: hash it


# A file modified within its timestamp's tick of the listing may change again unseen (git's "racily
# clean" files). The tick is the one the file system shows: whole-second timestamps (FAT's two
# seconds, ext3, some network file systems) get RACY_NS; timestamps with sub-second digits are
# written from the kernel's coarse clock (a few milliseconds), and get FINE_RACY_NS, ten times that.
RACY_NS = 2_000_000_000
FINE_RACY_NS = 100_000_000
_SECOND = 1_000_000_000


SEED_SUFFIX = ".txt"  # the exports the news site gives are text files; README.md, notes... are not read


def is_seed_name(name: str) -> bool:
    """Whether a path relative to the seeds folder (with "/") names a file a reload reads: a `.txt`
    file (any case), none of its parts hidden (a dot first, as an upload's temporary file)."""
    return (name.lower().endswith(SEED_SUFFIX) and len(name) > len(SEED_SUFFIX)
            and not any(part.startswith(".") for part in name.split("/")))


class SeedFolder:
    """The seed files a reload reads: every regular file below a folder, hidden files and hidden
    folders left out, named by their path relative to it. A reload uses only `files()`, `read()`
    and `why_empty()` (and `digest(name)`, the content hash, where a source knows it without
    reading the file, and `stamped()`, the files with their stamps), so another source of seed
    files can take this one's place.

    A file's stamp is its size, modification and change times and inode, as git's index keeps
    them: a file whose stamp is the one stored by the last reload is not read again. A file
    modified within a timestamp tick of the listing gets no stamp (it could change again within
    that tick, unseen), so the next reload reads and hashes it, and stores its stamp when it finds
    it unchanged: it is settled from then on. The window is `settle_ns` when given; by default it
    follows the file's timestamps (RACY_NS for whole seconds, FINE_RACY_NS for sub-second ones),
    so that files copied in bulk just before a first build are trusted by their stat at the next
    reload rather than all read again."""

    def __init__(self, root: Path | str, settle_ns: int | None = None):
        self.root = Path(root)
        self.settle_ns = settle_ns

    def window(self, st: os.stat_result) -> int:
        """How long after its last change a file's stat is not trusted."""
        if self.settle_ns is not None:
            return self.settle_ns
        coarse = st.st_mtime_ns % _SECOND == 0 or st.st_ctime_ns % _SECOND == 0
        return RACY_NS if coarse else FINE_RACY_NS

    def files(self) -> list[tuple[str, int]]:
        """(name, size in bytes) of every seed file, sorted by name."""
        return [(entry.name, entry.size) for entry in self.stamped()]

    def ignored(self) -> list[str]:
        """The visible files of the folder that are not exports (not `*.txt`), which no reload reads."""
        if not self.root.is_dir():
            return []
        out = []
        for root, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for f in files:
                name = Path(root, f).relative_to(self.root).as_posix()
                if not f.startswith(".") and not is_seed_name(name):
                    out.append(name)
        return sorted(out)

    def stamped(self) -> list[SeedFile]:
        """Every seed file with its stamp, sorted by name."""
        if not self.root.is_dir():
            return []
        out = []
        now = time.time_ns()
        for root, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for f in sorted(files):
                path = Path(root, f)
                name = path.relative_to(self.root).as_posix()
                if not is_seed_name(name):
                    continue
                try:
                    st = path.stat()
                except OSError:  # reading it will say what is wrong
                    out.append(SeedFile(name, 0, None))
                    continue
                settled = now - max(st.st_mtime_ns, st.st_ctime_ns) >= self.window(st)
                stamp = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}" if settled else None
                out.append(SeedFile(name, st.st_size, stamp))
        return sorted(out)

    def read(self, name: str) -> bytes:
        """A seed file's content (raises OSError when it cannot be read)."""
        return (self.root / name).read_bytes()

    def path(self, name: str) -> str:
        """Where a seed file is on this machine, for a worker process of the reload to read it
        itself (store.prepare.prepare); a source without this method hands its bytes over."""
        return str(self.root / name)

    def why_empty(self) -> str:
        if not self.root.is_dir():
            return f"found no seed files in {self.root}: the folder does not exist"
        others = self.ignored()
        if others:
            shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            return f"found no seed files in {self.root}: no *.txt file (not exports: {shown})"
        return f"found no seed files in {self.root}: the folder is empty"
