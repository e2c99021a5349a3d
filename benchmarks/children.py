"""The parts of a benchmark that run in a child process of their own, so that import time stays out
of the timings and each peak-memory figure is that process's own.

    python benchmarks/children.py reload DB SEEDS         # one reload: seconds, counts, peak RSS
    python benchmarks/children.py answer DB SEEDS QFILE   # answer every query of QFILE once

Each prints one JSON object on its last line; `run_child` runs one and reads it.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LIMIT = 3  # results asked for per query

def maxrss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child_reload(db: str, seeds: str) -> dict:
    from store import Index
    t0, c0 = time.perf_counter(), time.process_time()
    index = Index(db, seeds=seeds)
    report = index.reload(actor="bench", progress=None)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    statuses: dict[str, int] = {}
    for f in report.files:
        statuses[f.status] = statuses.get(f.status, 0) + 1
    errors = [e for f in report.files for e in f.errors][:10]
    return {"seconds": seconds, "cpu_s": cpu, "articles": report.articles, "facts": report.facts,
            "files": len(report.files), "removed": len(report.removed), "ok": report.ok, "statuses": statuses,
            "errors": errors,
            "maxrss_mb": maxrss_mb()}


def child_answer(db: str, seeds: str, qfile: str) -> dict:
    """Open the index and answer every query once (after a warm-up on other queries)."""
    import psutil
    spec = json.loads(Path(qfile).read_text(encoding="utf-8"))
    proc = psutil.Process()
    rss0 = proc.memory_info().rss / 2**20
    t0 = time.perf_counter()
    from store import Index
    index = Index(db, seeds=seeds)
    import_open_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    first = index.search(spec["warmup"][0], limit=LIMIT)
    first_query_ms = (time.perf_counter() - t1) * 1000
    for q in spec["warmup"][1:]:
        index.search(q, limit=LIMIT)
    rss_warm = proc.memory_info().rss / 2**20
    rows = []
    for q in spec["queries"]:
        t = time.perf_counter()
        try:
            r = index.search(q, limit=LIMIT)
        except Exception as exc:  # a query that breaks the store is a finding, not a crash
            rows.append({"took_ms": None, "wall_ms": (time.perf_counter() - t) * 1000,
                         "error": f"{type(exc).__name__}: {exc}"[:300], "results": []})
            continue
        wall = (time.perf_counter() - t) * 1000
        rows.append({"took_ms": r.took_ms, "wall_ms": wall, "hits": len(r.hits), "results": [
            {"text": h.text, "section": h.section, "score": h.score,
             "article": {"title": h.article.title, "file": h.article.file}} for h in r.hits[:LIMIT]]})
    # a second pass over the same queries: much faster would mean a result cache, not the index
    repeat = []
    for q in spec["queries"]:
        try:
            repeat.append(index.search(q, limit=LIMIT).took_ms)
        except Exception:
            pass
    return {"rows": rows, "repeat_took_ms": repeat, "first_query_ms": first_query_ms,
            "first_hits": len(first.hits), "import_open_s": import_open_s, "rss_start_mb": rss0,
            "rss_warm_mb": rss_warm, "rss_end_mb": proc.memory_info().rss / 2**20, "maxrss_mb": maxrss_mb()}



def run_child(args: list[str], timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve())] + args
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:1])} child failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    if argv[0] == "reload":
        print(json.dumps(child_reload(argv[1], argv[2])))
    elif argv[0] == "answer":
        print(json.dumps(child_answer(argv[1], argv[2], argv[3]), ensure_ascii=False))
    else:
        raise SystemExit(f"unknown child {argv[0]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
