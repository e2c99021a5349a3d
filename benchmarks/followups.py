#!/usr/bin/env python3
"""Follow-ups in a thread: a corpus where only the thread's context can tell which company is meant.

    .venv/bin/python benchmarks/followups.py                    # 40 companies, seed 1
    .venv/bin/python benchmarks/followups.py --companies 80 --seed 2 --json out.json
    .venv/bin/python benchmarks/followups.py --no-context       # every question read on its own

The corpus: the bundled seed (seeds/), plus the seed's Seres IPO article retold for made-up
companies (each named in its own facts and its Chinese title, with its own numbers, sources and
dates), and for most of them a results article and an analyst's note from other sources on other
days. Every company's articles have the same kinds of facts in nearly the same words: "The
company's net profit declined by 2.4% ..." is in all of them, so a question that names no company
can only be answered right from what the thread was about.

The threads: an opening question naming a company ("quuxly ipo", "kelvo net profit", in Chinese
"<中文名> 估值"), then follow-ups naming none ("what about its valuation?", "and the net profit?",
"why did the share price drop?", "它的估值呢?", "那净利润呢?"), and switches ("what about brimco?",
after which "and its valuation?" means Brimco's). The follow-up phrasings below were written before
any tuning of the search and are not a list the search knows: it sees the thread's context only as
store/threads.py keeps it (the entities and articles of earlier turns, in a real state store).

The score: hit@1 of each turn, the top fact being about the right company (its article is one of
the company's) and of the right kind (net profit, valuation, ...; a switch "what about brimco?"
asks no kind: the company is enough). The target is a follow-up hit@1 of 95% or more.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

SEEDS = ROOT / "seeds"

# made-up names: the three, then ones drawn from these syllables (never real companies)
NAMED = [("Quuxly", "库克斯利"), ("Brimco", "布林科"), ("Kelvo", "凯尔沃")]
EN_HEADS = ["Zor", "Vant", "Plex", "Trov", "Quen", "Drav", "Morv", "Tesk", "Wulf", "Ynd", "Gral", "Fenn",
            "Hask", "Jorv", "Lusk", "Nerv", "Orr", "Prax", "Skel", "Thur"]
EN_TAILS = ["ix", "ano", "ora", "ek", "ium", "oly", "ara", "et", "ova", "ux"]
CN_CHARS = "泽沃普特昆德莫斯伍格芬哈约卢诺奥帕塞图安维拉索菲雅琪蒙杰"
SOURCES = ["3 6 Ke", "Mei Ri Jing Ji Xin Wen", "Xin Lang Cai Jing", "Zheng Quan Shi Bao", "ZHONGTAI SECURITIES",
           "Hua Er Jie Jian Wen", "Ge Long Hui", "21 Shi Ji Jing Ji Bao Dao"]
PARTNERS = ["Lumora", "Stratix", "Veyon", "Pentacle"]  # the Huawei of each retelling (shared by many)

# the kinds of fact a question can ask for
KINDS = ("ipo_size", "price_drop", "oversubscription", "valuation", "revenue", "net_profit", "partner",
         "green_shoe")


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def ipo_article(c: dict, rng: random.Random) -> list[tuple[str, str, str]]:
    """The seed's Seres article retold for company `c`: (heading, fact, kind) in order."""
    n, p = c["en"], c["partner"]
    raised, drop, loss = _fmt(rng.uniform(3, 25)), _fmt(rng.uniform(4, 18)), rng.randint(5, 40)
    over = rng.randint(40, 400)
    growth, profit = _fmt(rng.uniform(1, 9)), _fmt(rng.uniform(0.5, 6))
    pe, avg = _fmt(rng.uniform(18, 40)), _fmt(rng.uniform(9, 15))
    return [
        ("Core Viewpoint", f"The initial public offering (IPO) of {n} faced significant challenges, including a sharp "
         f"decline in stock price on its debut, reflecting a disconnect between market expectations and the company's "
         f"valuation based on future risks", None),
        ("Group 1: IPO Performance", f"{n} raised {raised} billion HKD in its IPO, one of the largest IPOs for a car "
         f"company in Hong Kong this year", "ipo_size"),
        ("Group 1: IPO Performance", f"On its first trading day, the stock price dropped nearly {drop}%, leading to a "
         f"market capitalization loss of over {loss} billion HKD", "price_drop"),
        ("Group 1: IPO Performance", f"Despite an oversubscription of {over} times from retail investors, institutional "
         f"investors showed caution, purchasing only part of the planned shares", "oversubscription"),
        ("Group 2: Valuation Issues", f"The IPO pricing of {n} was based on a discount to the A-share market price, "
         f"which institutional investors deemed inappropriate as they focus on intrinsic value", "valuation"),
        ("Group 2: Valuation Issues", "The reliance on a potentially inflated A-share price as a benchmark led to a "
         "perception of the IPO price as excessively high", "valuation"),
        ("Group 2: Valuation Issues", f"The valuation logic of {n} collapsed as the company moved from a story-driven "
         f"to a fundamentals-driven assessment", "valuation"),
        ("Group 3: Financial Performance", f"For the first three quarters of 2025, {n} reported a mere {growth}% "
         f"year-on-year revenue growth, signaling a potential peak in growth", "revenue"),
        ("Group 3: Financial Performance", f"The company's net profit declined by {profit}% in the third quarter, "
         f"raising concerns about its profitability and operational efficiency", "net_profit"),
        ("Group 3: Financial Performance", f"The projected price-to-earnings (P/E) ratio of {pe} times at the IPO was "
         f"well above the average of {avg} times for traditional car companies in Hong Kong", "valuation"),
        ("Group 4: Strategic Dependence", f"{n}'s heavy reliance on its partnership with {p} has created strategic "
         f"vulnerabilities, as the company has not developed its own core competencies", "partner"),
        ("Group 4: Strategic Dependence", f"The shift from being a unique partner of {p} to one among many "
         f"competitors has diminished its appeal to investors", "partner"),
        ("Group 5: Market Dynamics", "The activation of the green shoe mechanism by underwriters to stabilize the "
         "stock price indicated a lack of confidence in the stock", "green_shoe"),
        ("Group 5: Market Dynamics", f"To regain market confidence, {n} must show a clear path to reducing its "
         f"dependence on {p} and improving its financial performance", "partner"),
    ]


