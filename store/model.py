"""Plain data the store hands around: what the parser finds, what a search returns."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, NamedTuple, Sequence


class Fact(NamedTuple):
    """One bullet of an article's summary (a named tuple: immutable, and made five times faster
    than a frozen dataclass, which counts at a million facts a reload)."""

    text: str  # without the bullet dash and without the citation marks
    section: str  # the section heading as written ("Group 1: IPO Performance")
    citations: tuple[int, ...]  # in the order written, repeats kept ([1][1] -> (1, 1))
    position: int  # 0-based position of the fact within its article


@dataclass
class Article:
    title: str
    source: str
    published: str  # ISO "YYYY-MM-DDTHH:MM" (Beijing time, as exported)
    page: str | None  # the page name from line 1 of the file, when there is one
    file: str  # the seed file's path relative to the seeds folder
    line: int  # 1-based line of the article's title in its file
    facts: list[Fact] = field(default_factory=list)


@dataclass(frozen=True)
class ParseError:
    file: str
    line: int  # 1-based; 0 when the problem is the file as a whole
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}" if self.line else f"{self.file}: {self.reason}"


@dataclass
class ParseResult:
    articles: list[Article]
    errors: list[ParseError]
    page: str | None = None


@dataclass(frozen=True)
class ArticleInfo:
    """An indexed article as a search hit and `Index.sources()` report it (`facts`: how many it has,
    counted by sources(); 0 on a hit)."""

    title: str
    source: str
    published: str  # ISO "YYYY-MM-DDTHH:MM"
    file: str
    facts: int = 0


def merge_spans(spans: Iterable[Sequence[int]], length: int | None = None) -> list[tuple[int, int]]:
    """Character spans (start, end) sorted, with overlapping and touching ones merged.

    With `length`, each span is first clipped to the text (0..length); malformed and empty spans
    are dropped. A search hit's spans and the bold runs of an answer are both made with it."""
    cleaned = []
    for span in spans or ():
        try:
            start, end = int(span[0]), int(span[1])
        except (TypeError, ValueError, IndexError):
            continue
        if length is not None:
            start, end = max(0, start), min(length, end)
        if end > start:
            cleaned.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(cleaned):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def utc_now() -> str:
    """Now as the store's tables write a time: UTC, to the second ("2026-12-03T19:05:00Z")."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def plural(n: int, word: str) -> str:
    """A count and its noun, the count with thousands separators: "1 fact", "1,204 facts"."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"
