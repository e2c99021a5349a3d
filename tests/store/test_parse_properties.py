"""Property tests of the seed parser: it never raises, and rendered articles parse back exactly."""
from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from store.model import ParseResult
from store.parse import parse_file, parse_summary, parse_text

BOUNDED = settings(max_examples=200, deadline=None)


def check_invariants(result: ParseResult, text_lines: int) -> None:
    assert isinstance(result, ParseResult)
    for error in result.errors:
        assert 0 <= error.line <= text_lines and error.reason
    for article in result.articles:
        assert 1 <= article.line <= text_lines
        assert article.title and article.source and article.title == article.title.strip()
        assert [f.position for f in article.facts] == list(range(len(article.facts)))
        for fact in article.facts:
            assert fact.text == fact.text.strip() and fact.text
            assert all(isinstance(c, int) for c in fact.citations)


# --- never raises --------------------------------------------------------------------------------

# Pieces of the export format, so that random documents come close to real ones.
FORMAT_PIECES = st.sampled_from([
    "\n", "\r\n", " ", "-", " - ", "- ", "[", "]", "[1]", "[44][43]", ".", "。", "！", "**", "：", ":",
    "·", "・", "•", "\ufeff", "\t", "Search documents", "搜索文档", "Workflow", "Core Views",
    "Group 1: IPO Performance", "1. ", "Revenue rose", "year - on - year", "133 - 137", "核心观点",
    "**业绩**：", "Hua Er Jie Jian Wen", "· 2025-11-13 08:37", "2025-13-45 08:37",
    "Not provided in the given content.", "a", "Z", "5",
])
FORMAT_TEXT = st.lists(st.one_of(FORMAT_PIECES, st.text(max_size=3)), max_size=80).map("".join)


@BOUNDED
@given(st.one_of(st.text(), FORMAT_TEXT))
def test_parse_text_never_raises(text):
    check_invariants(parse_text(text, "f.txt"), text.count("\n") + 1)


@BOUNDED
@given(FORMAT_TEXT)
def test_parse_summary_never_raises(summary):
    facts = parse_summary(summary)
    assert facts is None or all(f.text for f in facts)


@BOUNDED
@given(st.one_of(
    st.binary(),
    FORMAT_TEXT.map(lambda t: t.encode()),
    st.tuples(FORMAT_TEXT, st.binary(max_size=4), FORMAT_TEXT).map(
        lambda parts: parts[0].encode() + parts[1] + parts[2].encode()),
))
def test_parse_file_never_raises(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "seed.txt"
        path.write_bytes(data)
        from_disk = parse_file(path, name="seed.txt")
    assert from_disk == parse_file("unused", name="seed.txt", data=data)
    check_invariants(from_disk, data.count(b"\n") + 1)


# --- round trip ----------------------------------------------------------------------------------

SUBJECTS = ["Revenue", "Sales", "The company", "Nadella", "Microsoft", "Seres", "Investors", "Demand"]
VERBS = ["rose", "fell", "grew", "expects growth", "plans cuts", "reported gains", "held", "declined"]
TAIL_WORDS = [
    "steadily", "in", "the", "third", "quarter,", "by", "5%", "to", "14", "billion", "HKD", "AI",
    "GPT-5", "large-scale", "year - on - year", "at 133 - 137 yuan", "for New - Bond funds",
    "(TCO)", "\"winner's curse\"", "margins", "Azure/AI",
]
CN_CLAUSES = ["公司营收增长5%", "净利润下降1.7%", "目标价133 - 137元", "维持买入评级", "订单饱满", "行业需求回暖"]
TITLE_WORDS = [
    "Core", "Views", "Market", "Overview", "Valuation", "Issues", "Financial", "Performance",
    "Agent", "HQ", "Strategy", "Azure/Cloud", "Self-Developed", "Outlook", "Industry", "IPO",
]
CN_HEADINGS = ["核心观点", "行业动态", "投资建议", "风险提示", "业绩表现"]
MIDDLE_DOTS = ["·", "・", "•"]

english_sentence = st.builds(
    lambda subject, verb, tail: " ".join([subject, verb, *tail]) + ".",
    st.sampled_from(SUBJECTS), st.sampled_from(VERBS),
    st.lists(st.sampled_from(TAIL_WORDS), max_size=5),
)
chinese_sentence = st.builds(
    lambda clauses, end: " ".join(clauses) + end,
    st.lists(st.sampled_from(CN_CLAUSES), min_size=1, max_size=3), st.sampled_from(["。", "！"]),
)
title_case = st.lists(st.sampled_from(TITLE_WORDS), min_size=1, max_size=4).map(" ".join)
heading = st.one_of(
    title_case,
    st.integers(1, 12).map(lambda n: f"Group {n}"),
    st.builds(lambda n, t: f"Group {n}: {t}", st.integers(1, 12), title_case),
    st.builds(lambda n, t: f"{n}. {t}", st.integers(1, 99), title_case),
    title_case.map(lambda t: f"Summary by Sections {t}"),
    st.sampled_from(CN_HEADINGS),
)
citations = st.lists(st.integers(0, 300), max_size=4).map(tuple)


@st.composite
def dash_fact(draw):
    """(text, citations, rendered bullet): a bullet of a "Heading - " section."""
    sentences = st.one_of(english_sentence, chinese_sentence)
    text = " ".join(draw(st.lists(sentences, min_size=1, max_size=2)))
    cites = draw(citations)
    if not cites:
        return text, cites, text  # an uncited bullet must end its sentence to end the bullet
    marks = "".join(f"[{n}]" for n in cites)
    space = draw(st.sampled_from(["", " "]))
    if draw(st.booleans()):  # "text [1]" with no stop after the marks
        text = text[:-1]
        return text, cites, f"{text}{space}{marks}"
    return text, cites, f"{text[:-1]}{space}{marks}{text[-1]}"


@st.composite
def dash_summary(draw):
    """(expected facts, summary line) in the "Heading - bullet. - bullet." style."""
    facts, parts = [], []
    for section in draw(st.lists(heading, min_size=1, max_size=4)):
        bullets = draw(st.lists(dash_fact(), min_size=1, max_size=3))
        parts.append(f"{section} - " + " - ".join(rendered for _, _, rendered in bullets))
        facts += [(section, text, cites) for text, cites, _ in bullets]
    return facts, " ".join(parts)


@st.composite
def label_summary(draw):
    """(expected facts, summary line) in the Chinese "**标签**：句子。" style."""
    facts, parts = [], []
    for label in draw(st.lists(st.sampled_from(CN_HEADINGS), min_size=1, max_size=4)):
        rendered = []
        for text in draw(st.lists(chinese_sentence, min_size=1, max_size=3)):
            cites = draw(citations)
            marks = "".join(f"[{n}]" for n in cites)
            rendered.append(f"{text[:-1]}{marks}{text[-1]}")
            facts.append((label, text, cites))
        colon = draw(st.sampled_from(["：", ":"]))
        parts.append(f"**{label}**{colon}" + draw(st.sampled_from(["", " "])).join(rendered))
    return facts, draw(st.sampled_from(["", " "])).join(parts)


line_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="·・•‧⋅∙･"),
    min_size=1, max_size=30,
).map(str.strip).filter(
    lambda t: t and t.lower() not in {"search documents", "搜索文档", "workflow", "icon"}
)
source_name = st.one_of(
    st.lists(st.sampled_from(["Hua", "Er", "Jie", "Jian", "Wen", "Mei", "Ri", "3", "6", "Ke", "Xin"]),
             min_size=1, max_size=5).map(" ".join),
    st.text("证券时报新浪财经每日经济新闻36氪", min_size=1, max_size=8),
    st.sampled_from(["ZHONGTAI SECURITIES", "CITIC SECURITIES", "GUOTAI JUNAN"]),
)


