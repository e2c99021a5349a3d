"""Progress of a long reload on a terminal: files, facts, rate and time left, on one line."""
from __future__ import annotations

import time
from typing import TextIO


class TerminalProgress:
    """Rewrites one status line (at most ten times a second); `finish` clears it."""

    def __init__(self, stream: TextIO, interval: float = 0.1):
        self.stream = stream
        self.interval = interval
        self.started = time.perf_counter()
        self.stage_started = self.started
        self.stage = ""
        self.last = 0.0
        self.width = 0

    def update(self, stage: str, **figures) -> None:
        now = time.perf_counter()
        if stage != self.stage:
            self.stage, self.stage_started = stage, now
        elif now - self.last < self.interval:
            return
        self.last = now
        self._write(self.describe(stage, now - self.stage_started, **figures))

    @staticmethod
    def describe(stage: str, elapsed: float, files: int = 0, total_files: int = 0, done: int = 0,
                 total: int = 0, facts: int = 0) -> str:
        if stage == "index":
            rate = facts / elapsed if elapsed > 0 else 0
            left = elapsed * (total - done) / done if done else 0
            return (f"indexing: {files:,}/{total_files:,} files, {facts:,} facts, {rate:,.0f} facts/s,"
                    f" {left:.0f} s left")
        return f"{stage}…"

    def _write(self, line: str) -> None:
        pad = max(0, self.width - len(line))
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()
        self.width = len(line)

    def finish(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0
