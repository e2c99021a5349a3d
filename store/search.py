"""Search: turn a query into word groups, fetch candidates from FTS5, re-score them, cut at confidence.

1. Plan. The query is normalised (`store.text.normalize`) and split into words; glossary phrases
   ("total cost of ownership") stay together; stop words drop out (unless nothing else is left).
   Each remaining word becomes a *group* of index words that may stand for it, each with a weight:
   the word itself (1.0), its stem family from the index vocabulary (margin -> margins, 0.95), the
   other name of a company (赛力斯 -> seres, 0.95), glossary equivalents (capex -> capital
   expenditure, 0.8), completions of the last word (0.85), and corrections of a word the index
   does not know, with Meilisearch's rules (none under 5 letters, 1 from 5, 2 from 9, a swap of two
   letters counts as one: 0.75 / 0.6). Chinese runs match as their 2-character index words.
2. Candidates. FTS5 returns the newest facts holding every group (`ORDER BY rowid DESC LIMIT`: fact
   ids grow with publication time, and FTS5 walks its doclists backwards without ranking every
   match). A common group is left out of the statement once the rarer ones narrow the facts down to
   a handful (scoring checks it anyway): long doclists are what make FTS5 slow. When too few facts
   hold everything, groups are dropped, most common first, while the rest could still reach the
   confidence threshold. Every statement is bounded, so common words cannot make a query slow.
   Pages are slices of one order: the first fetch ranked, then what a fetch GROWTH times larger
   adds, ranked after it, and so on (`Searcher._ranked`); no fetch depends on the page asked for.
3. Score. Each candidate's words are checked against every group: coverage is the share of the
   query's weight (inverse document frequency x match weight) the fact holds; then words found in
   the fact's own text, in its heading or title, exactness, query words side by side in the fact,
   how often the fact says them (saturating, as in BM25), rapidfuzz's partial-ratio similarity of
   query and fact, and recency as the tie-breaker. Nothing
   above the confidence threshold means no results.
"""
from __future__ import annotations

import bisect
import itertools
import json
import math
import re
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from store import dictionary
from store import lexicon as lexicon_mod
from store.model import ArticleInfo, merge_spans
from store.semantic import Reranker
from store.text import CJK_RE, bigrams, doc_terms, is_cjk, normalize, stem, words

MAX_QUERY_CHARS = 2000
MAX_GROUPS = 10
LONG_QUERY = 4  # groups from which a query counts as a question or pasted text
MAX_ALTS = 12
CANDIDATES = 20  # rows fetched by one FTS5 statement of the first fetch
FIRST_WANT = 6  # candidates the first fetch gathers (dropping groups) before it stops: a page and one
GROWTH = 5  # each further fetch takes this many times more rows per statement
FETCHES = 4  # at most: 20, 100, 500, 2,500 rows per statement (the last page of a query ends there)
MAX_STATEMENTS = 8  # per fetch
NARROW_ENOUGH = 20  # expected facts left, under word independence, to stop adding common groups
COMMON_SHARE = 0.02
RELATED = 0.8  # weight of a related word (store/data/related-words.txt), times its similarity  # a group in more than this share of the facts is common
# a question in the user's own words rephrases what the facts say: of its information a fact
# must hold half the share a keyword query's must (store/dictionary.py information)
QUESTION_INFO_SHARE = 0.2
SEMANTIC_TOP = 10  # candidates of a fetch that get the semantic bonus (store/semantic.py)
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
class Hit:
    id: int
    text: str
    section: str
    citations: list[int]
    score: float
    article: ArticleInfo
    position: int = 0
    spans: list[tuple[int, int]] = field(default_factory=list)
    # why it matched: for each query word the fact holds, how ({"word", "how", "as"}); "how" is
    # exact, stem, alias, prefix, typo, glossary, translation, related or semantic
    matched: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"text": self.text, "section": self.section, "citations": list(self.citations),
                "score": self.score, "matched": [dict(m) for m in self.matched],
                "article": {"title": self.article.title, "source": self.article.source,
                            "published": self.article.published, "file": self.article.file}}


@dataclass
class SearchResult:
    query: str
    took_ms: float
    hits: list[Hit]
    has_more: bool = False
    missing: list[str] = field(default_factory=list)  # query words no fact holds

    def to_json(self) -> dict:
        return {"query": self.query, "took_ms": round(self.took_ms, 3),
                "missing": list(self.missing), "results": [h.to_json() for h in self.hits]}


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


