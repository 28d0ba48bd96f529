"""`archspec diff` in full, in every format, for a change that adds, removes and reshapes parts.

The other diff tests pick single lines out of the output; these compare all of it with golden
files (tests/golden/diff/), so a changed cell, a lost blank line or an empty JSON row shows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import archspec
from archspec.cli import main
from archspec.cost import CostRow
from archspec.diff import PartDelta, format_metric, spec_changes
from archspec.spec import StemPool

# resnet22 with a wider stem, a deeper stage 2, a fifth stage, no hidden dense layer and the
# other shortcut order: every kind of change (a value, a nested value, a list, an added part).
WIDE = """\
extends: resnet22
name: resnet22_wide
stem: {filters: 32}
stages:
  - {block: preact_basic, filters: 16, stride: 2, depth: 2}
  - {block: preact_basic, filters: 32, stride: 2, depth: 3}
  - {block: preact_basic, filters: 64, stride: 2, depth: 2}
  - {block: preact_basic, filters: 128, stride: 2, depth: 2}
  - {block: preact_bottleneck, filters: 64, stride: 1, depth: 1}
head: {dense: []}
residual: {shortcut: {order: shortcut_first}}
"""


@pytest.fixture
def wide(tmp_path: Path) -> str:
    path = tmp_path / "wide.yaml"
    path.write_text(WIDE)
    return str(path)


def diff(*args: str) -> str:
    result = CliRunner().invoke(main, ["diff", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("output_format", ["markdown", "json"])
def test_diff_of_an_added_stage_is_golden(wide, output_format, golden):
    suffix = {"markdown": "md", "json": "json"}[output_format]
    golden(f"diff/resnet22_to_wide.{suffix}", diff("resnet22", wide, "--format", output_format))


@pytest.mark.parametrize("output_format", ["markdown", "json"])
def test_diff_of_a_removed_stage_is_golden(wide, output_format, golden):
    suffix = {"markdown": "md", "json": "json"}[output_format]
    golden(f"diff/wide_to_resnet22.{suffix}", diff(wide, "resnet22", "--format", output_format))


def test_diff_text_lists_every_change(wide):
    # The table's layout is rich's (and the terminal's); the change lines are archspec's own.
    lines = diff("resnet22", wide).splitlines()
    assert lines[:7] == [
        "resnet22 -> resnet22_wide",
        '  name: "resnet22" -> "resnet22_wide"',
        "  stem.filters: [16] -> [32]",
        "  stages[1].depth: 2 -> 3",
        '  stages[4]: added {block: "preact_bottleneck", filters: 64, depth: 1, stride: 1, '
        "expansion: 4, groups: 1}",
        "  head.dense: [128] -> []",
        '  residual.shortcut.order: "main_first" -> "shortcut_first"',
    ]
    removed = diff(wide, "resnet22").splitlines()[4]
    assert removed == (
        '  stages[4]: removed (was {block: "preact_bottleneck", filters: 64, depth: 1, '
        "stride: 1, expansion: 4, groups: 1})"
    )


def test_diff_json_rows_hold_both_sides(wide):
    """The JSON's parts, checked by meaning as well: a missing side is null, not zero."""
    document = json.loads(diff("resnet22", wide, "--format", "json"))
    parts = {part["part"]: part for part in document["parts"]}
    assert parts["stage5"]["before"] is None
    assert parts["stage5"]["after"]["output_shape"] == [8, 8, 256]
    assert parts["stage5"]["percent"]["params"] is None
    assert parts["stage3"]["delta"] == {"params": 0, "macs": 0, "activation_bytes": 0}
    assert parts["stage3"]["percent"]["params"] == 0.0
    total = parts["total"]
    for metric in ("params", "macs", "activation_bytes"):
        assert total["delta"][metric] == total["after"][metric] - total["before"][metric]
    added = next(c for c in document["changes"] if c["path"] == "stages[4]")
    assert (added["kind"], added["before"], added["after"]["filters"]) == ("added", None, 64)


# --- what the goldens above do not reach -------------------------------------------------------


def test_a_changed_block_type_adds_and_removes_its_keys():
    """Stages of different block types have different keys: each one added or removed."""
    basic, bottleneck = archspec.load("resnet22"), archspec.load("resnet22_bottleneck")
    forward = [c.describe() for c in spec_changes(basic, bottleneck) if "stages[0]" in c.path]
    assert forward == [
        'stages[0].block: "preact_basic" -> "preact_bottleneck"',
        "stages[0].filters: 16 -> 4",
        "stages[0].expansion: added 4",
        "stages[0].groups: added 1",
    ]
    back = [c for c in spec_changes(bottleneck, basic) if "stages[0]" in c.path]
    assert [(c.path, c.kind, c.before, c.after) for c in back[2:]] == [
        ("stages[0].expansion", "removed", 4, None),
        ("stages[0].groups", "removed", 1, None),
    ]
    assert back[2].describe() == "stages[0].expansion: removed (was 4)"


def test_a_mapping_against_null_and_plain_values():
    """A stem pool where there was none, a flag; the file's own $schema and text are no change;
    an added section lists what it sets (padding None is not shown)."""
    base = archspec.load("resnet22")
    other = base.model_copy(
        update={
            "schema_uri": "elsewhere.json",
            "description": "another text",
            "stem": base.stem.model_copy(update={"norm": False, "pool": StemPool()}),
        }
    )
    assert [c.describe() for c in spec_changes(base, other)] == [
        "stem.norm: True -> False",
        'stem.pool: None -> {kind: "max", size: 3, stride: 2}',
    ]
    assert spec_changes(base, base) == []


def test_no_change_in_markdown_and_no_increase_at_zero_percent():
    result = CliRunner().invoke(
        main, ["diff", "resnet22", "resnet22", "--format", "markdown", "--fail-on-increase", "0"]
    )
    assert result.exit_code == 0, result.output  # 0% growth is not more than 0%
    assert result.output.splitlines()[:4] == [
        "### archspec diff: `resnet22` → `resnet22`",
        "",
        "No setting differs.",
        "",
    ]


def test_the_increase_guard_names_the_metric_that_grew(wide):
    # resnet22 -> wide: parameters fall by 49.4%, MACs grow by 28.1%.
    result = CliRunner().invoke(main, ["diff", "resnet22", wide, "--fail-on-increase", "10"])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert errors == ["error: MACs grew by 28.1% (limit 10%)"]


def row(params: int) -> CostRow:
    return CostRow("stage1", "", (1, 1, 1), params, params, 0, 0)


def test_format_metric_of_a_part_on_one_side_and_of_a_change_by_one():
    assert format_metric(PartDelta("stage1", row(10), row(11)), "params") == (
        "10",
        "11",
        "+1 (+10.0%)",
    )
    assert format_metric(PartDelta("stage1", None, row(7)), "params") == ("-", "7", "+7 (new)")
    assert format_metric(PartDelta("stage1", row(7), None), "params") == (
        "7",
        "-",
        "-7 (-100.0%)",
    )
