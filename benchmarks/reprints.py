#!/usr/bin/env python3
"""Reprints: a corpus with known groups of near-duplicate facts, and how well grouping finds them.

    .venv/bin/python benchmarks/reprints.py --facts 10000            # measure both ways at 10k facts
    .venv/bin/python benchmarks/reprints.py --facts 100000 --no-lsh  # only the way factbot uses
    .venv/bin/python benchmarks/reprints.py --facts 10000 --out DIR  # also write the corpus (real format)

The base facts come from benchmarks/generate.py (its companies, sources, headings and FileWriter's
facts). A fifth of the base articles are reprinted by one to three other outlets, one to four
days later, each reprint holding most of the article's facts (in another order) in other words:
words swapped for synonyms ("raised" / "secured"), clauses reordered ("In Q3, X ..." / "X ... in
Q3"), numbers in other formats ("14.5 billion HKD" / "HKD 14.5 billion" / "HK$14.5bn" /
"145亿港元" / "14,500 million HKD", "12.3%" / "12.3 percent"), now and then a trailing sentence
left out. Those are the known groups. Known non-duplicates, each in an article of its own
beside them: the same words with another number; one outlet's two different facts (an article
that says one fact twice, in other words, in two sections: never one group); the same sentence
about another company.

Measured on pairs of facts: precision = pairs grouped that are one known group / pairs grouped;
recall = pairs of a known group that were grouped / pairs of known groups. Two ways of finding
candidates: store/dedupe.py's buckets compared with rapidfuzz (`group`, what factbot uses) and
datasketch's MinHash LSH over every fact (`group_lsh`, needs `pip install datasketch`).
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from typing import Sequence
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import generate as gen  # noqa: E402

from store import dedupe  # noqa: E402
from store.dedupe import Member  # noqa: E402
from rapidfuzz import fuzz  # noqa: E402
from store.prepare import prepare  # noqa: E402

REPRINTED = 0.2  # share of the base articles reprinted
NON_DUPLICATES = 0.05  # share of the base articles that get a look-alike of each kind
SYNONYMS = [
    ("raised", "secured"), ("reported", "posted"), ("expects", "anticipates"), ("plans to", "intends to"),
    ("fell", "dropped"), ("rose", "climbed"), ("increased", "grew"), ("signed", "concluded"),
    ("Analysts expect", "Analysts forecast"), ("is trading at", "trades at"), ("compared with", "versus"),
    ("remain concerned", "are still worried"), ("benefiting", "helping"), ("reach", "hit"),
    ("mainly", "largely"), ("planned", "scheduled"), ("amid", "despite"), ("projected", "expected"),
]
CUR = {"HKD": ("HKD ", "HK$", "港元"), "USD": ("USD ", "US$", "美元"), "yuan": ("RMB ", "RMB ", "元"),
       "RMB": ("RMB ", "RMB ", "元")}
AMOUNT_RE = re.compile(r"(\d+(?:\.\d+)?) (billion|million) (HKD|USD|yuan|RMB)\b")
PCT_RE = re.compile(r"(\d+(?:\.\d+)?)%")


# --------------------------------------------------------------------------- rewriting

def _amount(rng: random.Random, m: re.Match) -> str:
    """One amount in another of the formats Chinese financial news writes it in."""
    num, scale, cur = m.group(1), m.group(2), m.group(3)
    before, sign, cjk = CUR[cur]
    value = float(num) * (1e9 if scale == "billion" else 1e6)
    short = "bn" if scale == "billion" else "m"
    choices = [f"{before}{num} {scale}", f"{sign}{num}{short}", f"{num}{short} {cur}"]
    wan = value / 1e8 if value >= 1e8 else value / 1e4
    unit = "亿" if value >= 1e8 else "万"
    if abs(wan - round(wan, 2)) < 1e-9:
        choices.append(f"{_plain(wan)}{unit}{cjk}")
    if scale == "billion" and abs(value / 1e6 - round(value / 1e6)) < 1e-6:
        choices.append(f"{int(round(value / 1e6)):,} million {cur}")
    return rng.choice(choices)


def _plain(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _swap_clauses(rng: random.Random, sentence: str) -> str:
    """"A, B" as "B, a": a sentence's clauses in another order (a first word that is a common
    word is lower-cased when it moves inside; a name keeps its capital)."""
    parts = sentence.split(", ")
    if len(parts) < 2:
        return sentence
    i = rng.randrange(1, len(parts))
    first, rest = ", ".join(parts[i:]), ", ".join(parts[:i])
    head = rest.split(" ", 1)[0]
    if head.lower() in dedupe.common_words() and head[1:].islower():
        rest = rest[:1].lower() + rest[1:]
    return first[:1].upper() + first[1:] + ", " + rest


def reword(rng: random.Random, text: str, company: str) -> str:
    """A reprint's wording of a fact: the same numbers and names, other formats and words."""
    out = AMOUNT_RE.sub(lambda m: _amount(rng, m) if rng.random() < 0.8 else m.group(0), text)
    out = PCT_RE.sub(lambda m: rng.choice((m.group(0), f"{m.group(1)} percent", f"{m.group(1)} per cent")), out)
    swaps = [s for s in SYNONYMS if re.search(rf"\b{s[0]}\b", out)]
    for old, new in rng.sample(swaps, min(len(swaps), rng.randint(1, 2))):
        out = re.sub(rf"\b{old}\b", new, out, count=1)
    sentences = out.split(". ")
    if rng.random() < 0.3:
        sentences[0] = _swap_clauses(rng, sentences[0])
    if len(sentences) > 1 and rng.random() < 0.1:
        sentences = sentences[:-1]  # an abridged reprint
    return ". ".join(sentences)


