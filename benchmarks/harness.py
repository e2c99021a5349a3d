#!/usr/bin/env python3
"""factbot's benchmark harness: reload time, search latency, memory, quality, against two baselines.

    .venv/bin/python benchmarks/harness.py                         # 10k, 100k and 1M facts
    .venv/bin/python benchmarks/harness.py --sizes 10000,100000    # some sizes only
    .venv/bin/python benchmarks/harness.py --fresh                 # regenerate corpora, rebuild indexes

For each size it generates (or reuses) a synthetic corpus (benchmarks/generate.py, the real seed
copied in), builds factbot's index with a full reload into a fresh database, times a second
reload (nothing changed), then answers a few hundred varied queries in a separate process (so the
peak-memory figure is the answering process's own) and, on the same facts and queries, times a
naive rapidfuzz scan and a tantivy fuzzy-BM25 index. Results: a markdown table on stdout and in
benchmarks/out/results.md, everything in benchmarks/out/results.json, PASS/FAIL against the
targets, and the slowest queries per size.

Caches under benchmarks/out/ (git-ignored): corpora (keyed by size, seed and generator version),
factbot indexes and tantivy indexes (keyed also by a hash of store/'s code), with the build times
measured when they were built. A cached build is reported as such; --fresh rebuilds everything.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import generate as gen  # noqa: E402

OUT = HERE / "out"
EVAL = Path(os.environ.get("FACTBOT_EVAL", ROOT.parent / "shared" / "eval" / "queries.jsonl"))
LIMIT = 3

TARGETS = [  # (size, figure key, op, bound, label)
    (100_000, "p50_ms", "<=", 1.0, "p50 <= 1 ms"),
    (100_000, "p99_ms", "<=", 5.0, "p99 <= 5 ms"),
    (100_000, "full_reload_s", "<=", 3.0, "full reload <= 3 s"),
    (100_000, "naive_ratio_p50", ">=", 100.0, ">= 100x faster than naive at p50"),
    (1_000_000, "p50_ms", "<=", 2.0, "p50 <= 2 ms"),
    (1_000_000, "p99_ms", "<=", 20.0, "p99 <= 20 ms"),
    (1_000_000, "full_reload_s", "<=", 30.0, "full reload <= 30 s"),
    (1_000_000, "peak_rss_mb", "<=", 300.0, "answering process peak memory <= 300 MB"),
    (None, "unchanged_reload_s", "<=", 1.0, "unchanged reload <= 1 s"),
]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))]


def human(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else (
        f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n))


def store_hash() -> str:
    h = hashlib.sha1()
    for p in sorted((ROOT / "store").rglob("*")):
        if p.is_file() and p.suffix in (".py", ".txt") and "__pycache__" not in p.parts:
            h.update(p.relative_to(ROOT).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:12]


# --------------------------------------------------------------------------- queries

TYPO_RE = re.compile(r"[A-Za-z]+")


def typo(word: str, rng: random.Random) -> str:
    """One edit at >= 5 letters, two at >= 9 (substitution, insertion, deletion, transposition)."""
    edits = 2 if len(word) >= 9 else 1 if len(word) >= 5 else 0
    w = word
    for _ in range(edits):
        i = rng.randrange(1, len(w) - 1)  # keep the first letter, as most typos do
        op = rng.choice(("sub", "ins", "del", "swap"))
        c = rng.choice("aeioursntl")
        if op == "sub":
            w = w[:i] + (c if c != w[i] else "x") + w[i + 1:]
        elif op == "ins":
            w = w[:i] + c + w[i:]
        elif op == "del":
            w = w[:i] + w[i + 1:]
        else:
            w = w[:i] + w[i + 1] + w[i] + w[i + 2:] if w[i] != w[i + 1] else w[:i] + "q" + w[i + 1:]
    return w


def typo_query(q: str, rng: random.Random) -> str:
    words = q.split()
    cands = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not cands:
        return q
    for i in rng.sample(cands, 1 if len(cands) < 3 else rng.choice((1, 2))):
        words[i] = typo(words[i], rng)
    return " ".join(words)


NO_MATCH = [
    "recipe for banana bread", "how to train a puppy", "weather in reykjavik tomorrow",
    "medieval castle architecture", "knitting patterns for scarves", "qwzx vlorp", "lorem ipsum dolor sit amet",
    "best hiking boots for winter", "photosynthesis in algae", "红烧肉的做法", "明天天气预报",
    "guitar chord progressions", "sicilian defence chess opening", "volcano eruption iceland",
    "marathon training schedule", "sourdough starter hydration", "monarch butterfly migration",
    "jazz saxophone improvisation", "origami crane instructions", "zzzzqqq xxyyz",
]
SYNTAX = [
    '"net profit', "revenue OR", "margin AND (", "NEAR(capex ipo)", "capex*", "-", "***", "''",
    "text:ipo", "^ipo", "a", "?", "ipo ipo ipo ipo ipo ipo ipo ipo ipo ipo", "AI" + " AI" * 40,
    "what " * 60,
]
QUESTIONS = [
    "what did {co} say about capex", "how much did {co} raise in its IPO", "why did {cn} shares fall",
    "is {co} gross margin improving", "which companies are building data centers",
    "what is the outlook for {sector} demand in 2026", "who were the cornerstone investors in the {co} IPO",
    "how fast is {co} revenue growing year on year", "did {co} cut prices", "what do analysts say about {co} valuation",
    "will {products} demand keep rising", "how much net profit did {co} make in the third quarter",
    "is the {sector} sector facing price competition", "what are the risks for {co}",
    "how much is {co} spending on {products}", "does {co} pay dividends", "why are investors worried about {noun}",
    "{cn}的净利润是多少", "{cn}为什么下跌", "what happened to {co} stock on its first trading day",
]


def build_queries(seed: int, facts: int) -> list[dict]:
    """A few hundred varied queries, deterministic for (seed, facts); each {"q", "kind"}."""
    rng = random.Random(f"factbot-queries:{seed}:{facts}")
    comps = gen.companies(seed, facts)
    top, rare = comps[:60], comps[60:]
    pick_co = lambda: rng.choice(top) if rng.random() < 0.6 or not rare else rng.choice(rare)  # noqa: E731
    common = ["revenue", "margins", "IPO", "shares", "investors", "AI", "growth", "market", "net profit",
              "capex", "valuation", "year - on - year", "demand", "chips", "data center", "company",
              "the", "dividend", "buybacks", "price competition", "cash flow", "risk", "2025", "billion", "strong"]
    out: list[dict] = []
    add = lambda q, kind: out.append({"q": q, "kind": kind})  # noqa: E731
    for _ in range(35):
        add(pick_co()["en"], "entity")
    for _ in range(20):
        add(pick_co()["cn"], "entity-zh")
    for w in common:
        add(w, "common")
    vocab = [gen.METRICS, gen.PRODUCTS, gen.SECTORS, gen.NOUNS, gen.ADJS, gen.TOPICS]
    for i in range(60):
        if i % 3 == 0:
            q = f"{pick_co()['en'].split()[0]} {rng.choice(gen.METRICS)}"
        elif i % 3 == 1:
            q = f"{rng.choice(rng.choice(vocab))} {rng.choice(rng.choice(vocab))}"
        else:
            q = f"{rng.choice(gen.ADJS)} {rng.choice(gen.METRICS)} {rng.choice(gen.PRODUCTS)}"
        add(q.lower() if rng.random() < 0.7 else q, "combo")
    for i in range(50):
        if i % 3 == 0:
            base = pick_co()["en"]
        elif i % 3 == 1:
            base = f"{rng.choice(gen.METRICS)} {rng.choice(gen.PRODUCTS)}"
        else:
            base = f"{pick_co()['en'].split()[0]} {rng.choice(('revenue', 'valuation', 'semiconductor', 'shipments', 'dividends', 'investors', 'capacity', 'expansion', 'profitability'))}"
        add(typo_query(base, rng).lower(), "typo")
    for i in range(40):
        c = pick_co()
        t = QUESTIONS[i % len(QUESTIONS)]
        add(t.format(co=c["en"], cn=c["cn"], sector=rng.choice(gen.SECTORS), products=rng.choice(gen.PRODUCTS),
                     noun=rng.choice(gen.NOUNS)), "question")
    writer = gen.FileWriter(seed, 10_000_000, comps)
    for _ in range(10):
        c, p = pick_co(), pick_co()
        words = writer.fact(c["en"], p["en"]).split()
        add(" ".join(words[: rng.randint(12, 25)]), "pasted")
    for q in NO_MATCH:
        add(q, "no-match")
    for q in SYNTAX:
        add(q, "syntax")
    for item in real_queries():
        add(item["q"], "real")
    return out


def warmup_queries(seed: int, facts: int) -> list[str]:
    rng = random.Random(f"factbot-warmup:{seed}")
    comps = gen.companies(seed, facts)
    return [rng.choice(comps)["en"] + " " + rng.choice(gen.METRICS) for _ in range(15)] + \
        [rng.choice(gen.PRODUCTS) for _ in range(5)]


def real_queries() -> list[dict]:
    if not EVAL.exists():
        return []
    return [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]


def good(item: dict, r: dict) -> bool:
    """As shared/eval/score.py judges one result."""
    title = (r.get("article") or {}).get("title", "")
    if item.get("title") and item["title"] not in title:
        return False
    anys = item.get("text_any") or []
    return not anys or any(a in r.get("text", "") for a in anys)


def judge(items: list[dict], answers: list[list[dict]]) -> dict:
    h1 = h3 = 0
    misses = []
    for item, res in zip(items, answers):
        if item.get("none"):
            one = three = not res
        elif item.get("allow_none") and not res:
            one = three = True
        else:
            one = bool(res) and good(item, res[0])
            three = any(good(item, x) for x in res[:3])
        h1 += one
        h3 += three
        if not one:
            misses.append({"q": item["q"], "top": (res[0]["text"][:90] if res else "(nothing)"),
                           "top_title": ((res[0].get("article") or {}).get("title", "") if res else "")})
    return {"hit1": h1, "hit3": h3, "n": len(items), "misses": misses}


# --------------------------------------------------------------------------- subprocess parts

def maxrss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child_reload(db: str, seeds: str) -> dict:
    from store import Index
    t0 = time.perf_counter()
    index = Index(db, seeds=seeds)
    report = index.reload(actor="bench", progress=None)
    seconds = time.perf_counter() - t0
    statuses: dict[str, int] = {}
    for f in report.files:
        statuses[f.status] = statuses.get(f.status, 0) + 1
    errors = [e for f in report.files for e in f.errors][:10]
    return {"seconds": seconds, "articles": report.articles, "facts": report.facts,
            "files": len(report.files), "ok": report.ok, "statuses": statuses, "errors": errors,
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


# --------------------------------------------------------------------------- factbot

def db_files(db: Path) -> list[Path]:
    return [Path(str(db) + s) for s in ("", "-wal", "-shm", "-journal", ".lock", ".building")]


def remove_db(db: Path) -> None:
    for p in db_files(db):
        p.unlink(missing_ok=True)
    b = db.with_name(db.name + ".building")
    for s in ("", "-wal", "-shm", "-journal"):
        Path(str(b) + s).unlink(missing_ok=True)


def ensure_corpus(size: int, seed: int, fresh: bool) -> tuple[Path, dict, bool]:
    corpus = OUT / f"corpus-{human(size)}-s{seed}"
    mpath = gen.manifest_path(corpus)
    if not fresh and corpus.is_dir() and mpath.exists():
        m = json.loads(mpath.read_text())
        if m.get("generator_version") == gen.GENERATOR_VERSION and m.get("synthetic_facts") == size:
            return corpus, m, True
    log(f"generating {human(size)} facts -> {corpus.relative_to(ROOT)}")
    m = gen.generate(size, corpus, seed)
    log(f"generated in {m['seconds']} s ({m['bytes'] / 2**20:.0f} MB, {m['synthetic_files']} files)")
    return corpus, m, False


def ensure_factbot(size: int, seed: int, corpus: Path, manifest: dict, fresh: bool, shash: str,
                   corpus_cached: bool) -> tuple[Path, dict, bool]:
    db = OUT / f"factbot-{human(size)}-s{seed}.db"
    rec_path = OUT / f"factbot-{human(size)}-s{seed}.build.json"
    key = {"store": shash, "generator_version": gen.GENERATOR_VERSION, "corpus_bytes": manifest["bytes"]}
    if not fresh and corpus_cached and db.exists() and rec_path.exists():
        rec = json.loads(rec_path.read_text())
        if rec.get("key") == key:
            return db, rec, True
    remove_db(db)
    log(f"factbot: full reload of {human(size)} into a fresh database")
    full = run_child(["_reload", str(db), str(corpus)], timeout=3600)
    log(f"factbot: full reload {full['seconds']:.2f} s, {full['facts']} facts, ok={full['ok']}")
    rec = {"key": key, "full": full, "built_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    rec_path.write_text(json.dumps(rec, indent=1))
    return db, rec, False


def load_facts(db: Path, corpus: Path) -> list[tuple[str, str, str]]:
    """(text, section, title) of every fact factbot indexed: read from its database, or parsed."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        rows = conn.execute("SELECT f.text, f.section, a.title FROM facts f JOIN articles a ON a.id = f.article_id"
                            " ORDER BY f.id").fetchall()
        conn.close()
        if rows:
            return rows
    except sqlite3.Error as exc:
        log(f"facts from the database failed ({exc}); parsing the corpus instead")
    from store import parse_file
    out = []
    for p in sorted(corpus.glob("*.txt")):
        for a in parse_file(p, name=p.name).articles:
            out.extend((f.text, f.section, a.title) for f in a.facts)
    return out


