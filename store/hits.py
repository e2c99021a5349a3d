"""Hit building: a ranked fact becomes a `Hit`, with the spans of its text to highlight and how
each query word matched it (`ask --json`'s `matched`); a search's hits make a `SearchResult`."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

from store.model import ArticleInfo, merge_spans
from store.plan import Group
from store.text import doc_terms


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
    article_id: int = 0  # the article's id in this index (changes with a rebuild)
    # the other articles' reports of the same fact (store/groups.py Also), representative first
    also: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"text": self.text, "section": self.section, "citations": list(self.citations),
                "score": self.score, "matched": [dict(m) for m in self.matched],
                "article": {"title": self.article.title, "source": self.article.source,
                            "published": self.article.published, "file": self.article.file},
                "also": [a.to_json() for a in self.also]}


@dataclass
class SearchResult:
    query: str
    took_ms: float
    hits: list[Hit]
    has_more: bool = False
    missing: list[str] = field(default_factory=list)  # query words no fact holds
    # the entities (names) the answer is about: those the query names, else the thread's it leaned
    # on, else the first the top fact names (store/entities.py); what a thread records
    about: list[str] = field(default_factory=list)
    # the thread's entities the answer leaned on (answered within their articles); None: it did not
    context: list[str] | None = None

    def to_json(self) -> dict:
        out = {"query": self.query, "took_ms": round(self.took_ms, 3),
               "missing": list(self.missing), "results": [h.to_json() for h in self.hits]}
        if self.context is not None:
            out["context"] = list(self.context)
        return out


@lru_cache(maxsize=4096)
def _word_re(token: str) -> re.Pattern:
    return re.compile(r"(?<![^\W_])" + re.escape(token) + r"(?![^\W_])", re.IGNORECASE)


def explain(matches: list, semantic: float) -> list[dict]:
    """How each query word matched a fact, from scoring's (query word, how, index words) per
    group the fact holds (a Chinese word's index words are shown as the run they stand for), and
    the semantic bonus when there is one."""
    out = []
    for surface, kind, alt in matches:
        shown = " ".join(alt)
        out.append({"word": surface, "how": kind, "as": shown})
    if semantic:
        out.append({"word": "*", "how": "semantic", "bonus": round(semantic, 4)})
    return out


def spans(groups: list[Group], text: str) -> list[tuple[int, int]]:
    """Where the text holds the groups' words: a Chinese run where it stands whole, an English
    index word wherever it stands as a word (merged, in order)."""
    found: list[tuple[int, int]] = []
    present = doc_terms(text)
    for g in groups:
        for alt in g.alts:
            run = g.cjk.get(alt)
            if run:
                start = text.find(run)
                if start >= 0:
                    found.append((start, start + len(run)))
                continue
            for token in alt:
                if token in present:
                    found.extend(m.span() for m in _word_re(token).finditer(text))
    return merge_spans(found)


def hit(groups: list[Group], row: tuple, score: float, matched: list | None = None) -> Hit:
    """The hit of a ranked row (store/rank.py ROW_SQL's columns)."""
    fid, text, section, citations, position, aid, title, source, published, file = row
    return Hit(fid, text, section, json.loads(citations), score,
               ArticleInfo(title, source, published, file), position, spans(groups, text), matched or [], aid)
