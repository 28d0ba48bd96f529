"""The ResNet family: keras.applications equality, and the effect of every knob on the graph."""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from archspec.errors import SpecError
from tests.conftest import ROOT
from tests.test_keras_backend import layer_sequence

# --- the peer nobody here wrote: keras.applications -------------------------------------------

PEERS = {
    "resnet50v2": ("ResNet50V2", 25_613_800, 192),
    "resnet101v2": ("ResNet101V2", 44_675_560, 379),
    "resnet152v2": ("ResNet152V2", 60_380_648, 566),
}


@pytest.mark.keras
@pytest.mark.parametrize("name", list(PEERS))
def test_v2_specs_equal_keras_applications(name, built_models):
    import keras

    application, params, layers = PEERS[name]
    peer = getattr(keras.applications, application)(weights=None)
    model = built_models(name)
    assert model.count_params() == peer.count_params() == params
    assert len(model.layers) == layers
    assert layer_sequence(model) == layer_sequence(peer)
    # keras.applications' weights load into the archspec model and give the same outputs.
    model.set_weights(peer.get_weights())
    images = np.random.default_rng(1).uniform(-1, 1, (2, 224, 224, 3)).astype("float32")
    np.testing.assert_array_equal(model.predict_on_batch(images), peer.predict_on_batch(images))


def test_the_timm_layout_has_timms_parameter_count_and_macs():
    graph = archspec.lower(archspec.load("resnetv2_50_timm"))
    assert graph.trainable_params == 25_549_352  # timm resnetv2_50 (ANCHORS.md)
    assert abs(graph.macs - 4.11e9) / 4.11e9 < 0.01


def test_presets_are_the_shipped_specs_and_load_by_name(tmp_path, monkeypatch):
    names = archspec.preset_names()
    assert names == sorted(p.stem for p in (ROOT / "specs").glob("*.yaml"))
    monkeypatch.chdir(tmp_path)  # `extends: resnet50v2` works from any folder
    (tmp_path / "mine.yaml").write_text("extends: resnet50v2\nname: mine\nhead: {classes: 10}\n")
    spec = archspec.load("mine.yaml")
    assert (spec.name, spec.head.classes, spec.head.norm) == ("mine", 10, True)
    assert archspec.load("resnet101v2").name == "resnet101v2"


# --- spec helpers for knob tests ----------------------------------------------------------------

BASE = {
    "name": "knob",
    "input": {"shape": [32, 32, 3]},
    "stem": {"filters": 8, "kernel": 3, "stride": 1, "norm": False},
    "stages": [
        {"block": "preact_basic", "filters": 8, "stride": 1, "depth": 2},
        {"block": "preact_basic", "filters": 16, "stride": 2, "depth": 3},
    ],
    "head": {"classes": 5},
}


def merged(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(base[key], value) if isinstance(value, dict) and key in base else value
    return out


def graph_of(**override) -> archspec.Graph:
    return archspec.lower(archspec.Spec.model_validate(merged(BASE, override)))


def ops(graph, block: str) -> list[str]:
    return [layer.local for layer in graph if layer.block == block]


def strided(graph) -> list[str]:
    return [
        layer.name
        for layer in graph
        if layer.op == "conv2d" and layer.attrs["strides"] > 1 and layer.branch == "main"
    ]


# --- every knob changes the graph -----------------------------------------------------------


def test_stride_sits_on_the_first_or_the_last_block():
    assert strided(graph_of()) == ["stage2_block1_conv1"]
    assert strided(graph_of(residual={"stride_at": "last"})) == ["stage2_block3_conv1"]


def test_shortcut_kind():
    conv = graph_of()
    assert conv["stage2_block1_shortcut_conv"].attrs["strides"] == 2
    avg = graph_of(residual={"shortcut": {"kind": "avgpool_conv"}})
    assert avg["stage2_block1_shortcut_pool"].op == "avg_pool"
    assert avg["stage2_block1_shortcut_pool"].attrs["size"] == 2
    assert avg["stage2_block1_shortcut_conv"].attrs["strides"] == 1
    assert (
        avg.macs < conv.macs
        or avg["stage2_block1_shortcut_conv"].macs == conv["stage2_block1_shortcut_conv"].macs
    )
    flat = {**BASE, "stages": [{"block": "preact_basic", "filters": 8, "depth": 2}]}
    identity = archspec.lower(
        archspec.Spec.model_validate({**flat, "residual": {"shortcut": {"kind": "identity"}}})
    )
    assert [b.variant for b in identity.blocks] == ["identity", "identity"]


def test_identity_shortcut_where_the_shape_changes_is_a_located_error():
    text = (ROOT / "specs" / "resnet22.yaml").read_text()
    with pytest.raises(SpecError) as info:
        archspec.lower(archspec.loads(text + "residual: {shortcut: {kind: identity}}\n"))
    (error,) = info.value.errors
    assert error.code == "shape-mismatch"
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "filters: 16, stride" in row)
    assert (error.path, error.location.line) == ("stages[0].stride", line)


