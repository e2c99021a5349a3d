"""The same news from many outlets: near-duplicate facts of different articles, grouped.

Pure: facts in, groups out (no SQL, no Slack). Two facts are reprints of each other when

1. their **numbers** agree exactly, after formats are normalised (`numbers`): "14 billion HKD",
   "HKD 14 billion", "HK$14bn", "14,000 million HKD" and "140亿港元" are all the value 14e9 in HKD;
   "1.70%", "1.7 percent" and "1.7 per cent" are 1.7 %; a number's currency is part of it
   ("14 billion" alone is not "14 billion HKD"); years and other bare numbers count too;
2. their **names** agree (`names`): the capitalised words of the fact (a sentence's first word
   only when it is not a common English word, or when the article writes it capitalised mid-
   sentence too), or, for a fact that names nobody ("The company raised ..."), its article's most
   frequent name, so that "Quuxly raised 14 billion" and "Brimco raised 14 billion" never meet;
3. they come from **different articles** (two facts of one article are never one group),
   published at most `REPRINT_DAYS` apart (a reprint follows its original within days; a fact
   like it a year later is other news);
4. their words are close: rapidfuzz's `token_sort_ratio` of their comparison texts (lower case,
   numbers in their normal form, Chinese runs as 2-character words) is at least `CUTOFF` when
   their bucket holds a number that is no bare year (an amount, a percentage, a multiple: strong
   evidence that two facts tell the same thing), and at least `WEAK_CUTOFF` otherwise: a fact
   without such a number ("X plans to list in Hong Kong, with ... expected in 2025") is the kind
   of statement an outlet makes about one company again and again, and only nearly the same
   words make it a reprint.

(1) and (2) make a fact's **bucket key** (`bucket_key`): only facts with equal keys are compared
at all, so a corpus is grouped bucket by bucket, and a bucket's groups depend on nothing but its
own members. That makes regrouping after a change local (only the buckets of the facts added or
removed) and the result independent of load order: inside a bucket, pairs are joined in the order
of (score, identities), never in the order given (`group_bucket`).

A group's **representative** (its first member) is the earliest published fact, then the one with
the most citations, then the longest text, then the smallest identity: the first report is usually
the original the others reprint, and among copies of one day the most complete is the best to
show; the identity only breaks exact ties so that every replica picks the same one.

benchmarks/reprints.py measures this (and datasketch's MinHash LSH as the other way of finding
the candidates, its `lsh_pairs`) on a generated corpus with known groups; docs/duplicates.md has the
figures and the choice.
"""
from __future__ import annotations

import hashlib
import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Hashable, Iterable, NamedTuple, Sequence

import numpy as np
from rapidfuzz import fuzz, process

from store.text import CJK_RE, bigrams, normalize, words

CUTOFF = 80.0  # token_sort_ratio (0..100) two facts of one bucket need to be one group
WEAK_CUTOFF = 93.0  # ... when the bucket holds no number but years (`strong`)
REPRINT_DAYS = 14  # two facts published further apart are other news, however alike
KEY_VERSION = "2"  # bump when bucket_key or compare_text change (stored keys must be rebuilt)

# ------------------------------------------------------------------------------ numbers

_SCALE_WORDS = {
    "trillion": 12, "tn": 12, "trn": 12, "billion": 9, "bn": 9, "b": 9, "million": 6, "mn": 6, "mln": 6,
    "m": 6, "thousand": 3, "k": 3, "亿": 8, "万亿": 12, "万": 4, "千": 3,
}
_CURRENCY_WORDS = {
    "hk$": "HKD", "hkd": "HKD", "hk dollars": "HKD", "港元": "HKD", "港币": "HKD",
    "us$": "USD", "usd": "USD", "$": "USD", "dollars": "USD", "dollar": "USD", "美元": "USD",
    "rmb": "CNY", "cny": "CNY", "yuan": "CNY", "¥": "CNY", "￥": "CNY", "元": "CNY", "人民币": "CNY",
    "eur": "EUR", "€": "EUR", "euros": "EUR", "gbp": "GBP", "£": "GBP", "jpy": "JPY", "yen": "JPY", "日元": "JPY",
}
_PERCENT_WORDS = ("%", "percent", "per cent", "pct", "％")
_CUR_BEFORE = r"(?P<pre>HK\$|US\$|HKD|USD|RMB|CNY|EUR|GBP|JPY|\$|¥|￥|€|£)\s?"
_NUM = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d]|[.,]\d)"
_SCALE = r"(?:\s?(?P<scale>trillion|billion|million|thousand|trn|tn|bn|mln|mn|万亿|亿|万|千)|(?P<short>[bmk])(?![A-Za-z]))"
_AFTER = (r"(?:\s?(?P<post>%|％|percent|per cent|pct|HKD|USD|RMB|CNY|EUR|GBP|JPY|yuan|yen|euros|HK dollars|"
          r"dollars?|港元|港币|美元|人民币|日元|元))?")
