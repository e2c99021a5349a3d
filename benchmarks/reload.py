#!/usr/bin/env python3
"""Full reload against tantivy's parse + build, alternating, in one run: the reload figures of
benchmarks/harness.py without the searching, repeated so that one noisy round does not decide.

    .venv/bin/python benchmarks/reload.py benchmarks/out/corpus-100k-s1              # 3 rounds
    .venv/bin/python benchmarks/reload.py benchmarks/out/corpus-1M-s1 --rounds 1
    .venv/bin/python benchmarks/reload.py benchmarks/out/corpus-100k-s1 --json out.json

Each round runs, each in a fresh process of its own (benchmarks/children.py): factbot's full
reload into a new database, then tantivy parsing the same folder with factbot's parser and
indexing the facts (all cores). It prints wall and CPU seconds of both (CPU: every process and
thread), factbot's peak RSS (the reloading process's, and with the memory its worker processes
hold of their own, sampled), and the ratio factbot ÷ tantivy per round; the last line gives the
median ratio. A corpus comes from benchmarks/generate.py (or the harness's cache in benchmarks/out/).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from children import run_child  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, help="a folder of seed exports")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write every round's figures here")
    a = ap.parse_args(argv)
    if not a.corpus.is_dir():
        ap.error(f"{a.corpus} is not a folder")
    rounds = []
    work = Path(tempfile.mkdtemp(prefix="factbot-reload-bench-"))
    try:
        for i in range(a.rounds):
            db = work / f"round{i}.db"
            fb = run_child(["reload", str(db), str(a.corpus)], timeout=3600)
            tv = run_child(["tantivy", str(work / f"tantivy{i}"), str(a.corpus)], timeout=3600)
            shutil.rmtree(work / f"tantivy{i}", ignore_errors=True)
            for p in work.glob(f"round{i}.db*"):
                p.unlink()
            tv_wall = tv["parse_s"] + tv["build_s"]
            tv_cpu = tv["parse_cpu_s"] + tv["build_cpu_s"]
            r = {"factbot": fb, "tantivy": tv, "ratio_wall": fb["seconds"] / tv_wall,
                 "ratio_cpu": fb["cpu_s"] / tv_cpu}
            rounds.append(r)
            print(f"round {i + 1}: factbot {fb['seconds']:.2f} s wall, {fb['cpu_s']:.2f} s CPU,"
                  f" peak RSS {fb['maxrss_mb']:.0f} MB (with its workers' own {fb['peak_total_mb']:.0f} MB),"
                  f" {fb['facts']} facts | tantivy {tv['parse_s']:.2f} + {tv['build_s']:.2f} s wall,"
                  f" {tv_cpu:.2f} s CPU, {tv['docs']} facts | factbot ÷ tantivy: wall"
                  f" {r['ratio_wall']:.2f}×, CPU {r['ratio_cpu']:.2f}×", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    wall = statistics.median(r["ratio_wall"] for r in rounds)
    cpu = statistics.median(r["ratio_cpu"] for r in rounds)
    print(f"median of {len(rounds)} rounds: factbot ÷ tantivy wall {wall:.2f}×, CPU {cpu:.2f}×")
    if a.json:
        a.json.write_text(json.dumps({"corpus": str(a.corpus), "rounds": rounds, "median_ratio_wall": wall,
                                      "median_ratio_cpu": cpu}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