def other_number(rng: random.Random, text: str) -> str | None:
    """The same words with another number (None: the fact has none)."""
    nums = list(re.finditer(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]\w)", text))
    if not nums:
        return None
    m = rng.choice(nums)
    value = float(m.group(0))
    new = _plain(value * rng.choice((1.1, 1.25, 0.8, 2)) + rng.choice((0, 1)))
    return text[:m.start()] + new + text[m.end():] if new != m.group(0) else None


# --------------------------------------------------------------------------- the corpus

class Article:
    def __init__(self, title: str, source: str, published: str, facts: list[str], labels: list[str], company: str):
        self.title, self.source, self.published = title, source, published
        self.facts, self.labels, self.company = facts, labels, company

    def text(self, w: gen.FileWriter) -> str:
        chunks, at, i = [], 0, 0
        while at < len(self.facts):
            k = min(len(self.facts) - at, w.rng.choice((1, 2, 3, 3)))
            head = w.overview() if i == 0 else w.heading(i, 0)
            chunks.append(f"{head} - " + " - ".join(w.citations(f) for f in self.facts[at:at + k]))
            at += k
            i += 1
        return f"{self.title}\n{self.source}· {self.published}\n{' '.join(chunks)}\n"


def _date(rng: random.Random, days_after: str | None = None) -> str:
    if days_after:
        y, mo, d = (int(x) for x in days_after[:10].split("-"))
        d = min(28, d + rng.randint(1, 4))
    else:
        y, mo, d = rng.choice((2024, 2025, 2025)), rng.randint(1, 12), rng.randint(1, 24)
    return f"{y}-{mo:02d}-{d:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"


