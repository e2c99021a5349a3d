"""Query understanding: a query becomes a `Plan`, the word groups a fact is checked against.

The query is normalised (`store.text.normalize`) and split into words; conversation words drop out
(`store/data/conversation.txt`), Chinese runs are cut into the words the index and the lexicon know
(`tokens`, `segment`); glossary phrases ("total cost of ownership") stay together (`units`); stop
words drop out (unless nothing else is left). Each remaining unit becomes a *group* of index words
that may stand for it, each with a weight (`group`): the word itself (1.0), its stem family from the
index vocabulary (margin -> margins, 0.95), the other name of a company (赛力斯 -> seres, 0.95),
glossary equivalents (capex -> capital expenditure, 0.8), completions of the last word (0.85), and
corrections of a word the index does not know, with Meilisearch's rules (none under 5 letters, 1
from 5, 2 from 9, a swap of two letters counts as one: 0.75 / 0.6). Chinese runs match as their
2-character index words, with their CC-CEDICT translations (0.7). A question in the user's own
words (four content words or more) also brings each word's related words, which rank candidates
but neither fetch nor count.

Everything here reads one `Vocab`, a snapshot of the index vocabulary; nothing here touches the
database except `Vocab.load`. A `Plan` is plain data: `Plan.describe()` prints it for people
(`factbot ask --explain`), `Plan.to_json()` for programs.
"""
from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import OSA

from store import dictionary
from store import entities as entities_mod
from store import lexicon as lexicon_mod
from store.text import bigrams, is_cjk, normalize, stem, words

MAX_QUERY_CHARS = 2000
MAX_GROUPS = 10
LONG_QUERY = 4  # groups from which a query counts as a question or pasted text
MAX_ALTS = 12
RELATED = 0.8  # weight of a related word (store/data/related-words.txt), times its similarity
DICTIONARY = 0.7  # weight of a CC-CEDICT translation of a Chinese word (below the glossary's 0.8/0.95)

STOP_WORDS = frozenset("""
a about above after again against all am an and any are aren as at be because been before being
below between both but by can cannot could did didn do does doesn doing don down during each few
for from further had has have having he her here hers herself him himself his how i if in into is
isn it its itself just let me more most my myself no nor not now of off on once only or other ought
our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what
when where which while who whom whose why will with would you your yours yourself yourselves
tell say said says think thought want wants wanted kind sort happen happened happening anything
something thing things know also there's what's whats really lot lots many much get got make made
please show give find mean means like
""".split())


@dataclass
class Group:
    """One query word (or glossary phrase) and the index words that may stand for it."""

    surface: str
    alts: dict[tuple[str, ...], float]  # index words (all must be present) -> weight
    cjk: dict[tuple[str, ...], str]  # alt -> the Chinese run it must hold contiguously
    df: int
    idf: float
    related: frozenset = frozenset()  # alts that are only related words (expensive -> cost)
    lexical: bool = True  # some index word stands for the word itself (not only related words)
    counts: bool = True  # counts toward the confidence threshold
    kinds: dict = field(default_factory=dict)  # alt -> how it stands for the word (exact, stem, ...)
    info: float = 1.0  # how much the word says in general text (store/dictionary.py information)
    distinctive: bool = False  # a name, or a word rare in general text: what a question is about
    # a thread's entity (store/search.py): held by every fact a follow-up is answered within, it
    # neither fetches nor orders them, only weighs toward the confidence threshold
    given: bool = False

    def to_json(self) -> dict:
        """The group as JSON: its alternatives best first, each as the index words it must hold
        (a Chinese one as the run it stands for)."""
        alts = sorted(self.alts.items(), key=lambda kv: (-kv[1], kv[0]))
        out = {"word": self.surface, "df": self.df, "idf": round(self.idf, 4),
               "info": round(self.info, 4), "counts": self.counts, "lexical": self.lexical,
               "distinctive": self.distinctive,
               "alts": [{"as": self.cjk.get(a) or " ".join(a), "weight": round(w, 4),
                         "how": self.kinds.get(a, "exact"), "fetches": a not in self.related}
                        for a, w in alts]}
        if self.given:
            out["given"] = True
        return out


