from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from store import Index

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_d15f99b5a61b95c3.txt"


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


@pytest.fixture
def index(seeds: Path, tmp_path: Path) -> Index:
    idx = Index.open(tmp_path / "factbot.db", seeds=seeds)
    yield idx
    idx.close()


def article(title: str, source: str, when: str, summary: str) -> str:
    return f"{title}\n{source}· {when}\n{summary}\n"
