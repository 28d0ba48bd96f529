"""The mobile families: keras.applications equality, MACs, and the knobs they brought.

MobileNetV2, MobileNetV3 Small/Large, EfficientNet B0-B7 and EfficientNetV2 B0-B3/S/M/L are
compared with keras.applications (weights=None, default arguments, preprocessing as Keras
builds it in): the same layer sequence, identical outputs after set_weights, and inspect's
parameter count equal to Keras's. The largest ones are compared at a smaller input size, both
models built at that size; their figures at full size are checked from the IR.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import archspec
from archspec.cli import main
from archspec.errors import SpecError
from archspec.scaling import round_width, scaled_depth, scaled_width
from archspec.spec import WidthRounding
from tests.conftest import ROOT
from tests.test_family import merged
from tests.test_keras_backend import layer_sequence


@dataclass(frozen=True)
class Peer:
    """A keras.applications model: its name and figures (ANCHORS.md)."""

    application: str
    params: int
    layers: int
    size: int | None = None
    """Compare outputs at this input size, both models built at it: at full size one image
    of the largest takes gigabytes of activations. None: at the model's own size."""
    slow: bool = False


PEERS = {
    "mobilenetv2": Peer("MobileNetV2", 3_538_984, 156),
    "mobilenetv3_small": Peer("MobileNetV3Small", 2_554_968, 164),
    "mobilenetv3_large": Peer("MobileNetV3Large", 5_507_432, 194),
    "efficientnet_b0": Peer("EfficientNetB0", 5_330_571, 240),
    "efficientnet_b1": Peer("EfficientNetB1", 7_856_239, 342),
    "efficientnet_b2": Peer("EfficientNetB2", 9_177_569, 342),
    "efficientnet_b3": Peer("EfficientNetB3", 12_320_535, 387),
    "efficientnet_b4": Peer("EfficientNetB4", 19_466_823, 477, 130, slow=True),
    "efficientnet_b5": Peer("EfficientNetB5", 30_562_527, 579, 114, slow=True),
    "efficientnet_b6": Peer("EfficientNetB6", 43_265_143, 669, 98, slow=True),
    "efficientnet_b7": Peer("EfficientNetB7", 66_658_687, 816, 82, slow=True),
    "efficientnetv2_b0": Peer("EfficientNetV2B0", 7_200_312, 273),
    "efficientnetv2_b1": Peer("EfficientNetV2B1", 8_212_124, 337),
    "efficientnetv2_b2": Peer("EfficientNetV2B2", 10_178_374, 352),
    "efficientnetv2_b3": Peer("EfficientNetV2B3", 14_467_622, 412),
    "efficientnetv2_s": Peer("EfficientNetV2S", 21_612_360, 516, slow=True),
    "efficientnetv2_m": Peer("EfficientNetV2M", 54_431_388, 743, 98, slow=True),
    "efficientnetv2_l": Peer("EfficientNetV2L", 119_027_848, 1031, 82, slow=True),
}
"""Figures measured with Keras 3.15 (../shared/ANCHORS.md). The smaller sizes reach odd sizes
deep down (130 -> 65 -> 33, 98 -> 49), where correct_pad pads differently."""
README = (ROOT / "README.md").read_text(encoding="utf-8")


def peer_params(names: list[str]) -> list:
    return [
        pytest.param(name, marks=[pytest.mark.slow] if PEERS[name].slow else [], id=name)
        for name in names
    ]


# --- the figures, from the IR alone -----------------------------------------------------------


@pytest.mark.parametrize("name", list(PEERS))
def test_preset_has_the_figures_of_its_keras_application(name):
    peer = PEERS[name]
    graph = archspec.lower(archspec.load(name))
    assert (graph.params, graph.layer_count) == (peer.params, peer.layers)
    result = CliRunner().invoke(main, ["inspect", name, "--format", "json"])
    assert json.loads(result.output)["params"] == peer.params
    # The README's preset table names the model it equals (test_resnets checks the figures).
    assert (
        f"| `{name}` | {peer.params:,} | {graph.macs / 1e9:.2f} G | keras.applications "
        f"`{peer.application}`" in README
    )