@dataclass
class Plan:
    """What a query asks for: its word groups, and the words no fact holds (left out of `groups`
    when the words that do are enough to answer from)."""

    groups: list[Group]
    missing: list[str]
    question: bool = False  # four content words or more: a question in the user's own words
    info: float = 0.0  # the information of all the query's words, those no fact holds included
    refused: bool = False  # a distinctive word no fact holds, and no distinctive word that one does
    named: list[str] = field(default_factory=list)  # the entities the query names (store/entities.py)
    # a follow-up in a thread (store/threads.py): the thread's entities it leans on, and the
    # articles it is answered within (None: not a follow-up, or one that names its own entities)
    context: list[str] | None = None
    within: list[int] | None = None

    def to_json(self) -> dict:
        out = {"question": self.question, "refused": self.refused, "info": round(self.info, 4),
               "missing": list(self.missing), "groups": [g.to_json() for g in self.groups]}
        if self.context is not None:
            out["context"] = {"entities": list(self.context), "articles": len(self.within or ())}
        return out

    def describe(self) -> str:
        """The plan for people, one line per group and one per alternative."""
        kind = "question" if self.question else "keywords"
        head = f"plan: {kind}, {len(self.groups)} group(s), information {self.info:.2f}"
        lines = [head + (", refused: a distinctive word no fact holds" if self.refused else "")]
        if self.missing:
            lines.append("  no fact holds: " + ", ".join(self.missing))
        if self.context is not None:
            lines.append(f"  in this thread: {', '.join(self.context) or 'no entity'}: answered within"
                         f" {len(self.within or ())} article(s) (else from every article)")
        for g in self.groups:
            flags = [f for f, on in (("counts", g.counts), ("distinctive", g.distinctive),
                                     ("not in the index", not g.lexical), ("given by the thread", g.given)) if on]
            lines.append(f"  group {g.surface!r}: df {g.df}, idf {g.idf:.2f}, info {g.info:.2f}"
                         + (f" ({', '.join(flags)})" if flags else ""))
            for alt in g.to_json()["alts"]:
                ranks = "" if alt["fetches"] else ", ranks only"
                lines.append(f"    {alt['as']}  {alt['weight']:.3g} {alt['how']}{ranks}")
        return "\n".join(lines)


@dataclass
class Vocab:
    """A snapshot of the index vocabulary and what is derived from it (shared by all threads)."""

    generation: int
    n_facts: int
    df: dict[str, int]
    sorted_terms: list[str]
    by_length: dict[int, list[str]]
    lexicon: lexicon_mod.Lexicon
    cjk_keys: list[str]
    entities: dict[str, str] = field(default_factory=dict)  # key -> name (store/entities.py)

    @classmethod
    def load(cls, conn, generation: int, glossary_files=(), alias_files=(), related_words=True) -> "Vocab":
        df = dict(conn.execute("SELECT term, df FROM vocab"))
        n_facts = conn.execute("SELECT count(*) FROM facts").fetchone()[0]
        learned = [(c, e) for c, e in conn.execute("SELECT cjk, english FROM aliases")]
        lex = lexicon_mod.load(learned, glossary_files, alias_files, related_words)
        dictionary.add_words(lex.cjk_keys())  # kept whole by jieba (a query does not pay for it)
        # typo targets: the index's words and the glossary's ("oversubscirbed" -> oversubscribed)
        by_length: dict[int, list[str]] = {}
        for term in set(df).union(k[0] for k in lex.equivalents if len(k) == 1):
            if term.isascii() and term.isalpha():
                by_length.setdefault(len(term), []).append(term)
        return cls(generation, max(n_facts, 1), df, sorted(df), by_length, lex, lex.cjk_keys(),
                   entities_mod.load(conn))

    def prefixed(self, prefix: str, limit: int) -> list[str]:
        """Index words starting with `prefix` (of the first 400), the `limit` most common."""
        i = bisect.bisect_left(self.sorted_terms, prefix)
        out = []
        for term in itertools.islice(self.sorted_terms, i, i + 400):
            if not term.startswith(prefix):
                break
            out.append(term)
        if len(out) > limit:
            out = sorted(out, key=lambda t: -self.df[t])[:limit]
        return out

    def typos(self, word: str) -> list[tuple[str, int]]:
        """Known words within the word's allowed edit distance (a swap counts as one), closest first."""
        allowed = 2 if len(word) >= 9 else 1
        pool: list[str] = []
        for length in range(len(word) - allowed, len(word) + allowed + 1):
            pool.extend(self.by_length.get(length, ()))
        if not pool:
            return []
        found = process.extract(word, pool, scorer=OSA.distance, score_cutoff=allowed, limit=20)
        found.sort(key=lambda m: (m[1], -self.df.get(m[0], 0)))
        return [(term, dist) for term, dist, _ in found[:5]]

    def as_indexed(self, word: str) -> str:
        """The word if the index holds it, else the most common index word of its stem family
        ("profit margin" -> profit margins); the word itself when neither."""
        if word in self.df or not (word.isascii() and word.isalpha()):
            return word
        s = stem(word)
        family = [t for t in self.prefixed(s, 30) if stem(t) == s] if len(s) >= 3 else []
        return max(family, key=lambda t: self.df[t]) if family else word

    def known_cjk(self, word: str) -> bool:
        if (word,) in self.lexicon.equivalents or all(p in self.df for p in bigrams(word)):
            return True
        return any(all(t in self.df for t in words(normalize(g))) for g in dictionary.translations(word))


