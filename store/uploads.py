"""Exports added from outside the seeds folder (an admin's file in Slack): checked whole, then
written into the folder only when every article parses.

    check = check_export("digest.txt", data)   # parses the bytes; nothing is written
    if check.ok:
        replaced = add_to_folder(Path("seeds"), check.name, data)
        index.reload(actor="slack:U123")      # the normal reload indexes it

A file with an error anywhere is not added, so an existing file of the same name is replaced
only by one that parses, and nothing indexed is lost. The write is atomic (a hidden temporary
file in the folder, which reloads skip, renamed over the target), so a reload running meanwhile
sees the old file or the new one, never half of it.

With replicas (DATABASE_URL), the folder written to is the seeds folder of the process that
received the file: the reload that follows stores it in the corpus of record like any other seed
file, and the other replicas follow. `add_to_folder` is the one place a new source of exports
would plug in.
"""
from __future__ import annotations

import os
import re
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
    """Write `data` as `seeds/name`, atomically; True when it replaced a file of that name."""
    if export_name(name) != name:
        raise ValueError(f"not a seed file name: {name!r}")
    seeds = Path(seeds)
    seeds.mkdir(parents=True, exist_ok=True)
    target = seeds / name
    replaced = target.exists()
    temp = seeds / f".{name[:100]}.{os.getpid()}.upload"
    try:
        with open(temp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return replaced
