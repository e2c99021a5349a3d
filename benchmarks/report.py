"""The harness's report: the markdown table (figures x sizes), the targets (PASS/FAIL), the slowest
queries and the misses, written to stdout and benchmarks/out/results.md."""
from __future__ import annotations

import math

TARGETS = [  # (size, figure key, op, bound, label)
    (100_000, "p50_ms", "<=", 1.0, "p50 <= 1 ms"),
    (100_000, "p99_ms", "<=", 5.0, "p99 <= 5 ms"),
    (100_000, "full_reload_s", "<=", 3.0, "full reload <= 3 s"),
    (100_000, "full_reload_ratio", "<=", 1.0, "full reload <= tantivy's parse + build"),
    (100_000, "naive_ratio_p50", ">=", 100.0, ">= 100x faster than naive at p50"),
    (1_000_000, "p50_ms", "<=", 2.0, "p50 <= 2 ms"),
    (1_000_000, "p99_ms", "<=", 20.0, "p99 <= 20 ms"),
    (1_000_000, "full_reload_s", "<=", 30.0, "full reload <= 30 s"),
    (1_000_000, "full_reload_ratio", "<=", 1.0, "full reload <= tantivy's parse + build"),
    (1_000_000, "add_export_s", "<=", 1.0, "adding one export <= 1 s"),
    (1_000_000, "remove_export_s", "<=", 1.0, "removing one export <= 1 s"),
    (1_000_000, "unchanged_reload_s", "<=", 0.5, "reload with nothing changed <= 0.5 s"),
    (1_000_000, "reload_rss_mb", "<=", 300.0, "reload peak memory <= 300 MB"),
    (1_000_000, "peak_rss_mb", "<=", 300.0, "answering process peak memory <= 300 MB"),
    (None, "unchanged_reload_s", "<=", 1.0, "unchanged reload <= 1 s"),
]



def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))]


def human(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else (
        f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n))



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
    row("full reload (fresh db), wall (CPU)", lambda r: f"{f_s(r['full_reload_s'], r['full_reload']['cached'])} ({f_s(r['full_reload'].get('cpu_s'))})")
    row("tantivy: parse (factbot's parser) + build, wall", lambda r: f"{f_s(r['tantivy']['parse_s'])} + {f_s(r['tantivy']['build_s'], r['tantivy']['cached'])}")
    row("tantivy: parse + build, CPU (all threads)", lambda r: f"{f_s(r['tantivy']['parse_cpu_s'])} + {f_s(r['tantivy']['build_cpu_s'])}")
    row("full reload ÷ tantivy parse + build: wall / CPU", lambda r: f"{f_x(r['full_reload_ratio'])} / {f_x(r.get('full_reload_cpu_ratio'))}")
    row("reload adding one export (1 article)", lambda r: f"{f_s(r['add_export_s'])} ({r['added_facts']} facts)")
    row("reload removing it", lambda r: f_s(r["remove_export_s"]))
    row("reload with nothing changed", lambda r: f_s(r["unchanged_reload_s"]))
    row("reload peak memory (RSS + workers' own): full / incremental", lambda r: f"{r['reload_rss_mb']:.0f} / {r['incremental_rss_mb']:.0f} MB")
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
    load = " / ".join(f"{x:.1f}" for x in meta.get("load_average", ()))
    parts = [f"# factbot benchmarks ({meta['when']}, {meta.get('profile', 'standard')} corpus, seed {meta['seed']},"
             f" store {meta['store_hash']}, {meta['cpus']} CPUs, load average at the end {load})", "",
             table(results), "", "## Targets", ""]
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


