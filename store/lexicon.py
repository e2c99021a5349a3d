"""The glossary (interchangeable finance terms) and the alias table (Chinese <-> English names).

Both are plain text files: the ones shipped in `store/data/`, plus optional files of the user's own
(FACTBOT_GLOSSARY, FACTBOT_ALIASES), plus alias pairs learned from the seeds at reload time.
A term is kept as the tuple of its normalised words (`("total", "cost", "of", "ownership")`); a
Chinese term is one word (`("赛力斯",)`): the search turns it into its 2-character index words.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from store.text import normalize, words

Term = tuple[str, ...]

SYNONYM = 0.8  # weight of a glossary equivalent, against 1.0 for the word itself
ALIAS = 0.95  # weight of the other name of the same company or person


def term(text: str) -> Term:
    return tuple(words(normalize(text)))


@dataclass
class Lexicon:
    """term -> {equivalent term: weight}; `longest` is the longest key, in words."""

    equivalents: dict[Term, dict[Term, float]] = field(default_factory=dict)
    longest: int = 1

    def add_group(self, terms: list[Term], weight: float) -> None:
        terms = [t for t in dict.fromkeys(terms) if t]
        for t in terms:
            alts = self.equivalents.setdefault(t, {})
            for other in terms:
                if other != t and alts.get(other, 0.0) < weight:
                    alts[other] = weight
            self.longest = max(self.longest, len(t))

    def lookup(self, key: Term) -> dict[Term, float]:
        return self.equivalents.get(key, {})

    def cjk_keys(self) -> list[str]:
        """Chinese terms, longest first (to find them inside a longer run of Chinese text)."""
        keys = [k[0] for k in self.equivalents if len(k) == 1 and not k[0].isascii()]
        return sorted(keys, key=len, reverse=True)


def parse_glossary(text: str) -> list[list[Term]]:
    groups = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            groups.append([term(part) for part in line.split(",")])
    return groups


def parse_aliases(text: str) -> list[list[Term]]:
    groups = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        left, right = line.split("=", 1)
        groups.append([term(p) for p in (left + "," + right).split(",")])
    return groups


def _read(name: str) -> str:
    return resources.files("store").joinpath("data", name).read_text(encoding="utf-8")


def load(learned: list[tuple[str, str]] = (), env: dict | None = None) -> Lexicon:
    """The shipped glossary and aliases, the user's own files, and `learned` (cjk, english) pairs."""
    e = os.environ if env is None else env
    lex = Lexicon()
    glossary = [_read("glossary.txt")]
    aliases = [_read("aliases.txt")]
    for var, texts in (("FACTBOT_GLOSSARY", glossary), ("FACTBOT_ALIASES", aliases)):
        path = e.get(var)
        if path and Path(path).is_file():
            texts.append(Path(path).read_text(encoding="utf-8", errors="replace"))
    for text in glossary:
        for group in parse_glossary(text):
            lex.add_group(group, SYNONYM)
    for text in aliases:
        for group in parse_aliases(text):
            lex.add_group(group, ALIAS)
    for cjk, english in learned:
        lex.add_group([term(cjk), term(english)], ALIAS)
    return lex
