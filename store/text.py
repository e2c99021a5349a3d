"""Text normalisation shared by the index and the queries, so both sides see the same words.

- `normalize`: Unicode NFKC (full-width letters become ASCII), case folded, control characters,
  bidi marks and other invisible format characters removed, traditional Chinese characters
  converted to simplified (OpenCC's t2s data: 微軟 -> 微软, 募資 -> 募资), so that either script
  finds the other.
- `words`: the word tokens of normalised text, split like SQLite's unicode61 tokenizer (runs of
  letters and digits) except that a run of Chinese/Japanese/Korean characters is its own token.
- `index_text`: what goes into the FTS5 column: every CJK run is written as its overlapping
  2-character words ("赛力斯" -> "赛力 力斯"), since SQLite's tokenizers do not split Chinese, and
  every other character that cannot be part of a word is a space (`FTS_TOKENIZE`).
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc
import snowballstemmer

_CJK_RANGES = (
    "\u3041-\u3096\u30a1-\u30fa\u30fc-\u30ff"  # kana (letters only)
    "\u3100-\u312f\u31a0-\u31bf"  # bopomofo
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified
    "\uac00-\ud7af"  # hangul
    "\uf900-\ufaff"  # compatibility ideographs
    "\U00020000-\U0002fa1f"  # extensions B..
)
CJK_RE = re.compile(f"[{_CJK_RANGES}]")
_TOKEN_RE = re.compile(f"[{_CJK_RANGES}]+|[^\\W_{_CJK_RANGES}]+")
_CJK_RUN_RE = re.compile(f"[{_CJK_RANGES}]+")

def _strip_invisible(text: str) -> str:
    """Controls, format characters (bidi marks, zero-width joiners), private and unassigned -> space."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] == "C" and ch not in "\t\n":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


_t2s = opencc.OpenCC("t2s")


def _visible(text: str) -> bool:
    """True when `_strip_invisible` would change nothing: every character but line breaks and tabs
    printable (a heading joined with its title by "\n" takes the fast path, not the loop)."""
    return text.isprintable() or text.replace("\n", "").replace("\t", "").isprintable()


def normalize(text: str) -> str:
    """NFKC, case folding, invisible characters to spaces, traditional Chinese to simplified."""
    if text.isascii():
        text = text.lower()
        return text if _visible(text) else _strip_invisible(text)
    text = unicodedata.normalize("NFKC", text)
    if not _visible(text):
        text = _strip_invisible(text)
    text = text.casefold()
    if not text.isascii():
        # drop combining marks the way unicode61's remove_diacritics does ("café" -> "cafe")
        decomposed = unicodedata.normalize("NFD", text)
        if len(decomposed) != len(text):
            text = unicodedata.normalize(
                "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
            )
        if CJK_RE.search(text):
            text = _t2s.convert(text)
    return text


def words(normalized: str) -> list[str]:
    """Word tokens of already normalised text; CJK runs are kept whole."""
    return _TOKEN_RE.findall(normalized)


def is_cjk(token: str) -> bool:
    return bool(CJK_RE.match(token))


def bigrams(run: str) -> list[str]:
    """Overlapping 2-character words of a CJK run; a lone character stands for itself."""
    if len(run) < 2:
        return [run]
    return [run[i:i + 2] for i in range(len(run) - 1)]


# FTS5's tokenizer for index_text's output. `ascii` splits at every ASCII character but letters and
# digits, folds ASCII case, and takes every other character for part of a word; index_text has
# normalised the text (case folded, diacritics removed) and made a space of every non-ASCII
# character that is not a letter, digit or private-use character (the characters SQLite's
# unicode61 tokenizer keeps in words), so the two tokenizers see the same words in it, and
# `ascii` is the cheaper (it looks up no Unicode tables)
FTS_TOKENIZE = "ascii"
_NOT_IN_WORDS_RE = re.compile(r"[^\x00-\x7f\w\ue000-\uf8ff\U000f0000-\U0010ffff]+")


def _bigram_run(match: re.Match) -> str:
    return " " + " ".join(bigrams(match.group(0))) + " "


def index_text(text: str) -> str:
    """Text as it is written into the FTS5 column (normalised, CJK runs as bigrams, spaces for
    the other characters that are not in words).

    ASCII text goes in as it is: FTS5's tokenizer folds its case and splits it exactly as `words`
    does."""
    if text.isascii():
        return text
    text = normalize(text)
    if not text.isascii():
        text = _NOT_IN_WORDS_RE.sub(" ", text)
    if CJK_RE.search(text):
        text = _CJK_RUN_RE.sub(_bigram_run, text)
    return text


def doc_terms(text: str) -> set[str]:
    """The set of index terms a text holds (as FTS5 sees them after index_text)."""
    tokens = _TOKEN_RE.findall(normalize(text))
    if not CJK_RE.search(text):
        return set(tokens)
    out: set[str] = set()
    for tok in tokens:
        if is_cjk(tok):
            out.update(bigrams(tok))
        else:
            out.add(tok)
    return out


_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem of an English word; other words are returned as they are."""
    if not word.isascii() or not word.isalpha():
        return word
    return _stemmer.stemWord(word)