# a number stands alone, or against Chinese characters ("营收140亿港元"): Python's \\w holds them too
_CJK_CHAR = r"\u3400-\u9fff\uf900-\ufaff"
_NUMBER_RE = re.compile(rf"(?<![^\W{_CJK_CHAR}]|[.$¥￥€£])(?:{_CUR_BEFORE})?{_NUM}{_SCALE}?{_AFTER}(?![^\W{_CJK_CHAR}])",
                        re.IGNORECASE)


def _value(num: str, scale: str | None) -> str | None:
    try:
        value = Decimal(num.replace(",", ""))
    except InvalidOperation:
        return None
    if scale:
        value = value.scaleb(_SCALE_WORDS[scale.lower()])
    text = format(value.normalize(), "f")
    return text


_DIGITS_RE = re.compile(r"\d+")
_CUR_TAILS = ("HK$", "US$", "HKD", "USD", "RMB", "CNY", "EUR", "GBP", "JPY", "$", "¥", "￥", "€", "£")


def _number_matches(text: str):
    """`_NUMBER_RE`'s matches in a text, tried only where a run of digits starts (with the
    currency written before it; a digit after a digit never starts one): the same matches as
    finditer, several times faster on long texts."""
    end = 0
    for d in _DIGITS_RE.finditer(text):
        s = d.start()
        if s < end:
            continue
        m = None
        head = text[max(0, s - 4):s]
        stripped = head[:-1] if head.endswith(" ") else head
        upper = stripped.upper()
        if upper.endswith(_CUR_TAILS):
            for cur in _CUR_TAILS:
                if upper.endswith(cur):
                    m = _NUMBER_RE.match(text, s - (len(head) - len(stripped)) - len(cur))
                    break
        if m is None:
            m = _NUMBER_RE.match(text, s)
        if m is not None:
            end = m.end()
            yield m


def numbers(text: str) -> tuple[str, ...]:
    """Every number of a text in its normal form, sorted: the value (scales applied: 14bn ->
    14000000000, 1.70 -> 1.7), then its unit when it has one: "%" or a currency code
    ("14000000000HKD"). Digits inside words (Q3, GPT-5's 5 is kept: it is a word boundary) follow
    the regular expression's boundaries."""
    return tuple(sorted(v for v in map(_normal, _number_matches(text)) if v is not None))


def _normal(m: re.Match) -> str | None:
    """One number match in its normal form (value, then unit)."""
    value = _value(m.group("num"), m.group("scale") or m.group("short"))
    if value is None:
        return None
    unit = ""
    post = (m.group("post") or "").lower()
    pre = (m.group("pre") or "").lower()
    if post in _PERCENT_WORDS:
        unit = "%"
    elif post or pre:
        unit = _CURRENCY_WORDS.get(post) or _CURRENCY_WORDS.get(pre, "")
    return value + unit


# ------------------------------------------------------------------------------ names

# a capitalised word, not a currency's letters ("HK$14bn")
_CAPITAL_RE = re.compile(r"(?<![\w$&])[A-Z][A-Za-z&]*(?:\.[a-z]{2,3}\b)?(?![\w$])")
_SENTENCE_START_RE = re.compile(r"(?:^|[.!?;:]\s+|\(\s*)(?=[A-Z])")
# capitalised words that name no one: units, periods, report words, rating words
NOT_NAMES = frozenset("""
HKD USD RMB CNY EUR GBP JPY IPO CEO CFO COO CTO GDP EPS EBITDA YoY QoQ TCO ROE CAGR ESG ETF PE PB
I A An The This That These Those Its It Their Our We He She They Company Group Core Market Summary
January February March April May June July August September October November December
Monday Tuesday Wednesday Thursday Friday Saturday Sunday Buy Sell Hold Neutral Overweight Underweight
Outperform Underperform Accumulate Increase Rating Chinese China Hong Kong
AI AGI GPU GPUs CPU CPUs EV EVs NEV NEVs HBM LLM LLMs IT IoT SaaS API APIs
""".split())


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """General English words (store/data/word-frequency.txt, Zipf frequency COMMON_ZIPF or more):
    a sentence's first word that is one of them is not taken for a name by its capital letter
    alone. Rarer words are (Xiaomi 3.01, Nvidia 3.25: names an outlet may start a sentence with)."""
    text = resources.files("store.data").joinpath("word-frequency.txt").read_text(encoding="utf-8")
    out = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            word, _, zipf = line.partition(" ")
            if float(zipf or 0) >= COMMON_ZIPF:
                out.add(word)
    return frozenset(out)


