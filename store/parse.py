"""Read seed files: plain-text exports of the news site's "Search documents" result pages.

The format (see SEED-FORMAT.md)::

    赢家诅咒                                   page name: query, tag, channel or broker (optional)
    Search documents                          marker line ("搜索文档"; optional; leftover page
                                              words such as "Workflow" or "icon" may precede it)
    微软CEO深度访谈...                          article title
    Hua Er Jie Jian Wen· 2025-11-13 08:37     source line: name, middle dot, Beijing time
    Core Insights - ... [1][4]. Azure/Cloud Strategy - ... [4][8]. - ... [8][9].   summary line

An article is three consecutive lines (title, source, summary); blank lines may separate
articles. Lines end in LF or CRLF; a UTF-8 byte-order mark is accepted. The page name is the first
line before the first article that is neither the marker nor a leftover word; other lines before
the marker are page chrome and ignored, any other line outside an article is reported.

How a summary line becomes facts:

* A section starts with ``Heading - `` (the heading kept exactly as written: "Group 1",
  "1. Market Review", "核心观点"; a stacked "Summary by Sections Company Overview" is kept whole
  too, the parser does not guess where one heading ends and the next begins) or with a bold label
  ``**业绩表现**：`` / ``**Label**:`` (kept without the stars and the colon).
* In a ``Heading - `` section a fact is one bullet: the first one follows the heading, every
  further one starts with ``- `` after the previous bullet's end. A bullet may hold several
  sentences. Labelled sections (the Chinese summaries) have no bullets, so there a fact is one
  sentence, ending at 。！？ (or . ! ? followed by a space); there " - " after a sentence end
  starts a bullet but never a heading (a new section needs a new label). The spaces Chinese
  summaries use for commas are kept.
* Fact text: citation marks and the spaces before them are removed, and the punctuation written
  after the marks stays as the text's end: "cloud business [4][8]." -> "cloud business.",
  "this week[1]" -> "this week", "margins [2] ." -> "margins.". Citations are the numbers in the
  order written, repeats kept.
* A fact without citations that only says nothing is there ("Not provided in the given
  content.", "未提及") is dropped; its section then has no facts and so does not appear.
* Text before the first heading (a summary that opens with "- ") gets the section "".

Telling a heading from running text: a bullet ends at a citation group (optionally followed by
"." or "。"), or failing that at a sentence end. Only there can a heading start: the text from that
point to the next " - " is a heading when it looks like one (at most 100 characters, starts with
a capital, a digit or a CJK character, holds no sentence end and no CJK clause with spaces in
it). After a citation group (and at the start of the summary) the test is lenient: up to a
third of the words may be lower-case ("Group 3: Impact on downstream industries"). After a bare
sentence end, where the next sentence of the same bullet is just as likely, the text must be
clean Title Case without commas, must not open with "The"/"A"/"This"/..., and the bullet after
the " - " must not start with a lower-case letter; "The New - Bond market" so stays text.
Everywhere else " - " is text ("year - on - year"), and a hyphen between two numbers
("133 - 137 yuan") is always a range, even in the rare "Group 1 - 2025 sales ..." (read as text).
A summary in which no heading, bullet or label is found is reported as an error.

All scanning is one regex pass whose quantifiers cannot backtrack over a run (possessive or
bounded), plus one step back over the spaces before each citation group, so parsing is linear in
the input size.
"""
from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from store.model import Article, Fact, ParseError, ParseResult

MAX_LINE = 1_000_000  # characters; longer lines are reported and skipped

_BOM = b"\xef\xbb\xbf"
_MARKERS = frozenset({"search documents", "搜索文档"})
_LEFTOVER_WORDS = frozenset({"workflow", "icon"})  # page chrome that ends up in exports

# "Name· YYYY-MM-DD HH:MM"; the dot may be any of the middle dots exporters produce.
_SOURCE = re.compile(
    r"(?P<name>.*?\S)\s*[·・•‧⋅∙･]\s*(?P<date>\d{4}-\d{2}-\d{2})\s+(?P<time>\d{1,2}:\d{2})"
)
_EXPECTED_ARTICLE = (
    "a title line, then a source line such as 'Hua Er Jie Jian Wen· 2025-11-13 08:37', "
    "then a summary line"
)

