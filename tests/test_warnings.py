"""Warnings a team can live with: stable codes, silenced per run or per spec, never from a
default, located in the user's own file, in line order, on every command that reads a spec."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archspec
from archspec.blocks import block_types
from archspec.cli import main
from archspec.graph_builder import GraphBuilder
from archspec.io import parse_document
from archspec.loader import override_path
from archspec.warning_codes import WARNING_CODES
from tests.conftest import ROOT, SPECS
from tests.strategies import small_specs

TINY = """\
name: tiny
input: {shape: [32, 32, 3]}
stem: {filters: 8}
stages:
  - {block: preact_basic, filters: 8}
  - {block: preact_basic, filters: 16, stride: 2, depth: 2}
head: {classes: 10}
"""

EXAMPLES = {
    "uneven-stride": TINY.replace("[32, 32, 3]", "[33, 33, 3]"),
    "redundant-norm": TINY.replace("{filters: 8}", "{filters: 8, norm: true}"),
    "unused": TINY.replace("{classes: 10}", "{classes: 10, dense_activation: relu}"),
    "single-class-softmax": TINY.replace("{classes: 10}", "{classes: 1}"),
    "channels-first": TINY.replace("[32, 32, 3]", "[4, 32, 32]"),
}
"""A spec that gives each warning, and only it."""


def run(*args: str, cwd: Path | None = None):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def codes(text: str, **kwargs) -> list[str]:
    return [w.code for w in archspec.analyze(archspec.loads(text, **kwargs)).warnings]


# --- codes ----------------------------------------------------------------------------------


def test_the_minimal_spec_warns_nothing():
    assert codes(TINY) == []


@pytest.mark.parametrize("code", WARNING_CODES)
def test_every_code_has_a_spec_that_gives_it(code):
    assert set(EXAMPLES) == set(WARNING_CODES), "give each new code an example here"
    assert codes(EXAMPLES[code]) == [code]


def test_a_warning_without_a_registered_code_is_refused():
    builder = GraphBuilder(archspec.loads(TINY))
    with pytest.raises(ValueError, match=r"not in archspec\.warning_codes"):
        builder.report(("stem",), "something odd", severity="warning", code="odd")


def test_the_text_shows_the_code_and_json_has_it():
    (warning,) = archspec.analyze(archspec.loads(EXAMPLES["unused"], "spec.yaml")).warnings
    assert warning.format().splitlines()[0] == (
        "spec.yaml:7:21: warning: head.dense_activation: there are no hidden dense layers, so "
        "this setting has no effect [unused]"
    )
    assert warning.as_dict()["code"] == "unused"


# --- no default triggers a warning ------------------------------------------------------------


@pytest.mark.parametrize("block", block_types())
def test_a_minimal_spec_of_every_block_type_warns_nothing(block):
    text = TINY.replace("preact_basic", block)
    assert codes(text) == []


def _prune(data: dict, rng: random.Random) -> dict:
    """Drop about half of the optional keys, keeping what every spec must say."""
    required = {"name", "input", "stem", "stages", "head", "filters", "block", "classes", "shape"}

    def walk(node):
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items() if k in required or rng.random() < 0.5}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_specs(), st.randoms(use_true_random=False))
def test_warnings_are_about_what_a_spec_states_never_a_default(data, rng):
    text = json.dumps(_prune(data, rng))
    try:
        spec = archspec.loads(text, "spec.json", json_syntax=True)
    except archspec.SpecError:
        return
    stated = parse_document(text, "spec.json", json_syntax=True).source
    for warning in archspec.analyze(spec).warnings:
        path = override_path(warning.path)
        assert path in stated.values or path in stated.keys, warning.format()


def test_no_shipped_preset_warns():
    result = run("validate", "--strict", str(ROOT / "specs"))
    assert result.exit_code == 0, result.output
    assert f"{len(SPECS)} files checked: {len(SPECS)} valid" in result.output


# --- where warnings are reported --------------------------------------------------------------


def test_warnings_come_in_line_order():
    text = (
        "name: tiny\n"
        "head: {classes: 1}\n"
        "input: {shape: [33, 33, 3]}\n"
        "stem: {filters: 8, norm: true}\n"
        "stages:\n"
        "  - {block: preact_basic, filters: 8}\n"
        "  - {block: preact_basic, filters: 16, stride: 2, depth: 2}\n"
    )
    warnings = archspec.analyze(archspec.loads(text)).warnings
    assert [w.location.line for w in warnings] == [2, 4, 7]
    assert [w.code for w in warnings] == ["single-class-softmax", "redundant-norm", "uneven-stride"]


@pytest.fixture
def family(tmp_path: Path) -> Path:
    """base.yaml (odd input size) and child.yaml, which extends it and resnet22 below it."""
    (tmp_path / "base.yaml").write_text(
        "extends: resnet22\nname: base\ninput: {shape: [250, 250, 3]}\n"
    )
    (tmp_path / "child.yaml").write_text("# a child\nname: child\nextends: base.yaml\n")
    return tmp_path


def test_an_inherited_warning_is_at_the_users_extends_line_and_names_its_origin(family):
    child = family / "child.yaml"
    (first, second) = archspec.analyze(archspec.load(child)).warnings
    for warning in (first, second):
        assert (warning.location.file, warning.location.line) == (str(child), 3)
    assert first.path == "stages[0].stride"
    assert first.origin.preset == "resnet22"
    assert first.origin.line == 14
    assert "(set in the preset resnet22, line 14) [uneven-stride]" in first.format()
    assert "archspec/presets" not in first.format()


def test_a_value_of_a_base_file_is_named_by_its_path(tmp_path):
    (tmp_path / "base.yaml").write_text(EXAMPLES["unused"])
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nname: child\n")
    (warning,) = archspec.analyze(archspec.load(tmp_path / "child.yaml")).warnings
    assert warning.location.line == 1
    assert (warning.origin.file, warning.origin.line, warning.origin.preset) == (
        str(tmp_path / "base.yaml"),
        7,
        None,
    )
    result = run("validate", "--format", "github", str(tmp_path / "child.yaml"))
    assert f"::warning file={tmp_path / 'child.yaml'},line=1,col=10," in result.output
    assert f"(set in {tmp_path / 'base.yaml'}, line 7) [unused]" in result.output


def test_with_extends_and_strict_the_users_file_fails_not_the_presets(family):
    result = run("validate", "--strict", "--format", "github", str(family / "base.yaml"))
    assert result.exit_code == 1
    for line in result.output.splitlines()[:-1]:  # --strict: each warning fails the check
        assert line.startswith(f"::error file={family / 'base.yaml'},line=1,col=10,")


def test_validate_shows_a_warning_once_where_it_arises(family):
    both = run("validate", str(family))
    lines = [line for line in both.output.splitlines() if "warning:" in line]
    assert len(lines) == 2
    assert all(line.startswith(f"{family / 'base.yaml'}:1:10: warning:") for line in lines)
    assert both.output.endswith("2 files checked: 2 valid, 0 invalid (0 errors, 2 warnings)\n")
    alone = run("validate", str(family / "child.yaml"))
    assert alone.output.count("warning:") == 2


# --- silencing --------------------------------------------------------------------------------


def test_a_spec_silences_codes_and_extends_adds_to_its_bases_codes(tmp_path):
    both = EXAMPLES["unused"].replace("[32, 32, 3]", "[33, 33, 3]")
    (tmp_path / "base.yaml").write_text(both + "warnings: {ignore: [unused]}\n")
    assert codes(both) == ["uneven-stride", "unused"]
    assert codes((tmp_path / "base.yaml").read_text()) == ["uneven-stride"]
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\nname: child\nwarnings: {ignore: [uneven-stride]}\n")
    spec = archspec.load(child)
    assert spec.warnings.ignore == ("uneven-stride", "unused")
    assert archspec.analyze(spec).warnings == ()


def test_an_unknown_code_in_a_spec_is_a_located_error_with_a_hint():
    with pytest.raises(archspec.SpecError) as info:
        archspec.loads(TINY + "warnings: {ignore: [uneven-strides]}\n", "spec.yaml")
    (d,) = info.value.diagnostics
    assert (d.path, d.location.line) == ("warnings.ignore[0]", 8)
    assert d.hint.startswith("did you mean 'uneven-stride'?")


def test_ignore_silences_a_code_for_one_run(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(EXAMPLES["unused"])
    assert run("validate", "--strict", str(spec)).exit_code == 1
    assert run("validate", "--strict", "--ignore", "unused", str(spec)).exit_code == 0
    result = run("inspect", "--ignore", "unused", "--ignore", "uneven-stride", str(spec))
    assert result.exit_code == 0
    assert "warning" not in result.stderr


def test_an_unknown_ignore_code_is_a_usage_error_with_a_hint():
    result = run("inspect", "--ignore", "unsued", "resnet22")
    assert result.exit_code == 2
    assert "'unsued' is no warning's code; did you mean 'unused'?" in result.output


# --- every command that reads a spec shows them -----------------------------------------------


@pytest.mark.parametrize(
    "command",
    [["inspect"], ["inspect", "--format", "json"], ["codegen"], ["graph"], ["diff", "resnet22"]],
)
def test_commands_print_warnings_on_stderr(tmp_path, command):
    spec = tmp_path / "spec.yaml"
    spec.write_text(EXAMPLES["single-class-softmax"])
    name, *rest = command
    arguments = [name, *rest, str(spec)] if name == "diff" else [name, str(spec), *rest]
    result = run(*arguments)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"{spec}:7:17: warning: head.classes: softmax over a single class always outputs 1 "
        "[single-class-softmax]"
    )
    assert "warning:" not in result.stdout
    strict = run(*arguments, "--strict")
    assert strict.exit_code == 1
    assert strict.stdout == ""
    assert strict.stderr.splitlines()[-1] == "error: 1 warning, and --strict makes warnings errors"


def test_build_strict_stops_before_building(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(EXAMPLES["uneven-stride"])
    result = run("build", str(spec), "--strict")
    assert result.exit_code == 1
    assert "warning: stages[1].stride:" in result.stderr
    assert "Keras model" not in result.output


def test_diff_reports_the_errors_of_both_files(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(TINY.replace("{classes: 10}", "{classes: 0}"))
    b.write_text(TINY.replace("filters: 16,", "filters: -16,"))
    result = run("diff", str(a), str(b))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{a}:7:17: error: head.classes:")
    assert lines[1].startswith(f"{b}:6:36: error: stages[1].filters:")
    semantic = run("diff", str(ROOT / "tests" / "invalid" / "semantic_collapse.yaml"), str(a))
    assert semantic.exit_code == 1
    assert "semantic_collapse.yaml:7:48: error:" in semantic.stderr
    assert f"{a}:7:17: error: head.classes:" in semantic.stderr
