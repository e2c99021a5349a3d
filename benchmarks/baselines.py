"""The two baselines measured on the same facts and queries as factbot: tantivy (the Rust search
engine's Python package, fuzzy BM25) and a naive rapidfuzz scan over every fact."""
from __future__ import annotations

import re
import time
from pathlib import Path

LIMIT = 3


def parse_facts(corpus: Path) -> tuple[list[tuple[str, str, str]], float, float]:
    """(text, section, title) of every fact of a corpus, parsed with factbot's own parser (the
    "parse in Python" half of the tantivy baseline), and the seconds it took, wall and CPU (files
    read included)."""
    from store.parse import parse_file

    t0, c0 = time.perf_counter(), time.process_time()
    out = []
    for p in sorted(p for p in corpus.rglob("*") if p.is_file() and not p.name.startswith(".")):
        for a in parse_file(p, name=p.name).articles:
            out.extend((f.text, f.section, a.title) for f in a.facts)
    return out, time.perf_counter() - t0, time.process_time() - c0

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\W_]+")


def cjk_bigrams(text: str) -> str:
    """Chinese runs as space-separated overlapping bigrams (tantivy's default tokenizer keeps a run whole)."""
    def sub(m):
        run = m.group(0)
        return " " + (" ".join(run[i:i + 2] for i in range(len(run) - 1)) if len(run) > 1 else run) + " "
    return CJK_RUN.sub(sub, text)


def query_terms(q: str) -> list[str]:
    out = []
    for tok in WORD.findall(q.lower()):
        if CJK_RUN.fullmatch(tok):
            out.extend(tok[i:i + 2] for i in range(len(tok) - 1)) if len(tok) > 1 else out.append(tok)
        else:
            out.append(tok)
    return out


class Tantivy:
    FIELDS = ("text", "section", "title")

    def __init__(self, path: Path):
        import tantivy
        self.t = tantivy
        sb = tantivy.SchemaBuilder()
        for f in self.FIELDS:
            sb.add_text_field(f, stored=False)
        sb.add_unsigned_field("fid", stored=True, indexed=False)
        self.schema = sb.build()
        path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(path))
        self.path = path

    def build(self, facts: list[tuple[str, str, str]]) -> tuple[float, float]:
        """Seconds to index the facts: wall, and CPU of every thread of this process."""
        t0, c0 = time.perf_counter(), time.process_time()
        w = self.index.writer(heap_size=512_000_000, num_threads=0)
        Doc = self.t.Document
        for fid, (text, section, title) in enumerate(facts):
            w.add_document(Doc(text=cjk_bigrams(text), section=cjk_bigrams(section), title=cjk_bigrams(title),
                               fid=fid))
        w.commit()
        w.wait_merging_threads()
        return time.perf_counter() - t0, time.process_time() - c0

    def open(self, facts):
        self.facts = facts
        self.index.reload()
        self.searcher = self.index.searcher()

    def query(self, q: str):
        """Each word: exact BM25 term + fuzzy term (distance 1 from 5 chars, 2 from 9, transposition 1,
        prefix for the last word) over text, section and title, all SHOULD."""
        Q, Occur = self.t.Query, self.t.Occur
        terms = query_terms(q)
        subs = []
        for i, term in enumerate(terms):
            n = len(term)
            d = 2 if n >= 9 else 1 if n >= 5 else 0
            last = i == len(terms) - 1
            for f in self.FIELDS:
                subs.append((Occur.Should, Q.term_query(self.schema, f, term)))
                if d or last:
                    fz = Q.fuzzy_term_query(self.schema, f, term, distance=d, transposition_cost_one=True, prefix=last)
                    subs.append((Occur.Should, Q.boost_query(fz, 0.5)))
        return Q.boolean_query(subs) if subs else None

    def search(self, q: str, limit: int = LIMIT) -> tuple[float, list[dict]]:
        t0 = time.perf_counter()
        query = self.query(q)
        out = []
        if query is not None:
            for score, addr in self.searcher.search(query, limit).hits:
                text, section, title = self.facts[self.searcher.doc(addr)["fid"][0]]
                out.append({"text": text, "section": section, "score": score, "article": {"title": title}})
        return (time.perf_counter() - t0) * 1000, out



# --------------------------------------------------------------------------- naive baseline

def naive_times(texts_lower: list[str], queries: list[str]) -> list[float]:
    from rapidfuzz import fuzz, process
    out = []
    for q in queries:
        t0 = time.perf_counter()
        process.extract(q.lower(), texts_lower, scorer=fuzz.WRatio, limit=LIMIT)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def naive_sample_size(size: int, override: int | None, n: int) -> int:
    if override is not None:
        return min(n, override)
    return n if size <= 20_000 else min(n, 60) if size <= 200_000 else min(n, 15)