def is_stop(unit: tuple[str, ...]) -> bool:
    return len(unit) == 1 and (unit[0] in STOP_WORDS or (len(unit[0]) == 1 and unit[0].isascii() and unit[0].isalpha()))


def _is_chinese_term(t: tuple[str, ...]) -> bool:
    return any(not w.isascii() for w in t)


def information(unit: tuple[str, ...], alias: bool) -> tuple[float, bool]:
    """How much a unit says about what a question asks (its most telling word's information in
    general text), and whether it is distinctive: a name (the alias table's, or CC-CEDICT's
    proper names: ford, google) or a word rare in general text (houseplants, byd). Numbers say
    little on their own (3 in "model 3" is not what a fact about 3.7% growth answers)."""
    best, distinctive = 1.0, alias
    for w in unit:
        if w in STOP_WORDS:
            continue
        if w.isdigit():
            best = max(best, 3.0)
            continue
        best = max(best, dictionary.information(w))
        # Chinese: only names (the frequency list is thin on market terms, which the dictionary
        # may not translate: a rare Chinese word no fact holds says little)
        distinctive = distinctive or (w.isascii() and (dictionary.is_rare(w) or dictionary.is_name(w)))
    return best, distinctive


# the alternatives of a group -----------------------------------------------------------
class _Alts:
    """The alternatives being gathered for one unit: weight, how each stands for the word, and
    the Chinese run a Chinese one must hold contiguously."""

    def __init__(self, v: Vocab):
        self.v = v
        self.weights: dict[tuple[str, ...], float] = {}
        self.kinds: dict[tuple[str, ...], str] = {}
        self.cjk: dict[tuple[str, ...], str] = {}

    def set(self, alt: tuple[str, ...], weight: float, kind: str) -> None:
        """Record `alt` at `weight` (and how it stands for the word) unless it has a higher one."""
        if self.weights.get(alt, 0) < weight:
            self.weights[alt] = weight
            self.kinds[alt] = kind

    def word(self, word: str, weight: float, kind: str, family: bool = True) -> None:
        """The word and (unless `family` is off) its stem family, as index words."""
        v = self.v
        if word in v.df:
            self.set((word,), weight, kind)
        s = stem(word)
        if family and len(s) >= 3 and word.isascii() and word.isalpha():
            for term in v.prefixed(s, 30):
                if term != word and stem(term) == s:
                    self.set((term,), weight * 0.95, "stem" if kind == "exact" else kind)

    def cjk_run(self, run: str, weight: float, kind: str) -> None:
        if len(run) == 1:
            for term in self.v.prefixed(run, 10):
                if (term,) not in self.weights:
                    self.set((term,), weight * 0.85, "prefix")
            return
        alt = tuple(dict.fromkeys(bigrams(run)))
        if all(t in self.v.df for t in alt) and self.weights.get(alt, 0) < weight:
            self.set(alt, weight, kind)
            self.cjk[alt] = run

    def term(self, term: tuple[str, ...], weight: float, kind: str, family: bool = True) -> None:
        if len(term) == 1:
            if is_cjk(term[0]):
                self.cjk_run(term[0], weight, kind)
            else:
                self.word(term[0], weight, kind, family)
            return
        flat: list[str] = []
        for t in term:
            flat.extend(bigrams(t) if is_cjk(t) else [self.v.as_indexed(t)])
        if all(t in self.v.df for t in flat):
            alt = tuple(dict.fromkeys(flat))
            if alt not in self.weights:
                self.set(alt, weight, kind)

    def equivalents(self, unit: tuple[str, ...]) -> bool:
        """The glossary's and the alias table's equivalents of the unit; whether it is a name."""
        names = self.v.lexicon.names
        name = False
        for other, weight in self.v.lexicon.lookup(unit).items():
            # an equivalent counts as written: its stem family would stray (custom -> customers)
            kind = "alias" if unit in names and other in names else "glossary"
            name = name or kind == "alias"
            self.term(other, weight, kind, family=False)
        return name

    def translations(self, word: str) -> None:
        """A Chinese word's English words from CC-CEDICT, below the glossary's: each gloss of three
        words or fewer as a phrase (its stop words left out), with the glossary's equivalents of it
        (市盈率 -> "pe ratio" -> p/e), and a phrase's most telling word on its own, lower."""
        v = self.v
        glosses = list(dictionary.translations(word))
        if not glosses:
            glosses = _compound_gloss(v, word)
        for gloss in glosses:
            term = tuple(t for t in words(normalize(gloss)) if t not in STOP_WORDS)
            if not term:
                continue
            self.term(term, DICTIONARY, "translation", family=len(term) == 1)
            if len(term) > 1:  # its most telling word, lower ("underwriting company" -> underwriters)
                head = max(term, key=dictionary.information)
                self.word(v.as_indexed(head), DICTIONARY * 0.7, "translation")
            for other, weight in v.lexicon.lookup(term).items():
                if not _is_chinese_term(other):
                    self.term(other, DICTIONARY * weight, "translation", family=False)

    def english(self, word: str, last: bool) -> None:
        """An English word's completions (the query's last word) and, when nothing stands for it,
        its corrections and, for a long one, the words of its stem's stem."""
        v = self.v
        if last and len(word) >= 2:
            for term in v.prefixed(word, 8):
                if (term,) not in self.weights:
                    self.set((term,), 0.85, "prefix")
        if not self.weights and len(word) >= 5 and word.isalpha() and dictionary.is_rare(word):
            for term, dist in v.typos(word):
                weight = 0.75 if dist == 1 else 0.6
                self.word(term, weight, "typo")
                for other, w in v.lexicon.lookup((term,)).items():
                    self.term(other, weight * w, "typo", family=False)
        s = stem(word)
        if not self.weights and len(s) >= 9:  # oversubscribed -> oversubscription
            for term in v.prefixed(s[:-2], 5):
                if (term,) not in self.weights:
                    self.set((term,), 0.7, "stem")