@st.composite
def article(draw):
    moment = draw(st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)))
    name = draw(source_name)
    spaces = st.sampled_from([" ", ""])
    dot = draw(spaces) + draw(st.sampled_from(MIDDLE_DOTS)) + draw(spaces)
    facts, summary = draw(st.one_of(dash_summary(), label_summary()))
    expected = (draw(line_text), name, moment.strftime("%Y-%m-%dT%H:%M"), facts)
    return expected, [expected[0], f"{name}{dot}{moment:%Y-%m-%d %H:%M}", summary]


@st.composite
def document(draw):
    """(page, expected articles, text of the export)."""
    page = draw(st.one_of(st.none(), line_text))
    header = [] if page is None else [page]
    header += draw(st.lists(st.sampled_from(["Workflow", "icon"]), max_size=2))
    header += draw(st.sampled_from([[], ["Search documents"], ["搜索文档"]]))
    expected, lines = [], header
    for expected_article, article_lines in draw(st.lists(article(), min_size=1, max_size=3)):
        lines += [""] * draw(st.integers(0, 2)) + article_lines
        expected.append(expected_article)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    return page, expected, draw(st.sampled_from(["", "\ufeff"])) + text


def observed(result: ParseResult):
    return [
        (a.title, a.source, a.published, [(f.section, f.text, f.citations) for f in a.facts])
        for a in result.articles
    ]


@BOUNDED
@given(document())
def test_round_trip(doc):
    page, expected, text = doc
    result = parse_text(text, "gen.txt")
    assert result.errors == []
    assert result.page == page
    assert observed(result) == expected
    assert parse_file("unused", name="gen.txt", data=text.encode()) == result


@BOUNDED
@given(st.lists(article(), min_size=2, max_size=3), st.data())
def test_broken_article_does_not_hide_the_others(articles, data):
    """Dropping one article's summary line reports that article and keeps the others."""
    broken = data.draw(st.integers(0, len(articles) - 1))
    lines = []
    for k, (_, article_lines) in enumerate(articles):
        lines += [""] + (article_lines[:2] if k == broken else article_lines)
    result = parse_text("\n".join(lines), "gen.txt")
    assert [(e.line, e.reason.split(" (")[0]) for e in result.errors] == [
        (1 + 4 * broken + 1, "article has no summary line")]
    assert observed(result) == [expected for k, (expected, _) in enumerate(articles) if k != broken]
