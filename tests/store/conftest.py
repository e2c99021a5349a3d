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


GENERATED_FACTS = 4000


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Path:
    """A generated corpus of a few thousand facts in the real export format, with many dates and
    Zipf-distributed common words (benchmarks/generate.py): where paging, candidate limits and
    recency matter. Read-only: tests that change files copy it."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import generate

    out = tmp_path_factory.mktemp("generated") / "seeds"
    generate.generate(GENERATED_FACTS, out, seed=1, jobs=1, real=None)
    return out


@pytest.fixture(scope="session")
def generated_index(generated: Path, tmp_path_factory) -> Index:
    idx = Index.open(tmp_path_factory.mktemp("generated-db") / "factbot.db", seeds=generated)
    yield idx
    idx.close()
