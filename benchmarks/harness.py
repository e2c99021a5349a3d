#!/usr/bin/env python3
"""factbot's benchmark harness: reloads (full, incremental, unchanged), search latency, memory and
quality, against two baselines.

    .venv/bin/python benchmarks/harness.py                         # 10k, 100k and 1M facts
    .venv/bin/python benchmarks/harness.py --sizes 10000,100000    # some sizes only
    .venv/bin/python benchmarks/harness.py --profile varied        # the harder generated corpus
    .venv/bin/python benchmarks/harness.py --fresh                 # regenerate corpora, rebuild indexes

For each size it generates (or reuses) a synthetic corpus (benchmarks/generate.py, the real seed
copied in), builds factbot's index with a full reload into a fresh database, then, on a copy of
that index, times a reload with nothing changed, one that adds an export of one article and one
that removes it again (each reload in a process of its own: children.py). It answers a few hundred
varied queries (queries.py) in a separate process, and on the same facts and queries measures
tantivy (parse with factbot's parser, then build; then search) and a naive rapidfuzz scan
(baselines.py). The report (report.py): a markdown table on stdout and in
benchmarks/out/results.md, everything in benchmarks/out/results.json, PASS/FAIL against the
targets, the slowest queries per size.

Caches under benchmarks/out/ (git-ignored): corpora (keyed by size, seed, profile and generator
version), factbot and tantivy indexes (keyed also by a hash of store/'s code; the two are rebuilt
together, so their build times always come from one run). --fresh rebuilds everything.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import generate as gen  # noqa: E402
from baselines import Tantivy, naive_sample_size, naive_times, parse_facts  # noqa: E402
from children import run_child  # noqa: E402
from queries import build_queries, judge, real_queries, warmup_queries  # noqa: E402, F401 (load.py)
from report import check_targets, human, pct, render  # noqa: E402

OUT = HERE / "out"
ADDED = "zzzz_added_export.txt"  # the export the incremental case adds (sorted last)
ADDED_FACTS = 15


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def store_hash() -> str:
    h = hashlib.sha1()
    for p in sorted((ROOT / "store").rglob("*")):
        if p.is_file() and p.suffix in (".py", ".txt") and "__pycache__" not in p.parts:
            h.update(p.relative_to(ROOT).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:12]


# --------------------------------------------------------------------------- corpora and indexes

def db_files(db: Path) -> list[Path]:
    return [Path(str(db) + s) for s in ("", "-wal", "-shm", "-journal", ".lock", ".building")]


def remove_db(db: Path) -> None:
    for p in db_files(db):
        p.unlink(missing_ok=True)
    b = db.with_name(db.name + ".building")
    for s in ("", "-wal", "-shm", "-journal"):
        Path(str(b) + s).unlink(missing_ok=True)


def corpus_name(size: int, seed: int, profile: str = "standard") -> str:
    return f"{human(size)}-s{seed}" + ("" if profile == "standard" else f"-{profile}")


def ensure_corpus(size: int, seed: int, fresh: bool, profile: str = "standard") -> tuple[Path, dict, bool]:
    corpus = OUT / f"corpus-{corpus_name(size, seed, profile)}"
    mpath = gen.manifest_path(corpus)
    if not fresh and corpus.is_dir() and mpath.exists():
        m = json.loads(mpath.read_text())
        if (m.get("generator_version") == gen.GENERATOR_VERSION and m.get("synthetic_facts") == size
                and m.get("profile", "standard") == profile and not (corpus / ADDED).exists()):
            return corpus, m, True
    log(f"generating {human(size)} facts ({profile}) -> {corpus.relative_to(ROOT)}")
    m = gen.generate(size, corpus, seed, profile=profile)
    log(f"generated in {m['seconds']} s ({m['bytes'] / 2**20:.0f} MB, {m['synthetic_files']} files)")
    return corpus, m, False


def ensure_factbot(size: int, seed: int, corpus: Path, manifest: dict, fresh: bool, shash: str,
                   corpus_cached: bool) -> tuple[Path, dict, bool]:
    """factbot's index of a corpus, built by a full reload into a fresh database (cached)."""
    db = OUT / f"factbot-{corpus.name.removeprefix('corpus-')}.db"
    rec_path = db.with_suffix(".build.json")
    key = {"store": shash, "generator_version": gen.GENERATOR_VERSION, "corpus_bytes": manifest["bytes"]}
    if not fresh and corpus_cached and db.exists() and rec_path.exists():
        rec = json.loads(rec_path.read_text())
        if rec.get("key") == key:
            return db, rec, True
    remove_db(db)
    log(f"factbot: full reload of {human(size)} into a fresh database")
    full = run_child(["reload", str(db), str(corpus)], timeout=3600)
    log(f"factbot: full reload {full['seconds']:.2f} s, {full['facts']} facts, peak RSS {full['maxrss_mb']:.0f} MB")
    rec = {"key": key, "full": full, "built_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    rec_path.write_text(json.dumps(rec, indent=1))
    return db, rec, False


def ensure_tantivy(corpus: Path, facts, fresh: bool, key: dict) -> tuple[Tantivy, dict, bool]:
    path = OUT / f"tantivy-{corpus.name.removeprefix('corpus-')}"
    rec_path = path.with_name(path.name + ".build.json")
    if not fresh and path.is_dir() and rec_path.exists():
        rec = json.loads(rec_path.read_text())
        if rec.get("key") == key:
            tv = Tantivy(path)
            tv.open(facts)
            return tv, rec, True
    shutil.rmtree(path, ignore_errors=True)
    tv = Tantivy(path)
    log(f"tantivy: indexing {len(facts)} facts")
    secs, cpu = tv.build(facts)
    log(f"tantivy: built in {secs:.2f} s ({cpu:.2f} s CPU)")
    rec = {"key": key, "build_s": secs, "build_cpu_s": cpu, "docs": len(facts)}
    rec_path.write_text(json.dumps(rec, indent=1))
    tv.open(facts)
    return tv, rec, False


# --------------------------------------------------------------------------- reloads

def incremental_reloads(size: int, seed: int, db: Path, corpus: Path) -> dict:
    """On a copy of the built index: a reload with nothing changed, one that adds an export of one
    article, one that removes it again (the corpus is left as it was, whatever happens)."""
    work = OUT / f"work-{corpus.name.removeprefix('corpus-')}.db"
    remove_db(work)
    for src in db_files(db)[:3]:
        if src.exists():
            shutil.copyfile(src, Path(str(work) + str(src)[len(str(db)):]))
    out: dict = {}
    try:
        log("factbot: reload with nothing changed")
        out["unchanged"] = run_child(["reload", str(work), str(corpus)], timeout=600)
        if out["unchanged"]["statuses"].get("loaded"):
            log(f"WARNING: the unchanged reload loaded files: {out['unchanged']['statuses']}")
        text, facts, _, _ = gen.FileWriter(seed, 99_999_999, gen.companies(seed, size)).file_text(ADDED_FACTS)
        (corpus / ADDED).write_text(text, encoding="utf-8")
        try:
            log(f"factbot: reload adding one export ({facts} facts)")
            out["add"] = run_child(["reload", str(work), str(corpus)], timeout=600)
            out["add"]["added_facts"] = facts
        finally:
            (corpus / ADDED).unlink(missing_ok=True)
        log("factbot: reload removing it")
        out["remove"] = run_child(["reload", str(work), str(corpus)], timeout=600)
        if out["add"]["statuses"].get("loaded") != 1 or out["remove"]["removed"] != 1:
            log(f"WARNING: incremental reloads did not add and remove one file: {out['add']['statuses']},"
                f" removed {out['remove']['removed']}")
    finally:
        remove_db(work)
    return out


# --------------------------------------------------------------------------- one size

def answer(res: dict, db: Path, corpus: Path, queries: list[dict], size: int, a) -> list[dict]:
    """factbot answers every query in a process of its own; latency, memory, quality into res."""
    qfile = OUT / f"queries-{corpus_name(size, a.seed, a.profile)}.json"
    qfile.write_text(json.dumps({"queries": [q["q"] for q in queries], "warmup": warmup_queries(a.seed, size)},
                                ensure_ascii=False))
    log(f"factbot: answering {len(queries)} queries in a separate process")
    ans = run_child(["answer", str(db), str(corpus), str(qfile)], timeout=1800)
    rows = ans.pop("rows")
    took = [r["took_ms"] for r in rows if r["took_ms"] is not None]
    wall = [r["wall_ms"] for r in rows if r["took_ms"] is not None]
    rep = ans.pop("repeat_took_ms", None) or []
    res["answer"] = ans
    res["p50_ms"], res["p99_ms"], res["max_ms"] = pct(took, 50), pct(took, 99), max(took) if took else None
    res["wall_p50_ms"], res["wall_p99_ms"] = pct(wall, 50), pct(wall, 99)
    res["repeat_p50_ms"] = pct(rep, 50)
    res["peak_rss_mb"] = ans["maxrss_mb"]
    res["errors"] = [{"q": q["q"], "kind": q["kind"], "error": r["error"]} for q, r in zip(queries, rows) if r.get("error")]
    by_kind: dict[str, list[float]] = {}
    for q, r in zip(queries, rows):
        if r["took_ms"] is not None:
            by_kind.setdefault(q["kind"], []).append(r["took_ms"])
    res["by_kind"] = {k: {"n": len(v), "p50_ms": pct(v, 50), "max_ms": max(v)} for k, v in by_kind.items()}
    order = sorted((i for i, r in enumerate(rows) if r["took_ms"] is not None), key=lambda i: -rows[i]["took_ms"])
    res["slowest"] = [{"q": queries[i]["q"], "kind": queries[i]["kind"], "took_ms": rows[i]["took_ms"],
                       "wall_ms": rows[i]["wall_ms"], "hits": rows[i]["hits"]} for i in order[:10]]
    res["zero_hit"] = {k: sum(1 for q, r in zip(queries, rows) if q["kind"] == k and not r.get("results"))
                       for k in by_kind}
    return rows


def baselines(res: dict, rows: list[dict], corpus: Path, queries: list[dict], build_rec: dict,
              manifest: dict, size: int, a) -> None:
    """tantivy (parse + build timed, then search) and the naive scan, on the same facts and queries."""
    items = real_queries()
    real_idx = [i for i, q in enumerate(queries) if q["kind"] == "real"]
    facts, parse_s, parse_cpu_s = parse_facts(corpus)
    log(f"baselines: {len(facts)} facts parsed in {parse_s:.1f} s")
    if not a.no_tantivy:
        key = {"store": a.store_hash, "facts": len(facts), "corpus_bytes": manifest["bytes"],
               "factbot_built_at": build_rec.get("built_at")}
        tv, trec, tcached = ensure_tantivy(corpus, facts, a.fresh, key)
        for q in warmup_queries(a.seed, size):
            tv.search(q)
        ttimes, tres = [], []
        for q in queries:
            ms, hits = tv.search(q["q"])
            ttimes.append(ms)
            tres.append(hits)
        res["tantivy"] = {"parse_s": parse_s, "parse_cpu_s": parse_cpu_s, "build_s": trec["build_s"],
                          "build_cpu_s": trec.get("build_cpu_s"), "cached": tcached,
                          "p50_ms": pct(ttimes, 50), "p99_ms": pct(ttimes, 99), "max_ms": max(ttimes)}
        res["tantivy_ratio_p50"] = res["tantivy"]["p50_ms"] / res["p50_ms"] if res["p50_ms"] else None
        res["tantivy_ratio_p99"] = res["tantivy"]["p99_ms"] / res["p99_ms"] if res["p99_ms"] else None
        res["full_reload_ratio"] = res["full_reload_s"] / (parse_s + trec["build_s"])
        if res["full_reload"].get("cpu_s") and trec.get("build_cpu_s"):
            res["full_reload_cpu_ratio"] = res["full_reload"]["cpu_s"] / (parse_cpu_s + trec["build_cpu_s"])
        res["quality"]["tantivy"] = judge(items, [tres[i] for i in real_idx])
        del tv
    if not a.no_naive:
        n = naive_sample_size(size, a.naive_queries, len(queries))
        step = len(queries) / n
        sample = [int(i * step) for i in range(n)]
        texts = [f[0].lower() for f in facts]
        log(f"naive: rapidfuzz WRatio scan over {len(texts)} facts for {n} queries")
        ntimes = naive_times(texts, [queries[i]["q"] for i in sample])
        fb = [rows[i]["took_ms"] for i in sample if rows[i]["took_ms"] is not None]
        res["naive"] = {"queries": n, "p50_ms": pct(ntimes, 50), "p99_ms": pct(ntimes, 99),
                        "factbot_p50_same_queries_ms": pct(fb, 50), "factbot_p99_same_queries_ms": pct(fb, 99)}
        res["naive_ratio_p50"] = (res["naive"]["p50_ms"] / res["naive"]["factbot_p50_same_queries_ms"]
                                  if res["naive"]["factbot_p50_same_queries_ms"] else None)
        res["naive_ratio_p99"] = (res["naive"]["p99_ms"] / res["naive"]["factbot_p99_same_queries_ms"]
                                  if res["naive"]["factbot_p99_same_queries_ms"] else None)


def run_size(size: int, a) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    res: dict = {"size": size}
    t_size = time.perf_counter()
    corpus, manifest, corpus_cached = ensure_corpus(size, a.seed, a.fresh, a.profile)
    res["corpus"] = {"path": str(corpus.relative_to(ROOT)), "cached": corpus_cached, **manifest}
    db, rec, db_cached = ensure_factbot(size, a.seed, corpus, manifest, a.fresh, a.store_hash, corpus_cached)
    full = rec["full"]
    res["full_reload"] = {**full, "cached": db_cached, "built_at": rec.get("built_at")}
    res["full_reload_s"] = full["seconds"]
    # the reloading process's peak RSS with what its worker processes hold of their own
    res["reload_rss_mb"] = full.get("peak_total_mb", full["maxrss_mb"])
    res["facts_indexed"] = full["facts"]
    res["db_mb"] = sum(p.stat().st_size for p in db_files(db) if p.exists()) / 2**20

    inc = incremental_reloads(size, a.seed, db, corpus)
    res["reloads"] = inc
    res["unchanged_reload_s"] = inc["unchanged"]["seconds"]
    res["add_export_s"] = inc["add"]["seconds"]
    res["remove_export_s"] = inc["remove"]["seconds"]
    res["added_facts"] = inc["add"]["added_facts"]
    res["incremental_rss_mb"] = max(r.get("peak_total_mb", r["maxrss_mb"]) for r in inc.values())

    queries = build_queries(a.seed, size)
    res["queries"] = len(queries)
    rows = answer(res, db, corpus, queries, size, a)
    items = real_queries()
    real_idx = [i for i, q in enumerate(queries) if q["kind"] == "real"]
    res["quality"] = {"factbot": judge(items, [rows[i]["results"] for i in real_idx])}
    baselines(res, rows, corpus, queries, rec, manifest, size, a)
    res["harness_s"] = time.perf_counter() - t_size
    return res


# --------------------------------------------------------------------------- main

def semantic_cost(size: int, a, rounds: int = 3) -> dict:
    """The semantic re-ranking's cost: the answer queries at `size`, with the defaults and with
    the semantic part off, in alternating rounds in one process (two indexes on one database
    file, each warmed as `Index.open` warms it), the order alternating from round to round, so that
    the machine's load and the page cache favour neither. The semantic side's fact embeddings are
    cold in its first round, as they are the first time a question meets a fact."""
    from store import Index

    corpus, manifest, _ = ensure_corpus(size, a.seed, False, a.profile)
    db, _rec, _ = ensure_factbot(size, a.seed, corpus, manifest, False, a.store_hash, True)
    queries = [q["q"] for q in build_queries(a.seed, size)]
    sides = {"on": Index(db, seeds=corpus), "off": Index(db, seeds=corpus, semantic=False)}
    for index in sides.values():
        index.searcher().warm()
        for q in warmup_queries(a.seed, size):
            index.search(q, limit=3)
    took: dict[str, list[float]] = {"on": [], "off": []}
    for r in range(rounds):  # the order alternates: neither side always meets a cold page cache
        for name in (("on", "off") if r % 2 == 0 else ("off", "on")):
            took[name] += [sides[name].search(q, limit=3).took_ms for q in queries]
    out = {name: {"p50_ms": pct(t, 50), "p99_ms": pct(t, 99), "n": len(t)} for name, t in took.items()}
    out["p99_on_over_off"] = out["on"]["p99_ms"] / out["off"]["p99_ms"]
    out["p50_on_over_off"] = out["on"]["p50_ms"] / out["off"]["p50_ms"]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="factbot benchmark harness (see benchmarks/README.md)")
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated fact counts")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", choices=sorted(gen.PROFILES), default="standard",
                    help="the generator's profile (benchmarks/README.md)")
    ap.add_argument("--fresh", action="store_true", help="regenerate corpora and rebuild all indexes")
    ap.add_argument("--naive-queries", type=int, default=None,
                    help="queries for the naive scan (default: all at <=20k, 60 at <=200k, 15 above)")
    ap.add_argument("--no-naive", action="store_true")
    ap.add_argument("--no-tantivy", action="store_true")
    ap.add_argument("--semantic-cost", action="store_true",
                    help="only compare search times with the semantic part on and off (alternating rounds)")
    a = ap.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()]
    if a.semantic_cost:
        a.store_hash = store_hash()
        for size in sizes:
            log(f"=== {human(size)} facts: semantic on / off ===")
            print(json.dumps({"size": size, **semantic_cost(size, a)}))
        return 0
    results = []
    t0 = time.perf_counter()
    a.store_hash = store_hash()  # one key for the whole run (store/ may be edited meanwhile)
    for size in sizes:
        log(f"=== {human(size)} facts ({a.profile}) ===")
        results.append(run_size(size, a))
    if store_hash() != a.store_hash:
        log("WARNING: store/ changed during this run; sizes may have been measured with different code")
    meta = {"when": time.strftime("%Y-%m-%d %H:%M"), "seed": a.seed, "profile": a.profile,
            "store_hash": a.store_hash, "cpus": os.cpu_count(), "python": sys.version.split()[0],
            "sqlite": sqlite3.sqlite_version, "total_s": time.perf_counter() - t0,
            "load_average": os.getloadavg()}
    md = render(results, meta)
    OUT.mkdir(parents=True, exist_ok=True)
    suffix = "" if a.profile == "standard" else f"-{a.profile}"
    (OUT / f"results{suffix}.md").write_text(md, encoding="utf-8")
    (OUT / f"results{suffix}.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=1, ensure_ascii=False), encoding="utf-8")
    print(md)
    print(f"(written to {OUT.relative_to(ROOT)}/results{suffix}.md and .json; {meta['total_s']:.0f} s)")
    fails = [n for n, ok, _ in check_targets(results) if ok is False]
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
