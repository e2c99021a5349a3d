"""CPU cost of the seed parser: microseconds of CPU time per fact over a corpus folder.

    .venv/bin/python benchmarks/parse_speed.py benchmarks/out/corpus-100k-s1 [--repeat 5]

The files are read into memory first, so only parsing is timed (parse_file with `data`), with
time.process_time() (CPU time: the machine may be shared). The best of --repeat runs is reported,
with the median for reference.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from store.parse import parse_file  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    files = sorted(p for p in args.folder.rglob("*.txt") if p.is_file())
    if not files:
        sys.exit(f"no .txt files under {args.folder}")
    data = [(p.name, p.read_bytes()) for p in files]
    facts = sum(len(a.facts) for name, raw in data for a in parse_file(name, name, raw).articles)

    runs = []
    for _ in range(args.repeat):
        start = time.process_time()
        for name, raw in data:
            parse_file(name, name, raw)
        runs.append(time.process_time() - start)
    best, median = min(runs), statistics.median(runs)
    print(
        f"{len(files)} files, {facts:,} facts: best {best:.3f} s CPU = {best / facts * 1e6:.2f} us/fact"
        f" (median {median / facts * 1e6:.2f} us/fact over {len(runs)} runs)"
    )


if __name__ == "__main__":
    main()