COMMON_ZIPF = 3.5
_NOT_NAME_ENDINGS = ("ing", "ed", "ly")  # "Reflecting strong demand, ...", "Driven by ...", "Notably, ..."


def _first_is_name(word: str, known: set[str] | frozenset[str], common: frozenset[str]) -> bool:
    """Whether a sentence's capitalised first word is a name: the article writes it capitalised
    inside a sentence too, or it is no common word nor a participle or adverb."""
    low = word.lower()
    return word in known or (low not in common and not low.endswith(_NOT_NAME_ENDINGS))


def _capitals(text: str) -> tuple[set[str], set[str]]:
    """(capitalised words inside sentences, capitalised first words of sentences) of a text."""
    starts = {m.end() for m in _SENTENCE_START_RE.finditer(text)}
    inner, first = set(), set()
    for m in _CAPITAL_RE.finditer(text):
        word = m.group(0)
        if len(word) < 2 or word in NOT_NAMES:
            continue
        (first if m.start() in starts else inner).add(word)
    return inner, first


def names(text: str, article_names: Iterable[str] = ()) -> frozenset[str]:
    """The names of one fact: its capitalised words inside sentences, and its sentences' first
    words when they are no common English word or `article_names` (the article's own capitalised
    words inside sentences) holds them."""
    inner, first = _capitals(text)
    common = common_words()
    known = set(article_names)
    return frozenset(inner | {w for w in first if _first_is_name(w, known, common)})


def article_names(texts: Sequence[str]) -> list[frozenset[str]]:
    """`names` of each of an article's facts, with the article's context."""
    caps = [_capitals(t) for t in texts]
    inner = set().union(*(c[0] for c in caps)) if caps else set()
    common = common_words()
    return [frozenset(i | {w for w in f if _first_is_name(w, inner, common)}) for i, f in caps]


_RUN_RE = re.compile(r"(?<![\w$&])[A-Z][A-Za-z&]*(?:\.[a-z]{2,3}\b)?(?: [A-Z][A-Za-z&]*(?:\.[a-z]{2,3}\b)?)*(?![\w$])")


def article_entity(texts: Sequence[str], fact_names: Sequence[frozenset[str]]) -> str | None:
    """An article's most frequent name, whole (in how many of its facts; ties: the longer, then
    by the name): what a fact that names nobody is about. Whole: "Seres Automotive", not
    "Automotive", which "Brimco Automotive" shares. A name is a run of capitalised words of a
    fact, less the words that name no one (`NOT_NAMES`, and words `names` did not take)."""
    counts: Counter = Counter()
    for text, ns in zip(texts, fact_names):
        found = set()
        for m in _RUN_RE.finditer(text):
            run = [w for w in m.group(0).split(" ") if w in ns]
            if run:
                found.add(" ".join(run))
        counts.update(found)
    if not counts:
        return None
    return min(counts.items(), key=lambda kv: (-kv[1], -len(kv[0]), kv[0]))[0]


# ------------------------------------------------------------------------------ keys and texts

def bucket_key(text: str, fact_names: frozenset[str], entity: str | None) -> str | None:
    """The bucket of a fact: its numbers and its names (its article's entity when it names no
    one). None when it has neither numbers nor names: such a fact is never grouped."""
    nums = numbers(text)
    who = sorted(fact_names) if fact_names else ([entity] if entity else [])
    if not nums and not who:
        return None
    return " ".join(nums) + "|" + " ".join(who)


