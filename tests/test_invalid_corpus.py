"""tests/invalid/: one mistake per file, each with its expected `archspec validate` output."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from archspec.cli import main
from tests.conftest import ROOT

CORPUS = sorted((ROOT / "tests" / "invalid").glob("*.*"))


def test_the_corpus_covers_every_kind_of_mistake():
    assert len(CORPUS) >= 30
    kinds = {path.name.split("_")[0] for path in CORPUS}
    assert {
        "syntax",
        "yaml",
        "json",
        "type",
        "key",
        "typo",
        "value",
        "semantic",
        "extends",
    } <= kinds


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_each_mistake_gets_its_expected_message(path, golden, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["validate", str(path.relative_to(ROOT))])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    golden(f"invalid/{path.stem}.txt", result.output)
