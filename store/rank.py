"""Retrieval and ranking: the facts a plan's groups fetch from FTS5, and their scores.

Candidates. FTS5 returns the newest facts holding every group (`ORDER BY rowid DESC LIMIT`: fact
ids grow with publication time, and FTS5 walks its doclists backwards without ranking every
match). A common group is left out of the statement once the rarer ones narrow the facts down to
a handful (scoring checks it anyway): long doclists are what make FTS5 slow. When too few facts
hold everything, groups are dropped, most common first, while the rest could still reach the
confidence threshold. Every statement is bounded, so common words cannot make a query slow.

Score. Each candidate's words are checked against every group: coverage is the share of the
query's weight (inverse document frequency x match weight) the fact holds; then words found in
the fact's own text, in its heading or title, exactness, query words side by side in the fact,
how often the fact says them (saturating, as in BM25), rapidfuzz's partial-ratio similarity of
query and fact, and recency as the tie-breaker. A fact below the confidence threshold is no
answer; for a question, the best few by that score get the semantic bonus (store/semantic.py).
"""
from __future__ import annotations

import itertools
import math

from rapidfuzz import fuzz, process

from store.plan import Group
from store.text import CJK_RE, doc_terms, normalize, words

CANDIDATES = 20  # rows fetched by one FTS5 statement of the first fetch
FIRST_WANT = 6  # candidates the first fetch gathers (dropping groups) before it stops: a page and one
GROWTH = 5  # each further fetch takes this many times more rows per statement
FETCHES = 4  # at most: 20, 100, 500, 2,500 rows per statement (the last page of a query ends there)
MAX_STATEMENTS = 8  # per fetch
NARROW_ENOUGH = 20  # expected facts left, under word independence, to stop adding common groups
COMMON_SHARE = 0.02  # a group in more than this share of the facts is common
# a question in the user's own words rephrases what the facts say: of its information a fact
# must hold half the share a keyword query's must (store/dictionary.py information)
QUESTION_INFO_SHARE = 0.2
SEMANTIC_TOP = 10  # candidates of a fetch that get the semantic bonus (store/semantic.py)

# the columns of a candidate row, as scoring and store/hits.py read them
ROW_SQL = ("SELECT f.id, f.text, f.section, f.citations, f.position, a.id, a.title, a.source,"
           " a.published, a.file FROM facts f JOIN articles a ON a.id = f.article_id")


def _fts_quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _alt_expr(alt: tuple[str, ...]) -> str:
    return _fts_quote(alt[0]) if len(alt) == 1 else "(" + " AND ".join(map(_fts_quote, alt)) + ")"


def group_expr(group: Group) -> str:
    """The group as an FTS5 expression: the words that stand for it as written (related words
    only rank the candidates these find, they do not fetch any)."""
    return "(" + " OR ".join(_alt_expr(a) for a in group.alts if a not in group.related) + ")"


def threshold(groups: list[Group]) -> float:
    """The share of the query's weight a fact must hold to be an answer at all."""
    return 0.5 if len(groups) <= 2 else 0.4


def floor(groups: list[Group]) -> float:
    """The weight a fact must hold, in words as written (related words help ranking only)."""
    counted = [g for g in groups if g.counts]
    return threshold(counted) * sum(g.idf for g in counted) if counted else math.inf


# candidates ----------------------------------------------------------------------------
class _Fetch:
    """One fetch's FTS5 statements: the facts they found, whether a statement was cut by its
    limit, and the statements sent (each combination of groups at most once)."""

    def __init__(self, conn, groups: list[Group], n_facts: int, per_statement: int,
                 within: list[int] | None = None):
        self.conn, self.n_facts, self.per_statement = conn, n_facts, per_statement
        # only the facts of these articles (a follow-up in a thread, store/threads.py)
        self.within = (" AND rowid IN (SELECT id FROM facts WHERE article_id IN (%s))"
                       % ",".join(str(int(a)) for a in within)) if within else ""
        self.active = sorted((g for g in groups if g.lexical and g.alts and g.df > 0 and not g.given),
                             key=lambda g: g.df)
        # a thread's entities (Group.given) are held by every fact `within`: never sent to FTS5
        self.given = sum(g.idf for g in groups if g.given)
        self.floor = floor(groups)
        self.found: dict[int, None] = {}
        self.cut = False
        self.statements: set[tuple[int, ...]] = set()

    def narrowed(self, combo: tuple[int, ...]) -> tuple[int, ...]:
        """The groups worth sending to FTS5: rarest first, leaving out a common group once the
        rarer ones already narrow the facts down to a handful (scoring checks it anyway);
        a common word costs FTS5 a long doclist walk, which is what makes queries slow."""
        kept: list[int] = []
        expected = float(self.n_facts)
        for i in combo:  # combos are in ascending df order
            g = self.active[i]
            if kept and expected <= NARROW_ENOUGH and g.df > self.n_facts * COMMON_SHARE:
                continue
            kept.append(i)
            expected *= g.df / self.n_facts
        return tuple(kept)

    def run(self, combo: tuple[int, ...]) -> None:
        if self.given + sum(self.active[i].idf for i in combo) < self.floor:
            return  # facts holding only these groups could not reach the confidence threshold
        sent = self.narrowed(combo)
        if sent in self.statements or len(self.statements) >= MAX_STATEMENTS:
            return
        self.statements.add(sent)
        expr = " AND ".join(group_expr(self.active[i]) for i in sent)
        rows = self.conn.execute(
            "SELECT rowid FROM facts_fts WHERE facts_fts MATCH ?" + self.within + " ORDER BY rowid DESC LIMIT ?",
            (expr, self.per_statement)).fetchall()
        self.cut = self.cut or len(rows) >= self.per_statement
        for (rowid,) in rows:
            self.found.setdefault(rowid, None)


