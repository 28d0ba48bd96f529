"""Every mistake in a spec gets a located, actionable message; all of a file's errors at once."""

from __future__ import annotations

from pathlib import Path

import pytest

import archspec
from archspec.errors import SpecError
from archspec.io import parse_document

GOOD = """\
name: tiny
input: {shape: [32, 32, 3]}
stem: {filters: 8, kernel: 3, stride: 1}
stages:
  - {block: preact_basic, filters: 8, stride: 1, depth: 1}
  - {block: preact_basic, filters: 16, stride: 2, depth: 2}
head: {pool: avg, classes: 10}
"""


def problems(text: str, **kwargs) -> list:
    with pytest.raises(SpecError) as info:
        archspec.lower(archspec.loads(text, "spec.yaml", **kwargs))
    return list(info.value.diagnostics)


def only(text: str, **kwargs):
    found = [d for d in problems(text, **kwargs) if d.severity == "error"]
    assert len(found) == 1, [d.format() for d in found]
    return found[0]


def at(diagnostic) -> tuple[int, int]:
    return diagnostic.location.line, diagnostic.location.column


def test_the_good_spec_is_valid():
    graph = archspec.lower(archspec.loads(GOOD))
    assert graph.name == "tiny"


def test_misspelt_block_type_suggests_the_right_one():
    d = only(GOOD.replace("{block: preact_basic, filters: 16", "{block: preact_basik, filters: 16"))
    assert d.path == "stages[1].block"
    assert d.message == "unknown block type 'preact_basik'"
    assert d.hint.startswith("did you mean 'preact_basic'?")
    assert at(d) == (6, 13)


def test_unknown_key_points_at_the_key_and_suggests():
    d = only(GOOD.replace("stride: 1}\nstages", "strid: 1}\nstages"))
    assert d.path == "stem.strid"
    assert d.message == "unknown key 'strid'"
    assert d.hint.startswith("did you mean 'stride'?")
    assert at(d) == (3, 31)


def test_negative_and_zero_sizes():
    d = only(GOOD.replace("filters: 8, stride: 1, depth: 1", "filters: -8, stride: 1, depth: 1"))
    assert (d.path, d.message) == ("stages[0].filters", "must be at least 1, got a whole number -8")
    assert at(d) == (5, 36)
    d = only(GOOD.replace("classes: 10", "classes: 0"))
    assert (d.path, d.message) == ("head.classes", "must be at least 1, got a whole number 0")


def test_wrong_types():
    d = only(GOOD.replace("[32, 32, 3]", "[32, 32, '3']"))
    assert d.path == "input.shape[2]"
    assert d.message == "expected a whole number, got text '3'"
    assert d.hint == "remove the quotes"
    d = only(GOOD.replace("input: {shape: [32, 32, 3]}", "input: [32, 32, 3]"))
    assert (d.path, d.message) == ("input", "expected a mapping (key: value), got a list")


def test_a_list_instead_of_a_mapping_at_the_top():
    d = only("- name: x\n- input: y\n")
    assert d.message.startswith("a spec must be a mapping")
    assert at(d) == (1, 1)


def test_malformed_yaml_is_located():
    d = only(GOOD.replace("head: {pool: avg, classes: 10}", "head: {pool: avg, classes: 10"))
    assert d.code == "syntax"
    assert d.location.line == 8


def test_missing_keys_name_what_is_missing():
    d = only(GOOD.replace("head: {pool: avg, classes: 10}\n", ""))
    assert (d.path, d.message) == ("head", "missing required key 'head'")
    d = only(GOOD.replace("head: {pool: avg, classes: 10}", "head: {pool: avg}"))
    assert (d.path, d.message) == ("head.classes", "missing required key 'classes'")
    assert at(d) == (7, 7)


def test_literal_choices_suggest_the_nearest():
    d = only(GOOD.replace("pool: avg", "pool: avgg"))
    assert d.message == "'avgg' is not one of 'avg', 'max', 'flatten', 'none'"
    assert d.hint.startswith("did you mean 'avg'?")


def test_every_error_of_a_file_is_reported_in_file_order():
    text = GOOD.replace("filters: 8, kernel", "filters: 0, kernel").replace(
        "classes: 10", "classes: x"
    )
    text = text.replace("{block: preact_basic, filters: 16", "{block: nope, filters: 16")
    found = problems(text)
    assert [d.path for d in found] == ["stem.filters", "stages[1].block", "head.classes"]