# The papers' multiply-adds: MobileNetV2 (Sandler et al. 2018, Table 3: 300 M), MobileNetV3
# Large (Howard et al. 2019, Table 3: 217 M with Keras's widths) and EfficientNet-B0 (Tan and
# Le 2019, Table 1: 0.39 B "FLOPs", which are multiply-adds). inspect counts conv, depthwise
# and dense MACs (squeeze-and-excitation convs included).
PAPER_MACS = {"mobilenetv2": 300e6, "mobilenetv3_large": 217e6, "efficientnet_b0": 390e6}


@pytest.mark.parametrize("name", list(PAPER_MACS))
def test_macs_are_within_3_percent_of_the_papers(name):
    graph = archspec.lower(archspec.load(name))
    assert abs(graph.macs - PAPER_MACS[name]) / PAPER_MACS[name] < 0.03


# --- equality with keras.applications ---------------------------------------------------------


@pytest.mark.keras
@pytest.mark.parametrize("name", peer_params(list(PEERS)))
def test_preset_equals_its_keras_application(name, built_models):
    """Layer sequence, parameters, and outputs after set_weights.

    At the model's own size the archspec model is the session's (test_keras_backend and
    test_codegen use it too), so only the peer is built here; the default sizes reach odd
    sizes deep down too (380 -> 95, 240 -> 15). A model of any size runs at 224x224 and at an
    odd 97x97. The largest are compared at a smaller size, both built at it.
    """
    import keras

    from archspec.backends.keras import build_model

    peer_figures = PEERS[name]
    size = peer_figures.size
    shape = {"input_shape": (size, size, 3)} if size else {}
    peer = getattr(keras.applications, peer_figures.application)(weights=None, **shape)
    if size:
        model = build_model(archspec.lower(archspec.load(name), input_size=(size, size)))
    else:
        model = built_models(name)
    assert layer_sequence(model) == layer_sequence(peer)
    assert model.count_params() == peer.count_params() == peer_figures.params
    model.set_weights(peer.get_weights())
    sizes = [model.input_shape[1]] if model.input_shape[1] else [224, 97]
    rng = np.random.default_rng(7)
    for side in sizes:
        images = rng.uniform(0, 255, (1, side, side, 3)).astype("float32")
        # Called eagerly: tracing a graph of several hundred layers costs more than running it.
        np.testing.assert_array_equal(model(images), peer(images))


# --- width and depth scaling --------------------------------------------------------------------


