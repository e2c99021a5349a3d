"""Semantic re-ranking of a question's candidates with wordllama's static embeddings.

A question in the user's own words ("how much cash did seres get from going public") often holds
the right fact among its candidates without ranking it first: the words differ. For a question
(four content words or more) every candidate that reached the confidence threshold gets a bonus
of SEMANTIC x the cosine similarity of its text and the query, both embedded with the 256-dim
`l2_supercat` vectors that the wordllama wheel ships (16 MB of weights, a tokenizer, numpy; no
transformer runtime). The bonus depends on the query and the fact only, so pages of one query
stay in one order. Keyword queries (the common case) never pay for it.

How a text is embedded: wordllama's embedding of a text is the mean of its tokens' vectors. Its
tokenizer (SentencePiece-style: every space becomes "▁", which begins a token) gives a text the
tokens of its space-separated chunks, in order (a text of spaces only aside: "▁▁" is a token of
its own): the chunks' token ids are cached (CHUNKS of them, a pure function of the chunk, valid across reloads), and a
fact's embedding is the mean of the rows of the embedding matrix its chunks' ids pick, the same
vector wordllama's `embed` returns (tests/store/test_semantic.py checks that), at about a fifth
of the cost when the chunks are cached: the tokenizer, the expensive part, runs only on chunks
never seen. `Reranker.prime` caches the chunks of the newest facts when an index is opened
(Searcher.warm), so the first questions find most of their words cached.

Embeddings of facts are kept once computed (at most CACHE_FACTS per process, float32: 1 KB
each); nothing is stored in the index and a reload does no embedding. The model is loaded
offline from the installed package's folder (`cache_dir` set to it, downloads disabled); when
wordllama is not installed, or cannot load, the re-ranking is off and the search is the lexical one.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict

log = logging.getLogger("factbot.store")

SEMANTIC = 0.25  # weight of the similarity bonus, against a lexical score in 0..1
CACHE_FACTS = 20_000
CHUNKS = 200_000  # space-separated chunks whose token ids are kept (a few tens of MB at most)
PRIME_FACTS = 20_000  # the newest facts whose chunks `prime` tokenizes when an index is opened


_model_lock = threading.Lock()
_shared: dict[str, object] = {}  # the model, loaded once per process (every index shares it)


def shared_model():
    """The wordllama model, loaded once per process from the installed package (None when it is
    not installed or cannot load)."""
    if "model" not in _shared:
        with _model_lock:
            if "model" not in _shared:
                try:
                    import wordllama
                    from wordllama import WordLlama

                    folder = os.path.dirname(wordllama.__file__)
                    _shared["model"] = WordLlama.load(cache_dir=folder, disable_download=True)
                except Exception as exc:  # not installed, or its files missing: lexical only
                    _shared["model"] = None
                    log.warning("semantic re-ranking is off: wordllama did not load (%s)", exc)
    return _shared["model"]


class Reranker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, object] = OrderedDict()
        self._queries: OrderedDict[str, object] = OrderedDict()
        self._chunks: dict[str, list[int]] = {}
        self._generation = None

    def model(self):
        """The wordllama model (None when unavailable): Searcher.warm loads it before the index
        is handed out, so no question pays for it."""
        return shared_model()

    def _token_ids(self, model, chunks: list[str]) -> dict[str, list[int]]:
        """The token ids of each chunk: those cached, the rest tokenized in one call and cached."""
        known = self._chunks
        found = {c: known.get(c) for c in dict.fromkeys(chunks)}
        missing = [c for c, ids in found.items() if ids is None]
        if missing:
            encoded = model.tokenizer.encode_batch(missing, add_special_tokens=False)
            for chunk, enc in zip(missing, encoded):  # the batch is padded: keep the real tokens
                found[chunk] = [i for i, real in zip(enc.ids, enc.attention_mask) if real]
            if "" in found:  # between two spaces: the space's own token, as in the whole text
                found[""] = model.tokenizer.encode("x ", add_special_tokens=False).ids[-1:]
            with self._lock:
                if len(self._chunks) + len(missing) > CHUNKS:
                    self._chunks = {}  # rare: a working set this large is rebuilt as questions come
                self._chunks.update((c, found[c]) for c in missing)
        return found

    def prime(self, texts) -> int:
        """Tokenize and cache the chunks of these texts (the newest facts); how many are cached."""
        model = self.model()
        if model is None:
            return 0
        distinct: dict[str, None] = {}
        for text in texts:
            distinct.update(dict.fromkeys(text.split(" ")))
            if len(distinct) >= CHUNKS // 2:  # half the cache at most: room for what questions bring
                break
        self._token_ids(model, list(distinct))
        return len(self._chunks)

    def embed(self, texts: list[str]):
        """Unit vectors of the texts, as wordllama's `embed(texts, norm=True)` gives them."""
        import numpy as np

        model = self.model()
        split = [t.split(" ") for t in texts]
        chunk_ids = self._token_ids(model, [c for chunks in split for c in chunks])
        matrix = model.embedding
        out = np.zeros((len(texts), matrix.shape[1]), dtype=np.float32)
        for row, chunks in enumerate(split):
            ids = [i for c in chunks for i in chunk_ids[c]]
            if ids:
                out[row] = matrix[ids].sum(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def bonuses(self, generation: int, query: str, facts: list[tuple[int, str]]) -> list[float]:
        """SEMANTIC x cosine(query, fact text) for each (id, text); zeros when the model is off."""
        model = self.model()
        if model is None or not facts:
            return [0.0] * len(facts)
        with self._lock:
            if generation != self._generation:  # a reload may change a fact's text under its id
                self._cache.clear()
                self._generation = generation
            cached = {fid: self._cache.get(fid) for fid, _ in facts}
        todo = [(fid, text) for fid, text in facts if cached[fid] is None]
        if todo:
            vectors = self.embed([text for _, text in todo])
            with self._lock:
                for (fid, _), vec in zip(todo, vectors):
                    cached[fid] = vec
                    self._cache[fid] = vec
                while len(self._cache) > CACHE_FACTS:
                    self._cache.popitem(last=False)
        with self._lock:
            q = self._queries.get(query)
        if q is None:  # a question's fetches share its embedding
            q = self.embed([query])[0]
            with self._lock:
                self._queries[query] = q
                while len(self._queries) > 256:
                    self._queries.popitem(last=False)
        return [SEMANTIC * float(cached[fid] @ q) for fid, _ in facts]