# --------------------------------------------------------------------------- tantivy baseline

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\W_]+")


def cjk_bigrams(text: str) -> str:
    """Chinese runs as space-separated overlapping bigrams (tantivy's default tokenizer keeps a run whole)."""
    def sub(m):
        run = m.group(0)
        return " " + (" ".join(run[i:i + 2] for i in range(len(run) - 1)) if len(run) > 1 else run) + " "
    return CJK_RUN.sub(sub, text)


def query_terms(q: str) -> list[str]:
    out = []
    for tok in WORD.findall(q.lower()):
        if CJK_RUN.fullmatch(tok):
            out.extend(tok[i:i + 2] for i in range(len(tok) - 1)) if len(tok) > 1 else out.append(tok)
        else:
            out.append(tok)
    return out


class Tantivy:
    FIELDS = ("text", "section", "title")

    def __init__(self, path: Path):
        import tantivy
        self.t = tantivy
        sb = tantivy.SchemaBuilder()
        for f in self.FIELDS:
            sb.add_text_field(f, stored=False)
        sb.add_unsigned_field("fid", stored=True, indexed=False)
        self.schema = sb.build()
        path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(path))
        self.path = path

    def build(self, facts: list[tuple[str, str, str]]) -> float:
        t0 = time.perf_counter()
        w = self.index.writer(heap_size=512_000_000, num_threads=0)
        Doc = self.t.Document
        for fid, (text, section, title) in enumerate(facts):
            w.add_document(Doc(text=cjk_bigrams(text), section=cjk_bigrams(section), title=cjk_bigrams(title),
                               fid=fid))
        w.commit()
        w.wait_merging_threads()
        return time.perf_counter() - t0

    def open(self, facts):
        self.facts = facts
        self.index.reload()
        self.searcher = self.index.searcher()

    def query(self, q: str):
        """Each word: exact BM25 term + fuzzy term (distance 1 from 5 chars, 2 from 9, transposition 1,
        prefix for the last word) over text, section and title, all SHOULD."""
        Q, Occur = self.t.Query, self.t.Occur
        terms = query_terms(q)
        subs = []
        for i, term in enumerate(terms):
            n = len(term)
            d = 2 if n >= 9 else 1 if n >= 5 else 0
            last = i == len(terms) - 1
            for f in self.FIELDS:
                subs.append((Occur.Should, Q.term_query(self.schema, f, term)))
                if d or last:
                    fz = Q.fuzzy_term_query(self.schema, f, term, distance=d, transposition_cost_one=True, prefix=last)
                    subs.append((Occur.Should, Q.boost_query(fz, 0.5)))
        return Q.boolean_query(subs) if subs else None

    def search(self, q: str, limit: int = LIMIT) -> tuple[float, list[dict]]:
        t0 = time.perf_counter()
        query = self.query(q)
        out = []
        if query is not None:
            for score, addr in self.searcher.search(query, limit).hits:
                text, section, title = self.facts[self.searcher.doc(addr)["fid"][0]]
                out.append({"text": text, "section": section, "score": score, "article": {"title": title}})
        return (time.perf_counter() - t0) * 1000, out