def _combos(n: int, size: int):
    """The combinations of `size` of the n groups (in ascending df order) to try: all of them for
    four groups or fewer; else the most common dropped first, and beyond one drop, the rarest."""
    if n <= 4:
        return itertools.combinations(range(n), size)
    return [tuple(i for i in range(n) if i != drop) for drop in reversed(range(n))] \
        if size == n - 1 else [tuple(range(size))]


def candidates(conn, groups: list[Group], want: int, n_facts: int,
               per_statement: int = CANDIDATES, within: list[int] | None = None) -> tuple[list[int], bool]:
    """The newest facts holding the groups (or, while fewer than `want` are found, the rarer
    ones), at most `per_statement` per FTS5 statement; and whether that is every candidate
    there is (no statement was cut by its limit and `want` was not reached: a larger fetch
    would find the same). `within`: only the facts of these articles."""
    fetch = _Fetch(conn, groups, n_facts, per_statement, within)
    if not fetch.active:
        return [], True
    n = len(fetch.active)
    fetch.run(tuple(range(n)))
    size = n - 1
    while len(fetch.found) < want and size >= 1:
        for combo in _combos(n, size):
            fetch.run(combo)
            if len(fetch.found) >= want:
                break
        size -= 1
    return list(fetch.found), not fetch.cut and len(fetch.found) < want


def rows(conn, ids: list[int]) -> list[tuple]:
    """The candidate rows (ROW_SQL's columns) of these fact ids."""
    out: list[tuple] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out.extend(conn.execute(ROW_SQL + f" WHERE f.id IN ({','.join('?' * len(chunk))})", chunk))
    return out


# features ------------------------------------------------------------------------------
class Features:
    """What scoring knows of one candidate fact (weights are sums of idf x match weight)."""

    __slots__ = ("fid", "published", "row", "norm", "matched", "lexical", "in_text", "heading",
                 "exact", "frequency", "adjacent", "info", "matches")

    def __init__(self, fid: int, published: str, row: tuple, norm: str):
        self.fid, self.published, self.row = fid, published, row
        self.norm = norm  # the fact's normalised text
        self.matched = 0.0  # the query's weight the fact holds, in its text, heading or title
        self.lexical = 0.0  # ... not counting related words
        self.in_text = 0.0  # ... in its own text
        self.heading = 0.0  # ... in its heading or title
        self.exact = 0.0  # ... as written (or as the other name of the same thing)
        self.frequency = 0.0  # how often the text says them, saturating
        self.adjacent = 0.0  # share of the query's word pairs side by side in the text
        self.info = 0.0  # the query's information (store/dictionary.py) the fact holds, x match weight
        self.matches: list = []  # (query word, how, index words) per group it holds

    def score(self, total: float, similarity: float) -> float:
        return ((0.55 * self.matched + 0.1 * self.in_text + 0.05 * min(self.heading, self.matched)
                 + 0.05 * self.exact + 0.05 * self.frequency) / total
                + 0.1 * similarity / 100 + 0.05 * self.adjacent)


def match_plans(groups: list[Group]) -> list[tuple[float, Group, list]]:
    """Per group: its idf, the group, and its alternatives, best first, each with the Chinese run
    it must hold, whether it is only a related word, and how it stands for the word."""
    return [(g.idf, g, sorted(((w, alt, g.cjk.get(alt), alt in g.related, g.kinds.get(alt, "exact"))
                               for alt, w in g.alts.items()), key=lambda a: a[:2], reverse=True))
            for g in groups]


def _best_alt(group: Group, alts: list, text_terms: set, heading_terms: set, heading_norm: str,
              norm: str) -> tuple:
    """How the fact holds one group: its best weight and how, its best weight not counting
    related words, its best in the fact's own text and which alternative that is, and its best
    in the heading or title."""
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
    return best, how, lexical, body_best, body_alt, heading_best


