"""Options handed to blocks: squeeze-and-excitation, drop path, zero-initialised branches,
where a bottleneck's stride sits, and padding conventions per role."""

from __future__ import annotations

import types

import numpy as np
import pytest

import archspec
from archspec.blocks.options import DropPath, SqueezeExcite
from tests.test_family import BASE, graph_of, merged, ops

BOTTLENECKS = [
    {"block": "bottleneck", "filters": 8, "depth": 2, "stride": 1},
    {"block": "bottleneck", "filters": 16, "depth": 2, "stride": 2},
]


def with_se(se: dict, block: str = "bottleneck") -> list[dict]:
    return [{**stage, "block": block, "se": se} for stage in BOTTLENECKS]


# --- squeeze-and-excitation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "gated", "block_input", "width"),
    [
        # timm's SEModule: make_divisible(channels / 16, 8, round_limit=0) (seresnet50's widths)
        ({"divisor": 8}, 256, 64, 16),
        ({"divisor": 8}, 512, 256, 32),
        ({"divisor": 8}, 2048, 1024, 128),
        ({"divisor": 8}, 64, 64, 8),  # never below the divisor
        # keras.applications MobileNetV3's _depth(filters * 0.25): 0.9 round limit
        ({"ratio": 0.25, "divisor": 8, "round_limit": 0.9}, 16, 16, 8),
        ({"ratio": 0.25, "divisor": 8, "round_limit": 0.9}, 72, 24, 24),  # 18 -> 16 < 16.2
        ({"ratio": 0.25, "divisor": 8, "round_limit": 0.9}, 144, 48, 40),
        ({"ratio": 0.25, "divisor": 8, "round_limit": 0.9}, 576, 96, 144),
        # keras.applications EfficientNet: max(1, int(filters_in * 0.25))
        ({"ratio": 0.25, "of": "input", "rounding": "down"}, 96, 16, 4),
        ({"ratio": 0.25, "of": "input", "rounding": "down"}, 144, 24, 6),
        ({"ratio": 0.25, "of": "input", "rounding": "down"}, 6, 2, 1),
        ({"width": 12, "divisor": 8}, 64, 64, 12),
    ],
)
def test_squeeze_width(settings, gated, block_input, width):
    assert SqueezeExcite(**settings).squeeze_width(gated, block_input) == width


def test_se_at_the_end_of_the_residual_branch():
    graph = graph_of(stages=with_se({"divisor": 4}))
    assert ops(graph, "stage1_block2") == [
        "conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3",
        "se_squeeze", "se_reduce", "se_act", "se_expand", "se_gate", "se_excite",
        "add", "out_relu",
    ]  # fmt: skip
    excite = graph["stage1_block2_se_excite"]
    assert excite.op == "multiply"
    assert excite.inputs == ("stage1_block2_bn3", "stage1_block2_se_gate")
    assert graph["stage1_block2_add"].inputs[0] == "stage1_block2_se_excite"
    assert graph["stage1_block2_se_squeeze"].shape == (1, 1, 32)
    assert graph["stage2_block1_se_reduce"].attrs["filters"] == 4  # 64 / 16, a multiple of 4
    assert graph["stage2_block1_se_gate"].attrs["function"] == "sigmoid"
    # Parameters: two 1x1 convs with bias per block.
    plain = graph_of(stages=BOTTLENECKS)
    se_params = 2 * (2 * 32 * 4 + 4 + 32) + 2 * (2 * 64 * 4 + 4 + 64)
    assert graph.params - plain.params == se_params
    assert {b.args.get("se_filters") for b in graph.blocks} == {4}


