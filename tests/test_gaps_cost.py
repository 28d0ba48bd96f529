"""`archspec inspect`'s JSON document and footnote, where mutation testing found them unchecked.

The JSON shape is documented (README, "inspect") and tools read it, so its keys are pinned as
documented, and each figure is checked against the IR it comes from: the stage rows are the
stem, the stages and the head (no block rows), and every layer's activation bytes are its
float32 output. The footnote of a model of any input size names the option that changes the
size; a model of a fixed size has no such note.
"""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from click.testing import CliRunner

import archspec
from archspec.cli import main
from archspec.cost import cost_rows, human_count, total_row
from tests.conftest import ROOT

RESNET22 = str(ROOT / "specs" / "resnet22.yaml")

TOP_LEVEL_KEYS = {
    "name",
    "input_shape",
    "nominal_input_shape",
    "output_shape",
    "params",
    "trainable_params",
    "non_trainable_params",
    "macs",
    "flops",
    "activation_bytes",
    "stages",
    "blocks",
    "layers",
}
STAGE_KEYS = {
    "name",
    "what",
    "output_shape",
    "params",
    "trainable_params",
    "macs",
    "activation_bytes",
}
LAYER_KEYS = {
    "name",
    "op",
    "scope",
    "block",
    "inputs",
    "output_shape",
    "params",
    "trainable_params",
    "macs",
    "activation_bytes",
    "attributes",
}


def inspect(*args: str) -> str:
    result = CliRunner().invoke(main, ["inspect", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_inspect_json_has_the_documented_keys_and_figures_from_the_ir():
    document = json.loads(inspect(RESNET22, "--format", "json"))
    graph = archspec.lower(archspec.load(RESNET22))
    assert set(document) == TOP_LEVEL_KEYS
    assert document["name"] == "resnet22"
    assert document["output_shape"] == [4]  # the classifier of 4 classes
    assert document["activation_bytes"] == graph.activation_bytes
    # one row per part at stage depth: no block rows among them
    assert [row["name"] for row in document["stages"]] == [
        "input",
        "stem",
        "stage1",
        "stage2",
        "stage3",
        "stage4",
        "head",
    ]
    assert all(set(row) == STAGE_KEYS for row in document["stages"])
    assert all(set(layer) == LAYER_KEYS for layer in document["layers"])
    for layer, source in zip(document["layers"], graph, strict=True):
        assert (layer["name"], layer["op"], layer["params"]) == (
            source.name,
            source.op,
            source.params,
        )
        assert layer["activation_bytes"] == 4 * math.prod(layer["output_shape"])
    assert (
        sum(layer["activation_bytes"] for layer in document["layers"])
        == (document["activation_bytes"])
    )


def test_a_model_of_any_size_says_how_to_count_at_another_size(tmp_path):
    path = tmp_path / "any.yaml"
    path.write_text(
        "name: any\n"
        "input: {shape: [null, null, 3], nominal_size: [64, 48]}\n"
        "stem: {filters: 8}\n"
        "stages: [{block: basic, filters: 8, depth: 1}]\n"
        "head: {classes: 3}\n"
    )
    text = " ".join(inspect(str(path)).split())
    assert (
        "Input of any size (?x?x3): MACs and activations are counted at the nominal 64x48x3 "
        "(input.nominal_size; --input HxW for another size). MACs: "
    ) in text


def test_a_model_of_a_fixed_size_has_no_size_note():
    text = " ".join(inspect(RESNET22).split())
    assert "Input of any size" not in text
    # the footnote begins with the figures, nothing before them
    assert text.endswith(
        "┘ MACs: 147,587,584 multiply-accumulates per sample (conv and dense layers). "
        "FLOPs = 2 x MACs = 295,175,168. Activations: float32 outputs of every layer for one "
        "sample. Parameters as Keras counts them (BN moving statistics are the non-trainable "
        "ones)."
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2_500_000_000_000, "2.50 T"),
        (1_000_000_000_000, "1.00 T"),
        (999_990_000_000, "999.99 G"),
        (3_482_255_360, "3.48 G"),
        (1_000_000_000, "1.00 G"),
        (1_751_924, "1.75 M"),
        (1_000, "1.00 k"),
        (999, "999"),
        (-2_000_000, "-2.00 M"),
    ],
)
def test_counts_read_in_decimal_units_from_exactly_one_unit_up(value, text):
    assert human_count(value) == text


def test_cost_rows_at_each_depth():
    graph = archspec.lower(archspec.load(RESNET22))
    assert cost_rows(graph) == cost_rows(graph, "stage")  # the default depth
    layers = cost_rows(graph, "layer")
    assert [row.name for row in layers[:3]] == ["input", "stem", graph.scope_layers("stem")[0].name]
    (block,) = (row for row in cost_rows(graph, "block") if row.name == "stage2_block1")
    (ir_block,) = (b for b in graph.blocks if b.name == "stage2_block1")
    assert ir_block.summary  # a block that summarizes itself is shown with its summary
    assert block.what == f"{ir_block.kind}, {ir_block.summary}"
    # ...and one without a summary by its kind alone
    plain = tuple(dataclasses.replace(b, summary="") for b in graph.blocks)
    rows = cost_rows(dataclasses.replace(graph, blocks=plain), "block")
    assert next(row for row in rows if row.name == "stage2_block1").what == ir_block.kind
    total = total_row(graph)
    assert (total.name, total.what) == ("total", f"{graph.layer_count} layers")
