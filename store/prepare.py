"""A seed file's bytes turned into what a reload writes, in worker processes when there is much.

`prepare` is the part of a reload that needs no database: hash the content, parse it, and for
every article work out its identity (the digest of its facts), each fact's FTS5 body and the
English name its facts repeat (alias evidence). It returns plain tuples, which cross a process
boundary cheaply. `prepared_in_order` runs it over many files in a pool of worker processes while
the caller writes the results of earlier files into SQLite, so that parsing and writing use both
cores; results come back in the order the files were given (ids and "the last file holding an
article" stay as with one process), and only a few files are in flight at once (memory stays
flat however large the corpus).

The pool lives for one reload. Its workers are forked when the calling process has one thread
(the CLI), and come from a fork server otherwise (`factbot serve`: forking a process whose other
threads may hold locks is unsafe). On Linux a worker dies with the process that started it.
"""
from __future__ import annotations

import gc
import hashlib
import os
import signal
import sys
import threading
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import repeat
from typing import Callable, Iterable, Iterator, NamedTuple, TypeVar

from store import dedupe, entities, lexicon
from store.parse import parse_bytes
from store.text import CJK_RE, index_text

WORKER_NICENESS = 5
IN_FLIGHT_BYTES = 8 << 20  # of files handed to the workers ahead of the one being written


SEP = "\0"  # joins a file's fact columns; never in parsed text (the parser refuses NUL bytes)
# a fact's FTS5 body from its parts (index text, section index text, title part): one definition
# for the rows a reload inserts and those it deletes, which FTS5 needs to be the same
_body = "\n".join


class WorkerDied(Exception):
    """A worker process ended before handing back its files (killed, or out of memory)."""


class PreparedArticle(NamedTuple):
    title: str
    source: str
    published: str
    page: str | None
    file: str
    line: int
    digest: str  # of its facts: with title, source and publish time, the article's identity
    english: str | None  # the English name its facts repeat, when its title is Chinese
    facts: int  # how many

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.title, self.source, self.published, self.digest


class PreparedFile(NamedTuple):
    """One file's articles, and their facts as columns: each a string of every fact's value
    joined by SEP, in article order (one string crosses a process boundary far faster than a
    tuple per fact)."""

    name: str
    hash: str  # of the bytes parsed
    unchanged: bool  # the hash is the one the caller said it holds: not parsed
    errors: list[str]
    articles: list[PreparedArticle]
    sections: str = ""
    texts: str = ""
    citations: str = ""  # each a JSON list: "[4, 8]"
    bodies: str = ""  # each fact's FTS5 body (fact_body), ready to insert
    buckets: str = ""  # each fact's near-duplicate bucket (store/dedupe.py bucket_hash), "" for none
    names: str = ""  # each fact's capitalised words (store/entities.py SEP between them), for the name finder
    # per article, the name finder's counts of its facts' words: ({word: occurrences}, {word: starting a sentence})
    name_counts: tuple = ()

    def columns(self) -> tuple[list[str], list[str], list[str], list[str]]:
        """Every fact's section, text, citations and FTS5 body, each a list in article order (an
        article's facts are the next `article.facts` of each)."""
        if not self.articles:
            return [], [], [], []
        return tuple(c.split(SEP) for c in (self.sections, self.texts, self.citations, self.bodies))

    def names_column(self) -> list[str]:
        """Every fact's capitalised words as store/entities.py keeps them ("" for none)."""
        if not self.articles:
            return []
        return self.names.split(SEP)

    def bucket_column(self) -> list[int | None]:
        """Every fact's near-duplicate bucket (store/dedupe.py), None for a fact never grouped."""
        if not self.articles:
            return []
        return [int(b) if b else None for b in self.buckets.split(SEP)]


def facts_digest(sections: list[str], texts: list[str], citations: list[str]) -> str:
    """The digest of an article's facts: their sections, texts and citations (JSON lists), in
    order (the separators are control characters, which parsed text never holds)."""
    data = "\x1d".join(("\x1e".join(sections), "\x1e".join(texts), "\x1e".join(citations)))
    return hashlib.blake2b(data.encode("utf-8"), digest_size=12).hexdigest()


def fact_body(text: str, section: str, title_body: str) -> str:
    """A fact's FTS5 body: its text, its section heading, its article's title and source."""
    return _body((index_text(text), index_text(section), title_body))


