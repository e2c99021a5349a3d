"""The reload adding one export right after a bulk copy and a full build, and once the files settled.

    python benchmarks/settle.py --facts 100000            # generates the corpus into /tmp (kept)

Steps, each timed in this process (Index.reload, the code as it is):
  1. copy the generated corpus into a fresh seeds folder (a bulk copy: every file new)
  2. after --delay seconds (0: at once; 0.5: the watched folder's quiet time), full build of a fresh index
  3. add one export (15 facts) and reload: "right after the bulk copy"
  4. add another export and reload: "settled"
and how many files each reload read (the rest were trusted by their stat).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path and not any(Path(p, "store").is_dir() for p in sys.path[1:] if p):
    sys.path.insert(0, str(ROOT))

from store.index import Index, SeedFolder  # noqa: E402

EXPORT = """Search documents
{title}
Cai Lian She· 2025-12-0{day} 09:30
Core Insights - {name} expands its battery plant in Debrecen to serve European carmakers [1][2]. - The factory starts production next year [3].
"""


class Counting(SeedFolder):
    def __init__(self, root):
        super().__init__(root)
        self.reads = 0

    def read(self, name):
        self.reads += 1
        return super().read(name)

    def path(self, name):  # worker processes read the file themselves: count them here
        self.reads += 1
        return super().path(name)


def timed_reload(index: Index, seeds: Path) -> tuple[float, int]:
    source = Counting(seeds)
    started = time.perf_counter()
    index.reload(actor="bench", source=source)
    return time.perf_counter() - started, source.reads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--facts", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/factbot-settle"))
    ap.add_argument("--delay", type=float, default=0.0, help="seconds between the copy and the build")
    args = ap.parse_args()
    corpus = args.work / f"corpus-{args.facts}"
    if not corpus.exists():
        import subprocess

        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--facts", str(args.facts),
                        "--out", str(corpus), "--seed", "1"], check=True)
    seeds, db = args.work / "seeds", args.work / "factbot.db"
    shutil.rmtree(seeds, ignore_errors=True)
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    started = time.perf_counter()
    shutil.copytree(corpus, seeds)
    copy = time.perf_counter() - started
    files = sum(1 for _ in seeds.rglob("*.txt"))
    time.sleep(args.delay)
    index = Index(db, seeds=seeds)
    build, _ = timed_reload(index, seeds)
    (seeds / "zz_new_1.txt").write_text(EXPORT.format(title="新工厂一", day=1, name="Contemporary Amperex"), "utf-8")
    first, first_reads = timed_reload(index, seeds)
    time.sleep(2.5)  # past the two-second window, for the before/after comparison
    (seeds / "zz_new_2.txt").write_text(EXPORT.format(title="新工厂二", day=2, name="Gotion High-Tech"), "utf-8")
    second, second_reads = timed_reload(index, seeds)
    third, third_reads = timed_reload(index, seeds)
    articles, facts = index.counts()
    print(f"{facts:,} facts in {files:,} files; copy {copy:.2f} s, build {args.delay} s later: {build:.2f} s")
    print(f"add one export right after the build: {first:.2f} s ({first_reads:,} files read)")
    print(f"add one export 2.5 s later:           {second:.2f} s ({second_reads:,} files read)")
    print(f"nothing changed:                      {third:.2f} s ({third_reads:,} files read)")


if __name__ == "__main__":
    main()
