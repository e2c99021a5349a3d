"""Semantic re-ranking of a question's candidates with wordllama's static embeddings.

A question in the user's own words ("how much cash did seres get from going public") often holds
the right fact among its candidates without ranking it first: the words differ. For a question
(four content words or more) every candidate that reached the confidence threshold gets a bonus
of SEMANTIC x the cosine similarity of its text and the query, both embedded with the 256-dim
`l2_supercat` vectors that the wordllama wheel ships (16 MB of weights, a tokenizer, numpy; no
transformer runtime). The bonus depends on the query and the fact only, so pages of one query
stay in one order. Keyword queries (the common case) never pay for it.

Embeddings of facts are computed when a question first meets them and kept (at most
CACHE_FACTS per process, float32: 1 KB each), so nothing is embedded at reload time and memory
does not grow with the corpus. The model is loaded offline from the installed package's folder
(`cache_dir` set to it, downloads disabled); when wordllama is not installed, or cannot load, the
re-ranking is off and the search is the lexical one.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict

log = logging.getLogger("factbot.store")

SEMANTIC = 0.25  # weight of the similarity bonus, against a lexical score in 0..1
CACHE_FACTS = 20_000


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
        self._generation = None

    def model(self):
        """The wordllama model (None when unavailable): Searcher.warm loads it before the index
        is handed out, so no question pays for it."""
        return shared_model()

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
            vectors = model.embed([text for _, text in todo], norm=True)
            with self._lock:
                for (fid, _), vec in zip(todo, vectors):
                    cached[fid] = vec
                    self._cache[fid] = vec
                while len(self._cache) > CACHE_FACTS:
                    self._cache.popitem(last=False)
        with self._lock:
            q = self._queries.get(query)
        if q is None:  # a question's fetches share its embedding
            q = model.embed([query], norm=True)[0]
            with self._lock:
                self._queries[query] = q
                while len(self._queries) > 256:
                    self._queries.popitem(last=False)
        return [SEMANTIC * float(cached[fid] @ q) for fid, _ in facts]
