"""MACs of grouped convs, up to one group per channel, against counts made without archspec.

Two independent counts: by hand from the definition of a grouped conv (each output value sums
kernel x kernel x channels-per-group products), and from the built keras.Model's own weights
(every kernel weight is used once per output position). The second holds as well for any
depthwise or separable layer a block type may add later: it reads only kernels and shapes.
"""

from __future__ import annotations

import math

import pytest

import archspec

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
