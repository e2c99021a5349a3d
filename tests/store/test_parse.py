"""The seed parser on the real example, on every format variation and on every error case."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from store.model import Fact, ParseError
from store.parse import MAX_LINE, parse_file, parse_summary, parse_text

EXAMPLE = Path(__file__).resolve().parents[2] / "seeds" / "000_d15f99b5a61b95c3.txt"
SOURCE = "Hua Er Jie Jian Wen· 2025-11-13 08:37"


def facts_of(summary: str) -> list[tuple[str, str, tuple[int, ...]]]:
    """(section, text, citations) of a one-article document with this summary line."""
    result = parse_text(f"标题\n{SOURCE}\n{summary}", "t.txt")
    assert result.errors == []
    assert len(result.articles) == 1
    facts = result.articles[0].facts
    assert [f.position for f in facts] == list(range(len(facts)))
    return [(f.section, f.text, f.citations) for f in facts]


def sections_of(facts: list[Fact]) -> list[str]:
    """Section headings in order, each once."""
    return list(dict.fromkeys(f.section for f in facts))


# --- the real example ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def example():
    return parse_file(EXAMPLE, name="000_d15f99b5a61b95c3.txt")


def test_example_articles_and_counts(example):
    assert example.errors == []
    assert example.page == "赢家诅咒"
    first, second = example.articles
    assert [len(first.facts), len(second.facts)] == [15, 16]
    assert first.title.startswith("微软CEO深度访谈:Azure利润很大程度来自配套服务")
    assert (first.source, first.published, first.line) == ("Hua Er Jie Jian Wen", "2025-11-13T08:37", 3)
    assert (second.title, second.source, second.published, second.line) == (
        "赛力斯为何突然暴跌?", "3 6 Ke", "2025-11-07T02:14", 6)
    assert first.page == second.page == "赢家诅咒"
    assert first.file == second.file == "000_d15f99b5a61b95c3.txt"


def test_example_sections_as_written(example):
    first, second = example.articles
    assert sections_of(first.facts) == [
        "Core Insights", "Azure/Cloud Strategy", "Self-Developed Chip Strategy",
        "Model Commercialization", "Fairwater 2 Data Center", "Industry Profitability",
        "Agent HQ Strategy", "Future Outlook",
    ]
    assert sections_of(second.facts) == [
        "Core Viewpoint", "Group 1: IPO Performance", "Group 2: Valuation Issues",
        "Group 3: Financial Performance", "Group 4: Strategic Dependence", "Group 5: Market Dynamics",
    ]


def test_example_fact_details(example):
    first, second = example.articles
    fairwater = [f for f in first.facts if f.section == "Fairwater 2 Data Center"]
    assert fairwater[0].citations == (5, 13)
    assert fairwater[0].text == (
        "The new Fairwater 2 data center aims to increase training capacity tenfold every 18 to 24 "
        "months, significantly enhancing capabilities compared to GPT-5."
    )
    # Two sentences, one bullet: the citations' full stop becomes the text's end.
    azure = first.facts[1]
    assert azure.section == "Azure/Cloud Strategy"
    assert azure.citations == (4, 8)
    assert azure.text.startswith("Nadella emphasizes that Azure/AI workloads")
    assert "profit margins. The goal is to make Azure" in azure.text
    assert azure.text.endswith("which is essential for large-scale cloud business.")
    assert first.facts[0].citations == (1, 4, 37)
    assert first.facts[-1] == Fact(
        "The company is focused on building a world-class team to drive breakthroughs in AI, "
        "leveraging its existing capabilities and partnerships.", "Future Outlook", (226,), 14)
    assert second.facts[3].text.startswith("Despite a significant oversubscription of 133 times")
    assert [f.position for f in second.facts] == list(range(16))
    for fact in first.facts + second.facts:
        assert fact.text == fact.text.strip()
        assert not fact.text.startswith("-")
        assert "[" not in fact.text and not fact.text.endswith(" .")


def test_example_parse_text_matches_parse_file(example):
    text = EXAMPLE.read_text(encoding="utf-8")
    assert parse_text(text, "000_d15f99b5a61b95c3.txt") == example


def test_parse_file_records_given_name_or_path(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(f"T\n{SOURCE}\nCore Views - Fact [1].", encoding="utf-8")
    assert parse_file(path).articles[0].file == str(path)
    assert parse_file(path, name="seeds/a.txt").articles[0].file == "seeds/a.txt"


def test_parse_file_uses_data_already_read(tmp_path):
    path = tmp_path / "missing.txt"  # never read when the content is passed in
    result = parse_file(path, name="a.txt", data=f"T\n{SOURCE}\nCore Views - Fact [1].".encode())
    assert result.errors == [] and result.articles[0].facts[0].text == "Fact."


# --- page header ---------------------------------------------------------------------------------

ARTICLE = f"标题\n{SOURCE}\nCore Views - Fact [1]."


@pytest.mark.parametrize(("header", "page", "title_line"), [
    ("赢家诅咒\nSearch documents\n", "赢家诅咒", 3),
    ("Search documents\n", None, 2),  # missing page line
    ("赢家诅咒\nWorkflow\nicon\nSearch documents\n", "赢家诅咒", 5),
    ("Workflow\nicon\nSearch documents\n", None, 4),
    ("icon\n中泰证券\nWorkflow\nSearch documents\n", "中泰证券", 5),
    ("半导体\n搜索文档\n", "半导体", 3),
    ("", None, 1),  # a single exported article: no marker, no page
    ("ZHONGTAI SECURITIES\n", "ZHONGTAI SECURITIES", 2),  # page but no marker
    ("Workflow\n", None, 2),
    ("\n\n赢家诅咒\n\nSearch documents\n\n", "赢家诅咒", 7),
])
def test_page_header_variations(header, page, title_line):
    result = parse_text(header + ARTICLE, "p.txt")
    assert result.errors == []
    assert result.page == page
    [article] = result.articles
    assert (article.page, article.line, article.title) == (page, title_line, "标题")


# --- source line ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "source", "published"), [
    ("Hua Er Jie Jian Wen· 2025-11-13 08:37", "Hua Er Jie Jian Wen", "2025-11-13T08:37"),
    ("Hua Er Jie Jian Wen·2025-11-13 08:37", "Hua Er Jie Jian Wen", "2025-11-13T08:37"),
    ("3 6 Ke· 2025-11-07 02:14", "3 6 Ke", "2025-11-07T02:14"),
    ("3 6 Ke ·  2025-11-07 02:14", "3 6 Ke", "2025-11-07T02:14"),
    ("Mei Ri Jing Ji Xin Wen· 2024-02-29 23:59", "Mei Ri Jing Ji Xin Wen", "2024-02-29T23:59"),
    ("Xin Lang Cai Jing·2025-01-02 9:05", "Xin Lang Cai Jing", "2025-01-02T09:05"),
    ("36氪· 2025-11-07 02:14", "36氪", "2025-11-07T02:14"),
    ("证券时报・2025-11-07 02:14", "证券时报", "2025-11-07T02:14"),
    ("ZHONGTAI SECURITIES • 2025-11-07 02:14", "ZHONGTAI SECURITIES", "2025-11-07T02:14"),
    ("Guo Tai·Jun An· 2025-11-07 02:14", "Guo Tai·Jun An", "2025-11-07T02:14"),
])
def test_source_line_variations(line, source, published):
    result = parse_text(f"标题\n{line}\nCore Views - Fact [1].", "s.txt")
    assert result.errors == []
    [article] = result.articles
    assert (article.source, article.published) == (source, published)


# --- headings ------------------------------------------------------------------------------------

@pytest.mark.parametrize("heading", [
    "Core Insights", "Core Viewpoint", "Core Viewpoints", "Core Views", "Market Overview",
    "Group 1", "Group 1: IPO Performance", "1. Market Review",
    "Summary by Sections Company Overview", "核心观点", "Report Industry Investment Rating",
    "Azure/Cloud Strategy", "Group 3: Impact on downstream industries",
])
def test_heading_styles_first_and_after_a_bullet(heading):
    # Kept exactly as written, whether it opens the summary or follows a cited bullet.
    assert facts_of(f"{heading} - First fact [1]. - Second fact [2].") == [
        (heading, "First fact.", (1,)), (heading, "Second fact.", (2,))]
    assert facts_of(f"Core Views - Intro [1]. {heading} - Detail [2].") == [
        ("Core Views", "Intro.", (1,)), (heading, "Detail.", (2,))]


def test_numbered_headings_in_sequence():
    assert facts_of("1. Market Review - Stocks rose [1]. 2. Policy Outlook - Rates held [2].") == [
        ("1. Market Review", "Stocks rose.", (1,)), ("2. Policy Outlook", "Rates held.", (2,))]


def test_stacked_heading_kept_whole():
    assert facts_of(
        "Core Views - Solid quarter [1]. Summary by Sections Company Overview - "
        "The company makes chips [2]. Financial Performance - Revenue rose [3]."
    ) == [
        ("Core Views", "Solid quarter.", (1,)),
        ("Summary by Sections Company Overview", "The company makes chips.", (2,)),
        ("Financial Performance", "Revenue rose.", (3,)),
    ]


def test_nothing_there_heading_is_dropped():
    assert facts_of(
        "Report Industry Investment Rating - Not provided in the given content. "
        "Core Viewpoints - The report expects steady demand [1]."
    ) == [("Core Viewpoints", "The report expects steady demand.", (1,))]


@pytest.mark.parametrize("nothing", [
    "Not provided in the given content.", "Not mentioned in the report.", "No relevant content.",
    "None.", "N/A.", "未提及。",
])
def test_nothing_there_variants_are_dropped(nothing):
    assert facts_of(f"Industry Rating - {nothing} Core Views - Fact [1].") == [
        ("Core Views", "Fact.", (1,))]


def test_summary_of_only_nothing_there_gives_article_without_facts():
    result = parse_text(
        f"标题\n{SOURCE}\nReport Industry Investment Rating - Not provided in the given content.", "t")
    assert result.errors == []
    assert result.articles[0].facts == []


def test_cited_nothing_there_text_is_kept():
    assert facts_of("Industry Rating - Not provided in the given content [3].") == [
        ("Industry Rating", "Not provided in the given content.", (3,))]


# --- citations -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("bullet", "text", "citations"), [
    ("Revenue rose [1][2].", "Revenue rose.", (1, 2)),
    ("Revenue rose [1]", "Revenue rose", (1,)),
    ("Revenue rose this week[1].", "Revenue rose this week.", (1,)),
    ("Revenue rose this week[1]", "Revenue rose this week", (1,)),
    ("Revenue rose [1][1].", "Revenue rose.", (1, 1)),
    ("Revenue rose [44][43].", "Revenue rose.", (44, 43)),
    ("Revenue rose [1] [2].", "Revenue rose.", (1, 2)),
    ("Revenue rose. [3]", "Revenue rose.", (3,)),
    ("Revenue rose [3] .", "Revenue rose.", (3,)),
    ("Revenue rose.", "Revenue rose.", ()),
    ("Revenue rose [1], while costs fell [2].", "Revenue rose, while costs fell.", (1, 2)),
    ("Margins are high. The goal is scale [4][8].", "Margins are high. The goal is scale.", (4, 8)),
])
def test_citation_variations(bullet, text, citations):
    assert facts_of(f"Core Views - {bullet} - Next bullet [9]. Outlook - Last [10].") == [
        ("Core Views", text, citations), ("Core Views", "Next bullet.", (9,)),
        ("Outlook", "Last.", (10,))]


def test_bullets_without_citations():
    assert facts_of(
        "Core Views - The market is strong. - Bonds fell. Market Overview - Stocks rose. "
        "The index - a broad gauge - gained. Policy Outlook - Rates held."
    ) == [
        ("Core Views", "The market is strong.", ()),
        ("Core Views", "Bonds fell.", ()),
        ("Market Overview", "Stocks rose. The index - a broad gauge - gained.", ()),
        ("Policy Outlook", "Rates held.", ()),
    ]


# --- spaced hyphens inside text ------------------------------------------------------------------

def test_spaced_hyphens_stay_text():
    assert facts_of(
        "Core Views - Revenue grew 12% year - on - year, with prices at 133 - 137 yuan [1]. "
        "- New - Bond issuance rose [2]. Market Overview - The New - Bond market expanded [3]. "
        "- Sales rose. Prices stayed at 133 - 137 yuan and grew year - on - year [4]."
    ) == [
        ("Core Views", "Revenue grew 12% year - on - year, with prices at 133 - 137 yuan.", (1,)),
        ("Core Views", "New - Bond issuance rose.", (2,)),
        ("Market Overview", "The New - Bond market expanded.", (3,)),
        ("Market Overview", "Sales rose. Prices stayed at 133 - 137 yuan and grew year - on - year.", (4,)),
    ]


def test_spaced_hyphens_in_uncited_bullets():
    assert facts_of(
        "Core Views - Revenue grew 5% year - on - year. Prices held at 133 - 137 yuan. "
        "The New - Bond market grew. Market Overview - Bonds rose."
    ) == [
        ("Core Views", "Revenue grew 5% year - on - year. Prices held at 133 - 137 yuan. "
                       "The New - Bond market grew.", ()),
        ("Market Overview", "Bonds rose.", ()),
    ]


def test_numeric_range_right_after_citations_is_text():
    assert facts_of("Core Views - Target price [1]. 133 - 137 yuan is the range [2].") == [
        ("Core Views", "Target price. 133 - 137 yuan is the range.", (1, 2))]


def test_hyphenated_words_are_text():
    assert facts_of("Self-Developed Chips - The GPT-5 class model is year-on-year cheaper [7].") == [
        ("Self-Developed Chips", "The GPT-5 class model is year-on-year cheaper.", (7,))]


# --- Chinese summaries ---------------------------------------------------------------------------

def test_chinese_labels_split_into_sentences():
    assert facts_of(
        "**核心观点**：公司前三季度营收同比增长5% 净利润下降1.7%[1]。 公司计划回购股份[2][3]。"
        "**投资建议**：维持买入评级 目标价133 - 137元[4]。风险提示：市场波动。"
    ) == [
        ("核心观点", "公司前三季度营收同比增长5% 净利润下降1.7%。", (1,)),
        ("核心观点", "公司计划回购股份。", (2, 3)),
        ("投资建议", "维持买入评级 目标价133 - 137元。", (4,)),
        ("投资建议", "风险提示：市场波动。", ()),
    ]


def test_chinese_label_mid_sentence_citation_does_not_split():
    assert facts_of("**业绩**：营收增长[1] 利润下降[2]。**估值**: 低于同业！") == [
        ("业绩", "营收增长 利润下降。", (1, 2)), ("估值", "低于同业！", ())]


def test_english_labels_split_into_sentences():
    assert facts_of("**Core Views**: The company grew. Profits rose [1]. **Risks**: Demand may fall [2]") == [
        ("Core Views", "The company grew.", ()), ("Core Views", "Profits rose.", (1,)),
        ("Risks", "Demand may fall", (2,))]


def test_chinese_dash_sections():
    assert facts_of(
        "核心观点 - 公司业绩超预期 毛利率提升[1]。 - 订单饱满[2]。 行业动态 - 行业需求回暖[3][3]。"
    ) == [
        ("核心观点", "公司业绩超预期 毛利率提升。", (1,)),
        ("核心观点", "订单饱满。", (2,)),
        ("行业动态", "行业需求回暖。", (3, 3)),
    ]


def test_text_before_first_heading_has_empty_section():
    assert facts_of("- Loose bullet [1]. Core Views - Fact [2].") == [
        ("", "Loose bullet.", (1,)), ("Core Views", "Fact.", (2,))]


# --- document shapes -----------------------------------------------------------------------------

def test_several_articles_with_blank_lines_crlf_and_bom():
    text = (
        "\ufeff赢家诅咒\r\nSearch documents\r\n\r\n"
        f"第一篇\r\n{SOURCE}\r\nCore Views - One [1].\r\n\r\n\r\n"
        "第二篇\r\n36氪·2025-01-02 03:04\r\n核心观点 - 二[2]。\r\n"
        "第三篇\r\nZHONGTAI SECURITIES· 2025-01-03 04:05\r\nMarket Overview - Three [3].\r\n"
    )
    result = parse_text(text, "m.txt")
    assert result.errors == []
    assert result.page == "赢家诅咒"
    assert [(a.title, a.source, a.published, a.line) for a in result.articles] == [
        ("第一篇", "Hua Er Jie Jian Wen", "2025-11-13T08:37", 4),
        ("第二篇", "36氪", "2025-01-02T03:04", 9),
        ("第三篇", "ZHONGTAI SECURITIES", "2025-01-03T04:05", 12),
    ]
    assert [a.facts[0].text for a in result.articles] == ["One.", "二。", "Three."]


def test_parse_file_accepts_bom_and_crlf(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + f"Search documents\r\n{ARTICLE}\r\n".replace("\n", "\r\n").encode())
    result = parse_file(path, name="bom.txt")
    assert result.errors == []
    assert result.page is None
    assert result.articles[0].title == "标题" and result.articles[0].line == 2


# --- errors --------------------------------------------------------------------------------------

def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "seed.txt"
    path.write_bytes(data)
    return path


def test_not_utf8(tmp_path):
    path = write(tmp_path, f"T\n{SOURCE}\n".encode() + b"Core Views - caf\xe9 [1].")  # Latin-1
    result = parse_file(path, name="seed.txt")
    assert result.articles == []
    assert result.errors == [ParseError("seed.txt", 3, "not UTF-8 (invalid byte 0xe9 at line 3)")]


def test_not_utf8_on_first_line(tmp_path):
    result = parse_file(write(tmp_path, b"\xff\xfeabc"), name="seed.txt")
    assert result.errors == [ParseError("seed.txt", 1, "not UTF-8 (invalid byte 0xff at line 1)")]


def test_binary_file(tmp_path):
    result = parse_file(write(tmp_path, b"T\n\x00\x01\x02binary"), name="seed.txt")
    assert result.articles == []
    assert result.errors == [ParseError("seed.txt", 0, "binary file (contains NUL bytes)")]


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n \r\n\t\n"])
def test_empty_file(tmp_path, data):
    result = parse_file(write(tmp_path, data), name="seed.txt")
    assert result.articles == []
    assert result.errors == [ParseError("seed.txt", 0, "empty file")]


def test_unreadable_file(tmp_path):
    result = parse_file(tmp_path / "nope.txt", name="nope.txt")
    assert result.errors == [ParseError("nope.txt", 0, "cannot read file: No such file or directory")]


def test_not_export_format():
    result = parse_text("Hello,\nthis is a letter, not an export.\n", "letter.txt")
    assert result.articles == []
    assert result.errors == [ParseError(
        "letter.txt", 1,
        "no article found: expected a title line, then a source line such as "
        "'Hua Er Jie Jian Wen· 2025-11-13 08:37', then a summary line")]


def test_line_too_long_skips_only_its_article(tmp_path):
    long_summary = "Core Views - " + "x" * MAX_LINE + " [1]."
    text = f"Search documents\nA\n{SOURCE}\n{long_summary}\nB\n{SOURCE}\nCore Views - Fine [2].\n"
    path = write(tmp_path, text.encode())
    result = parse_file(path, name="seed.txt")
    assert result.errors == [ParseError(
        "seed.txt", 4, f"line too long ({len(long_summary):,} characters; the limit is 1,000,000)")]
    assert [(a.title, a.line, a.facts[0].text) for a in result.articles] == [("B", 5, "Fine.")]


def test_line_of_exactly_max_line_is_accepted():
    summary = "Core Views - " + "x" * (MAX_LINE - len("Core Views - ") - 5) + " [1]."
    assert len(summary) == MAX_LINE
    result = parse_text(f"A\n{SOURCE}\n{summary}", "t")
    assert result.errors == [] and result.articles[0].facts[0].citations == (1,)


def test_missing_summary_line():
    text = "\n".join([
        "A", SOURCE, "",  # blank line where the summary should be
        "B", SOURCE, "Core Views - Fine [1].",
        "C", SOURCE,  # followed directly by the next article's title
        "D", SOURCE, "Core Views - Also [2].",
        "E", SOURCE,  # at the end of the file
    ])
    result = parse_text(text, "t.txt")
    assert result.errors == [
        ParseError("t.txt", 1, "article has no summary line (expected on line 3)"),
        ParseError("t.txt", 7, "article has no summary line (expected on line 9)"),
        ParseError("t.txt", 12, "article has no summary line (expected on line 14)"),
    ]
    assert [(a.title, a.line) for a in result.articles] == [("B", 4), ("D", 9)]


def test_summary_without_structure():
    text = "\n".join([
        "A", SOURCE, "Just a paragraph of prose. Revenue grew 5% year - on - year.", "",
        "B", SOURCE, "Core Views - Fine [1].",
    ])
    result = parse_text(text, "t.txt")
    assert result.errors == [ParseError(
        "t.txt", 3,
        "summary line has no sections: "
        "expected 'Heading - fact [1]. - fact [2].' or '**Label**：sentence。'")]
    assert [a.title for a in result.articles] == ["B"]
    assert parse_summary("Just a paragraph of prose.") is None


def test_source_line_without_title():
    text = f"Search documents\n{SOURCE}\nCore Views - Orphan [1].\nB\n{SOURCE}\nCore Views - Fine [2]."
    result = parse_text(text, "t.txt")
    assert result.errors == [ParseError("t.txt", 2, "source line has no title line above it")]
    assert [(a.title, a.line) for a in result.articles] == [("B", 4)]


def test_invalid_date():
    text = "\n".join([
        "A", "Hua Er Jie Jian Wen· 2025-13-45 08:37", "Core Views - X [1].",
        "B", SOURCE, "Core Views - Y [2].",
    ])
    result = parse_text(text, "t.txt")
    assert result.errors == [ParseError("t.txt", 2, "invalid date or time '2025-13-45 08:37' in source line")]
    assert [a.title for a in result.articles] == ["B"]


def test_stray_text_between_articles():
    text = "\n".join([
        "A", SOURCE, "Core Views - X [1].", "stray one", "stray two", "", "stray three", "",
        "B", SOURCE, "Core Views - Y [2].",
    ])
    result = parse_text(text, "t.txt")
    expected = ("expected a title line, then a source line such as "
                "'Hua Er Jie Jian Wen· 2025-11-13 08:37', then a summary line")
    assert result.errors == [
        ParseError("t.txt", 4, f"unexpected text outside an article (lines 4-5): {expected}"),
        ParseError("t.txt", 7, f"unexpected text outside an article: {expected}"),
    ]
    assert [a.title for a in result.articles] == ["A", "B"]


def test_text_after_marker_before_first_article_is_stray():
    result = parse_text(f"Page\nSearch documents\nleftover\n\n{ARTICLE}", "t.txt")
    assert [(e.line, e.reason.split(":")[0]) for e in result.errors] == [
        (3, "unexpected text outside an article")]
    assert result.page == "Page" and len(result.articles) == 1


def test_errors_sorted_and_str():
    text = f"A\n{SOURCE}\nno structure\nB\n{SOURCE}"
    result = parse_text(text, "t.txt")
    assert [e.line for e in result.errors] == [3, 4]
    assert str(result.errors[0]).startswith("t.txt:3: summary line has no sections")


# --- linear time ---------------------------------------------------------------------------------

@pytest.mark.parametrize("summary", [
    " " * (MAX_LINE - 1) + "x",
    "A - " + " " * (MAX_LINE - 10) + "[1]",
    " -" * (MAX_LINE // 2),
    "[1]" * (MAX_LINE // 3),
    "*" * MAX_LINE,
    "**" + "a" * 99 + "**" * (MAX_LINE // 2 - 60),
    ". " * (MAX_LINE // 2),
    "[123456789" * (MAX_LINE // 10),
    "Core Views - " + "year - on - year [1]. Group 1 - x. " * (MAX_LINE // 36),
], ids=["spaces", "spaces-cite", "dashes", "cites", "stars", "labels", "stops", "brackets", "mixed"])
def test_one_megabyte_line_parses_fast(summary):
    assert len(summary) <= MAX_LINE
    started = time.perf_counter()
    parse_text(f"A\n{SOURCE}\n{summary}", "t.txt")
    assert time.perf_counter() - started < 2.0  # about 0.1-0.5 s; quadratic would take hours