def test_shortcut_when():
    first = graph_of()
    assert [b.variant for b in first.blocks] == [
        "conv",
        "identity",
        "conv",
        "identity",
        "identity",
    ]
    changes = graph_of(residual={"shortcut": {"when": "shape_change"}})
    assert [b.variant for b in changes.blocks][:3] == ["identity", "identity", "conv"]
    assert changes.params < first.params


def test_shortcut_downsample_on_strided_last_blocks():
    maxpool = graph_of(residual={"stride_at": "last", "shortcut": {"downsample": "maxpool"}})
    assert maxpool["stage2_block3_shortcut_pool"].attrs == {
        "size": 1,
        "strides": 2,
        "padding": "valid",
    }
    projection = graph_of(residual={"stride_at": "last"})
    assert projection["stage2_block3_shortcut_conv"].attrs["strides"] == 2


def test_shortcut_source():
    from_input = graph_of()
    assert from_input["stage2_block1_shortcut_conv"].inputs == ("stage1_block2_add",)
    from_preact = graph_of(residual={"shortcut": {"source": "preact"}})
    assert from_preact["stage2_block1_shortcut_conv"].inputs == ("stage2_block1_preact_relu",)


def test_shortcut_order_decides_the_add_inputs():
    main_first = graph_of()["stage2_block1_add"].inputs
    shortcut_first = graph_of(residual={"shortcut": {"order": "shortcut_first"}})[
        "stage2_block1_add"
    ].inputs
    assert main_first == ("stage2_block1_conv2", "stage2_block1_shortcut_conv")
    assert shortcut_first == tuple(reversed(main_first))


def test_conv_bias_per_role():
    graph = graph_of(
        conv={"bias": {"stem": False, "block": False, "block_out": True, "shortcut": False}}
    )
    assert graph["stem_conv"].attrs["use_bias"] is False
    assert graph["stage2_block1_conv1"].attrs["use_bias"] is False
    assert graph["stage2_block1_conv2"].attrs["use_bias"] is True
    assert graph["stage2_block1_shortcut_conv"].attrs["use_bias"] is False
    stem, inner, shortcuts = 8, 2 * 8 + 3 * 16, 8 + 16
    assert graph_of().params - graph.params == stem + inner + shortcuts


def test_explicit_padding_adds_zero_padding_and_valid_convs():
    graph = graph_of(conv={"padding": "explicit"})
    assert graph["stage2_block1_pad1"].op == "zero_pad"
    assert graph["stage2_block1_conv1"].inputs == ("stage2_block1_pad1",)
    assert graph["stage2_block1_conv1"].attrs["padding"] == "valid"
    assert "stage2_block1_pad1" not in {layer.name for layer in graph_of()}


def test_norm_settings_reach_every_batch_norm():
    graph = graph_of(norm={"epsilon": 1e-5, "momentum": 0.9})
    norms = [layer for layer in graph if layer.op == "batch_norm"]
    assert norms and all(n.attrs == {"epsilon": 1e-5, "momentum": 0.9} for n in norms)


def test_stem_variants():
    deep = graph_of(stem={"filters": [4, 4, 8], "stride": 2, "norm": True})
    assert [layer.name for layer in deep.scope_layers("stem")] == [
        "stem_conv1", "stem_bn1", "stem_relu1",
        "stem_conv2", "stem_bn2", "stem_relu2",
        "stem_conv3", "stem_bn3", "stem_relu3",
    ]  # fmt: skip
    assert deep["stem_conv1"].attrs["strides"] == 2 and deep["stem_conv2"].attrs["strides"] == 1
    imagenet = graph_of(
        stem={"filters": 8, "kernel": 7, "stride": 2, "pool": {"size": 3, "stride": 2}},
        conv={"padding": "explicit"},
    )
    assert [layer.op for layer in imagenet.scope_layers("stem")] == [
        "zero_pad", "conv2d", "zero_pad", "max_pool"
    ]  # fmt: skip
    assert imagenet["stem_pool"].shape == (8, 8, 8)
    assert [layer.op for layer in graph_of(stem={"norm": True}).scope_layers("stem")] == [
        "conv2d", "batch_norm", "activation"
    ]  # fmt: skip


