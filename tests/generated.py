"""Small generated corpora for tests (benchmarks/generate.py's real-format exports, no real seed)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def generator():
    """benchmarks/generate.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("factbot_generate", ROOT / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def corpus(dest: Path, facts: int, seed: int) -> list[dict]:
    """Write a corpus of `facts` synthetic facts into `dest`; its companies, most frequent first."""
    gen = generator()
    gen.generate(facts, dest, seed=seed, jobs=1, real=None)
    return gen.companies(seed, facts)


def followups():
    """benchmarks/followups.py as a module: many companies retelling the seed's Seres article, and
    threads of follow-ups about them."""
    import sys

    if "factbot_followups" in sys.modules:
        return sys.modules["factbot_followups"]
    spec = importlib.util.spec_from_file_location("factbot_followups", ROOT / "benchmarks" / "followups.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module
