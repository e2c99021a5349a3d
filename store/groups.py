"""Near-duplicate groups in the index: what a reload regroups, what a search shows beside a fact.

store/dedupe.py decides (pure); this module reads and writes the two columns of `facts` it
needs: `bucket` (each fact's bucket, from its text and its article's, written with the fact)
and `dup` (the fact id of its group's representative, for the members of a group of two or
more; NULL for every other fact). A group never spans two buckets, so a reload regroups only
the buckets its added and removed facts were in (`regroup`), or, after a bulk load, every
bucket with more than one fact. Members are ordered and identified by their content (the
article's publication time, source, title and facts digest, and the fact's position), never by
row ids or load order: every replica, built from the same exports in any order, has the same
groups with the same representatives.
"""
from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from typing import Iterable, NamedTuple

from store import dedupe
from store.dedupe import Member
from store.model import ArticleInfo

_MEMBER_SQL = ("SELECT f.bucket, f.id, f.position, f.text, f.citations, a.title, a.source, a.published,"
               " a.digest FROM facts f JOIN articles a ON a.id = f.article_id")


def _member(row: tuple) -> tuple[int, Member]:
    bucket, fid, position, text, citations, title, source, published, digest = row
    article = "\x1f".join((published or "", source or "", title or "", digest or ""))
    cited = citations.count(",") + 1 if citations and citations != "[]" else 0  # a JSON list of numbers
    return bucket, Member(f"{article}\x1f{position:05d}", article, published or "", cited, text, fid)


def _groups(bucket: int, members: list[Member]) -> list[list[Member]]:
    return [g for g in dedupe.group_bucket(members, dedupe.hash_cutoff(bucket)) if len(g) > 1]


def regroup(conn: sqlite3.Connection, buckets: Iterable[int] | None = None) -> int:
    """Group again the facts of these buckets (None: of every bucket holding two facts or more,
    after a bulk load). Returns the facts in groups."""
    if buckets is None:
        conn.execute("UPDATE facts SET dup = NULL WHERE dup IS NOT NULL")
        rows = conn.execute(_MEMBER_SQL + " WHERE f.bucket IN (SELECT bucket FROM facts WHERE bucket IS NOT NULL"
                                          " GROUP BY bucket HAVING count(*) > 1) ORDER BY f.bucket")
    else:
        wanted = sorted({b for b in buckets if b is not None})
        rows = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            conn.execute(f"UPDATE facts SET dup = NULL WHERE dup IS NOT NULL AND bucket IN ({marks})", chunk)
            rows += conn.execute(_MEMBER_SQL + f" WHERE f.bucket IN ({marks})", chunk).fetchall()
        rows.sort(key=lambda r: r[0])
    updates = []
    members: list[Member] = []
    current = None
    for row in rows:  # in bucket order: one bucket in memory at a time
        bucket, member = _member(row)
        if bucket != current:
            if len(members) > 1:
                updates.extend(_updates(current, members))
            members, current = [], bucket
        members.append(member)
    if len(members) > 1:
        updates.extend(_updates(current, members))
    conn.executemany("UPDATE facts SET dup = ? WHERE id = ?", updates)
    return len(updates)


def _updates(bucket: int, members: list[Member]) -> list[tuple[int, int]]:
    return [(g[0].ref, m.ref) for g in _groups(bucket, members) for m in g]


def copies(conn: sqlite3.Connection) -> int:
    """Facts that are another article's report of a fact shown instead (all facts less these are
    the unique facts)."""
    return conn.execute("SELECT count(*) FROM facts WHERE dup IS NOT NULL AND dup != id").fetchone()[0]


def unique_facts(conn: sqlite3.Connection) -> int:
    """Facts counting each group of near-duplicates once."""
    return conn.execute("SELECT count(*) FROM facts").fetchone()[0] - copies(conn)


def group_keys(conn: sqlite3.Connection, ids: list[int]) -> dict[int, int]:
    """The group (its representative's id) of each of these facts that has one."""
    out: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out.update(conn.execute(f"SELECT id, dup FROM facts WHERE dup IS NOT NULL AND id IN"
                                f" ({','.join('?' * len(chunk))})", chunk).fetchall())
    return out


class Also(NamedTuple):
    """Another article's report of a hit's fact."""

    title: str
    source: str
    published: str
    citations: list[int]
    text: str
    file: str = ""

    @property
    def article(self) -> ArticleInfo:
        return ArticleInfo(self.title, self.source, self.published, self.file)

    def to_json(self) -> dict:
        return {"title": self.title, "source": self.source, "published": self.published,
                "citations": list(self.citations), "text": self.text}


def also(conn: sqlite3.Connection, shown: dict[int, int]) -> dict[int, list[Also]]:
    """For each shown fact id -> its group: the group's other members, representative first (the
    earliest report, then the most cited, the longest), as dedupe.rep_order sorts them."""
    if not shown:
        return {}
    groups = sorted(set(shown.values()))
    marks = ",".join("?" * len(groups))
    rows = conn.execute(
        "SELECT f.dup, f.id, f.position, f.text, f.citations, a.title, a.source, a.published, a.digest, a.file"
        f" FROM facts f JOIN articles a ON a.id = f.article_id WHERE f.dup IN ({marks})", groups).fetchall()
    members: dict[int, list[tuple[Member, tuple]]] = defaultdict(list)
    for row in rows:
        dup, *rest = row
        _, m = _member((dup, *rest[:8]))
        members[dup].append((m, row))
    out: dict[int, list[Also]] = {}
    for fid, dup in shown.items():
        ordered = sorted(members.get(dup, ()), key=lambda mr: dedupe.rep_order(mr[0]))
        out[fid] = [Also(r[5], r[6], r[7], json.loads(r[4]), r[3], r[9]) for m, r in ordered if m.ref != fid]
    return out