def _compound_gloss(v: Vocab, word: str) -> list[str]:
    """A compound CC-CEDICT lacks, translated word by word when each of its jieba words has a
    one-word gloss the index holds (赢家诅咒 -> 赢家 winner + 诅咒 curse: "winner curse")."""
    if len(word) > 8:
        return []
    pieces = dictionary.merge(dictionary.segment(word))
    if not 2 <= len(pieces) <= 3:
        return []
    out = []
    for piece in pieces:
        found = None
        for gloss in dictionary.translations(piece):
            if " " not in gloss and v.as_indexed(gloss) in v.df:
                found = v.as_indexed(gloss)
                break
        if found is None:
            return []
        out.append(found)
    return [" ".join(out)]


def _translation_words(v: Vocab, unit: tuple[str, ...], alts: dict) -> dict:
    """The single words of a Chinese word's English phrases (glossary and CC-CEDICT), as
    related words: they rank the facts the word's other index words find, but neither fetch
    nor count on their own (光纤 "optical fiber" -> optical; 基石投资者 "cornerstone
    investors" -> investors)."""
    near: dict[tuple[str, ...], float] = {}
    phrases = [t for t in v.lexicon.lookup(unit) if not _is_chinese_term(t)]
    phrases += [tuple(words(normalize(g))) for g in dictionary.translations(unit[0])]
    for phrase in phrases:
        if len(phrase) < 2:
            continue
        for w in phrase:
            w = v.as_indexed(w)
            if w not in STOP_WORDS and len(w) > 2 and w in v.df and (w,) not in alts:
                near[(w,)] = DICTIONARY * 0.6
    return near


