"""Text normalisation: what the index and the queries both see."""
from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from store.text import FTS_TOKENIZE, index_text, normalize

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


# characters of the kinds seed text holds: ASCII, accented Latin, Greek and Cyrillic, Chinese
# (simplified and traditional) with its punctuation, full-width forms, typographic quotes and
# dashes, other scripts' digits, fractions, emoji, combining marks, private-use characters
WORDISH = st.text(alphabet=st.sampled_from(
    list("Seres IPO,.;:'\"-_/%$()[]0123456789 \n") + list("éÉçñüøåßœÆ") + list("αΩжЖ")
    + list("赛力斯微軟募資，。、：；“”‘’《》（）【】…—·") + list("ＡＢｃ１２％！") + list("٣۴½²Ⅻ")
    + ["\u2014", "\u2019", "\u00a0", "\u3000", "\U0001f680", "\u2764", "\u0301", "\u0308", "\ue000",
       "\u2044", "\u00b7", "\u200b"]), max_size=40)


def _fts5_words(tokenize: str, body: str) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(body, content='', detail=none, tokenize='{tokenize}')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, row)")
    conn.execute("INSERT INTO t(rowid, body) VALUES (1, ?)", (body,))
    return [term for (term,) in conn.execute("SELECT term FROM v ORDER BY term")]


@settings(max_examples=300, deadline=None)
@given(st.one_of(WORDISH, MIXED))
def test_the_index_tokenizer_finds_the_words_unicode61_finds_in_index_text(text):
    """The index uses FTS5's cheap ascii tokenizer (FTS_TOKENIZE): on what index_text writes it
    must find exactly the words SQLite's Unicode-aware tokenizer finds, the words `words` sees."""
    body = index_text(text)
    assert _fts5_words(FTS_TOKENIZE, body) == _fts5_words("unicode61 remove_diacritics 2", body)


def test_punctuation_beside_words_is_not_part_of_them_in_the_index():
    body = index_text("Moutai’s “record” revenue，营收 rose — 🚀 again")
    assert set(_fts5_words(FTS_TOKENIZE, body)) >= {"moutai", "record", "revenue", "营收", "rose", "again"}