def build(facts: int, seed: int = 1) -> tuple[list[list[Article]], gen.FileWriter]:
    """The corpus's files (lists of articles), about `facts` facts in all, every fact labelled
    with its known group ("b12.3": base article 12's fact 3; its reprints share the label; a
    look-alike has a label of its own)."""
    rng = random.Random(f"factbot-reprints:{seed}")
    comps = gen.companies(seed, facts)
    w = gen.FileWriter(seed, 0, comps)
    articles: list[Article] = []
    n_base = 0
    total = 0
    while total < facts:
        comp = w.company()
        peer = w.company()
        if peer is comp:
            peer = comps[(comps.index(comp) + 1) % len(comps)]
        k = rng.randint(6, 18)
        texts = [w.fact(comp["en"], peer["en"]) for _ in range(k)]
        title = w.title_t().format(cn=comp["cn"], peer=peer["cn"], sector=w.sector_cn(), n=rng.randint(2, 300))
        base = Article(title, w.source(), _date(rng), texts, [f"b{n_base}.{i}" for i in range(k)], comp["en"])
        articles.append(base)
        total += k
        r = rng.random()
        if r < REPRINTED:
            for _ in range(rng.randint(1, 3)):
                keep = sorted(rng.sample(range(k), max(1, int(k * rng.uniform(0.6, 1.0)))))
                rng.shuffle(keep)
                source = w.source()
                while source == base.source:
                    source = w.source()
                own = [w.fact(comp["en"], peer["en"]) for _ in range(rng.randint(0, 3))]
                texts2 = [reword(rng, texts[i], comp["en"]) for i in keep] + own
                labels2 = [base.labels[i] for i in keep] + [f"r{n_base}.{len(articles)}.{j}" for j in range(len(own))]
                title2 = title if rng.random() < 0.5 else w.title_t().format(
                    cn=comp["cn"], peer=peer["cn"], sector=w.sector_cn(), n=rng.randint(2, 300))
                articles.append(Article(title2, source, _date(rng, base.published), texts2, labels2, comp["en"]))
                total += len(texts2)
        elif r < REPRINTED + NON_DUPLICATES:
            i = rng.randrange(k)
            # the same words, another number
            changed = other_number(rng, texts[i])
            if changed:
                articles.append(Article(title, w.source(), _date(rng, base.published), [changed],
                                        [f"n{n_base}.{i}"], comp["en"]))
            # one outlet's two different facts that read alike: an article saying one thing twice,
            # in other words (a fact of its own: nothing else resembles them)
            fresh = w.fact(comp["en"], peer["en"])
            twice = [fresh, reword(rng, fresh, comp["en"])]
            articles.append(Article(w.title_t().format(cn=comp["cn"], peer=peer["cn"], sector=w.sector_cn(), n=7),
                                    w.source(), _date(rng), twice, [f"t{n_base}.{i}.0", f"t{n_base}.{i}.1"], comp["en"]))
            # the same sentence about another company
            other = comps[(comps.index(comp) + 7) % len(comps)]
            if comp["en"] in texts[i]:
                swapped = texts[i].replace(comp["en"], other["en"])
                articles.append(Article(title, w.source(), _date(rng, base.published), [swapped],
                                        [f"c{n_base}.{i}"], other["en"]))
            total += 4
        n_base += 1
    order = list(range(len(articles)))
    rng.shuffle(order)  # reprints are not next to their originals, and files mix outlets
    files, at = [], 0
    while at < len(order):
        n = rng.randint(8, 22)
        files.append([articles[j] for j in order[at:at + n]])
        at += n
    return files, w


def write(files: list[list[Article]], w: gen.FileWriter, out: Path) -> list[tuple[str, bytes]]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, arts in enumerate(files):
        data = ("Search documents\n" + "".join(a.text(w) for a in arts)).encode("utf-8")
        name = f"r{i:05d}.txt"
        (out / name).write_bytes(data)
        written.append((name, data))
    return written