def _related(v: Vocab, unit: tuple[str, ...], alts: dict, kinds: dict, near_words: dict,
             related: bool) -> dict:
    """The words that only rank for the unit: a Chinese word's translation words, and (with
    `related`) the related words of a single word."""
    near: dict[tuple[str, ...], float] = {}
    if len(unit) == 1 and is_cjk(unit[0]):
        near.update(near_words)
        kinds.update((a, "translation") for a in near_words)
    if len(unit) == 1 and related:
        for term, similarity in v.lexicon.related.get(unit[0], ()):
            if term in v.df and (term,) not in alts:
                near[(term,)] = RELATED * similarity
                kinds[(term,)] = "related"
    return near


def _trimmed(v: Vocab, alts: dict, near: dict) -> tuple[dict, dict]:
    """At most MAX_ALTS alternatives: the best words as written first, then the best related."""
    if len(alts) + len(near) <= MAX_ALTS:
        return alts, near
    keep = sorted(alts, key=lambda a: (-alts[a], -min(v.df.get(t, 0) for t in a)))[:MAX_ALTS]
    alts = {a: alts[a] for a in keep}
    near = dict(sorted(near.items(), key=lambda kv: -kv[1])[:max(0, MAX_ALTS - len(alts))])
    return alts, near


def _weight(v: Vocab, alts: dict, near: dict) -> tuple[int, float]:
    """A group's document frequency and idf. A group weighs by the words that stand for it as
    written; by its related words only when it has nothing else. An English word weighs by its
    English alternatives (Chinese titles holding a synonym do not make it common); a Chinese word
    by its English translations when it has any (the facts are English, and a Chinese title word
    is held by every fact of its article)."""
    english = [alt for alt in (alts or near) if not is_cjk(alt[0])]
    own = english or list(alts or near)
    df = min(v.n_facts, sum(min(v.df.get(t, 0) for t in alt) for alt in own))
    idf = math.log(1 + (v.n_facts - df + 0.5) / (df + 0.5))
    return df, idf


def group(v: Vocab, unit: tuple[str, ...], last: bool, related: bool = False) -> Group:
    """The group of a unit; with `related`, also the words related to it (always for a word no
    index word stands for)."""
    found = _Alts(v)
    found.term(unit, 1.0, "exact")
    name = found.equivalents(unit)
    near_words: dict = {}
    if len(unit) == 1 and is_cjk(unit[0]):
        found.translations(unit[0])
        near_words = _translation_words(v, unit, found.weights)
    if len(unit) == 1 and not is_cjk(unit[0]):
        found.english(unit[0], last)
    alts, kinds = found.weights, found.kinds
    lexical = bool(alts)
    near = _related(v, unit, alts, kinds, near_words, related or not lexical)
    alts, near = _trimmed(v, alts, near)
    df, idf = _weight(v, alts, near)
    info, distinctive = information(unit, name)
    return Group(" ".join(unit), {**alts, **near}, found.cjk, df, idf, related=frozenset(near), lexical=lexical,
                 kinds={a: kinds[a] for a in {**alts, **near}}, info=info, distinctive=distinctive)


# the words of a query ------------------------------------------------------------------
def tokens(v: Vocab, text: str) -> list[str]:
    """The query's words without conversation words; Chinese runs cut into the words the index
    and the lexicon know. A Chinese run that holds none of them stays whole (it is missing)."""
    conversation = v.lexicon.conversation
    out: list[str] = []
    for tok in conversation.strip_words(words(text)):
        if not is_cjk(tok):
            out.append(tok)
            continue
        filler = dictionary.chinese_filler()
        for piece in conversation.strip_cjk(tok):
            if piece in filler and (piece,) not in v.lexicon.equivalents:
                continue  # 多少, 什么: the question around what it asks
            out.extend(segment(v, piece) or [piece])
    return out


def segment(v: Vocab, run: str) -> list[str]:
    """A Chinese run cut into words. A run the index holds whole (all its 2-character words)
    stays whole; else jieba cuts it (the glossary's and the alias table's Chinese terms kept
    whole: 赛力斯暴跌 -> 赛力斯, 暴跌; neighbours joined where CC-CEDICT has the joined word),
    and its function and question words (stopwords-iso: 的, 吗, 多少) and single characters
    the lexicon does not know drop out. A run none of whose words the lexicon, the index or
    CC-CEDICT's translations know stays whole: it is one missing word."""
    if len(run) <= 2 or (run,) in v.lexicon.equivalents or all(p in v.df for p in bigrams(run)):
        return [run]
    filler = dictionary.chinese_filler()
    out = []
    for word in dictionary.merge(dictionary.segment(run)):
        known = (word,) in v.lexicon.equivalents
        if not known and (word in filler or len(word) == 1):
            continue
        out.append(word)
    if not any(v.known_cjk(w) for w in out):
        return [run]
    return out


