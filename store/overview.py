"""What the index holds, for people: counts, the newest articles, the names and topics it holds
most, and example questions built from them (each one checked to find facts).

Nothing here is a fixed word list: names and topics are read from the facts themselves.

- A *name* is a run of capitalised words starting with a word that is (nearly) always written
  capitalised where it does not start a sentence ("Seres Automotive", "Nadella"; not "Revenue",
  which also appears as "revenue", nor "Analysts", capitalised only at the start of sentences,
  nor all-capital abbreviations such as "IPO", "IPOs" or "HKD").
- A *topic* is a word of the section headings (not a stop word, not part of a name) that many
  articles use; an article's first section (its overview: "Core Viewpoint", "Summary") and the
  numbering of headings ("Group 2:", "3.") are left out.
- Both are read from the newest `sample` facts (bounded work on any corpus size) and ranked by how
  many of those facts (names) or articles (topics) hold them; the counts shown are those of the
  whole index (the `vocab` table).
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from store.model import ArticleInfo
from store.plan import STOP_WORDS

SAMPLE = 5000
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’&.-]*[A-Za-z0-9]|[A-Za-z]")
_SENTENCE = re.compile(r"(?:^|[.!?;:]\s+|\s[-–—]\s)$")  # what ends the text before a sentence's first word
_POSSESSIVE = re.compile(r"['’]s$")
_NUMBERING = re.compile(r"^\s*(?:group\s*\d+\s*[:：.-]?|\d+\s*[.、:：)])\s*", re.I)
_CAPITALISED = 0.9  # share of a word's occurrences written capitalised for it to be a name


@dataclass
class Overview:
    articles: int
    facts: int
    newest: list[ArticleInfo] = field(default_factory=list)
    names: list[tuple[str, int]] = field(default_factory=list)  # (name as written, facts holding it)
    topics: list[tuple[str, int]] = field(default_factory=list)  # (word, facts holding it)
    examples: list[str] = field(default_factory=list)  # questions that find facts, most held names first


def words_of(text: str) -> list[tuple[str, bool]]:
    """The Latin words of `text`, each with whether it starts a sentence."""
    return [(_POSSESSIVE.sub("", m.group(0).rstrip(".")), bool(_SENTENCE.search(text[max(0, m.start() - 4): m.start()]))
             if m.start() >= 4 else not text[: m.start()].strip())
            for m in _WORD.finditer(text)]


def overview(index, newest: int = 5, names: int = 5, topics: int = 6, examples: int = 3,
             sample: int = SAMPLE) -> Overview:
    """The overview of `index` (a store.Index); a handful of bounded SQL statements and a few searches."""
    conn = index.conn()
    articles, facts = index.counts()
    out = Overview(articles, facts)
    out.newest = [ArticleInfo(*row) for row in conn.execute(
        "SELECT title, source, published, file FROM articles ORDER BY published DESC, id DESC LIMIT ?", (newest,))]
    rows = conn.execute("SELECT text, article_id, section, position FROM facts ORDER BY id DESC LIMIT ?",
                        (sample,)).fetchall()
    if not rows:
        return out
    found = Names([words_of(text) for text, *_ in rows])
    first_section, heading_words, by_article = _topics(rows, found.words())
    df = _document_frequency(conn, set(found.name_of) | set(by_article))
    keys = found.keys()
    ranked_names = sorted(keys, key=lambda k: (-len(found.facts_with[k]), -df.get(k, 0), k))
    out.names = [(found.name_of[k].most_common(1)[0][0], df.get(k, len(found.facts_with[k])))
                 for k in ranked_names[:names]]
    ranked_topics = sorted(by_article, key=lambda w: (-len(by_article[w]), -df.get(w, 0), w))
    out.topics = [(w, df.get(w, 0)) for w in ranked_topics[:topics]]
    spread = {w: math.log((1 + len(first_section)) / len(a)) + 0.1 for w, a in by_article.items()}
    out.examples = _examples(index, ranked_names[: examples * 3], found.name_of, found.facts_with, heading_words,
                             spread, examples)
    return out


class Names:
    """The names of the sample facts (each fact as `words_of` gives it): for each name's first word,
    the phrases it starts, the facts holding it (by position in the sample), and how often it is
    seen inside a name after its first word ("Liquor")."""

    def __init__(self, per_fact: list[list[tuple[str, bool]]], facts_with=None):
        self.capitalised: Counter[str] = Counter()  # lower-case word -> occurrences inside a sentence, Capitalised
        self.inside: Counter[str] = Counter()  # lower-case word -> occurrences inside a sentence
        for words in per_fact:
            self.count(words)
        self.name_of: dict[str, Counter[str]] = defaultdict(Counter)
        # name -> the facts holding it (anything with add(i) and len(): store/entities.py counts them)
        self.facts_with: dict[str, set[int]] = facts_with if facts_with is not None else defaultdict(set)
        self.continued: Counter[str] = Counter()
        for i, words in enumerate(per_fact):
            self.runs(i, [w for w, _ in words])

    def count(self, words: list[tuple[str, bool]]) -> None:
        """One fact's words (as `words_of` gives them) into the capitalisation counts."""
        for w, first in words:
            if not first:
                self.inside[w.lower()] += 1
                self.capitalised[w.lower()] += w[0].isupper()

    def keys(self) -> list[str]:
        """The names' keys (first words, lower-case) seen more often starting a name than inside one."""
        return [k for k in self.name_of if len(self.facts_with[k]) > self.continued[k]]

    def starts_name(self, w: str) -> bool:
        low = w.lower()
        return (w[0].isupper() and not w.removesuffix("s").isupper() and low not in STOP_WORDS and len(low) > 1
                and self.capitalised[low] >= max(1, _CAPITALISED * self.inside[low]))

    def runs(self, i: int, words: list[str]) -> None:
        """Fact `i`'s names (its words as written) into name_of, facts_with and continued."""
        run: list[str] = []
        for w in words + [""]:
            if w and (self.starts_name(w) if not run else (w[0].isupper() and w.lower() not in STOP_WORDS)):
                if run:
                    self.continued[w.lower()] += 1
                run.append(w)
                continue
            if run:
                self.name_of[run[0].lower()][" ".join(run[:3])] += 1
                self.facts_with[run[0].lower()].add(i)
                run = [w] if w and self.starts_name(w) else []

    def words(self) -> set[str]:
        """Every word of every name, lower-case."""
        return {w.lower() for phrases in self.name_of.values() for p in phrases for w in p.split()}