def make_divisible(v, divisor=8, min_value=None):
    """keras.applications mobilenet_v2._make_divisible and mobilenet_v3._depth, verbatim."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def round_filters_v2(filters, width_coefficient, min_depth=8, depth_divisor=8):
    """keras.applications efficientnet_v2.round_filters, verbatim: no 90% guard."""
    filters *= width_coefficient
    minimum_depth = min_depth or depth_divisor
    new_filters = max(
        minimum_depth, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor
    )
    return int(new_filters)


KERAS_ROUNDING = WidthRounding(divisor=8, min_fraction=0.9)
V2_ROUNDING = WidthRounding(divisor=8)


@given(
    st.integers(1, 2048),
    st.sampled_from([0.35, 0.5, 0.75, 1.0, 1.1, 1.2, 1.3, 1.4, 1.6, 1.8, 2.0, 3.1]),
)
def test_width_rounding_is_keras_rounding(filters, multiplier):
    # EfficientNet's round_filters is _make_divisible(filters * width, 8).
    expected = make_divisible(filters * multiplier)
    assert scaled_width(filters, multiplier, rounding=KERAS_ROUNDING) == expected
    assert scaled_width(filters, multiplier, rounding=V2_ROUNDING) == round_filters_v2(
        filters, multiplier
    )


def test_width_rounding_differs_where_keras_does():
    # EfficientNetV2-B3 widens its 16-filter stage by 1.2: V1's rounding keeps 90% (24),
    # V2's rounds down to 16.
    assert (scaled_width(16, 1.2, rounding=KERAS_ROUNDING), scaled_width(16, 1.2)) == (24, 19)
    assert scaled_width(16, 1.2, rounding=V2_ROUNDING) == 16
    assert round_width(88.008, KERAS_ROUNDING) == 88  # MobileNetV3's 88 / 24 expansion
    assert scaled_width(30, 1.0, groups=4) == 30  # untouched without a divisor
    assert scaled_width(30, 1.0, rounding=V2_ROUNDING) == 32


def test_depth_multiplier_rounds_up_as_keras_does():
    assert [scaled_depth(d, 1.1) for d in (1, 2, 3, 4)] == [2, 3, 4, 5]
    assert scaled_depth(25, 2.2) == 56  # 2.2 * 25 is 55.00000000000001 in floats, as in Keras
    assert scaled_depth(3, 1.0) == 3


MBCONV = {
    "name": "mobile_knobs",
    "input": {"shape": [32, 32, 3]},
    "stem": {"filters": 16, "kernel": 3, "stride": 2},
    "stages": [
        {"block": "mbconv", "filters": 16, "expansion": 1},
        {"block": "mbconv", "filters": 24, "stride": 2, "depth": 2},
    ],
    "head": {"classes": 5},
    "conv": {"padding": "correct_pad", "bias": {"block": False, "block_out": False}},
}


def mobile_graph(**override) -> archspec.Graph:
    """The graph of MBCONV with `override` merged in, validated as a spec file is."""
    return archspec.lower(archspec.loads(json.dumps(merged(MBCONV, override)), json_syntax=True))


def test_width_and_depth_multipliers_scale_stem_stages_and_head():
    graph = mobile_graph(
        width_multiplier=1.4,
        depth_multiplier=1.6,
        width_rounding={"divisor": 8, "min_fraction": 0.9},
        head={"conv": {"filters": 100, "scale": "always"}},
    )
    assert graph["stem_conv"].attrs["filters"] == 24  # 16 x 1.4 = 22.4
    assert graph["stage2_block1_project_conv"].attrs["filters"] == 32  # 24 x 1.4 = 33.6
    assert [stage.depth for stage in graph.stages] == [2, 4]  # ceil(1.6), ceil(3.2)
    assert graph["head_conv"].attrs["filters"] == 144  # 100 x 1.4 = 140 -> 144
    up = {"conv": {"filters": 100, "scale": "up"}}
    assert mobile_graph(width_multiplier=0.5, head=up)["head_conv"].attrs["filters"] == 100
    assert mobile_graph(width_multiplier=1.5, head=up)["head_conv"].attrs["filters"] == 150
    never = mobile_graph(width_multiplier=1.5, head={"conv": {"filters": 100}})
    assert never["head_conv"].attrs["filters"] == 100


# --- the blocks -------------------------------------------------------------------------------


def locals_of(graph, block: str) -> list[str]:
    return [layer.local for layer in graph if layer.block == block]


def test_mbconv_expands_filters_projects_and_adds_only_where_the_shape_allows():
    graph = mobile_graph()
    assert locals_of(graph, "stage1_block1") == [
        "dwconv", "dw_bn", "dw_act", "project_conv", "project_bn", "add"
    ]  # fmt: skip
    assert locals_of(graph, "stage2_block1") == [
        "expand_conv", "expand_bn", "expand_act", "dwpad", "dwconv", "dw_bn", "dw_act",
        "project_conv", "project_bn",
    ]  # fmt: skip
    assert graph["stage2_block1_expand_conv"].attrs["filters"] == 16 * 6
    assert graph["stage2_block2_expand_conv"].attrs["filters"] == 24 * 6
    assert graph["stage2_block2_add"].inputs == (
        "stage2_block2_project_bn",
        "stage2_block1_project_bn",
    )
    first = mobile_graph(residual={"shortcut": {"order": "shortcut_first"}})
    assert first["stage2_block2_add"].inputs[0] == "stage2_block1_project_bn"
    assert [b.variant for b in graph.blocks] == ["add", "expand_strided", "expand_add"]


def test_fused_mbconv():
    stages = [
        {"block": "fused_mbconv", "filters": 16, "expansion": 1},
        {"block": "fused_mbconv", "filters": 24, "stride": 2, "depth": 2},
    ]
    graph = mobile_graph(stages=stages, conv={"padding": "same"})
    assert locals_of(graph, "stage1_block1") == ["conv", "bn", "act", "add"]
    assert locals_of(graph, "stage2_block1") == [
        "expand_conv", "expand_bn", "expand_act", "project_conv", "project_bn"
    ]  # fmt: skip
    expand = graph["stage2_block1_expand_conv"]
    assert (expand.attrs["kernel"], expand.attrs["strides"], expand.attrs["filters"]) == (3, 2, 64)
    assert graph["stage2_block2_add"].shape == (8, 8, 24)


def test_correct_pad_pads_strided_windows_as_keras_does():
    even = mobile_graph()
    assert even["stage2_block1_dwpad"].attrs["padding"] == ((0, 1), (0, 1))
    assert even["stem_pad"].attrs["padding"] == ((0, 1), (0, 1))  # the stem follows conv.padding
    odd = mobile_graph(input={"shape": [30, 30, 3]})  # the stem gives 15x15
    assert odd["stage2_block1_dwpad"].attrs["padding"] == ((1, 1), (1, 1))
    five = mobile_graph(stages=[{"block": "mbconv", "filters": 24, "stride": 2, "kernel": 5}])
    assert five["stage1_block1_dwpad"].attrs["padding"] == ((1, 2), (1, 2))
    assert five["stage1_block1_dwconv"].shape == (8, 8, 96)
    same_stem = mobile_graph(stem={"padding": "same"})
    assert "stem_pad" not in {layer.name for layer in same_stem}
    assert same_stem["stage2_block1_dwconv"].attrs["padding"] == "valid"
    assert same_stem["stage1_block1_dwconv"].attrs["padding"] == "same"  # unstrided


# --- per-block settings -------------------------------------------------------------------------


def test_per_block_settings_override_the_stage_block_by_block():
    stage = {
        "block": "mbconv",
        "filters": 24,
        "stride": 2,
        "kernel": 5,
        "blocks": [{"expansion": 4.5}, {"kernel": 3, "activation": "relu"}, {}],
    }
    graph = mobile_graph(stages=[stage], activation="hard_swish")
    assert graph.stages[0].depth == 3  # the length of `blocks`
    assert [graph[f"stage1_block{i}_dwconv"].attrs["kernel"] for i in (1, 2, 3)] == [5, 3, 5]
    assert graph["stage1_block1_expand_conv"].attrs["filters"] == 72  # 16 x 4.5
    assert graph["stage1_block2_expand_conv"].attrs["filters"] == 144  # the stage's 6
    functions = [graph[f"stage1_block{i}_dw_act"].attrs["function"] for i in (1, 2, 3)]
    assert functions == ["hard_swish", "relu", "hard_swish"]
    longer = mobile_graph(stages=[{**stage, "depth": 5}])
    assert longer.stages[0].depth == 5
    assert longer["stage1_block5_dwconv"].attrs["kernel"] == 5


def test_per_block_settings_are_validated_and_located():
    text = (ROOT / "specs" / "mobilenetv2.yaml").read_text()
    broken = text.replace(
        "{block: mbconv, filters: 96, depth: 3}",
        "{block: mbconv, filters: 96, depth: 3, blocks: [{kernel: 4}, {kernal: 5}]}",
    )
    line = next(i for i, row in enumerate(broken.splitlines(), 1) if "kernal" in row)
    with pytest.raises(SpecError) as info:
        archspec.loads(broken, "mobile.yaml")
    errors = {(d.path, d.location.line): d for d in info.value.diagnostics}
    assert set(errors) == {
        ("stages[4].blocks[0].kernel", line),
        ("stages[4].blocks[1].kernal", line),
    }
    assert "did you mean 'kernel'?" in errors["stages[4].blocks[1].kernal", line].hint
    for stage_wide in ("filters", "stride", "depth", "block"):
        with pytest.raises(SpecError) as info:
            mobile_graph(stages=[{"block": "mbconv", "filters": 8, "blocks": [{stage_wide: 2}]}])
        assert info.value.diagnostics[0].path == f"stages[0].blocks[0].{stage_wide}"


def test_more_block_settings_than_blocks_is_a_located_error():
    with pytest.raises(SpecError) as info:
        mobile_graph(stages=[{"block": "mbconv", "filters": 8, "depth": 1, "blocks": [{}, {}]}])
    (error,) = info.value.errors
    assert (error.path, error.code) == ("stages[0].blocks", "too-many-blocks")


def test_a_blocks_own_problem_is_located_at_its_setting():
    stage = {"block": "preact_bottleneck", "filters": 32, "blocks": [{}, {"groups": 5}]}
    with pytest.raises(SpecError) as info:
        mobile_graph(stages=[stage])
    (error,) = info.value.errors
    assert error.path == "stages[0].blocks[1].groups"
    assert "does not divide" in error.message


def test_per_block_settings_are_in_the_schema():
    from archspec.schema import spec_schema

    schema = json.dumps(spec_schema())
    assert "MBConvStageBlock" in schema and "PreactBottleneckStageBlock" in schema


# --- input: preprocessing and any size ----------------------------------------------------------


def test_preprocessing_layers_inside_the_model():
    graph = mobile_graph(
        input={
            "rescale": {"scale": 1 / 255},
            "normalize": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
        }
    )
    assert [layer.op for layer in graph.scope_layers("input")] == [
        "input", "rescaling", "normalization"
    ]  # fmt: skip
    assert graph["input_normalize"].attrs["variance"] == (0.229**2, 0.224**2, 0.225**2)
    assert graph["input_normalize"].params == 0
    adaptable = mobile_graph(input={"normalize": {}})
    assert (adaptable["input_normalize"].params, adaptable.trainable_params) == (
        7,
        mobile_graph().trainable_params,
    )


@pytest.mark.parametrize(
    ("normalize", "path"),
    [
        ({"mean": [0.5, 0.5], "std": [0.2, 0.2, 0.2]}, "input.normalize.mean"),
        ({"mean": [0.5, 0.5, 0.5]}, "input.normalize"),
    ],
)
def test_normalization_values_must_fit_the_channels(normalize, path):
    with pytest.raises(SpecError) as info:
        mobile_graph(input={"normalize": normalize})
    assert info.value.errors[0].path == path


def test_an_input_of_any_size_has_open_shapes_and_nominal_figures():
    graph = mobile_graph(input={"shape": [None, None, 3], "nominal_size": [32, 32]})
    fixed = mobile_graph()
    assert graph.variable_size and not fixed.variable_size
    assert graph["stage2_block2_add"].shape == (None, None, 24)
    assert graph["stage2_block2_add"].nominal == (8, 8, 24)
    assert graph["stage2_block1_dwpad"].attrs["padding"] == ((0, 1), (0, 1))  # as if even
    assert (graph.macs, graph.activation_bytes, graph.params) == (
        fixed.macs,
        fixed.activation_bytes,
        fixed.params,
    )
    assert mobile_graph(input={"shape": [None, None, 3]}).macs > fixed.macs  # nominal 224


def test_inspect_says_where_the_size_is_open(tmp_path):
    import yaml

    path = tmp_path / "any.yaml"
    path.write_text(yaml.safe_dump(merged(MBCONV, {"input": {"shape": [None, None, 3]}})))
    text = CliRunner().invoke(main, ["inspect", str(path)]).output
    assert "?x?x24" in text
    assert (
        "Input of any size (?x?x3): MACs and activations are counted at the nominal 224x224x3"
        in " ".join(text.split())
    )
    data = json.loads(CliRunner().invoke(main, ["inspect", str(path), "--format", "json"]).output)
    assert (data["input_shape"], data["nominal_input_shape"]) == ([None, None, 3], [224, 224, 3])
    sized = json.loads(
        CliRunner()
        .invoke(main, ["inspect", str(path), "--format", "json", "--input", "64x64"])
        .output
    )
    assert sized["input_shape"] == sized["nominal_input_shape"] == [64, 64, 3]


def test_dense_layers_after_an_open_size_are_a_located_error():
    with pytest.raises(SpecError) as info:
        mobile_graph(input={"shape": [None, None, 3]}, head={"pool": "flatten"})
    (error,) = info.value.errors
    assert error.path == "head.classes"
    assert "give input.shape a fixed height and width" in error.hint


# --- keras.ops nodes ------------------------------------------------------------------------------


def test_relu6_hard_sigmoid_is_a_relu_layer_between_two_keras_ops():
    stage = {"block": "mbconv", "filters": 16, "expansion": 1, "activation": "hard_sigmoid"}
    graph = mobile_graph(stages=[stage], keras={"hard_sigmoid": "ReLU6"})
    gate = [layer for layer in graph if layer.block == "stage1_block1"][2:5]
    assert [(layer.local, layer.op, layer.is_layer) for layer in gate] == [
        ("dw_act_shift", "add_scalar", False),
        ("dw_act_relu6", "activation", True),
        ("dw_act", "multiply_scalar", False),
    ]
    assert gate[2].attrs["value"] == 1.0 / 6.0
    assert graph.layer_count == len(graph) - 2
    single = mobile_graph(stages=[stage])
    assert single["stage1_block1_dw_act"].attrs["function"] == "hard_sigmoid"
    source = archspec.codegen(
        archspec.Spec.model_validate(
            merged(MBCONV, {"stages": [stage], "keras": {"hard_sigmoid": "ReLU6"}})
        )
    )
    assert (
        "keras.ops.add(x, 3.0)" in source and "keras.ops.multiply(x, 0.16666666666666666)" in source
    )


@pytest.mark.keras
def test_the_mobile_knobs_build_in_keras_with_the_ir_figures():
    from archspec.backends.keras import build_model

    variants = [
        {"keras": {"hard_sigmoid": "ReLU6"}, "activation": "hard_sigmoid"},
        {"input": {"shape": [None, None, 3], "rescale": {"scale": 0.5, "offset": -1.0}}},
        {"input": {"normalize": {}}, "width_multiplier": 0.75, "depth_multiplier": 1.5},
        {
            "stages": [
                {
                    "block": "fused_mbconv",
                    "filters": 16,
                    "stride": 2,
                    "blocks": [{"expansion": 1}, {}],
                }
            ]
        },
    ]
    for override in variants:
        graph = mobile_graph(**override)
        model = build_model(graph)
        assert model.count_params() == graph.params, override
        assert len(model.layers) == graph.layer_count, override
        for layer in (layer for layer in graph if layer.is_layer):
            assert tuple(model.get_layer(layer.name).output.shape[1:]) == layer.shape, layer.name


def test_settings_without_effect_are_warned_about():
    analysis = archspec.analyze(
        archspec.loads(
            json.dumps(
                merged(
                    MBCONV,
                    {"input": {"nominal_size": [64, 64]}, "keras": {"hard_sigmoid": "ReLU6"}},
                )
            ),
            json_syntax=True,
        )
    )
    warned = {(d.path, d.code) for d in analysis.diagnostics if d.severity == "warning"}
    assert {("input.nominal_size", "unused"), ("keras.hard_sigmoid", "unused")} <= warned
    used = mobile_graph(input={"shape": [None, None, 3], "nominal_size": [64, 64]})
    assert used.input.sized_shape == (64, 64, 3)


@pytest.mark.keras
def test_a_model_with_keras_ops_of_any_size_saves_loads_and_gets_a_batch(built_models, tmp_path):
    import keras

    from archspec.backends.keras import synthetic_batch

    model = built_models("mobilenetv3_small")
    path = tmp_path / "mobilenetv3_small.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    images = np.random.default_rng(0).uniform(0, 255, (1, 120, 120, 3)).astype("float32")
    np.testing.assert_array_equal(loaded(images), model(images))
    batch, labels = synthetic_batch(model, 2, image_shape=(64, 64, 3))  # as bench gets it
    assert (tuple(batch.shape), tuple(labels.shape)) == ((2, 64, 64, 3), (2,))


def test_uneven_strides_say_which_way_padding_rounds():
    def stride_warnings(**override) -> list[str]:
        spec = archspec.loads(json.dumps(merged(MBCONV, override)), json_syntax=True)
        return [d.message for d in archspec.analyze(spec).warnings if d.code == "uneven-stride"]

    # correct_pad pads an odd 15 to 17: the 3x3/2 window gives 8 rows, 15 / 2 rounded up.
    assert stride_warnings(input={"shape": [30, 30, 3]}) == [
        "the height 15 is not divisible by the stride 2; stage2_block1_dwconv rounds it up"
    ]
    # An even 16 gets one zero fewer on top: 17 rows, 5 windows of stride 3, 16 / 3 rounded down.
    stage = {"block": "mbconv", "filters": 24, "stride": 3}
    assert stride_warnings(stages=[stage]) == [
        "the height 16 is not divisible by the stride 3; stage1_block1_dwconv rounds it down"
    ]
