"""Shared fixtures: built models are cached for the whole session; goldens need a flag to change."""

from __future__ import annotations

import difflib
import gc
import os
import signal
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
TINY_SPEC = (
    "name: tiny\ninput: {shape: [32, 32, 3]}\nstem: {filters: 8}\n"
    "stages: [{block: preact_basic, filters: 8}]\nhead: {classes: 10}\n"
)
"""The smallest valid spec, for tests of what reading and overriding one does."""
BASIC_SPEC = (
    "name: r\n"
    "input: {shape: [64, 64, 3]}\n"
    "stem: {filters: 16}\n"
    "stages:\n"
    "  - {block: basic, filters: 16}\n"
    "head: {classes: 4}\n"
)
"""A small valid spec in block style, one key a line, for tests that place mistakes by line."""
SLOW_SPECS = {
    "preact_resnet1001",
    "resnet152",
    "resnet152v2",
    "tv_resnet152",
    "convnext_base",
    "convnext_large",
    "convnext_xlarge",
}
"""The shipped specs whose Keras models take longest to build and run: over 500 layers, or
over 80 million parameters to create and copy."""
BUILT_SPECS = [
    pytest.param(path, id=path.stem, marks=[pytest.mark.slow] if path.stem in SLOW_SPECS else [])
    for path in SPECS
]
"""SPECS as parameters of tests that build every shipped spec's model: the slowest marked."""
GOLDEN = Path(__file__).resolve().parent / "golden"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail, rather than wait for ever, when the code inside blocks for over `seconds`.

    For tests that hand archspec a FIFO: opening one without O_NONBLOCK waits for a writer
    that never comes. A blocked process spends no CPU time, so mutmut's CPU limit never ends
    such a mutant: without this, one held `make mutate` up for hours.
    """

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"blocked for over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def yaml_events(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many YAML events archspec's reader takes from the parser: one number, kept current."""
    import archspec.io

    source = archspec.io._EventSource
    original = source.get_event
    count = [0]

    def counting(self: object) -> object:
        count[0] += 1
        return original(self)

    monkeypatch.setattr(source, "get_event", counting)
    return count


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite golden files from the current output instead of comparing",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def golden_checker(directory: Path, update: bool) -> Callable[[str, str], None]:
    """check(name, text): compare with directory/<name>, or rewrite it when `update`."""

    def check(name: str, actual: str) -> None:
        path = directory / name
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(
                f"golden file {shown} is missing; create it with: pytest --update-golden",
                pytrace=False,
            )
        expected = path.read_text(encoding="utf-8")
        if actual != expected:
            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    actual.splitlines(keepends=True),
                    f"{shown} (expected)",
                    f"{name} (actual)",
                )
            )
            pytest.fail(
                f"output differs from {shown}:\n{diff}\n"
                "If the change is intended, accept it with: pytest --update-golden",
                pytrace=False,
            )

    return check


@pytest.fixture(scope="session")
def golden(update_golden: bool) -> Callable[[str, str], None]:
    """golden(name, text): compare with tests/golden/<name>, or rewrite it with the flag."""
    return golden_checker(GOLDEN, update_golden)


BUILT_MODELS_BUDGET = 150_000_000
"""Parameters (600 MB in float32) of built models kept for the session at most: the oldest go
first, before a model is built, and a larger model (ConvNeXtLarge, ConvNeXtXLarge) is built
anew wherever a test needs it."""


@pytest.fixture(scope="session")
def built_models() -> Callable[[str], object]:
    """build(spec_name) -> keras.Model, built once per session and shared by every test."""
    import archspec
    from archspec.backends.keras import build_model

    cache: OrderedDict[str, tuple[object, int]] = OrderedDict()

    def build(name: str) -> object:
        if name in cache:
            return cache[name][0]
        graph = archspec.lower(archspec.load(ROOT / "specs" / f"{name}.yaml"))
        while (
            cache and sum(size for _, size in cache.values()) + graph.params > BUILT_MODELS_BUDGET
        ):
            cache.popitem(last=False)
        gc.collect()
        model = build_model(graph)
        if graph.params <= BUILT_MODELS_BUDGET:
            cache[name] = (model, graph.params)
        return model

    return build


@pytest.fixture(scope="session")
def reference_resnet22() -> object:
    from tests.reference_resnet22 import resnet22

    return resnet22()