def _topics(rows: list, name_words: set[str]):
    """Heading words of many articles (overview sections, heading numbers and name words left
    out): each article's first section, each sample fact's heading words, each word's articles."""
    first_section = {article: section for _, article, section, position in rows if position == 0}
    heading_words: dict[int, set[str]] = {}
    by_article: dict[str, set[int]] = defaultdict(set)
    for i, (_, article, section, _) in enumerate(rows):
        words = set()
        if section and section != first_section.get(article):
            for w, _ in words_of(_NUMBERING.sub("", section)):
                low = w.lower()
                if len(low) >= 3 and low.isalpha() and low not in STOP_WORDS and low not in name_words:
                    words.add(low)
                    by_article[low].add(article)
        heading_words[i] = words
    return first_section, heading_words, by_article


def facts_by_id(index, ids) -> dict[int, dict]:
    """The facts of `ids` still in the index: {id: {"id", "text", "title"}} (gone ones are left out)."""
    ids = [int(i) for i in ids][:1000]
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = index.conn().execute(
        f"SELECT f.id, f.text, a.title FROM facts f JOIN articles a ON a.id = f.article_id WHERE f.id IN ({marks})", ids)
    return {fid: {"id": fid, "text": text, "title": title} for fid, text, title in rows}


def _document_frequency(conn, words: set[str]) -> dict[str, int]:
    """Facts of the whole index holding each word (the vocab table), for the words asked about."""
    out: dict[str, int] = {}
    chunk = list(words)
    for start in range(0, len(chunk), 500):
        part = chunk[start:start + 500]
        marks = ",".join("?" * len(part))
        out.update(conn.execute(f"SELECT term, df FROM vocab WHERE term IN ({marks})", part).fetchall())
    return out


def _examples(index, names: list[str], name_of, facts_with, heading_words, spread, want: int) -> list[str]:
    """"<name> <the heading word most particular to its facts>" for the most held names, each
    checked to find facts (the bare name when no pairing does)."""
    out: list[str] = []
    for key in names:
        topics: Counter[str] = Counter()
        for i in facts_with[key]:
            for w in heading_words[i]:
                topics[w] += spread[w]
        name = name_of[key].most_common(1)[0][0].split()[0]
        for query in [f"{name} {w}" for w, _ in topics.most_common(3)] + [name]:
            if index.search(query, limit=1).hits:
                out.append(query)
                break
        if len(out) >= want:
            break
    return out


class OverviewCache:
    """The last overview of an index, drawn again only once the index changed (thread-safe)."""

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._value: Overview | None = None

    @staticmethod
    def key(index) -> tuple:
        conn = index.conn()
        return tuple(conn.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT max(id) FROM articles),"
            " (SELECT min(id) FROM articles), (SELECT max(id) FROM facts), (SELECT count(*) FROM facts)").fetchone())

    def get(self, index, **options) -> Overview:
        key = (self.key(index), tuple(sorted(options.items())))
        with self._lock:
            if key == self._key and self._value is not None:
                return self._value
        value = overview(index, **options)
        with self._lock:
            self._key, self._value = key, value
        return value


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
MAX_SUGGESTED = 60  # characters of a suggested question taken from a title


def _shorten(title: str, limit: int = MAX_SUGGESTED) -> str:
    """A title cut to about `limit` characters: at its first clause break when it has one that early,
    else at a word (Latin) or a character (Chinese)."""
    title = " ".join(title.split())
    for mark in ("：", ":", "，", ",", "？", "?"):
        head = title.split(mark, 1)[0].strip()
        if 4 <= len(head) < len(title) and len(head) <= limit:
            return head + ("?" if mark in "？?" and not _CJK.search(head) else "？" if mark in "？?" else "")
    if len(title) <= limit:
        return title
    cut = title[:limit]
    if not _CJK.search(cut) and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:-")


def suggested_questions(index, seen: Overview, n: int = 4) -> list[str]:
    """Up to `n` questions to suggest, each checked to find facts: the overview's example questions
    (names and topics the corpus holds most) and, for half of them, the newest articles' titles
    (shortened; in Chinese where the corpus' titles are), each once."""
    titles: list[str] = []
    for info in seen.newest:
        question = _shorten(info.title or "")
        if question and question not in titles and index.search(question, limit=1).hits:
            titles.append(question)
        if len(titles) >= n:
            break
    examples = [q for q in seen.examples if q not in titles]
    want_titles = min(len(titles), max(n // 2, n - len(examples)))
    out = examples[: n - want_titles] + titles[:want_titles]
    return list(dict.fromkeys(out))[:n]
