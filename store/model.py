"""Plain data the store hands around: what the parser finds, what a search returns."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Fact:
    """One bullet of an article's summary."""

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