def test_se_before_the_last_conv_with_activations_inside_the_convs():
    se = {
        "ratio": 0.25,
        "of": "input",
        "rounding": "down",
        "activations": "convs",
        "activation": "swish",
        "squeeze": "reshape",
        "position": "before_last_conv",
    }
    graph = graph_of(stages=with_se(se, "preact_bottleneck"))
    assert ops(graph, "stage1_block2")[-8:] == [
        "relu2", "se_squeeze", "se_reshape", "se_reduce", "se_expand", "se_excite", "conv3", "add"
    ]  # fmt: skip
    assert graph["stage1_block2_se_reshape"].attrs["target_shape"] == (1, 1, -1)
    assert graph["stage1_block2_se_reshape"].shape == (1, 1, 8)
    assert graph["stage1_block2_se_reduce"].attrs["activation"] == "swish"
    assert graph["stage1_block2_se_reduce"].attrs["filters"] == 8  # 32 in x 0.25
    assert graph["stage1_block2_se_expand"].attrs["activation"] == "sigmoid"
    assert graph["stage1_block2_se_excite"].inputs == (
        "stage1_block2_relu2",
        "stage1_block2_se_expand",
    )


def test_se_width_and_ratio_together_warn_that_the_ratio_does_nothing():
    data = merged(BASE, {"stages": with_se({"width": 8, "ratio": 0.5})})
    analysis = archspec.analyze(archspec.Spec.model_validate(data))
    assert [(w.path, w.code) for w in analysis.warnings] == [
        ("stages[0].se.ratio", "unused"),
        ("stages[1].se.ratio", "unused"),
    ]


def test_se_is_refused_on_bad_values():
    with pytest.raises(archspec.SpecError) as info:
        archspec.loads(
            "name: x\ninput: {shape: [8, 8, 3]}\nstem: {filters: 4}\n"
            "stages: [{block: basic, filters: 4, se: {ratio: 0}}]\nhead: {classes: 2}\n"
        )
    (error,) = info.value.errors
    assert (error.path, error.location.line) == ("stages[0].se.ratio", 4)


# --- drop path ----------------------------------------------------------------------------------


def test_drop_path_rates():
    assert DropPath(rate=0.1).block_rate(3, 16) == 0.1
    linear = DropPath(rate=0.2, schedule="linear")
    # timm and keras.applications ConvNeXt: np.linspace(0, rate, blocks)
    np.testing.assert_allclose([linear.block_rate(i, 5) for i in range(5)], np.linspace(0, 0.2, 5))
    # keras.applications EfficientNet: drop_connect_rate * b / blocks
    efficientnet = DropPath(rate=0.2, schedule="linear", endpoint=False)
    assert [efficientnet.block_rate(i, 16) for i in (0, 1, 15)] == [0.0, 0.0125, 0.1875]
    assert linear.block_rate(0, 1) == 0.0


def test_drop_path_sits_before_the_add_of_every_residual_block():
    graph = graph_of(stages=BOTTLENECKS, drop_path={"rate": 0.1})
    drops = [layer for layer in graph if layer.op == "dropout"]
    assert [d.block for d in drops] == [b.name for b in graph.blocks]
    assert all(d.attrs == {"rate": 0.1, "noise_shape": (None, 1, 1, 1)} for d in drops)
    assert graph["stage1_block1_add"].inputs == (
        "stage1_block1_drop_path",
        "stage1_block1_shortcut_bn",
    )
    assert graph.params == graph_of(stages=BOTTLENECKS).params


def test_linear_drop_path_counts_blocks_over_the_whole_network():
    graph = graph_of(stages=BOTTLENECKS, drop_path={"rate": 0.3, "schedule": "linear"})
    rates = {layer.block: layer.attrs["rate"] for layer in graph if layer.op == "dropout"}
    assert rates == {"stage1_block2": 0.1, "stage2_block1": 0.2, "stage2_block2": 0.3}
    assert [b.args.get("drop_rate") for b in graph.blocks] == [None, 0.1, 0.2, 0.3]
    source = archspec.codegen(
        archspec.Spec.model_validate(
            merged(BASE, {"stages": BOTTLENECKS, "drop_path": {"rate": 0.3, "schedule": "linear"}})
        )
    )
    assert "layers.Dropout(\n        drop_rate,\n        noise_shape=(None, 1, 1, 1)," in source
    assert 'drop_rate=0.2, name="stage2_block1"' in source


# --- zero-initialised residual branches, stride placement ----------------------------------------