def article_keys(texts: Sequence[str]) -> list[str | None]:
    """The bucket key of each fact of one article (its texts in order)."""
    fact_names = article_names(texts)
    # what a fact that names nobody is about (read only when one does)
    entity = article_entity(texts, fact_names) if not all(fact_names) else None
    return [bucket_key(t, n, entity) for t, n in zip(texts, fact_names)]


_SPACED_HYPHEN_RE = re.compile(r"\s+-\s+(?=\w)")


def compare_text(text: str) -> str:
    """What two facts' words are compared on: normalised words, every number in its normal form
    (so a format change costs nothing), Chinese runs as their 2-character words."""
    out = []
    last = 0
    text = _SPACED_HYPHEN_RE.sub("-", text)
    parts = []
    for m in _number_matches(text):
        parts.append(text[last:m.start()])
        parts.append(" n" + (_normal(m) or "").replace(".", "_").replace("%", "pct") + " ")
        last = m.end()
    parts.append(text[last:])
    for token in words(normalize("".join(parts))):
        if CJK_RE.match(token):
            out.extend(bigrams(token))
        else:
            out.append(token)
    return " ".join(out)


# ------------------------------------------------------------------------------ grouping

class Member(NamedTuple):
    """A fact as the grouping sees it. `uid`: its identity from its content (article and
    position), which orders everything; `ref`: the caller's handle (a row id), never compared."""

    uid: str
    article: str  # the article's identity: two members of one article are never grouped
    published: str  # ISO time: the earliest is its group's representative
    citations: int
    text: str  # the fact's text as written
    ref: Hashable = None


def rep_order(m: Member) -> tuple:
    """Sort key of a group's members: representative first (earliest, most cited, longest)."""
    return (m.published, -m.citations, -len(m.text), m.uid)


class _Groups:
    """Groups of members, joined by complete linkage: two groups become one only if they share no
    article and every pair across them is close enough (a scored pair), so that a chain of
    look-alikes (A like B, B like C) does not fold A and C together unless they are alike too."""

    def __init__(self, members: Sequence[Member], close: set[tuple[int, int]]):
        self.of = list(range(len(members)))
        self.members = [[i] for i in range(len(members))]
        self.articles = [{m.article} for m in members]
        self.close = close

    def join(self, i: int, j: int) -> bool:
        a, b = self.of[i], self.of[j]
        if a == b or self.articles[a] & self.articles[b]:
            return False
        if not all((min(x, y), max(x, y)) in self.close for x in self.members[a] for y in self.members[b]):
            return False
        if len(self.members[a]) < len(self.members[b]):
            a, b = b, a
        for x in self.members[b]:
            self.of[x] = a
        self.members[a] += self.members[b]
        self.articles[a] |= self.articles[b]
        self.members[b], self.articles[b] = [], set()
        return True


def _assemble(members: Sequence[Member], edges: Iterable[tuple[float, int, int]]) -> list[list[Member]]:
    """Groups from scored pairs (score, i, j), joined best pair first (ties: by the members'
    identities), each group sorted representative first; the groups sorted by representative."""
    edges = list(edges)
    uf = _Groups(members, {(min(i, j), max(i, j)) for _, i, j in edges})
    ordered = sorted(edges, key=lambda e: (-e[0], *sorted((members[e[1]].uid, members[e[2]].uid))))
    for _, i, j in ordered:
        uf.join(i, j)
    groups: dict[int, list[Member]] = defaultdict(list)
    for i, m in enumerate(members):
        groups[uf.of[i]].append(m)
    out = [sorted(g, key=rep_order) for g in groups.values()]
    return sorted(out, key=lambda g: rep_order(g[0]))


def _day(published: str) -> int:
    """The day number of an ISO publication time (0 when unreadable: compared with every day)."""
    try:
        return date.fromisoformat(published[:10]).toordinal()
    except (ValueError, TypeError):
        return 0


_BLOCK = 256  # members compared at once with the members of their days (process.cdist)


