"""A reload's progress on the terminal: click's progress bar, fed by the store's progress calls.

The store knows nothing of terminals: a reload calls `update(stage, files=, total_files=, done=,
total=, facts=)` as it goes (`done`/`total` in bytes of seed files) and `finish()` at the end, on
whatever object it is given. This one draws those calls with `click.progressbar` (bar, percentage,
time left) plus files, facts and facts per second, and draws nothing at all when the stream is
not a terminal.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO

import click


class ReloadProgress:
    def __init__(self, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.bar = None
        self.started = time.perf_counter()
        self.facts = 0
        self.files = ""

    def _item(self, _item) -> str:
        elapsed = time.perf_counter() - self.started
        rate = self.facts / elapsed if elapsed > 0 else 0
        return f"{self.files} files, {self.facts:,} facts, {rate:,.0f} facts/s"

    def update(self, stage: str, files: int = 0, total_files: int = 0, done: int = 0, total: int = 0,
               facts: int = 0) -> None:
        if stage != "index":  # vocabulary, optimizing: the bar is full, the label says what runs
            if self.bar is not None:
                self.bar.label = f"{stage}…"
                self.bar.render_progress()
            return
        if self.bar is None:
            if not self.stream.isatty():
                return
            self.bar = click.progressbar(length=max(total, 1), label="indexing:", file=self.stream,
                                         show_eta=True, show_percent=True, item_show_func=self._item)
        self.files, self.facts = f"{files:,}/{total_files:,}", facts
        self.bar.update(max(0, done - self.bar.pos), current_item=True)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None
