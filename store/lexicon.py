"""The glossary (interchangeable finance terms), the alias table (Chinese <-> English names) and
the conversation words (greetings, thanks, filler that never count against a query).

All are plain text files: the ones shipped in `store/data/`, plus optional glossary and alias files
of the user's own (their paths come from the settings, `bot/config.py`, and are passed down here),
plus alias pairs learned from the seeds at reload time.
A term is kept as the tuple of its normalised words (`("total", "cost", "of", "ownership")`); a
Chinese term is one word (`("赛力斯",)`): the search turns it into its 2-character index words.
"""
from __future__ import annotations

import re
from collections import Counter
from operator import itemgetter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable

from store.text import CJK_RE, normalize, words

Term = tuple[str, ...]

GLOSSARIES = ("glossary.txt", "glossary-zh.txt")  # shipped glossary files in store/data/
SYNONYM = 0.8  # weight of a glossary equivalent, against 1.0 for the word itself
ALIAS = 0.95  # weight of the other name of the same company or person
TRANSLATION = 0.95  # weight of a glossary term's translation (募资 -> raised)


def _is_chinese(t: Term) -> bool:
    return any(not w.isascii() for w in t)


class LexiconFileError(ValueError):
    """A glossary or alias file of the user's own that cannot be read; the message names it."""


def term(text: str) -> Term:
    return tuple(words(normalize(text)))


@dataclass
class Lexicon:
    """term -> {equivalent term: weight}; `longest` is the longest key, in words."""

    equivalents: dict[Term, dict[Term, float]] = field(default_factory=dict)
    longest: int = 1
    conversation: "Conversation" = field(default_factory=lambda: Conversation())
    related: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # word -> near words
    names: set[Term] = field(default_factory=set)  # the terms of the alias table: names of things

    def add_group(self, terms: list[Term], weight: float, translation: float | None = None) -> None:
        """Make `terms` equivalents of each other at `weight`. A line that mixes Chinese and
        English terms (with `translation` given) is a translation: each Chinese term stands for
        the English ones at `translation` and for the other Chinese ones at `weight`; the English
        terms get no entry from it (they are translations of one Chinese word, not synonyms of
        each other, and an English query is planned from glossary.txt as before)."""
        terms = [t for t in dict.fromkeys(terms) if t]
        mixed = translation is not None and len({_is_chinese(t) for t in terms}) == 2
        for t in terms:
            if mixed and not _is_chinese(t):
                continue
            alts = self.equivalents.setdefault(t, {})
            for other in terms:
                if other == t:
                    continue
                w = translation if mixed and not _is_chinese(other) else weight
                if alts.get(other, 0.0) < w:
                    alts[other] = w
            self.longest = max(self.longest, len(t))

    def lookup(self, key: Term) -> dict[Term, float]:
        return self.equivalents.get(key, {})

    def cjk_keys(self) -> list[str]:
        """Chinese terms, longest first (to find them inside a longer run of Chinese text)."""
        keys = [k[0] for k in self.equivalents if len(k) == 1 and not k[0].isascii()]
        return sorted(keys, key=len, reverse=True)


