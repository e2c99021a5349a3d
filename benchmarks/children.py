"""The parts of a benchmark that run in a child process of their own, so that import time stays out
of the timings and each peak-memory figure is that process's own.

    python benchmarks/children.py reload DB SEEDS         # one reload: seconds, counts, peak RSS
    python benchmarks/children.py answer DB SEEDS QFILE   # answer every query of QFILE once
    python benchmarks/children.py tantivy DIR SEEDS       # tantivy: parse with factbot's parser, build

Each prints one JSON object on its last line; `run_child` runs one and reads it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LIMIT = 3  # results asked for per query

def maxrss_mb(who: str = "self") -> float:
    """Peak RSS of this process, or (who="children") of the largest child it has waited for."""
    import resource
    what = resource.RUSAGE_SELF if who == "self" else resource.RUSAGE_CHILDREN
    return resource.getrusage(what).ru_maxrss / 1024  # KB on Linux


def children_cpu_s() -> float:
    t = os.times()
    return t.children_user + t.children_system


def child_reload(db: str, seeds: str) -> dict:
    from store import Index
    t0, c0, w0 = time.perf_counter(), time.process_time(), children_cpu_s()
    index = Index(db, seeds=seeds)
    report = index.reload(actor="bench", progress=None)
    seconds, own_cpu = time.perf_counter() - t0, time.process_time() - c0
    workers_cpu = children_cpu_s() - w0  # the reload's worker processes, reaped when it ends
    statuses: dict[str, int] = {}
    for f in report.files:
        statuses[f.status] = statuses.get(f.status, 0) + 1
    errors = [e for f in report.files for e in f.errors][:10]
    return {"seconds": seconds, "cpu_s": own_cpu + workers_cpu, "own_cpu_s": own_cpu, "workers_cpu_s": workers_cpu,
            "workers_maxrss_mb": maxrss_mb("children"), "articles": report.articles, "facts": report.facts,
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



def child_tantivy(path: str, seeds: str) -> dict:
    """tantivy's side of a full reload: parse the folder with factbot's parser, index the facts."""
    from baselines import Tantivy, parse_facts
    facts, parse_s, parse_cpu_s = parse_facts(Path(seeds))
    build_s, build_cpu_s = Tantivy(Path(path)).build(facts)
    return {"parse_s": parse_s, "parse_cpu_s": parse_cpu_s, "build_s": build_s, "build_cpu_s": build_cpu_s,
            "docs": len(facts), "maxrss_mb": maxrss_mb()}


def _memory(proc) -> float:
    """A process's RSS plus what its descendants (a reload's workers, a fork server) hold of their
    own (USS: the pages they share with the process they were forked from count once), in MB."""
    import psutil
    try:
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            try:
                total += child.memory_full_info().uss
            except psutil.Error:
                pass
    except psutil.Error:
        return 0.0
    return total / 2**20


def run_child(args: list[str], timeout: float, every: float = 0.05) -> dict:
    """Run one child and read its JSON; `peak_total_mb` is its memory with its descendants',
    sampled from here every `every` seconds (a thread inside the child would change how a
    reload starts its workers)."""
    import psutil
    cmd = [sys.executable, str(Path(__file__).resolve())] + args
    with open(os.devnull, "rb") as devnull, subprocess.Popen(
            cmd, stdin=devnull, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(ROOT)) as p:
        import threading
        out: dict[str, bytes] = {}
        readers = [threading.Thread(target=lambda n=n, f=f: out.__setitem__(n, f.read()))
                   for n, f in (("stdout", p.stdout), ("stderr", p.stderr))]
        for r in readers:
            r.start()
        me, peak, deadline = psutil.Process(p.pid), 0.0, time.monotonic() + timeout
        while p.poll() is None:
            peak = max(peak, _memory(me))
            if time.monotonic() > deadline:
                p.kill()
                raise RuntimeError(f"{args[0]} child took over {timeout} s")
            time.sleep(every)  # the sampling interval
        for r in readers:
            r.join()
    stdout, stderr = out["stdout"].decode(), out["stderr"].decode()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:1])} child failed ({p.returncode}): {stderr.strip()[-2000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_total_mb"] = max(peak, result.get("maxrss_mb", 0.0))
    return result


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    if argv[0] == "reload":
        print(json.dumps(child_reload(argv[1], argv[2])))
    elif argv[0] == "tantivy":
        sys.path.insert(0, str(HERE))
        print(json.dumps(child_tantivy(argv[1], argv[2])))
    elif argv[0] == "answer":
        print(json.dumps(child_answer(argv[1], argv[2], argv[3]), ensure_ascii=False))
    else:
        raise SystemExit(f"unknown child {argv[0]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