def results_article(c: dict, rng: random.Random) -> list[tuple[str, str, str]]:
    n = c["en"]
    growth, profit = _fmt(rng.uniform(1, 12)), _fmt(rng.uniform(0.5, 9))
    margin, cars = _fmt(rng.uniform(10, 25)), rng.randint(20, 300)
    return [
        ("Core Viewpoint", f"{n}'s third-quarter results showed slowing growth and weaker profitability", None),
        ("Group 1: Financial Performance", f"{n}'s revenue grew {growth}% year-on-year in the third quarter, "
         f"slower than in the first half", "revenue"),
        ("Group 1: Financial Performance", f"Net profit attributable to shareholders of {n} fell {profit}% in the "
         f"quarter as price cuts squeezed earnings", "net_profit"),
        ("Group 1: Financial Performance", f"The gross margin of {n} narrowed to {margin}%", None),
        ("Group 2: Operations", f"{n} delivered {cars} thousand vehicles in the quarter", None),
        ("Group 2: Operations", f"Management of {n} expects deliveries to pick up in the fourth quarter", None),
    ]


def note_article(c: dict, rng: random.Random) -> list[tuple[str, str, str]]:
    n = c["en"]
    target, pe = _fmt(rng.uniform(20, 120)), _fmt(rng.uniform(12, 30))
    return [
        ("Core Insights", f"Analysts cut their rating on {n} after its Hong Kong debut", None),
        ("Valuation", f"The broker lowered its target price for {n} to {target} HKD, a valuation of {pe} times "
         f"next year's earnings", "valuation"),
        ("Valuation", f"{n}'s share price fell after the listing as investors questioned its growth prospects",
         "price_drop"),
        ("Outlook", f"The broker expects {n} to keep relying on its partner for software", "partner"),
    ]


@dataclass
class Corpus:
    companies: list[dict]
    kinds: dict[tuple[str, str], str | None] = field(default_factory=dict)  # (title, fact start) -> kind
    owner: dict[str, str] = field(default_factory=dict)  # article title -> company (English name)


