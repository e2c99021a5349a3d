#!/usr/bin/env python3
"""Build store/data/related-words.txt: each English word's nearest words in wordllama's static
embeddings (the 256-dim `l2_supercat` token vectors shipped inside the wordllama wheel).

factbot expands a question's words with these neighbours at search time (`expensive` -> cost,
price; `fall` -> dropped; `copied` -> clone, duplicate), so a question in the user's own words finds
the fact that says it differently. The table is computed once, here, and shipped as a data file, so
that a question's expansion is a dictionary lookup (the bot's semantic re-ranking, store/semantic.py,
loads wordllama's model on its own; this table does not need it at search time). wordllama and
numpy are dependencies of factbot already; the word list is Debian's `wamerican`:

    .venv/bin/pip install -q -e . && apt-get install -y wamerican
    .venv/bin/python tools/build_related_words.py > store/data/related-words.txt

Words are the dictionary's (lower case, letters only, three letters or more), each embedded as
wordllama embeds text (the mean of its token vectors); neighbours are wordllama's whole-word
tokens that the dictionary lists, those whose cosine similarity is at least --min-sim (top --top),
leaving out the word's own stem family (the search finds that from the index already) and words
that begin like it (a word of several tokens lies near its first one: `banana` near `ban`).
Runs offline: the weights and the tokenizer are loaded from the installed package's folder.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from store.text import stem  # noqa: E402


def _same_start(a: str, b: str) -> bool:
    """Words that begin alike (`banana`/`ban`, `processors`/`process`): a word of several tokens
    lies near its first token, which says nothing of its meaning."""
    common = len(os.path.commonprefix([a, b]))
    return common >= 3 and common >= 0.6 * min(len(a), len(b))


def load_model():
    import wordllama
    from wordllama import WordLlama

    folder = os.path.dirname(wordllama.__file__)  # weights and tokenizer ship in the wheel
    return WordLlama.load(cache_dir=folder, disable_download=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dict", default="/usr/share/dict/american-english")
    ap.add_argument("--min-sim", type=float, default=0.45)
    ap.add_argument("--top", type=int, default=6)
    a = ap.parse_args()
    known = {w.strip() for w in open(a.dict, encoding="utf-8", errors="ignore")}
    wl = load_model()
    vocab = wl.tokenizer.get_vocab()
    matrix = np.asarray(wl.embedding, dtype=np.float32)
    targets = sorted(t[1:] for t in vocab
                     if t.startswith("\u2581") and t[1:].isascii() and t[1:].isalpha() and t[1:].islower()
                     and len(t) > 3 and t[1:] in known)
    target_vectors = matrix[[vocab["\u2581" + w] for w in targets]]
    target_vectors /= np.linalg.norm(target_vectors, axis=1, keepdims=True)
    target_stems = [stem(w) for w in targets]
    words = sorted(w for w in known if w.isascii() and w.isalpha() and w.islower() and 3 <= len(w) <= 16)
    print("# The nearest words of each English word in wordllama's static embeddings (l2_supercat,")
    print("# 256 dimensions), with their cosine similarity. Built by tools/build_related_words.py;")
    print(f"# similarity >= {a.min_sim}, at most {a.top} a word, stem family left out.")
    print("# Format: word: neighbour similarity, neighbour similarity, ...")
    for start in range(0, len(words), 2048):
        chunk = words[start:start + 2048]
        vectors = wl.embed(chunk, norm=True).astype(np.float32)
        sims = vectors @ target_vectors.T
        for row, word in enumerate(chunk):
            own = stem(word)
            order = np.argpartition(-sims[row], a.top * 3)[: a.top * 3]
            out = []
            for j in sorted(order, key=lambda j: -sims[row, j]):
                s = float(sims[row, j])
                if s < a.min_sim or len(out) >= a.top:
                    break
                if targets[j] != word and target_stems[j] != own and not _same_start(word, targets[j]):
                    out.append(f"{targets[j]} {s:.2f}")
            if out:
                print(f"{word}: " + ", ".join(out))


if __name__ == "__main__":
    main()