def test_even_kernels_that_need_padding_are_refused_at_the_kernel():
    d = only(GOOD.replace("kernel: 3", "kernel: 4"))
    assert (d.path, d.code) == ("stem.kernel", "even-kernel")
    assert at(d) == (3, 28)
    assert "asymmetric padding with stride 1" in d.message
    deep = only(
        GOOD.replace("filters: 8, kernel: 3, stride: 1", "filters: [8, 8], kernel: 4, stride: 4")
    )
    assert (deep.path, deep.code) == ("stem.kernel", "even-kernel")
    assert "deep stem" in deep.message


@pytest.mark.parametrize("padding", ["same", "explicit"])
def test_an_even_kernel_no_larger_than_its_stride_patchifies_without_padding(padding):
    text = (
        GOOD.replace("kernel: 3, stride: 1", "kernel: 4, stride: 4")
        + f"conv: {{padding: {padding}}}\n"
    )
    graph = archspec.lower(archspec.loads(text))
    stem = graph["stem_conv"]
    assert (stem.attrs["kernel"], stem.attrs["strides"], stem.attrs["padding"]) == (4, 4, "valid")
    assert stem.shape == (8, 8, 8)
    assert graph.scope_layers("stem")[0] is stem  # no pad layer before it


def test_bad_names_are_refused():
    d = only(GOOD.replace("name: tiny", "name: 'x\"; import os'"))
    assert d.path == "name"
    assert "not a valid name" in d.message


def test_json_specs_are_validated_with_locations():
    text = (
        '{"name": "tiny", "input": {"shape": [32, 32, 3]}, "stem": {"filters": 8},\n'
        ' "stages": [{"block": "preact_basic", "filters": 8, "depth": "2"}],\n'
        ' "head": {"classes": 10}}\n'
    )
    d = only(text, json_syntax=True)
    assert d.path == "stages[0].depth"
    assert at(d) == (2, 62)


# --- semantic errors, found while lowering ---------------------------------------------------


def test_spatial_collapse_names_the_layer():
    d = only(GOOD.replace("[32, 32, 3]", "[1, 1, 3]"))
    assert d.code == "collapse"
    assert d.path == "stages[1].stride"
    assert "stage2_block1_conv1: the height is 1 here" in d.message
    assert "too small for a 3x3 window with stride 2" in d.message
    # what Keras would do instead, and why archspec refuses
    assert "with 'same' padding Keras would not fail: it rounds 1/2 up to 1" in d.hint
    assert "refuses that instead of building it silently" in d.hint


def test_uneven_stride_is_a_warning():
    analysis = archspec.analyze(archspec.loads(GOOD.replace("[32, 32, 3]", "[33, 33, 3]")))
    assert analysis.graph is not None
    (uneven,) = [w for w in analysis.warnings if w.code == "uneven-stride"]
    assert uneven.path == "stages[1].stride"
    assert "height 33 is not divisible by the stride 2" in uneven.message


def test_identity_shortcut_with_changing_channels_is_located():
    d = only(GOOD + "residual: {shortcut: {kind: identity}}\n")
    assert d.code == "channel-mismatch"
    assert d.path == "stages[1].filters"
    assert at(d) == (6, 36)


def test_parameter_budget_is_enforced_before_building():
    d = only(GOOD.replace("filters: 16, stride: 2", "filters: 16384, stride: 2"))
    assert d.code == "too-many-params"
    assert d.path == "stages[1]"


def test_single_class_softmax_is_a_warning():
    analysis = archspec.analyze(archspec.loads(GOOD.replace("classes: 10", "classes: 1")))
    assert "single-class-softmax" in [w.code for w in analysis.warnings]


def test_warnings_do_not_stop_lowering():
    stated = GOOD.replace("stride: 1}", "stride: 1, norm: true}", 1)
    analysis = archspec.analyze(archspec.loads(stated))
    assert analysis.graph is not None
    assert [w.code for w in analysis.warnings] == ["redundant-norm"]


def test_errors_in_an_extended_file_are_located_at_the_extends_line(tmp_path: Path):
    (tmp_path / "base.yaml").write_text(GOOD.replace("classes: 10", "classes: -1"))
    (tmp_path / "child.yaml").write_text("name: child\nextends: base.yaml\n")
    with pytest.raises(SpecError) as info:
        archspec.load(tmp_path / "child.yaml")
    (d,) = info.value.diagnostics
    assert (d.location.file, d.location.line, d.location.column) == (
        str(tmp_path / "child.yaml"),
        2,
        10,
    )
    assert (d.origin.file, d.origin.line, d.origin.preset) == (str(tmp_path / "base.yaml"), 7, None)
    assert d.format().startswith(
        f"{tmp_path / 'child.yaml'}:2:10: error: head.classes: must be at least 1, got a whole "
        f"number -1 (set in {tmp_path / 'base.yaml'}, line 7)"
    )


EXPLICIT = GOOD + "conv: {padding: explicit}\n"