# The summary's structural tokens, found in one left-to-right pass:
#   cite   a group of citation marks "[4][8]" and an optional closing stop ("." or "。"); the
#          spaces before the group are cut from the text too, parse_summary finds them
#   label  a bold label "**业绩表现**："
#   stop   a sentence end: . ! ? before a space or the end, or 。！？ anywhere
#   dash   a hyphen with a space (or the end) after it and a space, stop or "]" before it (the
#          lookbehind, written after the "-", checks the character before the hyphen)
# Every alternative starts with a literal character (which also tells the token kind), so the
# regex engine skips to the next "[", "*", ".", "!", "?", "。", "！", "？" or "-" in a tight loop
# instead of attempting a match at every position: this is most of the parser's speed. Keep it
# so (no group, class or lookaround in front of an alternative). The quantifiers are possessive
# or bounded, so the scan stays linear.
_TOKENS = re.compile(
    r"\[\d{1,9}\](?:\s*+\[\d{1,9}\])*+[.。!?！？]?"
    r"|\*\*([^*]{1,100})\*\*[ \t]*+[:：]"
    r"|\.(?=\s|$)|!(?=\s|$)|\?(?=\s|$)|。|！|？"
    r"|-(?<![^\s.。\]]-)(?=\s|$)"
)
_NUMBER = re.compile(r"\d+")
_ENUMERATOR = re.compile(r"\s*\d{1,3}")  # "1" of "1. Market Review": not a sentence end
_NEXT_CHAR = re.compile(r"\s*+(\S)")
_WORD_CHAR = re.compile(r"\w")
_CJK_SPACE_CJK = re.compile(r"[\u3400-\u9fff]\s+[\u3400-\u9fff]")  # a clause: spaces stand for commas
_END_PUNCT = ".。!?！？"

_HEADING_MAX_CHARS = 100
_SMALL_WORDS = frozenset(
    "a an and as at by for from in into of on or per the to versus via vs vs. with".split()
)
_DETERMINERS = frozenset("a an its it our the their these this those".split())

_NOTHING_MAX_CHARS = 200
_NOTHING_THERE = re.compile(
    r"(?:(?:not|no|nothing)\s+(?:\w+\s+){0,2}?"
    r"(?:provided|mentioned|available|specified|given|disclosed|stated|applicable)"
    r"|no\s+(?:relevant\s+)?(?:information|content|data|details)"
    r"|none|n/a)"
    r"(?:\s+(?:in|from|by|for)\s+[^.]*)?\.?"
    r"|(?:未|没有)(?:提及|提供|给出|披露|说明)[^。]*。?|暂无[^。]*。?|无。?",
    re.IGNORECASE,
)
_NOTHING_FIRST = "nN未没暂无"  # the characters a _NOTHING_THERE match can start with


def parse_file(
    path: str | os.PathLike[str], name: str | None = None, data: bytes | None = None
) -> ParseResult:
    """Parse one seed file. Never raises: every problem is a ParseError in the result.

    `name` is the file name recorded in articles and errors (default: str(path)); `data`, when
    given, is the file's content already read by the caller, and the file is not read again. The
    file must be UTF-8 text (a byte-order mark is accepted); a file that cannot be read, holds
    NUL bytes or is not UTF-8 gives one error and no articles.
    """
    file = str(path) if name is None else name
    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            return _failure(file, 0, f"cannot read file: {exc.strerror or exc}")
    return parse_bytes(data, file)


def parse_bytes(data: bytes, file: str) -> ParseResult:
    """Parse a seed file's content as read (the very bytes a reload hashed). Never raises.

    The content must be UTF-8 text (a byte-order mark is accepted); NUL bytes or invalid UTF-8
    give one error and no articles. `file` is the name recorded in articles and errors.
    """
    if b"\0" in data:
        return _failure(file, 0, "binary file (contains NUL bytes)")
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return _failure(file, line, f"not UTF-8 (invalid byte 0x{data[exc.start]:02x} at line {line})")
    return parse_text(text, file)


