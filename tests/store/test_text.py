"""Text normalisation: what the index and the queries both see."""
from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from store.text import normalize

# text with line breaks and tabs (headings are joined with "\n") mixed with controls and format
# characters, which must never survive normalisation
MIXED = st.lists(st.one_of(st.sampled_from(["\n", "\t", "\x00", "\x1b", "\x7f", "\u202e", "\u200b", "\u2066",
                                            "seres", "赛力斯", "微軟", "Ｓｅｒｅｓ", " ", "café"]),
                           st.text(max_size=5)), max_size=20).map("".join)


@settings(max_examples=400, deadline=None)
@given(MIXED)
def test_no_invisible_character_survives_normalize_beside_line_breaks(text):
    out = normalize(text)
    assert not [ch for ch in out if unicodedata.category(ch)[0] == "C" and ch not in "\t\n"]
    assert out.count("\n") == text.count("\n")  # line breaks are kept: headings are split on them


def test_controls_become_spaces_in_ascii_and_chinese_text_with_line_breaks():
    assert normalize("Seres\x00IPO\nGroup 1") == "seres ipo\ngroup 1"
    assert normalize("赛力斯\u202e募资\n核心观点") == "赛力斯 募资\n核心观点"