def members(files: list[list[Article]], w: gen.FileWriter, out: Path | None):
    """(bucket key, Member, label) of every fact, parsed from the files as a reload parses them."""
    rows = []
    for i, arts in enumerate(files):
        data = ("Search documents\n" + "".join(a.text(w) for a in arts)).encode("utf-8")
        name = f"r{i:05d}.txt"
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(data)
        p = prepare(name, data)
        _, texts, citations, _ = p.columns()
        if len(p.articles) != len(arts):
            raise SystemExit(f"{name}: parsed {len(p.articles)} articles, wrote {len(arts)}")
        at = 0
        for pa, a in zip(p.articles, arts):
            if pa.facts != len(a.facts):
                raise SystemExit(f"{name}: {a.title}: parsed {pa.facts} facts, wrote {len(a.facts)}")
            a_texts = texts[at:at + pa.facts]
            keys = dedupe.article_keys(a_texts)
            article = "\x1f".join((pa.published, pa.source, pa.title, pa.digest))
            for j, (text, key) in enumerate(zip(a_texts, keys)):
                cited = len(json.loads(citations[at + j]))
                rows.append((key, Member(f"{article}\x1f{j:05d}", article, pa.published, cited, text), a.labels[j]))
            at += pa.facts
    return rows


def pairs_of(groups) -> set[tuple[str, str]]:
    out = set()
    for g in groups:
        for a, b in combinations(sorted(m.uid for m in g), 2):
            out.add((a, b))
    return out


# ------------------------------------------------------------------------------ MinHash LSH: the other way measured

def shingles(text: str, size: int = 2) -> set[bytes]:
    """Word n-grams of a comparison text (and its words, so that a short fact has some)."""
    toks = text.split()
    grams = {" ".join(toks[i:i + size]) for i in range(max(0, len(toks) - size + 1))}
    grams.update(toks)
    return {g.encode("utf-8") for g in grams}


def lsh_pairs(keyed: Sequence[tuple[str | None, Member]], threshold: float = 0.5, num_perm: int = 64,
              cutoff: float | None = None, texts: Sequence[str] | None = None) -> tuple[list[Member], list[tuple[float, int, int]]]:
    """The other way of finding candidates: datasketch's MinHash LSH over word shingles of every
    fact (no buckets), candidates then checked as within a bucket (equal keys, other article,
    at most dedupe.REPRINT_DAYS apart, token_sort_ratio >= the key's cutoff). Returns the members and the scored pairs (for `dedupe._assemble`)."""
    from datasketch import MinHash, MinHashLSH

    members = [m for _, m in keyed]
    keys = [k for k, _ in keyed]
    texts = list(texts) if texts is not None else [dedupe.compare_text(m.text) for m in members]
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    hashes = MinHash.bulk([shingles(t) for t in texts], num_perm=num_perm)
    with lsh.insertion_session() as session:
        for i, h in enumerate(hashes):
            session.insert(i, h, check_duplication=False)
    days = [dedupe._day(m.published) for m in members]
    pairs = []
    for i, h in enumerate(hashes):
        if keys[i] is None:
            continue
        for j in lsh.query(h):
            if j <= i or keys[j] != keys[i] or members[j].article == members[i].article:
                continue
            if days[i] and days[j] and abs(days[i] - days[j]) > dedupe.REPRINT_DAYS:
                continue
            need = cutoff or dedupe.cutoff_of(keys[i])
            s = fuzz.token_sort_ratio(texts[i], texts[j], score_cutoff=need)
            if s >= need:
                pairs.append((s, i, j))
    return members, pairs


def group_lsh(keyed: Sequence[tuple[str | None, Member]], **kw) -> list[list[Member]]:
    """`group` with the candidates from MinHash LSH instead of buckets (for the measurement)."""
    members, pairs = lsh_pairs(keyed, **kw)
    return [g for g in dedupe._assemble(members, pairs) if len(g) > 1]