def parse_text(text: str, file: str) -> ParseResult:
    """Parse a seed document already decoded to text. Never raises.

    Articles that parse are returned even when others in the same file fail; each failure is a
    ParseError naming the 1-based line it concerns (0 for the file as a whole).
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return _failure(file, 0, "empty file")
    errors: list[ParseError] = []
    lines = _lines(text, file, errors)
    # A source line ends in "HH:MM": checking for the colon first spares the summary lines, which
    # are long, a slow full match.
    sources = [_SOURCE.fullmatch(line) if line and line[-3:-2] == ":" else None for line in lines]
    if not any(sources):
        errors.append(ParseError(file, 1, f"no article found: expected {_EXPECTED_ARTICLE}"))
        return ParseResult([], sorted(errors, key=_by_line))
    claimed: set[int] = set()  # indexes of lines that belong to an article (or tried to)
    found = _articles(lines, sources, claimed, file, errors)
    found = _cut_off(lines, sources, found, file, errors)
    page = _read_header(lines, claimed)
    errors.extend(_stray_lines(lines, claimed, file))
    articles = [
        Article(
            title=lines[title], source=source["name"], published=published, page=page,
            file=file, line=title + 1, facts=facts,
        )
        for title, source, published, facts in found
    ]
    return ParseResult(articles, sorted(errors, key=_by_line), page)


# How a summary line may end: a sentence end, a citation group, closing brackets or quotes.
_WHOLE_END = frozenset(".。!?！？]）)\"”’'…»")


def _cut_off(
    lines: list[str | None], sources: list[re.Match[str] | None],
    found: list[tuple[int, re.Match[str], str, list[Fact]]], file: str, errors: list[ParseError],
) -> list[tuple[int, re.Match[str], str, list[Fact]]]:
    """The articles, less the file's last one when the file stops in the middle of its summary's
    last sentence (a download or a copy cut short, or one still under way), which is reported.

    Exports end their summaries with a sentence end or a citation group, and end the file without
    a newline, so only the last line of the file is looked at: a summary line there that ends in
    anything else is taken for a cut. The article is left out (what parses cleanly is indexed, the
    others are not), and a file that loaded before keeps its previous facts until it is whole."""
    last = len(lines) - 1
    while last >= 0 and lines[last] == "":
        last -= 1
    text = lines[last] if last >= 1 else None
    if not text or sources[last - 1] is None or text[-1] in _WHOLE_END:
        return found
    kept = [article for article in found if article[0] != last - 2]
    if len(kept) == len(found):
        return found  # that summary was already reported (no sections)
    tail = text[-40:].lstrip()
    errors.append(ParseError(
        file, last + 1, f"the file ends in the middle of a sentence (\u2026{tail}): cut off? "
        "The article is left out until the file is whole",
    ))
    return kept


def _lines(text: str, file: str, errors: list[ParseError]) -> list[str | None]:
    """Each line stripped, or None when it is too long to look at (reported in `errors`)."""
    lines: list[str | None] = []
    for number, raw in enumerate(text.split("\n"), 1):
        raw = raw.removesuffix("\r")
        if len(raw) > MAX_LINE:
            errors.append(ParseError(
                file, number, f"line too long ({len(raw):,} characters; the limit is {MAX_LINE:,})"
            ))
            lines.append(None)
        else:
            lines.append(raw.strip())
    return lines


def _articles(
    lines: list[str | None], sources: list[re.Match[str] | None], claimed: set[int], file: str,
    errors: list[ParseError],
) -> list[tuple[int, re.Match[str], str, list[Fact]]]:
    """(title index, source match, published, facts) of every article, claiming its lines.

    Each source line claims the line above it as its title and the line below as its summary;
    what is wrong with an article (no title, no summary, a bad date, a summary without sections)
    goes into `errors` and the article is left out."""
    found = []
    for i, source in enumerate(sources):
        if source is None:
            continue
        claimed.add(i)
        title = _title_above(lines, i, claimed, file, errors)
        summary = i + 1
        # A line directly followed by a source line is the next article's title, not a summary.
        if (summary >= len(lines) or lines[summary] == "" or sources[summary]
                or (summary + 1 < len(lines) and sources[summary + 1])):
            if title is not None and lines[title] is not None:
                errors.append(ParseError(
                    file, title + 1, f"article has no summary line (expected on line {summary + 1})"
                ))
            continue
        claimed.add(summary)
        summary_text = lines[summary]
        if title is None or lines[title] is None or summary_text is None:
            continue  # already reported: no title, or a line too long
        published = _published(source)
        if published is None:
            errors.append(ParseError(
                file, i + 1, f"invalid date or time '{source['date']} {source['time']}' in source line"
            ))
            continue
        facts = parse_summary(summary_text)
        if facts is None:
            errors.append(ParseError(
                file, summary + 1,
                "summary line has no sections: expected 'Heading - fact [1]. - fact [2].' "
                "or '**Label**：sentence。'",
            ))
            continue
        found.append((title, source, published, facts))
    return found


def _title_above(
    lines: list[str | None], source: int, claimed: set[int], file: str, errors: list[ParseError]
) -> int | None:
    """The index of the title line above the source line at `source`, claimed; None (reported)
    when there is none: the first line, a blank, the marker or a line another article holds."""
    title = source - 1
    if title < 0 or title in claimed or lines[title] == "" or _is_marker(lines[title]):
        errors.append(ParseError(file, source + 1, "source line has no title line above it"))
        return None
    claimed.add(title)
    return title


def parse_summary(summary: str) -> list[Fact] | None:
    """The facts of one summary line, or None when it has no heading, bullet or label at all.

    One left-to-right pass over the summary's tokens (see the module docstring for the rules).
    This is the parser's hot loop (a few tokens per fact), so the state lives in local variables
    and each token kind is handled inline rather than by a method call.
    """
    s = summary
    facts: list[Fact] = []
    structured = False  # a heading, bullet or label was found
    heading = ""
    labelled = False  # the current section was opened by a **label**
    start = 0  # where the current fact's text begins
    cites: list[tuple[int, int, tuple[int, ...]]] = []  # (cut from, cut to, numbers)
    # Where a heading could begin (the summary start or a bullet's end), and whether that end was
    # a citation group; None inside running text.
    anchor: int | None = 0
    strong = True
    for token in _TOKENS.finditer(s):
        at, end = token.span()
        char = s[at]  # the token kind, told by its first character
        if char == "-":  # dash
            if anchor is None:
                continue  # a spaced hyphen inside running text: the most common token
            candidate = s[anchor:at].strip()
            if not candidate:  # "- " right after a bullet's end: the next bullet
                _close(s, start, at, cites, heading, facts)
                start, cites, structured = at + 1, [], True
            elif not labelled and _is_heading(s, candidate, at, strong):
                _close(s, start, anchor, cites, heading, facts)
                heading, start, cites, structured = candidate, at + 1, [], True
            anchor = None
        elif char == "[":  # cite
            # The spaces before the marks are cut from the text with them: step back over them
            # (no token ends in a space, so this never reaches into the previous token).
            cut_from = at
            while cut_from and s[cut_from - 1].isspace():
                cut_from -= 1
            marks_end = end if s[end - 1] == "]" else end - 1  # the closing stop stays in the text
            cites.append((cut_from, marks_end, tuple(map(int, _NUMBER.findall(s, at, marks_end)))))
            anchor, strong = end, True
            if labelled and marks_end < end:
                _close(s, start, end, cites, heading, facts)
                start, cites = end, []
        elif char == "*":  # label
            name = token[1].strip()
            if name:
                _close(s, start, at, cites, heading, facts)
                heading, labelled, structured = name, True, True
                start, cites, anchor = end, [], None
        else:  # stop (a single character)
            if (char == "." and anchor is not None and end - anchor <= 8
                    and _ENUMERATOR.fullmatch(s, anchor, at)):
                continue  # "1." opening a numbered heading
            anchor, strong = end, False
            if labelled:
                _close(s, start, end, cites, heading, facts)
                start, cites = end, []
    _close(s, start, len(s), cites, heading, facts)
    return facts if structured else None


def _is_heading(s: str, text: str, dash: int, strong: bool) -> bool:
    """Whether `text`, from a bullet's end to the " - " at `dash`, is a section heading.

    `strong`: the bullet ended at a citation group (or this is the summary's start).
    """
    if len(text) > _HEADING_MAX_CHARS or _CJK_SPACE_CJK.search(text):
        return False
    first = text[0]
    if "a" <= first <= "z" or not (first.isalnum() or first in "(（《“\"'"):
        return False
    following = _NEXT_CHAR.match(s, dash + 1)
    next_char = following[1] if following else ""
    if text[-1].isdigit() and next_char.isdigit():
        return False  # "133 - 137": a range
    words = text.split()
    lower = sum(1 for word in words if "a" <= word[0] <= "z" and word.lower() not in _SMALL_WORDS)
    if strong:
        return len(words) <= 12 and 3 * lower <= len(words)
    return (
        len(words) <= 8 and lower == 0 and words[0].lower() not in _DETERMINERS
        and not any(mark in text for mark in ",;，；、") and not "a" <= next_char <= "z"
    )


def _close(
    s: str, start: int, end: int, cites: list[tuple[int, int, tuple[int, ...]]], heading: str,
    facts: list[Fact],
) -> None:
    """End the fact that began at `start` at `end`, appending it to `facts` unless it is empty.

    `cites` are the citation groups in it: their marks (and the spaces before them) are cut out.
    """
    if not cites:
        text, numbers = s[start:end].strip(), ()
    elif len(cites) == 1:  # the common case: one group, at the end of the bullet
        cut_from, cut_to, numbers = cites[0]
        text = (s[start:cut_from] + s[cut_to:end]).strip()
    else:
        pieces, pos, cited = [], start, []
        for cut_from, cut_to, marks in cites:
            pieces.append(s[pos:cut_from])
            cited.extend(marks)
            pos = cut_to
        pieces.append(s[pos:end])
        text, numbers = "".join(pieces).strip(), tuple(cited)
    if len(text) >= 2 and text[-1] in _END_PUNCT and text[-2].isspace():
        text = text[:-1].rstrip() + text[-1]  # "margins [2] ." leaves "margins ."
    # (text[0] is a word character in nearly every fact: the search is then not needed)
    if not text or not (text[0].isalnum() or _WORD_CHAR.search(text)):
        return
    # Only a fact without citations opening with n/N/未/没/暂/无 can say that nothing is there.
    if (not numbers and text[0] in _NOTHING_FIRST and len(text) <= _NOTHING_MAX_CHARS
            and _NOTHING_THERE.fullmatch(text)):
        return
    facts.append(Fact(text, heading, numbers, len(facts)))


def _is_marker(line: str | None) -> bool:
    return line is not None and line.lower() in _MARKERS


def _published(source: re.Match[str]) -> str | None:
    """ISO "YYYY-MM-DDTHH:MM" of a source line, or None when the date or time does not exist."""
    date, time = source["date"], source["time"]  # "YYYY-MM-DD", "H:MM" or "HH:MM"
    if date.isascii() and time.isascii() and date[0] != "0":
        # The common case, without strptime (slow): ASCII digits and a four-digit year, so the
        # date is already written as strftime would write it.
        hour, minute = time.split(":")
        try:
            datetime(int(date[:4]), int(date[5:7]), int(date[8:]), int(hour), int(minute))
        except ValueError:
            return None
        return f"{date}T{int(hour):02d}:{minute}"
    try:
        moment = datetime.strptime(f"{date} {time}", "%Y-%m-%d %H:%M")
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M")


def _read_header(lines: list[str | None], claimed: set[int]) -> str | None:
    """The page name, claiming the header lines (page, leftover words, marker) as it goes.

    The page is the first line before the first article that is neither a leftover word nor the
    marker. Before a marker every line is page chrome; without one, only the page and leftover
    words are, so other text there is reported as stray.
    """
    first_article = min(claimed)
    marker = next((k for k in range(first_article) if _is_marker(lines[k])), None)
    page = None
    for k in range(first_article if marker is None else marker + 1):
        line = lines[k]
        if marker is not None:
            claimed.add(k)
        if not line:
            continue
        if line.lower() in _LEFTOVER_WORDS:
            claimed.add(k)
        elif page is None and not _is_marker(line):
            page = line
            claimed.add(k)
    return page


def _stray_lines(lines: list[str | None], claimed: set[int], file: str) -> list[ParseError]:
    """One error per run of non-blank lines that belong to no article."""
    errors = []
    k = 0
    while k < len(lines):
        if k in claimed or not lines[k]:  # blank, or too long (reported already)
            k += 1
            continue
        end = k
        while end + 1 < len(lines) and end + 1 not in claimed and lines[end + 1]:
            end += 1
        where = f" (lines {k + 1}-{end + 1})" if end > k else ""
        errors.append(ParseError(
            file, k + 1, f"unexpected text outside an article{where}: expected {_EXPECTED_ARTICLE}"
        ))
        k = end + 1
    return errors


def _failure(file: str, line: int, reason: str) -> ParseResult:
    return ParseResult([], [ParseError(file, line, reason)])


def _by_line(error: ParseError) -> int:
    return error.line
