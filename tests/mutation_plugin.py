"""A pytest plugin for mutation runs only (`make mutate`, TESTING.md); ordinary runs never load it.

mutmut runs each mutant's tests in a process forked from a fork server that has already
collected the tests, and stops at the first failing test. This plugin, loaded with `-p` from
the `[tool.mutmut]` settings in pyproject.toml, makes that cheap:

- It imports Keras (and so TensorFlow) once, in the fork server. TensorFlow survives a fork
  as long as no operation has run yet (its thread pools do not exist), and importing it costs
  about 5 s that every mutant reaching a Keras test would otherwise pay again.
- It runs each mutant's tests fastest first, by the durations mutmut measured in its stats
  run, so most mutants die in a test that takes milliseconds, not in a model build.
- It freezes the fork server's heap once collection is done, so the garbage collections of
  each mutant's process do not walk TensorFlow's objects again (and their pages stay shared).
"""

from __future__ import annotations

import contextlib
import gc
import json
from pathlib import Path

import pytest

with contextlib.suppress(ImportError):  # a core install without Keras: nothing to preload
    import keras  # noqa: F401

STATS = Path("mutmut-stats.json")
"""Written by mutmut in its working folder (mutants/), which is the current folder here."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fastest first; tests without a measured duration (new ones) go last."""
    if not STATS.is_file():
        return
    durations: dict[str, float] = json.loads(STATS.read_text()).get("duration_by_test", {})
    items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))


def pytest_unconfigure() -> None:
    """At the end of a session (the fork server's is collection only), freeze the heap."""
    gc.freeze()