def _key(text: str) -> str:
    """A fact's first 80 characters, as written and as indexed (the export ends each with a period)."""
    return " ".join(text.split()).rstrip(" .")[:80].lower()


def make_companies(n: int, seed: int) -> list[dict]:
    rng = random.Random(f"followups:{seed}")
    names = list(NAMED)
    seen_en, seen_cn = {e for e, _ in names}, {c for _, c in names}
    while len(names) < n:
        en = rng.choice(EN_HEADS) + rng.choice(EN_TAILS)
        cn = "".join(rng.sample(CN_CHARS, 3))
        if en in seen_en or cn in seen_cn:
            continue
        seen_en.add(en)
        seen_cn.add(cn)
        names.append((en, cn))
    return [{"en": en, "cn": cn, "partner": PARTNERS[i % len(PARTNERS)]} for i, (en, cn) in enumerate(names)]


def write_corpus(dest: Path, n: int = 40, seed: int = 1, bundled_seed: bool = True) -> Corpus:
    """The seed (when `bundled_seed`) and each company's articles, a few articles per export file."""
    dest.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"followups-corpus:{seed}")
    corpus = Corpus(make_companies(n, seed))
    articles = []
    for i, c in enumerate(corpus.companies):
        made = [(f"{c['cn']}为何突然暴跌?", ipo_article(c, rng))]
        if i % 4 != 3:
            made.append((f"{c['cn']}三季度业绩:增速放缓", results_article(c, rng)))
        if i % 3 != 2:
            made.append((f"券商下调{c['cn']}评级", note_article(c, rng)))
        for title, facts in made:
            day = rng.randint(1, 28)
            when = f"2025-{rng.randint(6, 11):02d}-{day:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
            corpus.owner[title] = c["en"]
            for _h, text, kind in facts:
                corpus.kinds[(title, _key(text))] = kind
            articles.append((title, rng.choice(SOURCES), when, facts))
    rng.shuffle(articles)
    for f in range(0, len(articles), 5):
        lines = ["港股", "Search documents"]
        for title, source, when, facts in articles[f:f + 5]:
            lines += [title, f"{source}· {when}", _summary(facts, rng)]
        (dest / f"followups_{f // 5:04d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if bundled_seed:
        for path in sorted(SEEDS.glob("*.txt")):
            shutil.copy(path, dest / path.name)
    return corpus


def _summary(facts: list[tuple[str, str, str]], rng: random.Random) -> str:
    parts, heading, cite = [], None, 1
    for h, text, _kind in facts:
        refs = "".join(f"[{cite + k}]" for k in range(rng.randint(1, 2)))
        cite += 2
        parts.append(f"{h} - {text} {refs}." if h != heading else f"- {text} {refs}.")
        heading = h
    return " ".join(parts)


# --------------------------------------------------------------------------- the threads
# written before any tuning; {name} is the company's English name as people type it, {cn} its Chinese
OPENERS = [("{name} ipo", "ipo_size"), ("{name} net profit", "net_profit"), ("{name} valuation", "valuation"),
           ("how much did {name} raise in its ipo?", "ipo_size"), ("{name} revenue growth", "revenue"),
           ("{cn} 估值", "valuation"), ("{cn}净利润", "net_profit")]
FOLLOWUPS = {
    "valuation": ["what about its valuation?", "and its valuation?", "was the valuation too high?",
                  "how was the ipo priced?", "它的估值呢?", "估值怎么样?"],
    "net_profit": ["and the net profit?", "what happened to net profit?", "did its profit fall?",
                   "那净利润呢?", "净利润呢?"],
    "price_drop": ["why did the share price drop?", "how did the stock do on its first trading day?",
                   "股价为什么下跌?"],
    "ipo_size": ["how big was the ipo?", "how much did it raise?", "募资多少?"],
    "revenue": ["what about revenue growth?", "how fast did revenue grow?", "营收增长呢?"],
    "oversubscription": ["was the offering oversubscribed?", "how strong was retail demand?"],
    "partner": ["who is its partner?", "how dependent is it on its partner?"],
    "green_shoe": ["was the green shoe used?"],
}
SWITCHES = ["what about {name}?", "and {name}?", "how about {name}?", "那{cn}呢?"]


@dataclass
class Turn:
    question: str
    company: str
    kind: str | None  # None: the company is enough (a switch)
    role: str  # opener | followup | switch


def make_threads(corpus: Corpus, seed: int = 1, per_company: int = 2) -> list[list[Turn]]:
    rng = random.Random(f"followups-threads:{seed}")
    comps = corpus.companies
    threads = []
    for i, c in enumerate(comps):
        for t in range(per_company):
            opener, kind = rng.choice(OPENERS)
            turns = [Turn(opener.format(name=c["en"].lower(), cn=c["cn"]), c["en"], kind, "opener")]
            kinds = [k for k in KINDS if k != kind]
            for k in rng.sample(kinds, 3):
                turns.append(Turn(rng.choice(FOLLOWUPS[k]), c["en"], k, "followup"))
            if t % 2 == 1:  # a switch to another company, then follow-ups about it
                other = comps[(i + 1 + rng.randrange(len(comps) - 1)) % len(comps)]
                turns.append(Turn(rng.choice(SWITCHES).format(name=other["en"].lower(), cn=other["cn"]),
                                  other["en"], None, "switch"))
                for k in rng.sample(KINDS, 2):
                    turns.append(Turn(rng.choice(FOLLOWUPS[k]), other["en"], k, "followup"))
            threads.append(turns)
    return threads


def judge(corpus: Corpus, turn: Turn, hit) -> bool:
    if hit is None:
        return False
    title = hit.article.title
    if corpus.owner.get(title) != turn.company:
        return False
    if turn.kind is None:
        return True
    return corpus.kinds.get((title, _key(hit.text))) == turn.kind


def run(companies: int = 40, seed: int = 1, context: bool = True, work: Path | None = None,
        show_misses: int = 0) -> dict:
    from store.index import Index
    from store.state import State
    from store.threads import ThreadKey, Threads

    own = work is None
    work = Path(tempfile.mkdtemp(prefix="factbot-followups-")) if own else work
    try:
        corpus = write_corpus(work / "seeds", companies, seed)
        started = time.perf_counter()
        index = Index.open(work / "factbot.db", work / "seeds", semantic=False)
        built = time.perf_counter() - started
        state = State.open(f"sqlite:///{work / 'factbot.state.db'}")
        threads = Threads(state.engine)
        roles: dict[str, list[int]] = {}
        misses = []
        took = []
        for n, thread in enumerate(make_threads(corpus, seed)):
            key = ThreadKey("T1", "C1", f"{n}.000100")
            for turn in thread:
                ctx = threads.context(key) if context else None
                t0 = time.perf_counter()
                result = index.search(turn.question, limit=5, context=ctx)
                took.append((time.perf_counter() - t0) * 1000)
                if context:
                    threads.record(key, turn.question, result.about, [h.article_id for h in result.hits],
                                   [h.id for h in result.hits])
                hit = result.hits[0] if result.hits else None
                good = judge(corpus, turn, hit)
                roles.setdefault(turn.role, [0, 0])
                roles[turn.role][0] += good
                roles[turn.role][1] += 1
                if not good:
                    misses.append({"question": turn.question, "company": turn.company, "kind": turn.kind,
                                   "context": list(ctx.entities) if ctx else [],
                                   "got": None if hit is None else f"{hit.article.title} | {hit.text[:90]}"})
        index.close()
        state.close()
        took.sort()
        out = {"companies": companies, "seed": seed, "context": context, "build_s": round(built, 2),
               "search_ms_median": round(took[len(took) // 2], 2), "search_ms_p95": round(took[int(len(took) * .95)], 2),
               **{f"{role}_hit@1": f"{g}/{t} ({100 * g / t:.1f}%)" for role, (g, t) in sorted(roles.items())},
               "misses": misses[:show_misses] if show_misses else len(misses)}
        return out
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--companies", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-context", action="store_true", help="read every question on its own (the baseline)")
    ap.add_argument("--misses", type=int, default=0, help="list this many misses")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    out = run(args.companies, args.seed, context=not args.no_context, show_misses=args.misses)
    text = json.dumps(out, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
