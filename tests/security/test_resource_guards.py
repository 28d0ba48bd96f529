"""Absurd sizes are refused from the IR before any framework allocates; lowering stops early."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import archspec
from archspec.cli import main
from archspec.errors import SpecError
from archspec.graph_builder import GraphBuilder
from archspec.limits import Limits

BASE = """\
name: guard
input: {shape: [224, 224, 3]}
stem: {filters: 64, kernel: 7, stride: 2, norm: false}
stages:
  - {block: preact_bottleneck, filters: 64, stride: 2, depth: 3}
head: {classes: 10}
"""


def error(text: str, **kwargs):
    with pytest.raises(SpecError) as info:
        archspec.lower(archspec.loads(text, "guard.yaml"), **kwargs)
    return info.value.errors[0]


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("filters: 64, stride", "filters: 1000000000, stride", "stages[0].filters"),
        ("depth: 3", "depth: 100000000", "stages[0].depth"),
        ("[224, 224, 3]", "[100000, 100000, 3]", "input.shape[0]"),
        ("classes: 10", "classes: 10000000000", "head.classes"),
    ],
)
def test_absurd_numbers_are_refused_by_validation(old, new, path):
    assert error(BASE.replace(old, new)).path == path


def count_layers_built(monkeypatch) -> list[int]:
    built = [0]
    original = GraphBuilder.add

    def counting(self, *args, **kwargs):
        built[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(GraphBuilder, "add", counting)
    return built


def test_a_deep_expensive_stage_is_refused_after_its_first_blocks(monkeypatch):
    built = count_layers_built(monkeypatch)
    text = BASE.replace("filters: 64, stride: 2, depth: 3", "filters: 4096, stride: 2, depth: 1000")
    e = error(text)
    assert e.code == "too-many-params"
    assert built[0] < 40, "lowering went on long after the budget was known to be exceeded"


def test_layer_budget(monkeypatch):
    built = count_layers_built(monkeypatch)
    e = error(BASE.replace("depth: 3", "depth: 1000"), limits=Limits(max_layers=500))
    assert e.code == "too-many-layers"
    assert built[0] < 60


def test_activation_memory_budget():
    e = error(BASE.replace("[224, 224, 3]", "[8192, 8192, 3]"))
    assert e.code == "too-much-memory"
    assert "over the limit of 16.0 GiB" in e.message


def test_cli_limits_are_configurable(tmp_path):
    spec = tmp_path / "guard.yaml"
    spec.write_text(BASE)
    runner = CliRunner()
    assert runner.invoke(main, ["validate", str(spec)]).exit_code == 0
    assert (
        runner.invoke(main, ["validate", "--max-activation-memory", "10M", str(spec)]).exit_code
        == 1
    )
    assert runner.invoke(main, ["validate", "--max-layers", "10", str(spec)]).exit_code == 1
    assert runner.invoke(main, ["validate", "--max-params", "1e5", str(spec)]).exit_code == 1
    result = runner.invoke(main, ["build", "--max-params", "1e5", str(spec)])
    assert result.exit_code == 1
    assert "over the limit of 100,000" in result.output


@pytest.mark.parametrize("value", ["1e400", "nan", "inf", "-5", "0.5", "0"])
def test_limit_values_that_are_not_finite_amounts_are_usage_errors(value):
    for option in ("--max-params", "--max-activation-memory"):
        result = CliRunner().invoke(main, ["validate", option, value, "resnet22"])
        assert result.exit_code == 2, (option, value, result.output)
        assert "Traceback" not in result.output