def test_zero_init_last_starts_each_branch_at_zero():
    post = graph_of(stages=BOTTLENECKS, residual={"zero_init_last": True})
    assert post["stage1_block1_bn3"].attrs["gamma_initializer"] == "zeros"
    assert "gamma_initializer" not in post["stage1_block1_bn2"].attrs
    assert "gamma_initializer" not in post["stage1_block1_shortcut_bn"].attrs
    pre = graph_of(residual={"zero_init_last": True})
    assert pre["stage1_block1_conv2"].attrs["kernel_initializer"] == "zeros"
    assert "kernel_initializer" not in pre["stage1_block1_conv1"].attrs
    source = archspec.codegen(
        archspec.Spec.model_validate(
            merged(BASE, {"stages": BOTTLENECKS, "residual": {"zero_init_last": True}})
        )
    )
    assert 'layers.BatchNormalization(gamma_initializer="zeros", name=f"{name}_bn3")' in source


def test_bottleneck_stride_on_the_reduce_or_the_spatial_conv():
    spatial = graph_of(stages=BOTTLENECKS)
    assert spatial["stage2_block1_conv2"].attrs["strides"] == 2
    assert spatial["stage2_block1_conv1"].attrs["strides"] == 1
    reduce = graph_of(stages=BOTTLENECKS, residual={"bottleneck_stride": "reduce"})
    assert reduce["stage2_block1_conv1"].attrs["strides"] == 2
    assert reduce["stage2_block1_conv2"].attrs["strides"] == 1
    assert reduce.macs < spatial.macs
    assert reduce.params == spatial.params


# --- padding per role -----------------------------------------------------------------------------


def test_torch_padding_pads_strided_windows_only():
    graph = graph_of(
        stages=BOTTLENECKS,
        conv={"padding": "torch"},
        stem={"kernel": 7, "stride": 2, "pool": {"size": 3, "stride": 2}},
    )
    stem = [(layer.name, layer.op) for layer in graph.scope_layers("stem")]
    assert stem == [
        ("stem_pad", "zero_pad"),
        ("stem_conv", "conv2d"),
        ("stem_pool_window", "max_pool"),
        ("stem_pool", "max_pool"),
    ]
    assert graph["stem_pad"].attrs["padding"] == 3
    assert graph["stem_pool_window"].attrs == {"size": 3, "strides": 1, "padding": "same"}
    assert graph["stem_pool"].attrs == {"size": 1, "strides": 2, "padding": "valid"}
    assert graph["stage1_block1_conv2"].attrs["padding"] == "same"  # unstrided: symmetric
    assert graph["stage2_block1_pad2"].attrs["padding"] == 1
    assert graph["stage2_block1_conv2"].attrs["padding"] == "valid"
    assert graph["stage2_block1_shortcut_conv"].inputs == ("stage1_block2_out_relu",)


def test_padding_per_role():
    graph = graph_of(
        stages=BOTTLENECKS,
        stem={"kernel": 7, "stride": 2, "padding": "explicit", "pool": {"size": 3}},
    )
    assert [layer.op for layer in graph.scope_layers("stem")] == [
        "zero_pad", "conv2d", "zero_pad", "max_pool"
    ]  # fmt: skip
    assert graph["stage1_block1_conv2"].attrs["padding"] == "same"
    pool_same = graph_of(
        stem={"kernel": 7, "padding": "explicit", "pool": {"size": 3, "padding": "same"}}
    )
    assert pool_same["stem_pool"].attrs["padding"] == "same"
    avg = graph_of(stem={"pool": {"kind": "avg", "size": 3, "padding": "torch"}})
    # PyTorch's average pool counts padded zeros: explicit zeros, never Keras's 'same'.
    assert [layer.op for layer in avg.scope_layers("stem")][-2:] == ["zero_pad", "avg_pool"]


def test_an_even_pool_with_symmetric_padding_is_a_located_error():
    with pytest.raises(archspec.SpecError) as info:
        graph_of(stem={"pool": {"size": 2, "padding": "torch"}})
    (error,) = info.value.errors
    assert (error.path, error.code) == ("stem.pool.size", "even-window")


# --- in Keras -----------------------------------------------------------------------------------