def ensure_tantivy(size: int, seed: int, facts, fresh: bool, key: dict) -> tuple[Tantivy, dict, bool]:
    path = OUT / f"tantivy-{human(size)}-s{seed}"
    rec_path = OUT / f"tantivy-{human(size)}-s{seed}.build.json"
    if not fresh and path.is_dir() and rec_path.exists():
        rec = json.loads(rec_path.read_text())
        if rec.get("key") == key:
            tv = Tantivy(path)
            tv.open(facts)
            return tv, rec, True
    shutil.rmtree(path, ignore_errors=True)
    tv = Tantivy(path)
    log(f"tantivy: indexing {len(facts)} facts")
    secs = tv.build(facts)
    log(f"tantivy: built in {secs:.2f} s")
    rec = {"key": key, "build_s": secs, "docs": len(facts)}
    rec_path.write_text(json.dumps(rec, indent=1))
    tv.open(facts)
    return tv, rec, False


# --------------------------------------------------------------------------- naive baseline

def naive_times(texts_lower: list[str], queries: list[str]) -> list[float]:
    from rapidfuzz import fuzz, process
    out = []
    for q in queries:
        t0 = time.perf_counter()
        process.extract(q.lower(), texts_lower, scorer=fuzz.WRatio, limit=LIMIT)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def naive_sample_size(size: int, override: int | None, n: int) -> int:
    if override is not None:
        return min(n, override)
    return n if size <= 20_000 else min(n, 60) if size <= 200_000 else min(n, 15)


