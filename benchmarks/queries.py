"""The harness's queries: a few hundred varied queries per corpus, and how answers are judged.

Deterministic for (seed, size): company names (frequent and rare, English and Chinese), common
words, combinations, typos, questions, pasted sentences, no-match queries, query-syntax traps and
the labelled real queries of shared/eval/queries.jsonl, judged like shared/eval/score.py.
"""
from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import generate as gen

ROOT = Path(__file__).resolve().parents[1]
EVAL = Path(os.environ.get("FACTBOT_EVAL", ROOT.parent / "shared" / "eval" / "queries.jsonl"))

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