@dataclass
class Plan:
    """What a query asks for: its word groups, and the words no fact holds (left out of `groups`
    when the words that do are enough to answer from)."""

    groups: list[Group]
    missing: list[str]
    question: bool = False  # four content words or more: a question in the user's own words
    info: float = 0.0  # the information of all the query's words, those no fact holds included
    refused: bool = False  # a distinctive word no fact holds, and no distinctive word that one does


@dataclass
class _Vocab:
    """A snapshot of the index vocabulary and what is derived from it (shared by all threads)."""

    generation: int
    n_facts: int
    df: dict[str, int]
    sorted_terms: list[str]
    by_length: dict[int, list[str]]
    lexicon: lexicon_mod.Lexicon
    cjk_keys: list[str]


def _is_stop(unit: tuple[str, ...]) -> bool:
    return len(unit) == 1 and (unit[0] in STOP_WORDS or (len(unit[0]) == 1 and unit[0].isascii() and unit[0].isalpha()))


def _is_chinese_term(t: tuple[str, ...]) -> bool:
    return any(not w.isascii() for w in t)


def _information(unit: tuple[str, ...], alias: bool) -> tuple[float, bool]:
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


def _fts_quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _alt_expr(alt: tuple[str, ...]) -> str:
    return _fts_quote(alt[0]) if len(alt) == 1 else "(" + " AND ".join(map(_fts_quote, alt)) + ")"


def _group_expr(group: Group) -> str:
    """The group as an FTS5 expression: the words that stand for it as written (related words
    only rank the candidates these find, they do not fetch any)."""
    return "(" + " OR ".join(_alt_expr(a) for a in group.alts if a not in group.related) + ")"


def _threshold(groups: list[Group]) -> float:
    """The share of the query's weight a fact must hold to be an answer at all."""
    return 0.5 if len(groups) <= 2 else 0.4


def _floor(groups: list[Group]) -> float:
    """The weight a fact must hold, in words as written (related words help ranking only)."""
    counted = [g for g in groups if g.counts]
    return _threshold(counted) * sum(g.idf for g in counted) if counted else math.inf


@lru_cache(maxsize=4096)
def _word_re(token: str) -> re.Pattern:
    return re.compile(r"(?<![^\W_])" + re.escape(token) + r"(?![^\W_])", re.IGNORECASE)


@dataclass
class _Features:
    """What scoring knows of one candidate fact (weights are sums of idf x match weight)."""

    fid: int
    published: str
    row: tuple
    norm: str  # the fact's normalised text
    matched: float = 0.0  # the query's weight the fact holds, in its text, heading or title
    lexical: float = 0.0  # ... not counting related words
    in_text: float = 0.0  # ... in its own text
    heading: float = 0.0  # ... in its heading or title
    exact: float = 0.0  # ... as written (or as the other name of the same thing)
    frequency: float = 0.0  # how often the text says them, saturating
    adjacent: float = 0.0  # share of the query's word pairs side by side in the text
    info: float = 0.0  # the query's information (store/dictionary.py) the fact holds, x match weight
    matches: list = field(default_factory=list)  # (query word, how, index words) per group it holds

    def score(self, total: float, similarity: float) -> float:
        return ((0.55 * self.matched + 0.1 * self.in_text + 0.05 * min(self.heading, self.matched)
                 + 0.05 * self.exact + 0.05 * self.frequency) / total
                + 0.1 * similarity / 100 + 0.05 * self.adjacent)


def _match_plans(groups: list[Group]) -> list[tuple[float, Group, list]]:
    """Per group: its idf, the group, and its alternatives, best first, each with the Chinese run
    it must hold, whether it is only a related word, and how it stands for the word."""
    return [(g.idf, g, sorted(((w, alt, g.cjk.get(alt), alt in g.related, g.kinds.get(alt, "exact"))
                               for alt, w in g.alts.items()), key=lambda a: a[:2], reverse=True))
            for g in groups]


def _explain(f: "_Features", semantic: float) -> list[dict]:
    """How each query word matched a fact, for `ask --json` (a Chinese word's index words are
    shown as the run they stand for)."""
    out = []
    for surface, kind, alt in f.matches:
        shown = " ".join(alt)
        out.append({"word": surface, "how": kind, "as": shown})
    if semantic:
        out.append({"word": "*", "how": "semantic", "bonus": round(semantic, 4)})
    return out