KITCHEN_SINK = {
    "input": {"shape": [30, 30, 3]},
    "stem": {"filters": 8, "kernel": 3, "stride": 2, "padding": "torch", "pool": {"size": 3}},
    "stages": [
        {**BOTTLENECKS[0], "se": {"divisor": 8}},
        {
            "block": "preact_bottleneck",
            "filters": 8,
            "depth": 2,
            "stride": 2,
            "se": {
                "ratio": 0.25,
                "of": "input",
                "rounding": "down",
                "activations": "convs",
                "squeeze": "reshape",
                "activation": "swish",
                "position": "before_last_conv",
            },
        },
        {
            "block": "basic",
            "filters": 16,
            "depth": 2,
            "stride": 2,
            "se": {"ratio": 0.25, "divisor": 8, "round_limit": 0.9, "gate": "hard_sigmoid"},
        },
    ],
    "conv": {"padding": "torch"},
    "residual": {"zero_init_last": True, "bottleneck_stride": "reduce"},
    "drop_path": {"rate": 0.2, "schedule": "linear"},
}


@pytest.fixture(scope="module")
def kitchen_sink():
    """Every option at once, built, and its generated code built with the same weights."""
    from archspec.backends.keras import build_model

    spec = archspec.Spec.model_validate(merged(BASE, KITCHEN_SINK))
    graph = archspec.lower(spec)
    module = types.ModuleType("generated_kitchen_sink")
    exec(compile(archspec.codegen(spec), "<generated>", "exec"), module.__dict__)
    return graph, build_model(graph), module.build_model()


@pytest.mark.keras
def test_every_option_builds_with_the_ir_figures_and_as_generated_code(kitchen_sink):
    graph, model, generated = kitchen_sink
    assert model.count_params() == graph.params
    for layer in graph:
        assert tuple(model.get_layer(layer.name).output.shape[1:]) == layer.shape, layer.name
    assert [w.path for w in generated.weights] == [w.path for w in model.weights]
    generated.set_weights(model.get_weights())
    images = np.random.default_rng(0).uniform(0, 1, (2, 30, 30, 3)).astype("float32")
    expected = model.predict_on_batch(images)
    np.testing.assert_array_equal(generated.predict_on_batch(images), expected)


@pytest.mark.keras
def test_zero_initialised_branches_start_at_zero_in_keras(kitchen_sink):
    _, model, generated = kitchen_sink
    for built in (model, generated):
        assert not np.any(built.get_layer("stage1_block1_bn3").gamma.numpy())
        assert np.all(built.get_layer("stage1_block1_bn2").gamma.numpy() == 1)
        assert not np.any(built.get_layer("stage2_block1_conv3").kernel.numpy())


@pytest.mark.keras
def test_drop_path_changes_training_only(kitchen_sink):
    from archspec.backends.keras import build_model

    _, model, _ = kitchen_sink
    plain = build_model(
        archspec.lower(
            archspec.Spec.model_validate(merged(BASE, {**KITCHEN_SINK, "drop_path": {}}))
        )
    )
    assert len(plain.layers) == len(model.layers) - 5
    plain.set_weights(model.get_weights())
    images = np.random.default_rng(1).uniform(0, 1, (4, 30, 30, 3)).astype("float32")
    np.testing.assert_array_equal(plain.predict_on_batch(images), model.predict_on_batch(images))
    # In training, Dropout(noise_shape=(None, 1, 1, 1)) keeps or drops each sample's branch.
    drop = model.get_layer("stage3_block2_drop_path")
    assert drop.rate == 0.2
    kept = np.asarray(drop(np.ones((64, 2, 2, 3), "float32"), training=True))
    per_sample = kept.reshape(64, -1)
    assert set(np.unique(per_sample)) == {0.0, np.float32(1 / 0.8)}
    assert all(len(set(row)) == 1 for row in per_sample)