def test_head_variants():
    graph = graph_of(head={"norm": True, "pool": "max", "dense": [32, 16], "dropout": 0.5})
    assert [layer.op for layer in graph.scope_layers("head")] == [
        "batch_norm", "activation", "global_max_pool", "dense", "dense", "dropout", "dense"
    ]  # fmt: skip
    assert graph["head_dropout"].attrs["rate"] == 0.5
    flatten = graph_of(head={"pool": "flatten"})
    assert flatten["head_flatten"].shape == (16 * 16 * 16,)


def test_head_top_conv_and_a_conv_classifier():
    graph = graph_of(
        activation="relu6",
        head={
            "conv": {"filters": 24},
            "dense": [12],
            "dense_activation": "hard_swish",
            "dropout": 0.2,
            "classifier": "conv",
            "flatten": "reshape",
        },
    )
    assert [(layer.op, layer.shape) for layer in graph.scope_layers("head")] == [
        ("conv2d", (16, 16, 24)), ("batch_norm", (16, 16, 24)), ("activation", (16, 16, 24)),
        ("global_avg_pool", (1, 1, 24)), ("conv2d", (1, 1, 12)), ("activation", (1, 1, 12)),
        ("dropout", (1, 1, 12)), ("conv2d", (1, 1, 5)), ("reshape", (5,)), ("activation", (5,)),
    ]  # fmt: skip
    assert graph["head_conv"].attrs["use_bias"] is False
    assert graph["head_conv_act"].attrs["function"] == "relu6"  # the network's activation
    assert graph["head_dense1_act"].attrs["function"] == "hard_swish"
    assert graph["classifier_activation"].attrs["function"] == "softmax"
    assert graph.output == "classifier_activation"
    flat = graph_of(head={"classifier": "conv"})
    assert flat["classifier_flatten"].op == "flatten"


def test_head_activation_layer_and_pool_norm():
    graph = graph_of(norm={"kind": "layer", "epsilon": 1e-6}, head={"pool_norm": True,
                     "activation_layer": True})  # fmt: skip
    ops = [layer.op for layer in graph.scope_layers("head")]
    assert ops == ["global_avg_pool", "layer_norm", "dense", "activation"]
    assert graph["classifier"].attrs["activation"] == "linear"
    assert graph["head_pool_norm"].params == 2 * 16
    assert all(layer.op != "batch_norm" for layer in graph)


def test_network_activation_reaches_stem_blocks_and_head():
    graph = graph_of(activation="swish", stem={"norm": True}, head={"norm": True})
    functions = {layer.attrs["function"] for layer in graph if layer.op == "activation"}
    assert functions == {"swish"}
    relu6 = graph_of(activation="relu6")
    assert {layer.attrs["layer"] for layer in relu6 if layer.op == "activation"} == {"ReLU"}


def test_width_multiplier_scales_every_width():
    graph = graph_of(width_multiplier=1.5)
    assert graph["stem_conv"].attrs["filters"] == 12
    assert graph["stage2_block1_conv1"].attrs["filters"] == 24
    grouped = {
        "block": "preact_bottleneck", "filters": 64, "groups": 32, "expansion": 2, "stride": 2
    }  # fmt: skip
    half = graph_of(stages=[grouped], width_multiplier=0.3)
    assert half["stage1_block1_conv2"].attrs["filters"] == 32  # round(19.2) to a multiple of 32