@dataclass
class Conversation:
    """Words and phrases that are conversation, not question (store/data/conversation.txt)."""

    phrases: set[Term] = field(default_factory=set)  # English, as whole words
    longest: int = 1
    cjk: list[str] = field(default_factory=list)  # Chinese phrases of 2+ characters, longest first
    cjk_edge: frozenset[str] = frozenset()  # single Chinese characters, taken off a run's ends

    def strip_words(self, tokens: list[str]) -> list[str]:
        """`tokens` without the conversation phrases among them (longest match first)."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for size in range(min(self.longest, len(tokens) - i), 0, -1):
                if tuple(tokens[i:i + size]) in self.phrases:
                    i += size
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out

    def strip_cjk(self, run: str) -> list[str]:
        """A Chinese run without its conversation phrases: the pieces that are left."""
        pieces = [run]
        for phrase in self.cjk:
            pieces = [p for piece in pieces for p in piece.split(phrase)]
        out = []
        for piece in pieces:
            while piece and piece[0] in self.cjk_edge:
                piece = piece[1:]
            while piece and piece[-1] in self.cjk_edge:
                piece = piece[:-1]
            if piece:
                out.append(piece)
        return out


def parse_conversation(text: str) -> Conversation:
    conv = Conversation()
    edge = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words_ = term(line)
        if len(words_) == 1 and not words_[0].isascii():
            if len(words_[0]) == 1:
                edge.add(words_[0])
            else:
                conv.cjk.append(words_[0])
        elif words_:
            conv.phrases.add(words_)
            conv.longest = max(conv.longest, len(words_))
    conv.cjk.sort(key=len, reverse=True)
    conv.cjk_edge = frozenset(edge)
    return conv


def parse_related(text: str) -> dict[str, list[tuple[str, float]]]:
    """`word: neighbour 0.61, neighbour 0.55` lines (store/data/related-words.txt)."""
    related: dict[str, list[tuple[str, float]]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or ":" not in line:
            continue
        word, _, rest = line.partition(":")
        near = []
        for part in rest.split(","):
            name, _, sim = part.strip().rpartition(" ")
            try:
                near.append((name, float(sim)))
            except ValueError:
                continue
        if near:
            related[word.strip()] = near
    return related


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


@lru_cache(maxsize=1)
def _shipped_conversation() -> Conversation:
    return parse_conversation(_read("conversation.txt"))


@lru_cache(maxsize=1)
def _shipped_related() -> dict[str, list[tuple[str, float]]]:
    """The shipped related-words table, read once per process (it is the same for every index)."""
    return parse_related(_read("related-words.txt"))


def _read_user_file(kind: str, path: Path | str) -> str:
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise LexiconFileError(f"{kind} file {path} does not exist") from None
    except IsADirectoryError:
        raise LexiconFileError(f"{kind} file {path} is a folder, not a file") from None
    except OSError as exc:
        raise LexiconFileError(f"{kind} file {path} cannot be read: {exc.strerror}") from None


def load(learned: Iterable[tuple[str, str]] = (), glossary_files: Iterable[Path | str] = (),
         alias_files: Iterable[Path | str] = (), related_words: bool = True) -> Lexicon:
    """The shipped glossary, aliases and conversation words, the user's own glossary and alias
    files (a file that cannot be read is a LexiconFileError naming it), `learned` (cjk, english)
    pairs, and (unless `related_words` is off) the related-words table."""
    lex = Lexicon(conversation=_shipped_conversation(), related=_shipped_related() if related_words else {})
    glossary = [_read(name) for name in GLOSSARIES]
    aliases = [_read("aliases.txt")]
    glossary += [_read_user_file("glossary", p) for p in glossary_files]
    aliases += [_read_user_file("alias", p) for p in alias_files]
    for text in glossary:
        for group in parse_glossary(text):
            lex.add_group(group, SYNONYM, TRANSLATION)
    for text in aliases:
        for group in parse_aliases(text):
            lex.add_group(group, ALIAS)
            lex.names.update(t for t in group if t)
    for cjk, english in learned:
        lex.add_group([term(cjk), term(english)], ALIAS)
        lex.names.update((term(cjk), term(english)))
    return lex


# --- aliases learned from the seeds ----------------------------------------------------------

# a capitalised word of 3+ letters: `\b[A-Z][A-Za-z]{2,}\b`, written so that the regex engine
# can skip to the next capital letter (a lookbehind instead of the leading \b): twice as fast
_PROPER = re.compile(r"[A-Z](?<!\w[A-Z])[A-Za-z]{2,}\b")
_NOT_NAMES = {"The", "This", "That", "These", "Those", "Despite", "However", "Its", "Their", "Company",
              "Group", "Core", "Market", "For", "With", "Chinese", "China", "Hong", "Kong"}


def dominant_name(texts: list[str]) -> str | None:
    """The English proper name most of an article's facts (`texts`) repeat, if any."""
    if len(texts) < 3:
        return None
    counts = Counter(_PROPER.findall("\n".join(texts)))
    # the four most common (as Counter.most_common(4), which is slower on such small counts)
    for name, n in sorted(counts.items(), key=itemgetter(1), reverse=True)[:4]:
        # all-capitals words of three letters or fewer are units and acronyms (HKD, IPO, CEO)
        if name in _NOT_NAMES or (name.isupper() and len(name) <= 3):
            continue
        return name if n >= max(3, len(texts) * 0.4) else None
    return None


def _common_cjk(a: str, b: str, shortest: int = 2, longest: int = 6) -> str | None:
    """The longest run of 2..6 Chinese characters found in both titles."""
    for size in range(longest, shortest - 1, -1):
        grams = {a[i:i + size] for i in range(len(a) - size + 1)}
        for i in range(len(b) - size + 1):
            g = b[i:i + size]
            if g in grams and all(CJK_RE.match(ch) for ch in g):
                return g
    return None


def learn_aliases(evidence: Iterable[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """(cjk, english, articles) pairs from (english name an article's facts repeat, its title)
    evidence: a Chinese title word shared by the titles of >= 2 articles whose facts repeat one
    English name becomes an alias of that name (赛力斯 <-> Seres)."""
    by_name: dict[str, list[str]] = {}
    for english, title in evidence:
        by_name.setdefault(english, []).append(title)
    rows = []
    for english, titles in by_name.items():
        sample = titles[:20]
        if len(sample) < 2:
            continue
        found: Counter[str] = Counter()
        for a, b in zip(sample, sample[1:]):
            common = _common_cjk(a, b)
            if common:
                found[common] += 1
        # the name must stand in most of the titles (a company's name does; 什么, 港股 do not)
        best = max(found, key=lambda c: (sum(c in t for t in sample), len(c)), default=None)
        support = sum(best in t for t in sample) if best else 0
        if support >= max(2, 0.6 * len(sample)):
            rows.append((best, english, support))
    return rows