def test_stride_checks_judge_the_size_before_explicit_padding():
    def stem_warnings(side: int, stride: int) -> list[str]:
        text = EXPLICIT.replace("[32, 32, 3]", f"[{side}, {side}, 3]")
        text = text.replace("kernel: 3, stride: 1}", f"kernel: 3, stride: {stride}}}")
        analysis = archspec.analyze(archspec.loads(text))
        return [w.message for w in analysis.warnings if w.path == "stem.stride"]

    assert stem_warnings(9, 3) == []  # 9 is divisible by 3 (the padded 11 is not)
    # Padded to 12, the 'valid' conv gives 3 rows: 10 / 4 rounded up, as 'same' would.
    assert stem_warnings(10, 4) == [
        "the height 10 is not divisible by the stride 4; stem_conv rounds it up"
    ]
    one = EXPLICIT.replace("[32, 32, 3]", "[1, 1, 3]").replace(
        "kernel: 3, stride: 1}", "stride: 2}"
    )
    assert only(one).code == "collapse"


def test_even_stem_pool_with_explicit_padding_is_an_error():
    text = EXPLICIT.replace("stride: 1}\nstages", "stride: 1, pool: {size: 2}}\nstages")
    d = only(text)
    assert (d.path, d.code) == ("stem.pool.size", "even-window")
    same = GOOD.replace("stride: 1}\nstages", "stride: 1, pool: {size: 2}}\nstages")
    assert archspec.lower(archspec.loads(same))["stem_pool"].shape == (16, 16, 8)


def test_groups_must_divide_the_written_filters_whatever_the_multiplier():
    stage = "{block: preact_bottleneck, filters: 10, groups: 4, stride: 2, depth: 2}"
    text = GOOD.replace("{block: preact_basic, filters: 16, stride: 2, depth: 2}", stage)
    for multiplier in ("1.0", "1.0001", "2.0"):
        assert only(text + f"width_multiplier: {multiplier}\n").path == "stages[1].groups"


# --- messages for people new to YAML or to these fields ---------------------------------------


def test_a_mis_indented_key_gets_an_indentation_hint():
    text = GOOD.replace("stem: {filters: 8", " stem: {filters: 8")
    (d,) = problems(text)
    assert at(d) == (3, 2)
    assert d.hint.startswith("check the indentation")
    assert "starts at line 1 are in column 1, but line 3 starts in column 2" in d.hint
    (item,) = problems(GOOD.replace("  - {block: preact_basic, filters: 16", " - {block: x"))
    assert "check the indentation" in item.hint


@pytest.mark.parametrize(
    ("old", "new", "hint"),
    [
        ("[32, 32, 3]", "64x64x1", "write a list: [64, 64, 1]"),
        ("[32, 32, 3]", "'32, 32, 3'", "write a list: [32, 32, 3]"),
        ("classes: 10}", "classes: 10, dropout: 50}", "not a percentage: 50% is 0.5"),
        ("kernel: 3, stride: 1}", "kernel: 3, stride: 1, norm: yes}", "write true or false"),
        ("filters: 8, kernel", "filters: 1_024, kernel", "without separators: 1024"),
        ("classes: 10}", "classes: 1:30}", "no base-60 numbers"),
    ],
)
def test_common_beginner_mistakes_get_a_hint(old, new, hint):
    (d,) = [d for d in problems(GOOD.replace(old, new)) if d.severity == "error"]
    assert hint in d.hint, d.format()


def test_yaml_1_1_forms_are_text_not_numbers_or_booleans():
    """YAML 1.2's core schema: `1:30` is not 90, `yes` is not true, a date is text."""
    doc = parse_document("a: 1:30\nb: yes\nc: 2001-02-30\nd: 0o17\ne: 1e-5\n")
    assert doc.data == {"a": "1:30", "b": "yes", "c": "2001-02-30", "d": 15, "e": 1e-5}


def test_loading_a_misspelt_preset_name_is_a_spec_error_with_a_hint():
    with pytest.raises(SpecError) as info:
        archspec.load("resnet50v3")
    (d,) = info.value.diagnostics
    assert d.message == "no such file or preset"
    assert d.hint == "did you mean the preset 'resnet50v2'?"
    assert isinstance(info.value, archspec.UnreadableError)


def test_a_preset_name_means_the_preset_even_where_a_folder_has_its_name(tmp_path, monkeypatch):
    (tmp_path / "resnet50v2").mkdir()
    (tmp_path / "resnet50v2" / "x.yaml").write_text("name: other\n")
    monkeypatch.chdir(tmp_path)
    assert archspec.load("resnet50v2").name == "resnet50v2"
    with pytest.raises(SpecError):  # ./name is the path
        archspec.load("./resnet50v2")