@pytest.mark.keras
def test_se_in_convs_equals_keras_applications_efficientnet():
    """EfficientNetB0's first squeeze-and-excitation, layer for layer and value for value."""
    import keras

    from archspec.backends.keras import build_model
    from archspec.blocks.builder import BlockBuilder
    from archspec.blocks.options import squeeze_excite
    from archspec.graph_builder import GraphBuilder
    from archspec.ir import Graph

    peer = keras.applications.EfficientNetB0(weights=None)
    names = ["se_squeeze", "se_reshape", "se_reduce", "se_expand", "se_excite"]
    peer_se = [peer.get_layer(f"block1a_{name}") for name in names]
    feature = peer.get_layer("block1a_activation")
    # The SE of archspec's option, on an input of the same shape (block input: 32 channels).
    spec = archspec.Spec.model_validate(BASE)
    builder = GraphBuilder(spec)
    x = builder.add("input", "input", (), {"shape": (112, 112, 32)})
    b = BlockBuilder(builder, "block1a", 0, 0, spec.stages[0], 32, 1, x)
    se = SqueezeExcite(
        ratio=0.25,
        of="input",
        rounding="down",
        activations="convs",
        activation="swish",
        squeeze="reshape",
        position="before_last_conv",
    )
    out = squeeze_excite(b, x, se, "before_last_conv", 32)
    model = build_model(Graph("se", "", tuple(builder.layers), (), (), out))
    assert [(layer.__class__.__name__, layer.name) for layer in model.layers[1:]] == [
        (layer.__class__.__name__, layer.name) for layer in peer_se
    ]
    for ours, theirs in zip(model.layers[1:], peer_se, strict=True):
        assert ours.output.shape[1:] == theirs.output.shape[1:]
        assert ours.count_params() == theirs.count_params()
        ours.set_weights(theirs.get_weights())
    for name in ("se_reduce", "se_expand"):
        ours, theirs = model.get_layer(f"block1a_{name}"), peer.get_layer(f"block1a_{name}")
        assert ours.activation.__name__ == theirs.activation.__name__
    peer_part = keras.Model(feature.output, peer_se[-1].output)
    rng = np.random.default_rng(2)
    for layer in peer_se[2:4]:
        layer.set_weights([rng.normal(0, 0.5, w.shape) for w in layer.get_weights()])
        model.get_layer(layer.name).set_weights(layer.get_weights())
    values = rng.normal(0, 1, (2, 112, 112, 32)).astype("float32")
    expected = peer_part.predict_on_batch(values)
    np.testing.assert_array_equal(model.predict_on_batch(values), expected)


@pytest.mark.keras
@pytest.mark.parametrize("size", [32, 29])
def test_torch_padding_computes_pytorchs_conv_and_max_pool(size):
    """Conv 3x3/2 then max-pool 3/2 (no ReLU between, so pooled values can be negative)."""
    torch = pytest.importorskip("torch", reason="PyTorch is the reference here (make torch)")
    import keras

    from archspec.backends.keras import build_model

    def stem_model(pool_padding: str) -> keras.Model:
        stem = {"filters": 4, "kernel": 3, "stride": 2, "norm": False, "padding": "torch"}
        stem["pool"] = {"size": 3, "stride": 2, "padding": pool_padding}
        spec = merged(BASE, {"input": {"shape": [size, size, 3]}, "stem": stem})
        model = build_model(archspec.lower(archspec.Spec.model_validate(spec)))
        return keras.Model(model.input, model.get_layer("stem_pool").output)

    rng = np.random.default_rng(size)
    images = rng.normal(0, 1, (2, size, size, 3)).astype("float32")
    kernel = rng.normal(0, 1, (3, 3, 3, 4)).astype("float32")
    bias = rng.normal(0, 1, 4).astype("float32")
    weight = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
    conv = torch.nn.functional.conv2d(
        torch.from_numpy(images.transpose(0, 3, 1, 2).copy()),
        weight,
        torch.from_numpy(bias),
        stride=2,
        padding=1,
    )
    pooled = torch.nn.functional.max_pool2d(conv, 3, stride=2, padding=1)
    expected = pooled.numpy().transpose(0, 2, 3, 1)
    torch_style = stem_model("torch")
    torch_style.get_layer("stem_conv").set_weights([kernel, bias])
    np.testing.assert_allclose(torch_style.predict_on_batch(images), expected, rtol=0, atol=1e-5)
    assert (expected < 0).any()
    # Zero padding lets a padded 0 win over negative values at the border: not PyTorch's pool.
    zero_padded = stem_model("explicit")
    zero_padded.get_layer("stem_conv").set_weights([kernel, bias])
    assert not np.allclose(zero_padded.predict_on_batch(images), expected, atol=1e-5)