def units(v: Vocab, tokens: list[str], longest: int | None = None) -> list[tuple[str, ...]]:
    """Tokens joined into the glossary's phrases ("total cost of ownership"), longest first."""
    longest = v.lexicon.longest if longest is None else longest
    out: list[tuple[str, ...]] = []
    i = 0
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 1, -1):
            key = tuple(tokens[i:i + size])
            if key in v.lexicon.equivalents:
                out.append(key)
                i += size
                break
        else:
            out.append((tokens[i],))
            i += 1
    return list(dict.fromkeys(out))


def unit_groups(v: Vocab, unit: tuple[str, ...], last: bool, related: bool) -> list[Group]:
    """The group of a unit; a glossary phrase that nothing in the index stands for is planned
    as its shorter phrases and words instead ("optical devices" -> optical, device(s))."""
    g = group(v, unit, last, related)
    if g.alts or len(unit) == 1:
        return [g]
    parts = [p for p in units(v, list(unit), longest=len(unit) - 1) if not is_stop(p)]
    return [sub for i, part in enumerate(parts)
            for sub in unit_groups(v, part, last and i == len(parts) - 1, related)]


# the plan ------------------------------------------------------------------------------
def _groups(v: Vocab, query: str) -> tuple[list[Group], bool]:
    """The query's groups (at most MAX_GROUPS, a pasted paragraph's most telling known words),
    and whether it is a question in the user's own words."""
    text = normalize(query[:MAX_QUERY_CHARS])
    found = units(v, tokens(v, text))

    content = [u for u in found if not is_stop(u)] or found
    prefix_ok = bool(text) and not text[-1].isspace()
    # a question in the user's own words: every word also brings its related words
    question = len(content) >= LONG_QUERY
    groups = []
    for u in content:
        groups.extend(unit_groups(v, u, last=prefix_ok and u == content[-1], related=question))
    if len(groups) > MAX_GROUPS:  # a pasted paragraph: keep its most telling known words
        keep = set(map(id, sorted(groups, key=lambda g: (not g.lexical, -g.idf))[:MAX_GROUPS]))
        groups = [g for g in groups if id(g) in keep]
    return groups, question


NAMING = ("exact", "alias", "typo")  # how a query word stands for an entity's key to name it


def named(v: Vocab, groups: list[Group]) -> list[str]:
    """The entities (their names) the groups name: a word that is an entity's key as written,
    corrected, or as the other name of it (库克斯利 -> quuxly), in the query's order."""
    out: list[str] = []
    for g in groups:
        for alt, kind in g.kinds.items():
            if len(alt) == 1 and alt[0] in v.entities and kind in NAMING and alt not in g.related:
                out.append(v.entities[alt[0]])
    return list(dict.fromkeys(out))


def plan(v: Vocab, query: str) -> Plan:
    """The query's plan against this vocabulary, with the entities it names."""
    p = _plan(v, query)
    p.named = named(v, p.groups)
    return p


def _plan(v: Vocab, query: str) -> Plan:
    groups, question = _groups(v, query)
    missing = [g.surface for g in groups if not g.lexical]
    known = [g for g in groups if g.lexical]
    info = sum(g.info for g in groups)
    # what the question is about is not in the digests: a name or rare word no fact holds,
    # while the words that facts do hold are all common ones ("who is the ceo of ford")
    refused = any(g.distinctive and not g.lexical for g in groups) and \
        not any(g.distinctive and g.lexical for g in groups)
    if refused:
        return Plan([g for g in groups if g.alts], missing, question, info, refused=True)
    if known and len(known) >= len(missing):
        # as many words that facts hold as words none does: answer from the known ones (the
        # related words of the others still help to rank, but not to reach the threshold)
        for g in groups:
            g.counts = g.lexical
        return Plan([g for g in groups if g.alts], missing, question, info)
    if len(groups) >= LONG_QUERY and known:
        # in a question or a pasted sentence a word the index lacks is one word among many,
        # not the rarest of all: it weighs like the average known word
        average = sum(g.idf for g in known) / len(known)
        for g in groups:
            if not g.lexical:
                g.idf = average
    return Plan(groups, missing, question, info)