# --------------------------------------------------------------------------- one size

def run_size(size: int, a) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    res: dict = {"size": size}
    t_size = time.perf_counter()
    shash = a.store_hash
    corpus, manifest, corpus_cached = ensure_corpus(size, a.seed, a.fresh)
    res["corpus"] = {"path": str(corpus.relative_to(ROOT)), "cached": corpus_cached, **manifest}
    db, rec, db_cached = ensure_factbot(size, a.seed, corpus, manifest, a.fresh, shash, corpus_cached)
    full = rec["full"]
    res["full_reload"] = {**full, "cached": db_cached, "built_at": rec.get("built_at")}
    res["full_reload_s"] = full["seconds"]
    res["facts_indexed"] = full["facts"]
    res["db_mb"] = sum(p.stat().st_size for p in db_files(db) if p.exists()) / 2**20

    log("factbot: unchanged reload")
    unchanged = run_child(["_reload", str(db), str(corpus)], timeout=600)
    res["unchanged_reload"] = unchanged
    res["unchanged_reload_s"] = unchanged["seconds"]
    if unchanged["statuses"].get("loaded") or unchanged["facts"] != full["facts"]:
        log(f"WARNING: the second reload was not a no-op: {unchanged['statuses']}")

    queries = build_queries(a.seed, size)
    res["queries"] = len(queries)
    qfile = OUT / f"queries-{human(size)}-s{a.seed}.json"
    qfile.write_text(json.dumps({"queries": [q["q"] for q in queries], "warmup": warmup_queries(a.seed, size)},
                                ensure_ascii=False))
    log(f"factbot: answering {len(queries)} queries in a separate process")
    ans = run_child(["_answer", str(db), str(corpus), str(qfile)], timeout=1800)
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

    items = real_queries()
    real_idx = [i for i, q in enumerate(queries) if q["kind"] == "real"]
    res["quality"] = {"factbot": judge(items, [rows[i]["results"] for i in real_idx])}

    # baselines, on the facts factbot indexed and the same queries
    t0 = time.perf_counter()
    facts = load_facts(db, corpus)
    log(f"baselines: {len(facts)} facts loaded in {time.perf_counter() - t0:.1f} s")
    if not a.no_tantivy:
        tv, trec, tcached = ensure_tantivy(size, a.seed, facts, a.fresh,
                                           {"store": shash, "facts": len(facts), "corpus_bytes": manifest["bytes"]})
        for q in warmup_queries(a.seed, size):
            tv.search(q)
        ttimes, tres = [], []
        for q in queries:
            ms, hits = tv.search(q["q"])
            ttimes.append(ms)
            tres.append(hits)
        res["tantivy"] = {"build_s": trec["build_s"], "cached": tcached, "p50_ms": pct(ttimes, 50),
                          "p99_ms": pct(ttimes, 99), "max_ms": max(ttimes)}
        res["tantivy_ratio_p50"] = res["tantivy"]["p50_ms"] / res["p50_ms"] if res["p50_ms"] else None
        res["tantivy_ratio_p99"] = res["tantivy"]["p99_ms"] / res["p99_ms"] if res["p99_ms"] else None
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
        del texts
    del facts
    res["harness_s"] = time.perf_counter() - t_size
    return res


