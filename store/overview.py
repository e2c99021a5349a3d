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
# a word that starts a sentence, as `words_of` tells (the text before it empty but for up to 3
# spaces, or ending in a sentence's end and 1-3 spaces, or a spaced dash)
_START = re.compile(r"(?:^\s{0,3}|[.!?;:]\s{1,3}|\s[-–—]\s)(" + _WORD.pattern + ")")
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
    unique: int | None = None  # facts counting each group of near-duplicates once (store/groups.py)


def _unpossessive(word: str) -> str:
    return word[:-2] if word.endswith(("'s", "’s")) else word


def tokens(text: str, total: Counter, first: Counter) -> list[str]:
    """Count the text's words into `total` (every occurrence, as `_WORD` reads them: C-level
    counting) and those that start a sentence into `first` (_START finds exactly the words
    `words_of` marks first); the words, in order (for `capitalised_words`)."""
    found = _WORD.findall(text)
    total.update(found)
    for m in _START.finditer(text):  # a few per text; within its first 4 characters only as
        start = m.start(1)             # the text's first word (words_of's rule)
        if start >= 4 or not text[:start].strip():
            first[m.group(1)] += 1
    return found


def capitalised_words(text: str, found: list[str] | None = None) -> list[str]:
    """What the runs of names need of a text: its capitalised words in order, without their
    possessive 's, a stretch of other words between them as one "" (which ends a run, as any
    lower-case word does). `found`: the text's words, when `tokens` has read them already."""
    words: list[str] = []
    append = words.append
    gap = True  # nothing yet, or the last one kept is a gap
    for token in (found if found is not None else _WORD.findall(text)):
        if token[0].isupper():
            append(token[:-2] if token.endswith(("'s", "’s")) else token)
            gap = False
        elif not gap:
            append("")
            gap = True
    return words


def words_of(text: str) -> list[tuple[str, bool]]:
    """The Latin words of `text`, each with whether it starts a sentence: the text before it is
    empty, or its last four characters end in a sentence's end and spaces (". ") or a spaced dash
    (" - "), as _SENTENCE says, checked without a regex per word (a reload reads every fact)."""
    out = []
    for m in _WORD.finditer(text):
        w, start = m.group(0).rstrip("."), m.start()
        if w.endswith(("'s", "’s")):
            w = w[:-2]
        if start < 4:
            first = not text[:start].strip()
        else:
            window = text[start - 4:start]
            kept = window.rstrip()
            spaces = len(window) - len(kept)
            first = spaces > 0 and bool(kept) and (kept[-1] in ".!?;:" or (
                spaces == 1 and kept[-1] in "-–—" and len(kept) >= 2 and kept[-2].isspace()))
        out.append((w, first))
    return out


def overview(index, newest: int = 5, names: int = 5, topics: int = 6, examples: int = 3,
             sample: int = SAMPLE) -> Overview:
    """The overview of `index` (a store.Index); a handful of bounded SQL statements and a few searches."""
    conn = index.conn()
    articles, facts = index.counts()
    out = Overview(articles, facts)
    out.unique = index.unique_facts() if hasattr(index, "unique_facts") else facts
    out.newest = [ArticleInfo(*row) for row in conn.execute(
        "SELECT title, source, published, file FROM articles ORDER BY published DESC, id DESC LIMIT ?", (newest,))]
    rows = conn.execute("SELECT text, article_id, section, position FROM facts ORDER BY id DESC LIMIT ?",
                        (sample,)).fetchall()
    if not rows:
        return out
    found = Names([text for text, *_ in rows])
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
    """The names of the sample facts (their texts): for each name's first word, the phrases it
    starts, the facts holding it (by position in the sample), and how often it is seen inside a
    name after its first word ("Liquor"). Words are `words_of`'s, read with regexes that do per
    text what `words_of` does per word (a reload reads every fact: store/entities.py)."""

    def __init__(self, texts=(), facts_with=None):
        self.capitalised: Counter[str] = Counter()  # lower-case word -> occurrences inside a sentence, Capitalised
        self.inside: Counter[str] = Counter()  # lower-case word -> occurrences inside a sentence
        self.name_of: dict[str, Counter[str]] = defaultdict(Counter)
        # name -> the facts holding it (anything with add(i) and len(): store/entities.py counts them)
        self.facts_with: dict[str, set[int]] = facts_with if facts_with is not None else defaultdict(set)
        self.continued: Counter[str] = Counter()
        texts = list(texts)
        if texts:
            self.count(texts)
            for i, text in enumerate(texts):
                self.runs(i, text)

    def count(self, texts) -> None:
        """The capitalisation counts of these texts' words (`tokens` of each, then `add_counts`)."""
        total: Counter[str] = Counter()
        first: Counter[str] = Counter()
        for text in texts:
            tokens(text, total, first)
        self.add_counts(total.items(), first)

    def add_counts(self, total, first) -> None:
        """Into the capitalisation counts: (token, occurrences) pairs and {token: occurrences
        starting a sentence}, as `tokens` counts them (store/entities.py keeps them per index),
        folded to the word without its possessive 's, lower-cased."""
        for token, n in total:
            n -= first.get(token, 0)
            if n > 0:
                w = _unpossessive(token)
                self.inside[w.lower()] += n
                if w[0].isupper():
                    self.capitalised[w.lower()] += n

    def keys(self) -> list[str]:
        """The names' keys (first words, lower-case) seen more often starting a name than inside one."""
        return [k for k in self.name_of if len(self.facts_with[k]) > self.continued[k]]

    def starts_name(self, w: str) -> bool:
        low = w.lower()
        return (w[0].isupper() and not w.removesuffix("s").isupper() and low not in STOP_WORDS and len(low) > 1
                and self.capitalised[low] >= max(1, _CAPITALISED * self.inside[low]))

    def runs(self, i: int, text: str) -> None:
        """Fact `i`'s names into name_of, facts_with and continued (after `count`)."""
        self.runs_of(i, capitalised_words(text))

    def runs_of(self, i: int, words: list[str]) -> None:
        """`runs` of a fact's `capitalised_words` (fact numbers ascending)."""
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