def measure(rows, found) -> dict:
    by_label: dict[str, list] = {}
    for _, m, label in rows:
        by_label.setdefault(label, []).append(m)
    truth = pairs_of(g for g in by_label.values() if len(g) > 1)
    got = pairs_of(found)
    tp = len(truth & got)
    return {"pairs_true": len(truth), "pairs_grouped": len(got), "pairs_right": tp,
            "precision": round(tp / len(got), 4) if got else 1.0, "recall": round(tp / len(truth), 4) if truth else 1.0,
            "groups": len(found), "known_groups": sum(1 for g in by_label.values() if len(g) > 1)}


def wrong_pairs(rows, found, limit: int = 5) -> list[tuple[str, str]]:
    label = {m.uid: lab for _, m, lab in rows}
    text = {m.uid: m.text for _, m, _ in rows}
    out = []
    for g in found:
        for a, b in combinations(g, 2):
            if label[a.uid] != label[b.uid] and len(out) < limit:
                out.append((label[a.uid], text[a.uid], label[b.uid], text[b.uid]))
    return out


KINDS = {"b": "base", "r": "reprint's own", "n": "other number", "t": "same article", "c": "other company"}


def wrong_kinds(rows, found) -> dict[str, int]:
    """Wrongly grouped pairs by the kinds of their two facts' labels ("base+other number")."""
    label = {m.uid: lab for _, m, lab in rows}
    out: dict[str, int] = {}
    for g in found:
        for a, b in combinations(g, 2):
            la, lb = label[a.uid], label[b.uid]
            if la != lb:
                kind = "+".join(sorted((KINDS[la[0]], KINDS[lb[0]])))
                out[kind] = out.get(kind, 0) + 1
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--facts", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, help="also write the corpus here (real export format)")
    ap.add_argument("--no-lsh", action="store_true", help="only the buckets with rapidfuzz")
    ap.add_argument("--cutoff", type=float, help="one cutoff for every bucket (default: store/dedupe.py cutoff_of)")
    ap.add_argument("--strong-cutoff", type=float, help="store/dedupe.py CUTOFF for this run")
    ap.add_argument("--weak-cutoff", type=float, help="store/dedupe.py WEAK_CUTOFF for this run")
    ap.add_argument("--show", type=int, default=0, help="print this many wrong pairs of each way")
    a = ap.parse_args(argv)
    if a.weak_cutoff is not None:
        dedupe.WEAK_CUTOFF = a.weak_cutoff
    if a.strong_cutoff is not None:
        dedupe.CUTOFF = a.strong_cutoff
    t0 = time.perf_counter()
    files, w = build(a.facts, a.seed)
    rows = members(files, w, a.out)
    t_parse = time.perf_counter() - t0
    keyed = [(k, m) for k, m, _ in rows]
    print(f"{len(rows)} facts in {sum(len(f) for f in files)} articles, {len(files)} files "
          f"(built and parsed in {t_parse:.1f} s)")
    t = time.perf_counter()
    found = dedupe.group(keyed, cutoff=a.cutoff)
    res = {"buckets + rapidfuzz": (measure(rows, found), time.perf_counter() - t, found)}
    if not a.no_lsh:
        try:
            t = time.perf_counter()
            found_lsh = group_lsh(keyed, cutoff=a.cutoff)
            res["MinHash LSH (datasketch)"] = (measure(rows, found_lsh), time.perf_counter() - t, found_lsh)
        except ImportError:
            print("datasketch is not installed: `.venv/bin/pip install datasketch` to compare")
    print(f"{'way':28} {'precision':>9} {'recall':>7} {'pairs grouped':>14} {'known pairs':>12} {'groups':>7} {'time':>8}")
    for name, (m, took, found) in res.items():
        print(f"{name:28} {m['precision']:>9.4f} {m['recall']:>7.4f} {m['pairs_grouped']:>14} {m['pairs_true']:>12}"
              f" {m['groups']:>7} {took:>7.2f}s")
        kinds = wrong_kinds(rows, found)
        if kinds:
            print("   wrong pairs by kind:", ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items())))
        for wp in wrong_pairs(rows, found, a.show):
            print("   wrong:", wp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
