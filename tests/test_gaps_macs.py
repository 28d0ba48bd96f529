"""MACs of grouped and depthwise convs against counts made without archspec.

Two independent counts: by hand from the definition of a grouped conv (each output value sums
kernel x kernel x channels-per-group products), and from the built keras.Model's own weights
(every kernel weight is used once per output position). The second holds for any conv-like
layer (Conv2D, DepthwiseConv2D, SeparableConv2D, Dense): it reads only kernels and shapes.
No shipped block type has a depthwise conv yet, so a block type defined here uses the op
table's `depthwise_conv2d`, as a MobileNet block would.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import pytest
from pydantic import Field

import archspec
from archspec.blocks.base import StageSpec, unregister

GROUPS = (1, 2, 4, 8, 16)  # 16: one group per channel (a depthwise 3x3)


def grouped_spec(groups: int, *, block: str = "preact_bottleneck", width: float = 1.0) -> dict:
    return {
        "name": f"grouped{groups}",
        "input": {"shape": [32, 32, 3]},
        "stem": {"filters": 16, "norm": False},
        "stages": [
            {"block": block, "filters": 16, "groups": groups, "stride": 1, "depth": 2},
            {"block": block, "filters": 16, "groups": groups, "stride": 2, "expansion": 1},
        ],
        "head": {"classes": 10, "dense": [32]},
        "width_multiplier": width,
    }


def lowered(spec: dict) -> archspec.Graph:
    return archspec.lower(archspec.Spec.model_validate(spec))


@pytest.mark.parametrize("block", ["preact_bottleneck", "bottleneck"])
@pytest.mark.parametrize("groups", GROUPS)
def test_grouped_conv_macs_by_hand(groups, block):
    graph = lowered(grouped_spec(groups, block=block))
    # stage1: 32x32 maps, the 3x3 conv maps 16 channels to 16 in `groups` groups.
    per_group_inputs = 16 // groups
    for name in ("stage1_block1_conv2", "stage1_block2_conv2"):
        conv = graph[name]
        assert conv.attrs["groups"] == groups
        assert conv.macs == 32 * 32 * 16 * 3 * 3 * per_group_inputs
    # stage2 is strided on its 3x3: 16x16 outputs.
    assert graph["stage2_block1_conv2"].macs == 16 * 16 * 16 * 3 * 3 * per_group_inputs
    # The 1x1 convs are never grouped: 16 x 64 expansions, then 64 -> 16.
    assert graph["stage1_block1_conv1"].macs == 32 * 32 * 16 * 16
    assert graph["stage1_block1_conv3"].macs == 32 * 32 * 16 * 64


def test_macs_shrink_by_the_number_of_groups():
    graphs = {g: lowered(grouped_spec(g)) for g in GROUPS}
    grouped = {g: graph["stage1_block1_conv2"].macs for g, graph in graphs.items()}
    assert [grouped[1] // grouped[g] for g in GROUPS] == list(GROUPS)
    # Only the grouped convs change: the rest of the network costs the same.
    rest = {g: graph.macs - sum(x.macs for x in graph if x.local == "conv2")
            for g, graph in graphs.items()}  # fmt: skip
    assert len(set(rest.values())) == 1, rest


def test_inspect_reports_the_grouped_macs(tmp_path):
    """The figure people read (inspect's JSON) is the per-layer sum, grouped convs included."""
    import json

    import yaml
    from click.testing import CliRunner

    from archspec.cli import main

    path = tmp_path / "grouped.yaml"
    path.write_text(yaml.safe_dump(grouped_spec(16)))
    result = CliRunner().invoke(main, ["inspect", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    by_name = {layer["name"]: layer for layer in document["layers"]}
    assert by_name["stage1_block1_conv2"]["macs"] == 32 * 32 * 16 * 3 * 3 * 1
    assert document["macs"] == sum(layer["macs"] for layer in document["layers"])


def keras_macs(layer) -> int:
    """Multiply-accumulates of one Keras layer from its weights and output shape alone.

    A kernel weight (Conv2D, DepthwiseConv2D, SeparableConv2D, Dense) takes part in one
    multiply-accumulate per output position; a grouped conv's kernel is already
    (k, k, channels / groups, filters), so the groups need no special case.
    """
    positions = math.prod(layer.output.shape[1:-1])  # 1 for Dense
    kernels = [w for w in layer.weights if w.name.endswith("kernel")]
    return positions * sum(math.prod(w.shape) for w in kernels)


KERAS_CASES = [(g, "preact_bottleneck", 1.0) for g in GROUPS] + [
    (4, "bottleneck", 1.0),
    (8, "bottleneck", 0.5),  # the width multiplier keeps a multiple of the groups
]


@pytest.mark.keras
@pytest.mark.parametrize(("groups", "block", "width"), KERAS_CASES)
def test_macs_equal_a_count_from_the_built_keras_weights(groups, block, width):
    from archspec.backends.keras import build_model

    graph = lowered(grouped_spec(groups, block=block, width=width))
    model = build_model(graph)
    counted = {layer.name: keras_macs(layer) for layer in model.layers}
    assert {layer.name: layer.macs for layer in graph} == counted
    grouped = [x for x in model.layers if getattr(x, "groups", 1) > 1]
    assert len(grouped) == (3 if groups > 1 else 0)  # the count above did meet grouped convs
    assert graph.macs == sum(counted.values())


# --- depthwise convs, through a block type defined for the test ------------------------------


@pytest.fixture
def depthwise_block():
    """A depthwise-separable block type: depthwise 3x3 (strided, multiplied), BN, ReLU, 1x1."""

    class DepthwiseStage(StageSpec):
        """Depthwise 3x3 -> BN -> ReLU -> pointwise 1x1 (MobileNet v1), no shortcut."""

        preactivation: ClassVar[bool] = False
        block: Literal["depthwise_test"]
        multiplier: int = Field(1, ge=1, le=4, description="Depth multiplier.")

        def lower_block(self, b, x):
            attrs = {
                "kernel": 3,
                "strides": b.stride,
                "padding": "same",
                "depth_multiplier": self.multiplier,
                "use_bias": False,
            }
            h = b.layer("depthwise_conv2d", "dw", (x,), attrs)
            h = b.act("relu", b.norm("bn", h))
            return b.conv("pw", h, b.filters, 1, bias=False)

    yield DepthwiseStage
    unregister("depthwise_test")


def depthwise_spec() -> dict:
    return {
        "name": "depthwise",
        "input": {"shape": [32, 32, 3]},
        "stem": {"filters": 16},
        "stages": [
            {"block": "depthwise_test", "filters": 24, "multiplier": 1},
            {"block": "depthwise_test", "filters": 32, "multiplier": 2, "stride": 2},
            {"block": "depthwise_test", "filters": 32, "multiplier": 3, "depth": 2},
        ],
        "head": {"classes": 10},
    }


def test_depthwise_conv_macs_by_hand(depthwise_block):
    graph = lowered(depthwise_spec())
    # Each output value of a depthwise 3x3 is 9 products of one input channel.
    assert graph["stage1_block1_dw"].macs == 32 * 32 * 16 * 9
    assert graph["stage2_block1_dw"].macs == 16 * 16 * (24 * 2) * 9  # strided, x2 channels
    assert graph["stage3_block1_dw"].macs == 16 * 16 * (32 * 3) * 9
    assert graph["stage3_block1_pw"].macs == 16 * 16 * 32 * (32 * 3)
    assert graph["stage2_block1_dw"].params == 9 * 24 * 2  # no bias


@pytest.mark.keras
def test_depthwise_macs_equal_a_count_from_the_built_keras_weights(depthwise_block):
    from archspec.backends.keras import build_model

    graph = lowered(depthwise_spec())
    model = build_model(graph)
    counted = {layer.name: keras_macs(layer) for layer in model.layers}
    assert {layer.name: layer.macs for layer in graph} == counted
    kinds = {x.__class__.__name__ for x in model.layers}
    assert "DepthwiseConv2D" in kinds  # the count above did meet depthwise layers
