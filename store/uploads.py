"""Exports added from outside the seeds folder (an admin's file in Slack): checked whole, then kept
in the corpus of record as uploads (store/corpus.py: store_upload), never in the seeds folder.

    check = check_export("digest.txt", data)   # parses the bytes; nothing is written
    if check.ok:
        store_upload(state, check.name, data, actor="slack:U123")   # NameTaken: ask the uploader
        index.reload(actor="slack:U123")

A file with an error anywhere is not added, so nothing indexed is lost. An upload stays in the
corpus until an admin removes it (store.corpus.remove_file): a reload of any seeds folder, on any
replica, leaves it alone.

With replicas (DATABASE_URL) the corpus is in PostgreSQL and every replica follows it
(store/replica.py). In the single-process mode the uploads are kept in the same tables of the
embedded state store (`<index stem>.state.db`), and a reload of the local index reads the seeds
folder together with them (`local_source`): the same rules, a file gone from the folder is removed,
an upload stays. An upload and a folder file of the same name: the upload is indexed.
"""
from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from store.model import ParseError
from store.parse import parse_bytes

MAX_NAME = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass
class ExportCheck:
    name: str
    articles: int = 0
    facts: int = 0
    errors: list[ParseError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.articles > 0 and not self.errors


def export_name(name: str | None) -> str | None:
    """The seed file name for an uploaded file's name, or None when it cannot be one (hidden, a
    path, control characters, empty or too long)."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME or _UNSAFE.search(name) or name.startswith(".") or name in ("..",):
        return None
    return name


def check_export(name: str, data: bytes) -> ExportCheck:
    """Parse `data` as the seed file `name` would be; every error is reported with its line."""
    result = parse_bytes(data, name)
    check = ExportCheck(name, len(result.articles), sum(len(a.facts) for a in result.articles), list(result.errors))
    if not result.articles and not check.errors:
        check.errors.append(ParseError(name, 0, "no articles found"))
    return check


def add_to_folder(seeds: Path | str, name: str, data: bytes) -> bool:
    """Write `data` as `seeds/name`, atomically; True when it replaced a file of that name. The
    temporary file is tempfile's (hidden, unique), so two writes of one name at once never share it."""
    if export_name(name) != name:
        raise ValueError(f"not a seed file name: {name!r}")
    seeds = Path(seeds)
    seeds.mkdir(parents=True, exist_ok=True)
    target = seeds / name
    replaced = target.exists()
    fd, temp = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=seeds)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    finally:
        Path(temp).unlink(missing_ok=True)
    return replaced


# -- the single-process mode: the seeds folder and the uploads of the embedded state store -----


def embedded_state_path(index_path: Path | str) -> Path:
    """The embedded state store's file beside the index: factbot.db -> factbot.state.db."""
    index_path = Path(index_path)
    return index_path.with_name(index_path.stem + ".state.db")


class FolderAndUploads:
    """A source of seed files for store.index.Reloader: the seeds folder (a SeedFolder) and the
    uploads kept in the embedded state store; an upload hides a folder file of the same name."""

    def __init__(self, folder, state_db: Path, uploads: dict[str, tuple[int, str]]):
        self.folder = folder
        self.root = folder.root
        self.state_db = Path(state_db)
        self.uploads = uploads  # name -> (size, hash)

    def stamped(self):
        from store.index import SeedFile

        own = [entry for entry in self.folder.stamped() if entry.name not in self.uploads]
        return sorted(own + [SeedFile(name, size, None) for name, (size, _) in self.uploads.items()])

    def files(self) -> list[tuple[str, int]]:
        return [(entry.name, entry.size) for entry in self.stamped()]

    def digest(self, name: str) -> str | None:
        """An upload's stored hash (its bytes are not fetched when the index holds them); None for
        a folder file (its stamp or its bytes tell)."""
        upload = self.uploads.get(name)
        return upload[1] if upload else None

    def read(self, name: str) -> bytes:
        if name not in self.uploads:
            return self.folder.read(name)
        conn = _connect(self.state_db)
        try:
            row = conn.execute("SELECT data FROM corpus_files WHERE name = ? AND origin = 'upload'", (name,)).fetchone()
        finally:
            conn.close()
        if row is None:
            raise FileNotFoundError(f"{name} is no longer among the uploads")
        return bytes(row[0])

    def why_empty(self) -> str:
        return self.folder.why_empty() + ", and nothing was uploaded"


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    return conn


def local_source(seeds: Path | str, index_path: Path | str):
    """What a single-process reload reads: the seeds folder, plus the uploads when the embedded state
    store holds any (read with sqlite3 itself: a reload without uploads imports no SQLAlchemy)."""
    from store.index import SeedFolder

    folder = SeedFolder(seeds)
    state_db = embedded_state_path(index_path)
    if not state_db.exists():
        return folder
    try:
        conn = _connect(state_db)
        try:
            rows = conn.execute("SELECT name, size, hash FROM corpus_files WHERE origin = 'upload'").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:  # no such table or column yet: nothing was uploaded
        return folder
    if not rows:
        return folder
    return FolderAndUploads(folder, state_db, {name: (size, h) for name, size, h in rows})
