"""A pytest plugin for mutation runs only (`make mutate`, TESTING.md); ordinary runs never load it.

mutmut runs each mutant's tests in a process forked from a fork server that has already
collected the tests, and stops at the first failing test. This plugin, loaded with `-p` from
the `[tool.mutmut]` settings in pyproject.toml, makes that cheap:

- It imports Keras (and so TensorFlow) once, in the fork server. TensorFlow survives a fork
  as long as no operation has run yet (its thread pools do not exist), and importing it costs
  about 5 s that every mutant reaching a Keras test would otherwise pay again.
- It runs each mutant's tests fastest first, by the durations mutmut measured in its stats
  run, so most mutants die in a test that takes milliseconds, not in a model build.
- With ARCHSPEC_MUTATE_BUDGET=seconds, a mutant runs only its fastest tests that fit in that
  many seconds (at least one). A killed mutant rarely needs more; a survivor of a function
  that every test reaches would otherwise run the whole suite. Re-run a survivor without a
  budget before judging it.
- It freezes the fork server's heap once collection is done, so the garbage collections of
  each mutant's process do not walk TensorFlow's objects again (and their pages stay shared).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
from pathlib import Path

import pytest

STATS = Path("mutmut-stats.json")
"""Written by mutmut in its working folder (mutants/), which is the current folder here."""
BUDGET = "ARCHSPEC_MUTATE_BUDGET"


def pytest_configure() -> None:
    """Import Keras: in the fork server, once, before it forks a process per mutant."""
    with contextlib.suppress(ImportError):  # a core install without Keras: nothing to preload
        import keras  # noqa: F401


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Fastest first (unmeasured, new tests last); within the budget when testing a mutant."""
    if not STATS.is_file():
        return
    durations: dict[str, float] = json.loads(STATS.read_text()).get("duration_by_test", {})
    items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))
    budget = float(os.environ.get(BUDGET) or 0)
    # mutmut's own runs (stats, clean tests, forced failure) must run every test.
    if budget <= 0 or "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    spent = 0.0
    for index, item in enumerate(items):
        spent += durations.get(item.nodeid, budget)
        if spent > budget and index > 0:
            config.hook.pytest_deselected(items=items[index:])
            del items[index:]
            return


def pytest_unconfigure() -> None:
    """At the end of a session (the fork server's is collection only), freeze the heap."""
    gc.freeze()