def test_groups_and_expansion():
    stage = {"block": "preact_bottleneck", "filters": 32, "groups": 8, "expansion": 2, "stride": 2}
    graph = graph_of(stages=[stage])
    conv2 = graph["stage1_block1_conv2"]
    assert conv2.attrs["groups"] == 8
    assert conv2.params == 3 * 3 * (32 // 8) * 32 + 32
    assert graph["stage1_block1_conv3"].shape == (16, 16, 64)


def test_groups_that_do_not_divide_are_a_located_error():
    with pytest.raises(SpecError) as info:
        graph_of(stages=[{"block": "preact_bottleneck", "filters": 30, "groups": 8}])
    (error,) = info.value.errors
    assert error.path == "stages[0].groups"
    assert "does not divide" in error.message and "8" in error.message


def test_bottleneck_expansion_of_zero_is_refused():
    with pytest.raises(Exception) as info:
        graph_of(stages=[{"block": "preact_bottleneck", "filters": 8, "expansion": 0}])
    assert "expansion" in str(info.value)


def test_post_activation_blocks():
    stages = [
        {"block": "basic", "filters": 8, "depth": 1},
        {"block": "bottleneck", "filters": 4, "stride": 2, "depth": 1},
    ]
    graph = graph_of(stages=stages)
    assert ops(graph, "stage1_block1") == [
        "conv1", "bn1", "relu1", "conv2", "bn2", "shortcut_conv", "shortcut_bn", "add", "out_relu"
    ]  # fmt: skip
    assert ops(graph, "stage2_block1")[-3:] == ["shortcut_bn", "add", "out_relu"]
    assert graph["stage2_block1_conv3"].shape == (16, 16, 16)


def test_preact_source_with_post_activation_blocks_is_contradictory():
    with pytest.raises(SpecError) as info:
        graph_of(
            stages=[{"block": "basic", "filters": 8}],
            residual={"shortcut": {"source": "preact"}},
        )
    assert info.value.errors[0].path == "residual.shortcut.source"


def test_relu_layer_class():
    assert graph_of()["stage1_block1_preact_relu"].attrs["layer"] == "ReLU"
    graph = graph_of(keras={"relu_layer": "Activation"})
    assert graph["stage1_block1_preact_relu"].attrs["layer"] == "Activation"


@pytest.mark.keras
def test_every_knob_builds_in_keras_with_the_ir_figures():
    """Each knob combination above, built: parameters and shapes as the IR says."""
    v2_layout = {"downsample": "maxpool", "order": "shortcut_first"}
    resnet_d = {"kind": "avgpool_conv", "source": "preact", "when": "shape_change"}
    variants = [
        {"residual": {"stride_at": "last", "shortcut": v2_layout}},
        {"residual": {"shortcut": resnet_d}},
        {"conv": {"padding": "explicit", "bias": {"block": False}}, "norm": {"epsilon": 1e-5}},
        {
            "stem": {"filters": [4, 8], "stride": 2, "pool": {"kind": "avg"}},
            "keras": {"relu_layer": "Activation"},
        },
        {
            "head": {"norm": True, "pool": "flatten", "dense": [16], "dropout": 0.2},
            "width_multiplier": 0.5,
        },
        {
            "stages": [
                {"block": "bottleneck", "filters": 8, "groups": 4, "stride": 2, "depth": 2},
                {"block": "basic", "filters": 16, "stride": 2},
            ]
        },
        {
            "activation": "relu6",
            "head": {
                "conv": {"filters": 24},
                "dense": [12],
                "dropout": 0.2,
                "classifier": "conv",
                "flatten": "reshape",
            },
        },
        {
            "activation": "gelu",
            "norm": {"kind": "layer", "epsilon": 1e-6},
            "head": {"pool_norm": True, "activation_layer": True, "classifier": "dense"},
        },
    ]
    from archspec.backends.keras import build_model

    for override in variants:
        graph = graph_of(**override)
        model = build_model(graph)
        assert model.count_params() == graph.params, override
        for layer in graph:
            assert tuple(model.get_layer(layer.name).output.shape[1:]) == layer.shape, layer.name


# --- extends -----------------------------------------------------------------------------------


def test_extends_merges_mappings_and_replaces_lists(tmp_path):
    (tmp_path / "base.yaml").write_text((ROOT / "specs" / "resnet22.yaml").read_text())
    (tmp_path / "child.yaml").write_text(
        "extends: base.yaml\nname: child\nhead: {classes: 10}\n"
        "stages: [{block: preact_basic, filters: 8, stride: 2}]\n"
    )
    spec = archspec.load(tmp_path / "child.yaml")
    assert spec.head.classes == 10 and spec.head.dense == (128,)  # merged
    assert len(spec.stages) == 1  # replaced
    assert spec.extends == "base.yaml"


def test_extends_cycles_and_unknown_targets_are_located(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    with pytest.raises(SpecError) as info:
        archspec.load(tmp_path / "a.yaml")
    assert "extends itself" in info.value.diagnostics[0].message
    (tmp_path / "c.yaml").write_text("name: c\nextends: resnet50v3\n")
    with pytest.raises(SpecError) as info:
        archspec.load(tmp_path / "c.yaml")
    (error,) = info.value.diagnostics
    assert (error.path, error.location.line) == ("extends", 2)
    assert error.hint == "did you mean 'resnet50v2'?"


def test_width_multiplier_rounds_halves_up():
    from archspec.lower import scaled_width

    assert [scaled_width(f, m) for f, m in ((7, 0.5), (5, 0.5), (14, 0.25), (6, 0.75))] == [
        4, 3, 4, 5
    ]  # fmt: skip
    assert scaled_width(20, 0.5, groups=4) == 12  # 10 -> 2.5 groups -> 3 groups
    assert scaled_width(3, 0.1, groups=4) == 4  # never below one group
