#!/usr/bin/env python3
"""Keep in store/data/glossary-zh.txt only the Chinese finance terms CC-CEDICT lacks.

The search translates any Chinese word with CC-CEDICT (store/dictionary.py); the hand glossary is
for the market terms the dictionary has no entry for (基石投资者, 绿鞋, 资本开支). This drops
from each line the Chinese terms CC-CEDICT has, and a line with no Chinese term left; comments
and the English side of the remaining lines are kept as they are. With --check it changes
nothing and exits 1 when some Chinese term of the file is in CC-CEDICT.

    .venv/bin/python tools/prune_glossary_zh.py [--check] [store/data/glossary-zh.txt]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from store.dictionary import in_dictionary  # noqa: E402
from store.text import is_cjk, normalize  # noqa: E402


def prune(text: str) -> tuple[str, list[str]]:
    out, dropped = [], []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            out.append(line)
            continue
        parts = [p.strip() for p in line.split(",")]
        chinese = [p for p in parts if is_cjk(normalize(p)[:1])]
        kept = [p for p in chinese if not in_dictionary(normalize(p))]
        dropped += [p for p in chinese if p not in kept]
        if kept:
            out.append(", ".join(kept + [p for p in parts if p not in chinese]))
    return "\n".join(out) + "\n", dropped


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=str(ROOT / "store" / "data" / "glossary-zh.txt"))
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    path = Path(a.path)
    text, dropped = prune(path.read_text(encoding="utf-8"))
    if a.check:
        if dropped:
            print("in CC-CEDICT already:", ", ".join(dropped))
            sys.exit(1)
        return
    path.write_text(text, encoding="utf-8")
    print(f"dropped {len(dropped)} terms CC-CEDICT has", file=sys.stderr)


if __name__ == "__main__":
    main()