def bucket_pairs(members: Sequence[Member], cutoff: float = CUTOFF,
                 texts: Sequence[str] | None = None) -> list[tuple[float, int, int]]:
    """Scored pairs (score, i, j), i < j, of one bucket's members from different articles
    published at most REPRINT_DAYS apart that are close enough (rapidfuzz token_sort_ratio).
    The members in date order, a block of them at a time is compared with the members of its
    days (`process.cdist`), so that a bucket of thousands of facts over years costs what its
    weeks hold, not n²."""
    n = len(members)
    if n < 2:
        return []
    days = [_day(m.published) for m in members]
    order = sorted(range(n), key=lambda i: (days[i], i))
    od = [days[i] for i in order]
    arts = [members[i].article for i in order]
    # only a member with another article's within REPRINT_DAYS of it can be in a pair: the others'
    # comparison texts are not computed (a bucket's members are mostly years apart)
    near = []
    for a in range(n):
        lo, hi = (0, n) if od[a] == 0 else (bisect_left(od, od[a] - REPRINT_DAYS),
                                            bisect_right(od, od[a] + REPRINT_DAYS))
        near.append(any(arts[k] != arts[a] for k in range(lo, hi)))
    if not any(near):
        return []
    # token_sort_ratio is fuzz.ratio of the words sorted: sorted once here, not in every comparison
    texts = [" ".join(sorted((texts[i] if texts is not None else compare_text(members[i].text)).split()))
             if near[a] else "" for a, i in enumerate(order)]
    out = []
    for s in range(0, n, _BLOCK):
        e = min(n, s + _BLOCK)
        w = n if od[s] == 0 else bisect_right(od, od[e - 1] + REPRINT_DAYS)
        if w <= s + 1:
            continue
        scores = process.cdist(texts[s:e], texts[s:w], scorer=fuzz.ratio, score_cutoff=cutoff,
                               dtype=np.uint8 if float(cutoff).is_integer() else np.float32, workers=1)
        rows, cols = np.nonzero(scores >= cutoff)
        for r, c in zip(rows.tolist(), cols.tolist()):
            a, b = s + r, s + c
            if b <= a or not (near[a] and near[b]) or arts[a] == arts[b] or (od[a] and od[b] - od[a] > REPRINT_DAYS):
                continue
            i, j = order[a], order[b]
            out.append((float(scores[r, c]), min(i, j), max(i, j)))
    return out


def group_bucket(members: Sequence[Member], cutoff: float = CUTOFF) -> list[list[Member]]:
    """The groups of one bucket (members with one bucket key): every member in exactly one group,
    representative first. The same members in any order give the same groups."""
    members = sorted(members, key=lambda m: m.uid)
    return _assemble(members, bucket_pairs(members, cutoff))


_YEAR_RE = re.compile(r"(?:19|20)\d\d")


def strong(key: str) -> bool:
    """Whether a bucket key holds a number that is no bare year (see the module's 4.)."""
    return any(not _YEAR_RE.fullmatch(n) for n in key.split("|", 1)[0].split())


def cutoff_of(key: str) -> float:
    return CUTOFF if strong(key) else WEAK_CUTOFF


def group(keyed: Iterable[tuple[str | None, Member]], cutoff: float | None = None) -> list[list[Member]]:
    """The groups of a whole corpus from (bucket key, member) pairs: bucket by bucket; a member
    without a key is a group of its own. Groups of one member are left out of the result.
    `cutoff`: one for every bucket instead of `cutoff_of` its key."""
    buckets: dict[str, list[Member]] = defaultdict(list)
    for key, member in keyed:
        if key is not None:
            buckets[key].append(member)
    out = []
    for key in sorted(k for k, v in buckets.items() if len(v) > 1):
        out.extend(g for g in group_bucket(buckets[key], cutoff or cutoff_of(key)) if len(g) > 1)
    return out


# ------------------------------------------------------------------------------ stored buckets

def bucket_hash(key: str | None) -> int | None:
    """A bucket key as the signed 64-bit integer the index stores (facts.bucket): equal keys,
    equal integers; KEY_VERSION is part of it; its lowest bit says whether the key is `strong`
    (`hash_cutoff`)."""
    if key is None:
        return None
    digest = hashlib.blake2b(f"{KEY_VERSION}\x1f{key}".encode("utf-8"), digest_size=8).digest()
    return (int.from_bytes(digest, "big", signed=True) & ~1) | (1 if strong(key) else 0)


def hash_cutoff(bucket: int) -> float:
    """The cutoff of a stored bucket (`cutoff_of` its key)."""
    return CUTOFF if bucket & 1 else WEAK_CUTOFF


def article_buckets(texts: Sequence[str]) -> list[int | None]:
    """`bucket_hash` of each fact of one article (its texts in order)."""
    return [bucket_hash(k) for k in article_keys(texts)]