def title_body(title: str, source: str) -> str:
    return f"{index_text(title)}\n{index_text(source)}"


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def prepare(name: str, data: bytes | None, known_hash: str | None = None, path: str | None = None) -> PreparedFile:
    """Hash and parse one seed file's content (`name`: its path relative to the seeds folder).
    When the hash is `known_hash` the file is not parsed (`unchanged`). With `data` None the
    content is read here from `path` (in a worker process: the reloading process then neither
    reads nor hands over the bytes); a file that cannot be read is a failure with no articles."""
    if data is None:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            return PreparedFile(name, "", False, [read_error(name, exc)], [])
    digest = content_hash(data)
    if digest == known_hash:
        return PreparedFile(name, digest, True, [], [])
    result = parse_bytes(data, name)
    articles = []
    sections, texts, citations, bodies, buckets, names = [], [], [], [], [], []
    name_counts = []
    for article in result.articles:
        n = len(article.facts)
        a_sections = [f.section for f in article.facts]
        a_texts = [f.text for f in article.facts]
        a_citations = ["[" + ", ".join(map(str, f.citations)) + "]" for f in article.facts]
        section_index = {section: index_text(section) for section in set(a_sections)}
        sections += a_sections
        texts += a_texts
        citations += a_citations
        # the FTS5 bodies (fact_body), joined here so that the reloading process only inserts them
        bodies += map(_body, zip(map(index_text, a_texts), map(section_index.__getitem__, a_sections),
                                 repeat(title_body(article.title, article.source), n)))
        buckets += ["" if b is None else str(b) for b in dedupe.article_buckets(a_texts)]
        counts = entities.fact_words(a_texts, names)  # the name finder's reading, done here in parallel
        name_counts.append(counts)
        english = lexicon.dominant_name(a_texts) if CJK_RE.search(article.title) else None
        articles.append(PreparedArticle(article.title, article.source, article.published, article.page,
                                        article.file, article.line, facts_digest(a_sections, a_texts, a_citations),
                                        english, n))
    return PreparedFile(name, digest, False, [str(e) for e in result.errors], articles,
                        *(SEP.join(c) for c in (sections, texts, citations, bodies, buckets, names)),
                        tuple(name_counts))


def read_error(name: str, exc: OSError) -> str:
    """The error of a seed file that cannot be read."""
    return f"{name}: cannot read file: {exc.strerror or exc}"


# --------------------------------------------------------------------------- worker processes

def _worker_start() -> None:
    """In each worker: Ctrl-C is the reloading process's to handle (it stops the pool), and on
    Linux the worker is killed when that process dies, even by SIGKILL."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # parsing makes no reference cycles (tests/store/test_reload_parallel.py checks it): the
    # cyclic garbage collector would only walk the objects of the files in hand, again and again
    gc.disable()
    try:  # the writing process is the reload's critical path: it comes first on a busy core
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() == 1:  # the parent died before the line above took effect
        os._exit(1)


def _context():
    import multiprocessing as mp

    if threading.active_count() == 1 and "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload([__name__])
    return ctx


T = TypeVar("T")


def prepared_in_order(jobs: Iterable[tuple[T, tuple | None, int]], workers: int,
                      fn: Callable[..., PreparedFile] = prepare,
                      in_flight_bytes: int = IN_FLIGHT_BYTES,
                      idle: Callable[[], object] | None = None) -> Iterator[tuple[T, PreparedFile | None]]:
    """(item, fn(*args)) for each (item, args, size in bytes) of `jobs`, in the order given; an
    item whose args are None is passed through with None. With `workers` >= 1, fn runs in that
    many worker processes, on files of at most `in_flight_bytes` (and at least two per worker)
    ahead of the one yielded; `jobs` is consumed only that far ahead too, so a caller reading
    files in it holds only those in memory. With none (0) everything runs here, one file at a
    time. `idle` is called here before waiting for a file the workers have not finished, so that
    the caller can write what it holds meanwhile instead of waiting."""
    if workers < 1:
        for item, args, _ in jobs:
            yield item, (fn(*args) if args is not None else None)
        return
    window: deque[tuple[T, Future | None, int]] = deque()
    ahead = 0  # bytes in the window
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_worker_start)
    try:
        for item, args, size in jobs:
            window.append((item, pool.submit(fn, *args) if args is not None else None, size))
            ahead += size
            while window and (window[0][1] is None or (ahead > in_flight_bytes and len(window) > 2 * workers)):
                first, future, size = window.popleft()
                ahead -= size
                yield first, _result(future, idle)
        while window:
            first, future, _ = window.popleft()
            yield first, _result(future, idle)
    except BrokenProcessPool:
        raise WorkerDied("a worker process parsing the seeds ended before it was done (killed, or out"
                         " of memory)") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _result(future: Future | None, idle: Callable[[], object] | None = None):
    if future is None:
        return None
    if idle is not None and not future.done():
        idle()
    return future.result()