def _similarity(query_text: str, texts: list[str]) -> list[float]:
    """rapidfuzz's partial-ratio similarity of the query and each text, in one call."""
    similarity = [0.0] * len(texts)
    for _, sim, i in process.extract(query_text, texts, scorer=fuzz.partial_ratio, limit=None):
        similarity[i] = float(sim)
    return similarity


class Searcher:
    def __init__(self, index):
        self.index = index
        self._vocab: _Vocab | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._heading_cache: dict[tuple[int, str], tuple[set[str], str]] = {}
        self._reranker = Reranker() if getattr(index, "semantic", False) else None
        dictionary.warm()  # once per process: a searcher's first question does not pay for it

    # vocabulary snapshot ---------------------------------------------------------------
    def _current(self, conn) -> _Vocab:
        """The vocabulary for the index as this connection sees it; reloaded after a reload. The
        shared snapshot only moves forward: a thread whose read snapshot predates a newer reload
        keeps the newer vocabulary another thread loaded (a word it lacks simply matches nothing)."""
        data_version = conn.execute("PRAGMA data_version").fetchone()[0]
        if self._vocab is not None and getattr(self._local, "data_version", None) == data_version:
            return self._vocab
        generation = conn.execute("SELECT coalesce(max(id), 0) FROM reloads").fetchone()[0]
        with self._lock:
            if self._vocab is None or self._vocab.generation < generation:
                self._vocab = self._load_vocab(conn, generation, self.index.glossary_files,
                                               self.index.alias_files, self.index.related_words)
                self._heading_cache = {}
        self._local.data_version = data_version
        return self._vocab

    @staticmethod
    def _load_vocab(conn, generation: int, glossary_files=(), alias_files=(), related_words=True) -> _Vocab:
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
        return _Vocab(generation, max(n_facts, 1), df, sorted(df), by_length, lex, lex.cjk_keys())

    def warm(self) -> None:
        """Load the vocabulary, the word resources (store/dictionary.py) and the semantic model
        now, so that the first query does not pay for them."""
        dictionary.warm()
        if self._reranker is not None:
            self._reranker.model()
        conn = self.index.conn()
        conn.execute("BEGIN")
        try:
            self._current(conn)
        finally:
            conn.execute("COMMIT")

    # planning --------------------------------------------------------------------------
    def _prefixed(self, v: _Vocab, prefix: str, limit: int) -> list[str]:
        i = bisect.bisect_left(v.sorted_terms, prefix)
        out = []
        for term in itertools.islice(v.sorted_terms, i, i + 400):
            if not term.startswith(prefix):
                break
            out.append(term)
        if len(out) > limit:
            out = sorted(out, key=lambda t: -v.df[t])[:limit]
        return out

    def _typos(self, v: _Vocab, word: str) -> list[tuple[str, int]]:
        allowed = 2 if len(word) >= 9 else 1
        pool: list[str] = []
        for length in range(len(word) - allowed, len(word) + allowed + 1):
            pool.extend(v.by_length.get(length, ()))
        if not pool:
            return []
        found = process.extract(word, pool, scorer=OSA.distance, score_cutoff=allowed, limit=20)
        found.sort(key=lambda m: (m[1], -v.df.get(m[0], 0)))
        return [(term, dist) for term, dist, _ in found[:5]]

    @staticmethod
    def _set(alts: dict, kinds: dict, alt: tuple[str, ...], weight: float, kind: str) -> None:
        """Record `alt` at `weight` (and how it stands for the word) unless it has a higher one."""
        if alts.get(alt, 0) < weight:
            alts[alt] = weight
            kinds[alt] = kind

    def _add_word(self, v: _Vocab, alts: dict, kinds: dict, word: str, weight: float, kind: str,
                  family: bool = True) -> None:
        """The word and (unless `family` is off) its stem family, as index words."""
        if word in v.df:
            self._set(alts, kinds, (word,), weight, kind)
        s = stem(word)
        if family and len(s) >= 3 and word.isascii() and word.isalpha():
            for term in self._prefixed(v, s, 30):
                if term != word and stem(term) == s:
                    self._set(alts, kinds, (term,), weight * 0.95, "stem" if kind == "exact" else kind)

    def _add_cjk(self, v: _Vocab, alts: dict, kinds: dict, cjk: dict, run: str, weight: float,
                 kind: str) -> None:
        if len(run) == 1:
            for term in self._prefixed(v, run, 10):
                if (term,) not in alts:
                    self._set(alts, kinds, (term,), weight * 0.85, "prefix")
            return
        alt = tuple(dict.fromkeys(bigrams(run)))
        if all(t in v.df for t in alt) and alts.get(alt, 0) < weight:
            self._set(alts, kinds, alt, weight, kind)
            cjk[alt] = run

    def _add_term(self, v: _Vocab, alts: dict, kinds: dict, cjk: dict, term: tuple[str, ...],
                  weight: float, kind: str, family: bool = True) -> None:
        if len(term) == 1:
            if is_cjk(term[0]):
                self._add_cjk(v, alts, kinds, cjk, term[0], weight, kind)
            else:
                self._add_word(v, alts, kinds, term[0], weight, kind, family)
        else:
            flat: list[str] = []
            for t in term:
                flat.extend(bigrams(t) if is_cjk(t) else [self._as_indexed(v, t)])
            if all(t in v.df for t in flat):
                alt = tuple(dict.fromkeys(flat))
                if alt not in alts:
                    self._set(alts, kinds, alt, weight, kind)

    def _as_indexed(self, v: _Vocab, word: str) -> str:
        """The word if the index holds it, else the most common index word of its stem family
        ("profit margin" -> profit margins); the word itself when neither."""
        if word in v.df or not (word.isascii() and word.isalpha()):
            return word
        s = stem(word)
        family = [t for t in self._prefixed(v, s, 30) if stem(t) == s] if len(s) >= 3 else []
        return max(family, key=lambda t: v.df[t]) if family else word

    def _add_translations(self, v: _Vocab, alts: dict, kinds: dict, cjk: dict, word: str) -> None:
        """A Chinese word's English words from CC-CEDICT, below the glossary's: each gloss of three
        words or fewer as a phrase (its stop words left out), with the glossary's equivalents of it
        (市盈率 -> "pe ratio" -> p/e), and a phrase's most telling word on its own, lower."""
        glosses = list(dictionary.translations(word))
        if not glosses:
            glosses = self._compound_gloss(v, word)
        for gloss in glosses:
            term = tuple(t for t in words(normalize(gloss)) if t not in STOP_WORDS)
            if not term:
                continue
            self._add_term(v, alts, kinds, cjk, term, DICTIONARY, "translation", family=len(term) == 1)
            if len(term) > 1:  # its most telling word, lower ("underwriting company" -> underwriters)
                head = max(term, key=dictionary.information)
                self._add_word(v, alts, kinds, self._as_indexed(v, head), DICTIONARY * 0.7, "translation")
            for other, weight in v.lexicon.lookup(term).items():
                if not _is_chinese_term(other):
                    self._add_term(v, alts, kinds, cjk, other, DICTIONARY * weight, "translation", family=False)

    def _compound_gloss(self, v: _Vocab, word: str) -> list[str]:
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
                if " " not in gloss and self._as_indexed(v, gloss) in v.df:
                    found = self._as_indexed(v, gloss)
                    break
            if found is None:
                return []
            out.append(found)
        return [" ".join(out)]

    def _translation_words(self, v: _Vocab, unit: tuple[str, ...], alts: dict) -> dict:
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
                w = self._as_indexed(v, w)
                if w not in STOP_WORDS and len(w) > 2 and w in v.df and (w,) not in alts:
                    near[(w,)] = DICTIONARY * 0.6
        return near

    def _group(self, v: _Vocab, unit: tuple[str, ...], last: bool, related: bool = False) -> Group:
        """The group of a unit; with `related`, also the words related to it (always for a word no
        index word stands for)."""
        alts: dict[tuple[str, ...], float] = {}
        kinds: dict[tuple[str, ...], str] = {}
        cjk: dict[tuple[str, ...], str] = {}
        self._add_term(v, alts, kinds, cjk, unit, 1.0, "exact")
        name = False
        near_words: dict = {}
        for other, weight in v.lexicon.lookup(unit).items():
            # an equivalent counts as written: its stem family would stray (custom -> customers)
            kind = "alias" if unit in v.lexicon.names and other in v.lexicon.names else "glossary"
            name = name or kind == "alias"
            self._add_term(v, alts, kinds, cjk, other, weight, kind, family=False)
        if len(unit) == 1 and is_cjk(unit[0]):
            self._add_translations(v, alts, kinds, cjk, unit[0])
            near_words = self._translation_words(v, unit, alts)
        if len(unit) == 1 and not is_cjk(unit[0]):
            word = unit[0]
            if last and len(word) >= 2:
                for term in self._prefixed(v, word, 8):
                    if (term,) not in alts:
                        self._set(alts, kinds, (term,), 0.85, "prefix")
            if not alts and len(word) >= 5 and word.isalpha():
                for term, dist in self._typos(v, word):
                    weight = 0.75 if dist == 1 else 0.6
                    self._add_word(v, alts, kinds, term, weight, "typo")
                    for other, w in v.lexicon.lookup((term,)).items():
                        self._add_term(v, alts, kinds, cjk, other, weight * w, "typo", family=False)
            s = stem(word)
            if not alts and len(s) >= 9:  # oversubscribed -> oversubscription
                for term in self._prefixed(v, s[:-2], 5):
                    if (term,) not in alts:
                        self._set(alts, kinds, (term,), 0.7, "stem")
        lexical = bool(alts)
        near: dict[tuple[str, ...], float] = {}
        if len(unit) == 1 and is_cjk(unit[0]):
            near.update(near_words)
            kinds.update((a, "translation") for a in near_words)
        if len(unit) == 1 and (related or not lexical):
            for term, similarity in v.lexicon.related.get(unit[0], ()):
                if term in v.df and (term,) not in alts:
                    near[(term,)] = RELATED * similarity
                    kinds[(term,)] = "related"
        if len(alts) + len(near) > MAX_ALTS:
            keep = sorted(alts, key=lambda a: (-alts[a], -min(v.df.get(t, 0) for t in a)))[:MAX_ALTS]
            alts = {a: alts[a] for a in keep}
            near = dict(sorted(near.items(), key=lambda kv: -kv[1])[:max(0, MAX_ALTS - len(alts))])
        # a group weighs by the words that stand for it as written; by its related words only when
        # it has nothing else
        # An English word weighs by its English alternatives (Chinese titles holding a synonym do
        # not make it common); a Chinese word by its English translations when it has any (the
        # facts are English, and a Chinese title word is held by every fact of its article)
        english = [alt for alt in (alts or near) if not is_cjk(alt[0])]
        own = english or list(alts or near)
        df = min(v.n_facts, sum(min(v.df.get(t, 0) for t in alt) for alt in own))
        idf = math.log(1 + (v.n_facts - df + 0.5) / (df + 0.5))
        info, distinctive = _information(unit, name)
        return Group(" ".join(unit), {**alts, **near}, cjk, df, idf, related=frozenset(near), lexical=lexical,
                     kinds={a: kinds[a] for a in {**alts, **near}}, info=info, distinctive=distinctive)

    def _tokens(self, v: _Vocab, text: str) -> list[str]:
        """The query's words without conversation words; Chinese runs cut into the words the index
        and the lexicon know. A Chinese run that holds none of them stays whole (it is missing)."""
        conversation = v.lexicon.conversation
        tokens: list[str] = []
        for tok in conversation.strip_words(words(text)):
            if not is_cjk(tok):
                tokens.append(tok)
                continue
            filler = dictionary.chinese_filler()
            for piece in conversation.strip_cjk(tok):
                if piece in filler and (piece,) not in v.lexicon.equivalents:
                    continue  # 多少, 什么: the question around what it asks
                tokens.extend(self._segment(v, piece) or [piece])
        return tokens

    def _segment(self, v: _Vocab, run: str) -> list[str]:
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
        if not any(self._known_cjk(v, w) for w in out):
            return [run]
        return out

    def _known_cjk(self, v: _Vocab, word: str) -> bool:
        if (word,) in v.lexicon.equivalents or all(p in v.df for p in bigrams(word)):
            return True
        return any(all(t in v.df for t in words(normalize(g))) for g in dictionary.translations(word))

    def _units(self, v: _Vocab, tokens: list[str], longest: int | None = None) -> list[tuple[str, ...]]:
        """Tokens joined into the glossary's phrases ("total cost of ownership"), longest first."""
        longest = v.lexicon.longest if longest is None else longest
        units: list[tuple[str, ...]] = []
        i = 0
        while i < len(tokens):
            for size in range(min(longest, len(tokens) - i), 1, -1):
                key = tuple(tokens[i:i + size])
                if key in v.lexicon.equivalents:
                    units.append(key)
                    i += size
                    break
            else:
                units.append((tokens[i],))
                i += 1
        return list(dict.fromkeys(units))

    def _unit_groups(self, v: _Vocab, unit: tuple[str, ...], last: bool, related: bool) -> list[Group]:
        """The group of a unit; a glossary phrase that nothing in the index stands for is planned
        as its shorter phrases and words instead ("optical devices" -> optical, device(s))."""
        group = self._group(v, unit, last, related)
        if group.alts or len(unit) == 1:
            return [group]
        parts = [p for p in self._units(v, list(unit), longest=len(unit) - 1) if not _is_stop(p)]
        return [g for i, part in enumerate(parts)
                for g in self._unit_groups(v, part, last and i == len(parts) - 1, related)]

    def plan(self, v: _Vocab, query: str) -> Plan:
        text = normalize(query[:MAX_QUERY_CHARS])
        units = self._units(v, self._tokens(v, text))

        content = [u for u in units if not _is_stop(u)] or units
        prefix_ok = bool(text) and not text[-1].isspace()
        # a question in the user's own words: every word also brings its related words
        question = len(content) >= LONG_QUERY
        groups = []
        for u in content:
            groups.extend(self._unit_groups(v, u, last=prefix_ok and u == content[-1], related=question))
        if len(groups) > MAX_GROUPS:  # a pasted paragraph: keep its most telling known words
            keep = set(map(id, sorted(groups, key=lambda g: (not g.lexical, -g.idf))[:MAX_GROUPS]))
            groups = [g for g in groups if id(g) in keep]
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

    # candidates ------------------------------------------------------------------------
    def _candidates(self, conn, groups: list[Group], want: int, n_facts: int,
                    per_statement: int = CANDIDATES) -> tuple[list[int], bool]:
        """The newest facts holding the groups (or, while fewer than `want` are found, the rarer
        ones), at most `per_statement` per FTS5 statement; and whether that is every candidate
        there is (no statement was cut by its limit and `want` was not reached: a larger fetch
        would find the same)."""
        active = sorted((g for g in groups if g.lexical and g.alts and g.df > 0), key=lambda g: g.df)
        if not active:
            return [], True
        found: dict[int, None] = {}
        cut = False
        statements: set[tuple[int, ...]] = set()
        floor = _floor(groups)

        def narrowed(combo: tuple[int, ...]) -> tuple[int, ...]:
            """The groups worth sending to FTS5: rarest first, leaving out a common group once the
            rarer ones already narrow the facts down to a handful (scoring checks it anyway);
            a common word costs FTS5 a long doclist walk, which is what makes queries slow."""
            kept: list[int] = []
            expected = float(n_facts)
            for i in combo:  # combos are in ascending df order
                g = active[i]
                if kept and expected <= NARROW_ENOUGH and g.df > n_facts * COMMON_SHARE:
                    continue
                kept.append(i)
                expected *= g.df / n_facts
            return tuple(kept)

        def run(combo: tuple[int, ...]) -> None:
            nonlocal cut
            if sum(active[i].idf for i in combo) < floor:
                return  # facts holding only these groups could not reach the confidence threshold
            sent = narrowed(combo)
            if sent in statements or len(statements) >= MAX_STATEMENTS:
                return
            statements.add(sent)
            expr = " AND ".join(_group_expr(active[i]) for i in sent)
            rows = conn.execute(
                "SELECT rowid FROM facts_fts WHERE facts_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
                (expr, per_statement)).fetchall()
            cut = cut or len(rows) >= per_statement
            for (rowid,) in rows:
                found.setdefault(rowid, None)

        n = len(active)
        run(tuple(range(n)))
        size = n - 1
        while len(found) < want and size >= 1:
            if n <= 4:
                combos = itertools.combinations(range(n), size)
            else:  # drop the most common first; beyond one drop, keep the rarest
                combos = [tuple(i for i in range(n) if i != drop) for drop in reversed(range(n))] \
                    if size == n - 1 else [tuple(range(size))]
            for combo in combos:
                run(combo)
                if len(found) >= want:
                    break
            size -= 1
        return list(found), not cut and len(found) < want

    # scoring ---------------------------------------------------------------------------
    def _heading_terms(self, aid: int, title: str, source: str, section: str) -> tuple[set[str], str]:
        """A fact's section heading with its article's title and source: index words and
        normalised text (cached: many facts share them)."""
        key = (aid, section)
        cached = self._heading_cache.get(key)
        if cached is None:
            if len(self._heading_cache) > 50_000:
                self._heading_cache.clear()
            joined = f"{section}\n{title}\n{source}"
            cached = (doc_terms(joined), normalize(joined))
            self._heading_cache[key] = cached
        return cached

    def search(self, query: str, limit: int = 5, offset: int = 0) -> SearchResult:
        started = time.perf_counter()
        limit = max(1, min(int(limit), 50))
        offset = max(0, int(offset))
        conn = self.index.conn()
        conn.execute("BEGIN")  # one snapshot for the whole search, even while a reload commits
        try:
            v = self._current(conn)
            plan = self.plan(v, query)
            groups = plan.groups
            ranked = [] if plan.refused else self._ranked(
                conn, v, groups, offset + limit + 1, query if plan.question else None, plan.info)
        finally:
            conn.execute("COMMIT")
        page = ranked[offset:offset + limit]
        hits = [self._hit(groups, row, score, matched) for score, row, matched in page]
        took = (time.perf_counter() - started) * 1000
        return SearchResult(query, took, hits, has_more=len(ranked) > offset + limit, missing=plan.missing)

    def _ranked(self, conn, v: _Vocab, groups: list[Group], need: int,
                question: str | None = None, info: float = 0.0) -> list[tuple[float, tuple, list]]:
        """The query's answers in one fixed order, at least `need` of them when there are that
        many: the first fetch's candidates ranked, then those a fetch GROWTH times larger adds,
        ranked, and so on, until a fetch finds every candidate there is, or adds no answer (facts
        further down would not answer either), or FETCHES were made. Which facts each fetch
        brings depends on the query and the index only, never on the page asked for, so every
        page is a slice of the same order: no fact twice, none skipped."""
        ranked: list[tuple[float, tuple, list]] = []
        seen: set[int] = set()
        want, per_statement = FIRST_WANT, CANDIDATES
        for fetch in range(FETCHES):
            ids, complete = self._candidates(conn, groups, want, v.n_facts, per_statement)
            new = [i for i in ids if i not in seen]
            seen.update(new)
            # the semantic bonus reorders the head of the ranking: the first fetch's answers
            answers = self._rank(groups, self._rows(conn, new), question, v.generation, info,
                                 rerank=fetch == 0)
            ranked.extend(answers)
            if complete or not answers or len(ranked) >= need:
                break
            per_statement *= GROWTH
            want = per_statement
        return ranked

    @staticmethod
    def _rows(conn, ids: list[int]) -> list[tuple]:
        rows: list[tuple] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows.extend(conn.execute(
                "SELECT f.id, f.text, f.section, f.citations, f.position, a.id, a.title, a.source,"
                " a.published, a.file FROM facts f JOIN articles a ON a.id = f.article_id"
                f" WHERE f.id IN ({','.join('?' * len(chunk))})", chunk))
        return rows

    def _rank(self, groups: list[Group], rows: list, question: str | None = None,
              generation: int = 0, info: float = 0.0, rerank: bool = True) -> list[tuple[float, tuple, list]]:
        """Candidates that reach the confidence threshold, best first: (score, row, how each query
        word matched). Two thresholds: the share of the query's weight in the index (idf) a fact
        must hold, and the share of its `info`, the information in general text of all its words,
        those no fact holds included (a fact about "capacity" does not answer "capacity of the
        stadium"). For a `question`, each also gets its semantic similarity bonus
        (store/semantic.py)."""
        if not groups or not rows:
            return []
        total = sum(g.idf for g in groups) or 1.0
        floor = _floor(groups)
        info_floor = (QUESTION_INFO_SHARE if question else _threshold(groups)) * info
        plans = _match_plans(groups)
        pairs = [f"{a.surface} {b.surface}" for a, b in zip(groups, groups[1:])
                 if a.surface.isascii() and b.surface.isascii()]
        passing = []
        for row in rows:
            features = self._features(plans, pairs, row)
            if features is not None and features.lexical >= floor and features.info >= info_floor:
                passing.append(features)
        if not passing:
            return []
        similarity = _similarity(" ".join(g.surface for g in groups), [f.norm for f in passing])
        lexical = [f.score(total, sim) for f, sim in zip(passing, similarity)]
        bonus = [0.0] * len(passing)
        if question and rerank and self._reranker is not None:
            # only the best SEMANTIC_TOP by the lexical score are embedded: the bonus reorders the
            # head of the ranking, and its cost stays bounded however many facts pass (the order
            # still depends on the query and the index only: pages stay slices of one order)
            top = sorted(range(len(passing)), key=lambda i: (lexical[i], passing[i].published, -passing[i].fid),
                         reverse=True)[:SEMANTIC_TOP]
            got = self._reranker.bonuses(generation, question, [(passing[i].fid, passing[i].row[1]) for i in top])
            for i, b in zip(top, got):
                bonus[i] = b
        scored = [(round(lex + b, 4), f.published, -f.fid, f.row, _explain(f, b))
                  for f, lex, b in zip(passing, lexical, bonus)]
        # ties: the newer article first, then the article's earlier (more general) fact
        scored.sort(key=lambda s: (s[0], s[1], s[2]), reverse=True)
        return [(s[0], s[3], s[4]) for s in scored]

    def _features(self, plans: list, pairs: list[str], row: tuple) -> "_Features | None":
        """How one candidate fact holds the query's groups (None when it holds none)."""
        fid, text, section, _c, _p, aid, title, source, published, _f = row
        norm = normalize(text)
        tokens = words(norm)
        text_terms = doc_terms(text) if CJK_RE.search(norm) else set(tokens)
        heading_terms, heading_norm = self._heading_terms(aid, title, source, section)
        f = _Features(fid, published, row, norm)
        in_body_alts: list[tuple[float, tuple[str, ...]]] = []
        for idf, group, alts in plans:
            best, body_best, body_alt, heading_best, lexical = 0.0, 0.0, (), 0.0, 0.0
            how = None
            for weight, alt, run, related, kind in alts:
                if weight <= best and weight <= body_best:
                    break
                in_body = all(t in text_terms for t in alt)
                if not in_body and not all(t in text_terms or t in heading_terms for t in alt):
                    continue
                if run and run not in heading_norm and run not in norm:
                    weight *= 0.6  # the characters are there, but not side by side
                if weight > best:
                    best, how = weight, (group.surface, kind, (run,) if run else alt)
                if not related:
                    lexical = max(lexical, weight)
                if in_body and weight > body_best:
                    body_best, body_alt = weight, alt
                if not in_body or all(t in heading_terms for t in alt):
                    heading_best = max(heading_best, weight)
            if not best:
                continue
            f.matches.append(how)
            f.info += group.info * best
            f.matched += idf * best
            f.lexical += idf * lexical
            if body_best:  # the fact's own text says it (in whichever of the group's words)
                f.in_text += idf * body_best
                in_body_alts.append((idf, body_alt))
            f.heading += idf * heading_best
            if best >= 0.95:
                f.exact += idf
        if not f.matched:
            return None
        # how often the fact says the query's words, saturating as in BM25: a fact about them
        # (a Chinese word counts as its 2-character index words, which `tokens` rarely holds)
        for idf, alt in in_body_alts:
            n = min(tokens.count(t) for t in alt)
            f.frequency += idf * n / (n + 1.0)
        if pairs:  # query words side by side in the fact ("risk premium" in "risk premiums")
            flat = " ".join(tokens)
            f.adjacent = sum(p in flat for p in pairs) / len(pairs)
        return f

    def _hit(self, groups: list[Group], row: tuple, score: float, matched: list | None = None) -> Hit:
        fid, text, section, citations, position, _aid, title, source, published, file = row
        spans: list[tuple[int, int]] = []
        present = doc_terms(text)
        for g in groups:
            for alt in g.alts:
                run = g.cjk.get(alt)
                if run:
                    start = text.find(run)
                    if start >= 0:
                        spans.append((start, start + len(run)))
                    continue
                for token in alt:
                    if token in present:
                        spans.extend(m.span() for m in _word_re(token).finditer(text))
        return Hit(fid, text, section, json.loads(citations), score,
                   ArticleInfo(title, source, published, file), position, merge_spans(spans), matched or [])