# --------------------------------------------------------------------------- report

def f_ms(v):
    return "-" if v is None else f"{v:.2f} ms" if v < 100 else f"{v:.0f} ms"


def f_s(v, cached=False):
    return "-" if v is None else f"{v:.2f} s" + (" (cached)" if cached else "")


def f_x(v):
    return "-" if v is None else f"{v:.0f}x" if v >= 10 else f"{v:.2f}x"


def table(results: list[dict]) -> str:
    cols = [human(r["size"]) for r in results]
    rows: list[tuple[str, list[str]]] = []

    def row(label, fn):
        vals = []
        for r in results:
            try:
                vals.append(fn(r))
            except (KeyError, TypeError):
                vals.append("-")
        rows.append((label, vals))

    row("facts indexed (synthetic + real)", lambda r: f"{r['facts_indexed']:,} ({r['corpus']['synthetic_facts']:,} + real)")
    row("seed files / MB", lambda r: f"{r['corpus']['synthetic_files'] + len(r['corpus']['real_files'])} / {r['corpus']['bytes'] / 2**20:.0f}")
    row("database size", lambda r: f"{r['db_mb']:.0f} MB")
    row("full reload (fresh db)", lambda r: f_s(r["full_reload_s"], r["full_reload"]["cached"]))
    row("unchanged reload", lambda r: f_s(r["unchanged_reload_s"]))
    row("factbot search p50 (took_ms)", lambda r: f_ms(r["p50_ms"]))
    row("factbot search p99 (took_ms)", lambda r: f_ms(r["p99_ms"]))
    row("factbot search max", lambda r: f_ms(r["max_ms"]))
    row("factbot wall p50 / p99 (in process)", lambda r: f"{f_ms(r['wall_p50_ms'])} / {f_ms(r['wall_p99_ms'])}")
    row("answering process peak RSS", lambda r: f"{r['peak_rss_mb']:.0f} MB")
    row("queries (errors)", lambda r: f"{r['queries']} ({len(r['errors'])})")
    row("hit@1 real queries: factbot", lambda r: f"{r['quality']['factbot']['hit1']}/{r['quality']['factbot']['n']} (hit@3 {r['quality']['factbot']['hit3']})")
    row("hit@1 real queries: tantivy", lambda r: f"{r['quality']['tantivy']['hit1']}/{r['quality']['tantivy']['n']} (hit@3 {r['quality']['tantivy']['hit3']})")
    row("naive rapidfuzz p50 / p99 (n queries)", lambda r: f"{f_ms(r['naive']['p50_ms'])} / {f_ms(r['naive']['p99_ms'])} ({r['naive']['queries']})")
    row("naive/factbot p50 (same queries)", lambda r: f_x(r["naive_ratio_p50"]))
    row("naive/factbot p99 (same queries)", lambda r: f_x(r["naive_ratio_p99"]))
    row("tantivy index build", lambda r: f_s(r["tantivy"]["build_s"], r["tantivy"]["cached"]))
    row("tantivy p50 / p99", lambda r: f"{f_ms(r['tantivy']['p50_ms'])} / {f_ms(r['tantivy']['p99_ms'])}")
    row("tantivy/factbot p50", lambda r: f_x(r["tantivy_ratio_p50"]))
    row("tantivy/factbot p99", lambda r: f_x(r["tantivy_ratio_p99"]))
    lines = ["| figure | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    lines += [f"| {label} | " + " | ".join(vals) + " |" for label, vals in rows]
    return "\n".join(lines)


def check_targets(results: list[dict]) -> list[tuple[str, bool | None, str]]:
    out = []
    by_size = {r["size"]: r for r in results}
    for size, key, op, bound, label in TARGETS:
        sizes = [size] if size else sorted(by_size)
        for s in sizes:
            r = by_size.get(s)
            if r is None:
                continue
            v = r.get(key)
            name = f"{human(s)}: {label}"
            if v is None:
                out.append((name, None, "not measured"))
                continue
            ok = v <= bound if op == "<=" else v >= bound
            out.append((name, ok, f"{v:.2f}"))
    return out


def render(results: list[dict], meta: dict) -> str:
    parts = [f"# factbot benchmarks ({meta['when']}, seed {meta['seed']}, store {meta['store_hash']}, "
             f"{meta['cpus']} CPUs)", "", table(results), "", "## Targets", ""]
    for name, ok, v in check_targets(results):
        parts.append(f"- {'PASS' if ok else 'FAIL' if ok is False else 'N/A '} {name} (measured {v})")
    for r in results:
        parts += ["", f"## Slowest queries at {human(r['size'])} (took_ms)", "",
                  "| took_ms | wall_ms | hits | kind | query |", "|---|---|---|---|---|"]
        for s in r["slowest"]:
            q = s["q"] if len(s["q"]) < 80 else s["q"][:77] + "..."
            parts.append(f"| {s['took_ms']:.2f} | {s['wall_ms']:.2f} | {s['hits']} | {s['kind']} | `{q}` |")
        kinds = ", ".join(f"{k} {v['p50_ms']:.2f}/{v['max_ms']:.2f}" for k, v in sorted(r["by_kind"].items()))
        parts += ["", f"p50/max ms by kind: {kinds}"]
        if r["errors"]:
            parts += ["", "Queries that raised:"] + [f"- `{e['q'][:60]}` ({e['kind']}): {e['error']}" for e in r["errors"]]
        for who in ("factbot", "tantivy"):
            qd = r["quality"].get(who)
            if qd and qd["misses"]:
                parts += ["", f"{who} misses@1 of the real queries:"]
                parts += [f"- `{m['q']}` -> {m['top_title'][:30]} | {m['top']}" for m in qd["misses"]]
        if r["repeat_p50_ms"] is not None and r["p50_ms"] and r["repeat_p50_ms"] < r["p50_ms"] / 3:
            parts += ["", f"Note: a second pass over the same queries had p50 {r['repeat_p50_ms']:.3f} ms: "
                          "a result cache answers repeats; the figures above are first-time queries."]
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- main

def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_reload":
        print(json.dumps(child_reload(argv[1], argv[2])))
        return 0
    if argv and argv[0] == "_answer":
        print(json.dumps(child_answer(argv[1], argv[2], argv[3]), ensure_ascii=False))
        return 0
    ap = argparse.ArgumentParser(description="factbot benchmark harness (see benchmarks/README.md)")
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated fact counts")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fresh", action="store_true", help="regenerate corpora and rebuild all indexes")
    ap.add_argument("--naive-queries", type=int, default=None,
                    help="queries for the naive scan (default: all at <=20k, 60 at <=200k, 15 above)")
    ap.add_argument("--no-naive", action="store_true")
    ap.add_argument("--no-tantivy", action="store_true")
    a = ap.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()]
    results = []
    t0 = time.perf_counter()
    a.store_hash = store_hash()  # one key for the whole run (store/ may be edited meanwhile)
    for size in sizes:
        log(f"=== {human(size)} facts ===")
        results.append(run_size(size, a))
    if store_hash() != a.store_hash:
        log("WARNING: store/ changed during this run; sizes may have been measured with different code")
    meta = {"when": time.strftime("%Y-%m-%d %H:%M"), "seed": a.seed, "store_hash": a.store_hash,
            "cpus": os.cpu_count(), "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
            "total_s": time.perf_counter() - t0}
    md = render(results, meta)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.md").write_text(md, encoding="utf-8")
    (OUT / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1, ensure_ascii=False),
                                      encoding="utf-8")
    print(md)
    print(f"(written to {OUT.relative_to(ROOT)}/results.md and results.json; {meta['total_s']:.0f} s)")
    fails = [n for n, ok, _ in check_targets(results) if ok is False]
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
