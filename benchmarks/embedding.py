#!/usr/bin/env python3
"""What embedding a question's candidate facts costs the semantic re-ranking (store/semantic.py).

    .venv/bin/python benchmarks/embedding.py                 # 20,000 generated facts, batches of 10
    .venv/bin/python benchmarks/embedding.py --facts 50000 --batch 10

Facts come from benchmarks/generate.py (the shared generator), parsed as a reload parses them.
Timed, per batch of --batch facts (what one question embeds at most): wordllama's own `embed`;
`Reranker.embed` with nothing cached (every chunk tokenized), after `Reranker.prime` of the other
facts (the chunks a warm index has seen), and with the batch's own chunks cached. It also checks
that both ways give the same vectors.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import generate as gen  # noqa: E402


def facts(n: int, seed: int) -> list[str]:
    from store.parse import parse_text

    companies = gen.companies(seed, n)
    out: list[str] = []
    number = 0
    while len(out) < n:
        text = gen.FileWriter(seed, number, companies).file_text(2000)[0]
        out.extend(f.text for a in parse_text(text, f"{number}.txt").articles for f in a.facts)
        number += 1
    return out[:n]


def per_batch(fn, batches) -> float:
    """Median ms of fn(batch) over the batches."""
    took = []
    for batch in batches:
        t = time.perf_counter()
        fn(batch)
        took.append((time.perf_counter() - t) * 1000)
    return statistics.median(took)


def main(argv=None) -> int:
    import numpy as np

    from store.semantic import Reranker

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--facts", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    texts = facts(a.facts, a.seed)
    half = len(texts) // 2
    batches = [texts[half + i:half + i + a.batch] for i in range(0, min(half, 2000 * a.batch), a.batch)]
    model = Reranker().model()
    if model is None:
        print("wordllama did not load")
        return 1
    model.embed(texts[:a.batch], norm=True)  # its first call pays for nothing below
    wordllama = per_batch(lambda b: model.embed(b, norm=True), batches)
    cold = per_batch(lambda b: Reranker().embed(b), batches[:200])
    primed = Reranker()
    t = time.perf_counter()
    chunks = primed.prime(texts[:half])
    prime_s = time.perf_counter() - t
    after_prime = per_batch(primed.embed, batches)
    cached = per_batch(primed.embed, batches)
    same = all(np.allclose(primed.embed(b), model.embed(b, norm=True), atol=1e-5) for b in batches[:50])
    print(f"{len(texts)} facts, batches of {a.batch}: wordllama embed {wordllama:.3f} ms; Reranker.embed with"
          f" nothing cached {cold:.3f} ms, after priming {half} other facts ({chunks} chunks, {prime_s:.2f} s)"
          f" {after_prime:.3f} ms, its chunks cached {cached:.3f} ms; same vectors: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
