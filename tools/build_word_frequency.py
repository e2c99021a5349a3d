#!/usr/bin/env python3
"""Build store/data/word-frequency.txt: the Zipf frequency of general English and Chinese words,
from wordfreq's "small" lists (wordfreq 3.1, code Apache-2.0, data CC BY-SA 4.0: built from
Wikipedia, subtitles, news, books, web text, Twitter and Reddit; see wordfreq's README).

The search reads a word's general frequency to tell the words of a question that say what it is
about (rare in general text: houseplants, stadium) from those any question uses (big, bring), so
that a question whose telling words the digests lack gets no answer. Shipped as a data file so
that factbot itself needs neither wordfreq nor its 58 MB of data.

    .venv/bin/pip install -q wordfreq
    .venv/bin/python tools/build_word_frequency.py > store/data/word-frequency.txt

Kept: English words of letters only, Chinese words of Chinese characters only, with a Zipf value
of at least --min-zipf (3.0: once in a million words). A word missing from the file is rarer.
"""
from __future__ import annotations

import argparse
import re

from importlib.metadata import version

from wordfreq import get_frequency_dict, zipf_frequency

__version__ = version("wordfreq")

CJK = re.compile(r"^[\u4e00-\u9fff]+$")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--min-zipf", type=float, default=3.0)
    a = ap.parse_args()
    print(f"# Zipf frequency of general words (log10 of occurrences per billion words), from wordfreq {__version__}'s")
    print("# 'small' English and Chinese lists. wordfreq: Apache-2.0 code, CC BY-SA 4.0 data (Wikipedia,")
    print("# subtitles, news, books, web text, Twitter, Reddit). Built by tools/build_word_frequency.py;")
    print(f"# words with zipf >= {a.min_zipf} only. Format: word zipf")
    for lang, ok in (("en", lambda w: w.isascii() and w.isalpha()), ("zh", lambda w: bool(CJK.match(w)))):
        for word in sorted(get_frequency_dict(lang, wordlist="small")):
            if not ok(word):
                continue
            z = zipf_frequency(word, lang, wordlist="small")
            if z >= a.min_zipf:
                print(f"{word} {z:.2f}")


if __name__ == "__main__":
    main()
