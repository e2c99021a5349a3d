#!/usr/bin/env python3
"""Score query sets the way ../shared/eval/score.py does (hit@1, hit@3), plus refusals.

For each JSONL file (one {"q", "title", "text_any"} or {"q", "none": true} or
{"q", "missing_word"} a line) it runs `factbot ask --json --limit 3 --queries` once, and prints
hit@1, hit@3, how many queries got no answer ("refused") and how many of those refusals were
right (the item expects none, or names a missing word that the answer reports). Over all the
files together it prints refusal precision: right refusals / all refusals.

    .venv/bin/python tools/score_sets.py --seeds seeds tests/store/heldout_*.jsonl
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile


from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from queries import good  # noqa: E402  (one result judged as ../shared/eval/score.py judges it)


def score(items: list[dict], answers: list[dict], verbose: bool) -> dict:
    h1 = h3 = refused = refused_ok = 0
    for item, ans in zip(items, answers):
        res = ans.get("results") or []
        if item.get("none"):
            one = three = not res
        elif item.get("missing_word"):
            said = item["missing_word"].lower() in [str(w).lower() for w in ans.get("missing") or []]
            one = three = not res or said
        elif item.get("allow_none") and not res:
            one = three = True
        else:
            one = bool(res) and good(item, res[0])
            three = any(good(item, x) for x in res[:3])
        if not res:
            refused += 1
            refused_ok += bool(item.get("none") or item.get("missing_word") or item.get("allow_none"))
        h1 += one
        h3 += three
        if verbose and not one:
            top = res[0]["text"][:70] if res else f"(nothing; missing {ans.get('missing')})"
            print(f"  miss@1  {item['q']!r:50} -> {top}")
    return {"n": len(items), "hit1": h1, "hit3": h3, "refused": refused, "refused_ok": refused_ok}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--factbot", default=".venv/bin/factbot")
    ap.add_argument("--seeds", default="seeds")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting for the factbot run (FACTBOT_SEMANTIC=off)")
    a = ap.parse_args()
    env = dict(os.environ)
    env.update(kv.split("=", 1) for kv in a.env)
    tmp = tempfile.mkdtemp()
    db = os.path.join(tmp, "sets.db")
    total_refused = total_ok = 0
    for path in a.files:
        items = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        qf = os.path.join(tmp, "q.txt")
        with open(qf, "w", encoding="utf-8") as f:
            f.write("\n".join(i["q"] for i in items) + "\n")
        cmd = shlex.split(a.factbot) + ["ask", "--json", "--limit", "3", "--seeds", a.seeds, "--db", db,
                                        "--queries", qf]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            sys.exit(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()[-300:]}")
        answers = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        if len(answers) != len(items):
            sys.exit(f"{path}: {len(answers)} answers for {len(items)} queries")
        print(os.path.basename(path))
        s = score(items, answers, a.verbose)
        total_refused += s["refused"]
        total_ok += s["refused_ok"]
        print(f"  hit@1 {s['hit1']}/{s['n']}  hit@3 {s['hit3']}/{s['n']}  refused {s['refused']}"
              f" (right {s['refused_ok']})")
    precision = f"{total_ok}/{total_refused}" if total_refused else "-"
    print(f"refusal precision over all files: {precision}")


if __name__ == "__main__":
    main()
