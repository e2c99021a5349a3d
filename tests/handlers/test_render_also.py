"""Rendering a hit's other reports ("Also reported by ..."): escaped and clipped like the answer's
own context, within Block Kit's limits."""
from __future__ import annotations

import json

from handlers.render import MAX_ALSO, MAX_BLOCKS, MAX_FALLBACK, MAX_SECTION, render_answer
from store import ArticleInfo
from store.groups import Also
from store.search import Hit, SearchResult

ARTICLE = ArticleInfo(title="赛力斯为何突然暴跌?", source="3 6 Ke", published="2025-11-07T02:14", file="000.txt")


def _hit(also, n: int = 1) -> Hit:
    return Hit(id=n, text=f"Seres Automotive raised 14 billion HKD in its IPO ({n}).", section="Group 1: IPO Performance",
               citations=[1], score=1.0, article=ARTICLE, also=list(also))


def _context_texts(message) -> list[str]:
    return [e["text"] for b in message.blocks if b["type"] == "context" for e in b["elements"]]


def test_also_reported_by_source_date_article_citations():
    also = [Also("赛力斯 IPO", "Sina Finance", "2025-11-08T10:30", [1, 3], "Seres secured HKD 14 billion."),
            Also("Seres <IPO> & more", "Cai*xin* <@U123>", "2025-11-09T08:00", [2], "Seres raised HK$14bn.")]
    message = render_answer(SearchResult("seres ipo", 1.0, [_hit(also)]))
    (context,) = [t for t in _context_texts(message) if "Also reported by" in t]
    line = context.split("\n")[1]
    assert line == ("Also reported by Sina Finance · 2025-11-08 · _赛力斯 IPO_ · [1][3]; "
                    "Cai*xin* &lt;@U123&gt; · 2025-11-09 · _Seres &lt;IPO&gt; &amp; more_ · [2]")
    assert "Also reported by Sina Finance, Cai*xin* &lt;@U123&gt;." in message.text


def test_no_also_line_without_other_reports():
    message = render_answer(SearchResult("seres ipo", 1.0, [_hit([])]))
    assert not any("Also reported by" in t for t in _context_texts(message))
    assert "Also reported by" not in message.text


def test_many_long_reports_stay_within_block_kit_limits():
    long = "长" * 5000
    also = [Also(long, "&<>" + "S" * 500, "2025-11-08T10:30", list(range(1, 200)), long) for _ in range(40)]
    message = render_answer(SearchResult("seres ipo", 1.0, [_hit(also, n) for n in range(1, 21)], has_more=True),
                            share=True, feedback=True)
    assert len(message.blocks) <= MAX_BLOCKS
    assert len(message.text) <= MAX_FALLBACK
    for text in _context_texts(message):
        assert len(text) <= MAX_SECTION
        if "Also reported by" in text:
            assert text.endswith(f"; and {40 - MAX_ALSO} more")
            assert text.count("&amp;&lt;&gt;") == MAX_ALSO  # escaped whole, never cut inside an entity
    json.dumps(message.blocks)