def features(plans: list, pairs: list[str], row: tuple, heading: tuple[set[str], str]) -> Features | None:
    """How one candidate fact holds the query's groups (None when it holds none); `heading` is
    its heading's index words and normalised text (Scorer.heading_terms)."""
    fid, text, _section, _c, _p, _aid, _title, _source, published, _f = row
    norm = normalize(text)
    tokens = words(norm)
    text_terms = doc_terms(text) if CJK_RE.search(norm) else set(tokens)
    heading_terms, heading_norm = heading
    f = Features(fid, published, row, norm)
    in_body_alts: list[tuple[float, tuple[str, ...]]] = []
    for idf, group, alts in plans:
        if group.given:  # a thread's entity: every fact a follow-up is answered within holds it
            f.matches.append((group.surface, "thread", alts[0][1]))
            f.info += group.info
            f.matched += idf
            f.lexical += idf
            continue
        best, how, lexical, body_best, body_alt, heading_best = _best_alt(
            group, alts, text_terms, heading_terms, heading_norm, norm)
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


def similarity(query_text: str, texts: list[str]) -> list[float]:
    """rapidfuzz's partial-ratio similarity of the query and each text, in one call."""
    out = [0.0] * len(texts)
    for _, sim, i in process.extract(query_text, texts, scorer=fuzz.partial_ratio, limit=None):
        out[i] = float(sim)
    return out


# scoring -------------------------------------------------------------------------------
class Scorer:
    """Scores candidate rows against a plan's groups. Holds what outlives one query: the
    headings' index words (many facts share one) and the semantic reranker (None when off)."""

    def __init__(self, reranker=None):
        self.reranker = reranker
        self._heading_cache: dict[tuple[int, str], tuple[set[str], str]] = {}

    def clear(self) -> None:
        """Forget the cached headings (after a reload)."""
        self._heading_cache = {}

    def heading_terms(self, aid: int, title: str, source: str, section: str) -> tuple[set[str], str]:
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

    def _passing(self, groups: list[Group], rows: list, info_floor: float) -> list[Features]:
        """The rows' features, of those that reach both thresholds."""
        plans = match_plans(groups)
        own = [g for g in groups if not g.given]
        pairs = [f"{a.surface} {b.surface}" for a, b in zip(own, own[1:])
                 if a.surface.isascii() and b.surface.isascii()]
        lexical_floor = floor(groups)
        passing = []
        for row in rows:
            f = features(plans, pairs, row, self.heading_terms(row[5], row[6], row[7], row[2]))
            if f is not None and f.lexical >= lexical_floor and f.info >= info_floor:
                passing.append(f)
        return passing

    def _bonuses(self, passing: list[Features], lexical: list[float], question: str,
                 generation: int) -> list[float]:
        """The semantic bonus of each passing fact: only the best SEMANTIC_TOP by the lexical
        score are embedded: the bonus reorders the head of the ranking, and its cost stays bounded
        however many facts pass (the order still depends on the query and the index only: pages
        stay slices of one order)."""
        bonus = [0.0] * len(passing)
        top = sorted(range(len(passing)), key=lambda i: (lexical[i], passing[i].published, -passing[i].fid),
                     reverse=True)[:SEMANTIC_TOP]
        got = self.reranker.bonuses(generation, question, [(passing[i].fid, passing[i].row[1]) for i in top])
        for i, b in zip(top, got):
            bonus[i] = b
        return bonus

    def rank(self, groups: list[Group], rows: list, question: str | None = None,
             generation: int = 0, info: float = 0.0, rerank: bool = True) -> list[tuple[float, tuple, list, float]]:
        """Candidates that reach the confidence threshold, best first: (score, row, how each query
        word matched, semantic bonus). Two thresholds: the share of the query's weight in the index
        (idf) a fact must hold, and the share of its `info`, the information in general text of all
        its words, those no fact holds included (a fact about "capacity" does not answer "capacity
        of the stadium"). For a `question`, each also gets its semantic similarity bonus
        (store/semantic.py)."""
        if not groups or not rows:
            return []
        total = sum(g.idf for g in groups) or 1.0
        info_floor = (QUESTION_INFO_SHARE if question else threshold(groups)) * info
        passing = self._passing(groups, rows, info_floor)
        if not passing:
            return []
        sims = similarity(" ".join(g.surface for g in groups if not g.given), [f.norm for f in passing])
        lexical = [f.score(total, sim) for f, sim in zip(passing, sims)]
        bonus = [0.0] * len(passing)
        if question and rerank and self.reranker is not None:
            bonus = self._bonuses(passing, lexical, question, generation)
        scored = [(round(lex + b, 4), f.published, -f.fid, f.row, f.matches, b)
                  for f, lex, b in zip(passing, lexical, bonus)]
        # ties: the newer article first, then the article's earlier (more general) fact
        scored.sort(key=lambda s: (s[0], s[1], s[2]), reverse=True)
        return [(s[0], s[3], s[4], s[5]) for s in scored]
