"""Reloads that change a little of a big index: the lock across processes, the vocabulary and
aliases kept in step by deltas, unchanged files skipped by their stat."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from store import Index, ReloadBusy


def test_a_reload_in_another_process_makes_this_one_busy(index, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from store.index import _ReloadLock
            with _ReloadLock({str(index.db_path)!r}, wait=True):
                print("held", flush=True)
                sys.stdin.readline()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ReloadBusy):
            Index(index.db_path, seeds=index.seeds).reload(wait=False)
    finally:
        holder.communicate("\n", timeout=30)
    assert holder.returncode == 0
    assert index.reload(wait=False).ok
