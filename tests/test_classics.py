"""The classic families (VGG, DenseNet, MobileNet, ConvNeXt) and the mechanisms they need."""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

import archspec
from archspec.cost import cost_rows
from archspec.errors import SpecError
from tests.conftest import ROOT, SLOW_SPECS
from tests.test_keras_backend import layer_sequence, outputs, randomize_weights

# --- padding styles -------------------------------------------------------------------------


def small_spec(**override) -> archspec.Spec:
    data = {
        "name": "small",
        "input": {"shape": [15, 16, 3]},
        "stem": {"filters": 8, "kernel": 3, "stride": 2},
        "stages": [{"block": "basic", "filters": 8}],
        "head": {"classes": 3},
    }
    return archspec.Spec.model_validate({**data, **override})


@pytest.mark.parametrize(
    ("kernel", "stride", "pads"),
    [(3, 2, ((0, 1), (0, 1))), (5, 2, ((1, 2), (1, 2))), (7, 2, ((2, 3), (2, 3))), (3, 4, None)],
)
def test_strided_bottom_right_pads_what_same_pads_for_a_size_the_stride_divides(
    kernel, stride, pads
):
    spec = small_spec(
        stem={"filters": 8, "kernel": kernel, "stride": stride},
        conv={"padding": "strided_bottom_right"},
    )
    graph = archspec.lower(spec)
    conv = graph["stem_conv"]
    assert conv.attrs["padding"] == "valid"
    if pads is None:  # a kernel no larger than its stride needs no padding
        assert conv.inputs == ("input",)
    else:
        assert graph[conv.inputs[0]].attrs["padding"] == pads
    # The same pads at any size, as keras.applications' MobileNet pads: 15 rows give 7 at
    # stride 2, where 'same' would give 8.
    total = sum(pads[0]) if pads else 0
    assert conv.shape[:2] == tuple((size + total - kernel) // stride + 1 for size in (15, 16))
    if stride == 2:
        assert conv.shape[:2] == (7, 8)
    # Unstrided convs stay 'same'.
    assert {layer.attrs["padding"] for layer in graph if layer.op == "conv2d"} - {"valid"} == {
        "same"
    }


# --- the peers nobody here wrote: keras.applications ------------------------------------------

PEERS = {
    # spec: (keras.applications model, parameters, layers, input size where outputs are compared)
    "vgg16": ("VGG16", 138_357_544, 23, 32),
    "vgg19": ("VGG19", 143_667_240, 26, 32),
    "densenet121": ("DenseNet121", 8_062_504, 429, 224),
    "densenet169": ("DenseNet169", 14_307_880, 597, 224),
    "densenet201": ("DenseNet201", 20_242_984, 709, 224),
    "mobilenet": ("MobileNet", 4_253_864, 91, 224),
    "convnext_tiny": ("ConvNeXtTiny", 28_589_128, 135, 224),
    "convnext_small": ("ConvNeXtSmall", 50_223_688, 261, 224),
    "convnext_base": ("ConvNeXtBase", 88_591_464, 261, 224),
    "convnext_large": ("ConvNeXtLarge", 197_767_336, 261, 224),
    "convnext_xlarge": ("ConvNeXtXLarge", 350_196_968, 261, 224),
}
"""Figures from /work/shared/ANCHORS.md (Keras 3.15, weights=None, default arguments). VGG's
outputs are compared at 32x32: its Flatten ties the Dense weights to the input size, so both
models are rebuilt there (keras.applications takes input_shape with weights=None). ConvNeXt's
weights do not depend on the input size, and building costs more than computing: its outputs
are compared at 224x224. keras.applications' ConvNeXt has its own LayerScale layer class;
archspec's stands in for it (same class name, arguments and weight), and the layer sequences
are compared class name for class name."""


def assert_same_outputs(model, peer, seed: int = 0) -> None:
    """After `model.set_weights(peer.get_weights())` both compute the same, bit for bit."""
    randomize_weights(peer, seed)
    # peer.weights are what get_weights() copies, in its order; passed as they are, the
    # largest model (1.4 GB of weights) needs no third copy.
    model.set_weights(peer.weights)
    shape = (2, *peer.input_shape[1:])
    images = np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")
    np.testing.assert_array_equal(outputs(model, images), outputs(peer, images))


def built_at(name: str, size: int):
    from archspec.backends.keras import build_model

    return build_model(archspec.lower(archspec.load(name), input_size=(size, size)))


@pytest.mark.keras
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW_SPECS else []) for n in PEERS]
)
def test_preset_equals_keras_applications(name, built_models):
    import keras

    application, params, layers, size = PEERS[name]
    make_peer = getattr(keras.applications, application)
    peer = make_peer(weights=None)
    model = built_models(name)
    assert archspec.lower(archspec.load(name)).params == params  # what inspect reports
    assert model.count_params() == peer.count_params() == params
    assert len(model.layers) == len(peer.layers) == layers
    assert layer_sequence(model) == layer_sequence(peer)
    if size != peer.input_shape[1]:
        peer, model = make_peer(weights=None, input_shape=(size, size, 3)), built_at(name, size)
        assert layer_sequence(model) == layer_sequence(peer)
    assert_same_outputs(model, peer)


# --- ConvNeXt: layers Keras does not have, sequential groups, drop path ----------------------

TINY_CONVNEXT = """
name: tiny_convnext
input: {shape: [32, 32, 3], normalize: {mean: [120, 115, 100], std: [60, 57, 57]}}
stem: {filters: 16, kernel: 4, stride: 4, activation: false}
stages:
  - {block: convnext, filters: 16, depth: 2}
  - {block: convnext, filters: 32, depth: 2, stride: 2}
head: {pool: avg, pool_norm: true, classes: 5}
norm: {kind: layer, epsilon: 1.0e-6}
activation: gelu
drop_path: {rate: 0.3, schedule: linear, layer: stochastic_depth}
keras: {add_layer: operator, sequential_stem: true, sequential_transitions: true}
"""


def test_convnext_stem_and_downsampling_are_groups_whose_layers_inspect_counts():
    graph = archspec.lower(archspec.load("convnext_tiny"))
    stem = graph.scope_layers("stem")
    assert [(layer.op, layer.group) for layer in stem] == [
        ("conv2d", "stem"),
        ("layer_norm", "stem"),
    ]
    assert sum(layer.params for layer in stem) == 4_896  # 4x4x3x96 + 96, then LN's 2 x 96
    downsample = [layer for layer in graph if layer.block == "stage2_downsample"]
    assert {layer.group for layer in downsample} == {"stage2_downsample"}
    assert downsample[-1].attrs["kernel"] == downsample[-1].attrs["strides"] == 2
    assert downsample[-1].attrs["padding"] == "valid"
    # 135 Keras layers: 4 sequential groups hold 8 layers, and the 18 adds are operations.
    assert graph.layer_count == 135
    assert len(graph) == 135 - 4 + 8 + 18
    assert sum(not layer.is_layer for layer in graph) == 18
    rows = {row.name: row for row in cost_rows(graph, "block")}
    assert rows["stage2_downsample"].params == 2 * 96 + 2 * 2 * 96 * 192 + 192
    assert rows["stem"].params == 4_896


def test_drop_path_as_stochastic_depth_follows_keras_applications_convnext_schedule():
    graph = archspec.lower(archspec.loads(TINY_CONVNEXT))
    drops = [graph[f"{block.name}_drop_path"] for block in graph.blocks if block.variant == ""]
    # np.linspace(0, 0.3, 4) over the network's four blocks; the first is an identity layer.
    assert [layer.op for layer in drops] == ["activation", *["stochastic_depth"] * 3]
    assert drops[0].attrs["function"] == "linear"
    assert [layer.attrs["rate"] for layer in drops[1:]] == pytest.approx([0.1, 0.2, 0.3])
    # Without drop path (rate 0), every block keeps ConvNeXt's identity layer.
    plain = archspec.loads(TINY_CONVNEXT.replace("rate: 0.3", "rate: 0.0"))
    assert {layer.op for layer in archspec.lower(plain) if layer.local == "drop_path"} == {
        "activation"
    }


def test_a_convnext_block_keeps_its_width_so_a_changed_one_is_a_located_error():
    text = TINY_CONVNEXT.replace(
        "{block: convnext, filters: 32, depth: 2, stride: 2}", "{block: convnext, filters: 32}"
    )
    with pytest.raises(SpecError) as info:
        archspec.lower(archspec.loads(text, "mixed.yaml"))
    (error,) = info.value.diagnostics
    assert (error.path, error.code) == ("stages[1].filters", "channel-mismatch")
    assert error.location.line == 7
    assert "input has 16" in error.message and "stride" in error.hint


@pytest.mark.keras
def test_built_convnext_saves_and_loads_with_archspecs_layers(tmp_path):
    import keras

    from archspec.backends import keras as backend

    model = backend.build_model(archspec.lower(archspec.loads(TINY_CONVNEXT)))
    randomize_weights(model, seed=1)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"LayerScale", "StochasticDepth", "Sequential", "Normalization"} <= kinds
    path = tmp_path / "tiny_convnext.keras"
    model.save(path)
    # The classes are registered under 'archspec' when archspec.backends.keras is imported
    # (a generated module registers its copies under the same names: the last one imported
    # serves loading, the same code either way).
    loaded = keras.saving.load_model(path)
    for name, cls in (
        ("stage1_block1_layer_scale", backend.LayerScale),
        ("stage1_block2_drop_path", backend.StochasticDepth),
    ):
        layer = loaded.get_layer(name)
        assert type(layer).__name__ == cls.__name__
        assert keras.saving.get_registered_name(type(layer)) == f"archspec>{cls.__name__}"
    assert loaded.get_layer("stage1_block2_drop_path").drop_path_rate == pytest.approx(0.1)
    images = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_array_equal(outputs(loaded, images), outputs(model, images))


@pytest.mark.keras
def test_generated_convnext_defines_its_layers_and_saves_and_loads(tmp_path):
    import keras

    from archspec.backends import keras as backend
    from tests.test_codegen import generated_module

    source = archspec.codegen(archspec.loads(TINY_CONVNEXT))
    tree = ast.parse(source)
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    assert classes == {"LayerScale", "StochasticDepth"}
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"keras", "typing"}  # Keras and the standard library, nothing else
    assert inspect.getsource(backend.LayerScale).strip() in source
    module = generated_module(source, "tiny_convnext")
    model = module.build_model()
    reference = backend.build_model(archspec.lower(archspec.loads(TINY_CONVNEXT)))
    assert layer_sequence(model) == layer_sequence(reference)
    randomize_weights(model, seed=4)
    path = tmp_path / "generated.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    images = np.random.default_rng(5).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_array_equal(outputs(loaded, images), outputs(model, images))


@pytest.mark.keras
def test_stochastic_depth_drops_whole_samples_in_training_only():
    from archspec.backends.keras import StochasticDepth

    layer = StochasticDepth(0.5)
    x = np.ones((64, 2, 2, 3), dtype="float32")
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    out = np.asarray(layer(x, training=True))
    per_sample = {tuple(np.unique(sample)) for sample in out}
    assert per_sample == {(0.0,), (2.0,)}  # dropped, or kept and scaled by 1 / (1 - 0.5)


# --- specs that mix families -------------------------------------------------------------------

MIXED = {
    "resnet_convnext": (ROOT / "examples" / "resnet_convnext.yaml").read_text(),
    "deep_stem_mobile_dense": """
name: deep_stem_mobile_dense
input: {shape: [48, 48, 3]}
stem: {filters: [16, 16, 32], stride: 2, pool: {kind: max, size: 3, stride: 2}}
stages:
  - {block: depthwise_separable, filters: 48, depth: 2, stride: 2}
  - {block: densenet, filters: 16, depth: 3, stride: 2, compression: 0.5}
  - {block: bottleneck, filters: 32, depth: 1, expansion: 4}
head: {pool: avg, classes: 7}
activation: relu6
conv: {padding: strided_bottom_right}
""",
    "vgg_se_convnext": """
name: vgg_se_convnext
input: {shape: [32, 32, 3]}
stem: null
stages:
  - {block: plain, filters: 16, depth: 2, stride: 2, se: {ratio: 0.25}}
  - {block: plain, filters: 32, depth: 1, stride: 2, norm: true, se: {ratio: 0.25}}
  - {block: convnext, filters: 64, depth: 2, stride: 2}
head: {pool: flatten, dense: [32], dropout: 0.1, classes: 4}
norm: {kind: layer, epsilon: 1.0e-6}
activation: gelu
drop_path: {rate: 0.2, layer: stochastic_depth}
keras: {add_layer: operator, sequential_transitions: true}
""",
    "resnet_stem_mbconv": """
name: resnet_stem_mbconv
input: {shape: [40, 40, 3], rescale: {scale: 0.00392156862745098}}
stem: {filters: [16, 16, 32], stride: 2, pool: {kind: max, size: 3, stride: 2}}
stages:
  - {block: basic, filters: 32, depth: 1}
  - {block: fused_mbconv, filters: 48, depth: 2, stride: 2, expansion: 4}
  - {block: mbconv, filters: 64, depth: 2, stride: 2, se: {ratio: 0.25}, blocks: [{kernel: 5}]}
  - {block: bottleneck, filters: 16, depth: 1, expansion: 4}
head: {conv: {filters: 128}, pool: avg, dropout: 0.2, classes: 5}
activation: swish
drop_path: {rate: 0.2, schedule: linear}
conv: {padding: correct_pad}
""",
}
"""Blocks of several families in one network: a ResNet stem and stages before ConvNeXt ones; a
deep stem, MobileNet, DenseNet and ResNet stages; VGG stages with squeeze-and-excitation
before ConvNeXt ones, with drop path and Keras's ConvNeXt conventions; a ResNet deep stem and
stage, EfficientNetV2's Fused-MBConv and EfficientNet's MBConv (per-block kernel, SE), then a
ResNet bottleneck, with drop path over every residual block of both families."""


@pytest.mark.parametrize("name", list(MIXED))
def test_mixed_specs_lower_and_inspect(name):
    graph = archspec.lower(archspec.loads(MIXED[name], f"{name}.yaml"))
    kinds = [stage.block for stage in graph.stages]
    assert len(set(kinds)) >= 2, kinds
    rows = cost_rows(graph, "block")
    stage_rows = [row for row in rows if row.name.startswith("stage") and "_" not in row.name]
    parts = [row for row in rows if row.level == 0]
    assert sum(row.params for row in parts) == graph.params  # every layer counted once
    assert [row.what for row in stage_rows] == [stage.summary for stage in graph.stages]


def test_the_mixed_example_is_what_its_comments_say():
    graph = archspec.lower(archspec.loads(MIXED["resnet_convnext"]))
    assert [stage.block for stage in graph.stages] == ["preact_basic"] * 2 + ["convnext"] * 2
    assert graph["stage3_downsample_conv"].shape == (4, 4, 192)  # the downsampling widens
    assert graph["stage2_block1_shortcut_conv"].shape == (8, 8, 96)  # a ResNet projection


@pytest.mark.keras
@pytest.mark.parametrize("name", list(MIXED))
def test_mixed_specs_build_and_generate_the_same_model(name):
    from archspec.backends.keras import build_model
    from tests.test_codegen import generated_module
    from tests.test_keras_backend import assert_keras_layers_match_the_ir

    graph = archspec.lower(archspec.loads(MIXED[name]))
    model = build_model(graph)
    assert_keras_layers_match_the_ir(graph, model)
    generated = generated_module(archspec.codegen(archspec.loads(MIXED[name])), name)
    copy = generated.build_model()
    assert layer_sequence(copy) == layer_sequence(model)
    randomize_weights(model, seed=6)
    copy.set_weights(model.weights)
    images = np.random.default_rng(7).uniform(0, 1, (2, *graph.input.shape)).astype("float32")
    np.testing.assert_array_equal(outputs(copy, images), outputs(model, images))


INVALID_MIXES = [
    # A ConvNeXt stage keeps its width; unstrided, nothing widens 96 channels to 192.
    (
        ("{block: convnext, filters: 192, depth: 2, stride: 2}", "{block: convnext, filters: 192}"),
        "stages[2].filters",
        "channel-mismatch",
    ),
    # An identity shortcut cannot add a DenseNet stage's grown channels to a ResNet block's.
    (
        (
            "{block: preact_basic, filters: 96, depth: 2, stride: 2}",
            "{block: densenet, filters: 8, depth: 2}\n"
            "  - {block: preact_basic, filters: 96, depth: 2}",
        ),
        "stages[2].filters",
        "channel-mismatch",
    ),
    # A 2x2/2 downsampling on a 1x1 map: the layout cannot shrink any further.
    (
        ("input: {shape: [64, 64, 3]}", "input: {shape: [16, 16, 3]}"),
        "stages[3]",
        "collapse",
    ),
    # A plain block has one conv: squeeze-and-excitation cannot sit before its last one.
    (
        (
            "{block: preact_basic, filters: 48, depth: 2}",
            "{block: plain, filters: 48, se: {position: before_last_conv}}",
        ),
        "stages[0].se",
        "se-position",
    ),
]


@pytest.mark.parametrize(
    ("edit", "path", "code"),
    INVALID_MIXES,
    ids=["convnext-width", "identity-after-densenet", "downsample-collapse", "se-position"],
)
def test_invalid_mixes_are_located_errors(edit, path, code):
    old, new = edit
    text = MIXED["resnet_convnext"]
    assert old in text
    text = text.replace(old, new)
    if code == "channel-mismatch" and "densenet" in new:
        text += "residual: {shortcut: {kind: identity}}\n"
    with pytest.raises(SpecError) as info:
        archspec.lower(archspec.loads(text, "mixed.yaml"))
    errors = [d for d in info.value.diagnostics if d.severity == "error"]
    assert [(d.path, d.code) for d in errors] == [(path, code)]
    assert errors[0].location is not None and errors[0].location.line > 1
    assert errors[0].hint


# --- the families' knobs ------------------------------------------------------------------------


@pytest.mark.keras
@pytest.mark.parametrize(("alpha", "size"), [(0.5, 128), (1.0, 200)])
def test_mobilenet_alpha_and_odd_sizes_equal_keras_applications(alpha, size):
    """alpha is width_multiplier; at 200x200 a strided block meets a 25x25 map, where
    strided_bottom_right still pads ((0, 1), (0, 1)) as MobileNet does ('same' would not)."""
    import keras

    from archspec.backends.keras import build_model

    spec = archspec.load("mobilenet").model_copy(update={"width_multiplier": alpha})
    model = build_model(archspec.lower(spec, input_size=(size, size)))
    peer = keras.applications.MobileNet(weights=None, alpha=alpha, input_shape=(size, size, 3))
    assert layer_sequence(model) == layer_sequence(peer)
    assert_same_outputs(model, peer)


def test_mobilenet_pads_strided_depthwise_convs_only():
    graph = archspec.lower(archspec.load("mobilenet"))
    pads = [layer for layer in graph if layer.op == "zero_pad"]
    assert [layer.block for layer in pads] == [
        "stage2_block1",
        "stage3_block1",
        "stage4_block1",
        "stage5_block1",
    ]
    assert {layer.attrs["padding"] for layer in pads} == {((0, 1), (0, 1))}
    assert graph["stem_conv"].attrs["padding"] == "same"  # the stem is 'same', as Keras's


def test_densenet_transitions_compress_and_blocks_grow():
    graph = archspec.lower(archspec.load("densenet121"))
    assert graph["stage1_block6_concat"].shape == (56, 56, 64 + 6 * 32)
    transition = graph["stage2_transition_conv"]
    assert transition.attrs["filters"] == 128  # int(256 x 0.5)
    assert graph["stage2_transition_pool"].shape == (28, 28, 128)
    assert "stage1_transition_conv" not in {layer.name for layer in graph}  # stride 1: none
    text = (ROOT / "specs" / "densenet121.yaml").read_text()
    odd = text.replace("depth: 12, stride: 2}", "depth: 12, stride: 2, compression: 0.3}")
    compressed = archspec.lower(archspec.loads(odd))
    assert compressed["stage2_transition_conv"].attrs["filters"] == 76  # int(256 x 0.3)
    bottleneck = text.replace("depth: 6, stride: 1}", "depth: 6, stride: 1, bottleneck: 2}")
    assert archspec.lower(archspec.loads(bottleneck))["stage1_block1_conv1"].shape[-1] == 64


def test_plain_stages_put_the_activation_in_the_conv_unless_normalized():
    vgg = archspec.lower(archspec.load("vgg16"))
    assert vgg["stage1_block1_conv"].attrs["activation"] == "relu"
    assert not any(layer.op == "activation" for layer in vgg)
    text = (ROOT / "specs" / "vgg16.yaml").read_text()
    bn = text.replace(
        "filters: 64, depth: 2, stride: 2}",
        "filters: 64, depth: 2, stride: 2, norm: true, pool: avg}",
    )
    graph = archspec.lower(archspec.loads(bn))
    assert [layer.local for layer in graph if layer.block == "stage1_block1"] == [
        "conv",
        "bn",
        "relu",
    ]
    assert "activation" not in graph["stage1_block1_conv"].attrs
    assert graph["stage1_downsample_pool"].op == "avg_pool"
    assert graph["stage2_block1_conv"].attrs["activation"] == "relu"  # other stages unchanged


def test_the_readme_shows_the_mixed_example_as_it_is():
    readme = (ROOT / "README.md").read_text()
    spec = (ROOT / "examples" / "resnet_convnext.yaml").read_text()
    assert f"```yaml\n{spec}```" in readme
    source = archspec.codegen(archspec.load(ROOT / "examples" / "resnet_convnext.yaml"))
    functions = [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
    section = readme[readme.index("### Mixing families") : readme.index("## Command line")]
    assert functions[-1] == "build_model"
    assert all(f"`{name}`" in section for name in functions[:-1])


def test_settings_with_nothing_to_act_on_are_warnings_at_their_keys():
    text = """
name: w
input: {shape: [32, 32, 3]}
stem: {filters: 8, norm: false, activation: false}
stages:
  - {block: preact_basic, filters: 8}
head: {classes: 3}
keras: {sequential_transitions: true}
"""
    analysis = archspec.analyze(archspec.loads(text, "w.yaml"))
    found = {(w.path, w.code, w.location.line) for w in analysis.warnings}
    assert found == {
        ("stem.activation", "unused", 4),
        ("keras.sequential_transitions", "unused", 8),
    }
    no_stem = text.replace("stem: {filters: 8, norm: false, activation: false}", "stem: null")
    no_stem = no_stem.replace("sequential_transitions", "sequential_stem")
    (warning,) = archspec.analyze(archspec.loads(no_stem)).warnings
    assert (warning.path, warning.code) == ("keras.sequential_stem", "unused")


@pytest.mark.keras
def test_convnext_drop_path_equals_keras_applications_convnext_with_a_rate():
    """keras.applications' ConvNeXtTiny fixes drop_path_rate at 0; its ConvNeXt() takes one."""
    from keras.src.applications.convnext import MODEL_CONFIGS, ConvNeXt

    from archspec.backends.keras import build_model

    config = MODEL_CONFIGS["tiny"]
    peer = ConvNeXt(
        config["depths"], config["projection_dims"], drop_path_rate=0.1, input_shape=(32, 32, 3)
    )
    spec = archspec.load("convnext_tiny")
    spec = spec.model_copy(update={"drop_path": spec.drop_path.model_copy(update={"rate": 0.1})})
    model = build_model(archspec.lower(spec, input_size=(32, 32)))
    assert layer_sequence(model) == layer_sequence(peer)
    kept = [layer for layer in peer.layers if type(layer).__name__ == "StochasticDepth"]
    ours = [layer for layer in model.layers if type(layer).__name__ == "StochasticDepth"]
    assert len(ours) == len(kept) == 17  # the first of 18 blocks has rate 0: an identity
    assert [layer.drop_path_rate for layer in ours] == pytest.approx(
        [layer.drop_path_rate for layer in kept]
    )
    assert_same_outputs(model, peer)  # at inference drop path is the identity


def test_sequential_groups_are_chains_read_only_at_their_end():
    from archspec.graph_builder import GraphBuilder

    spec = small_spec()
    graph = GraphBuilder(spec)
    x = graph.add("input", "input", (), {"shape": (8, 8, 3)})
    with graph.sequential("pair"):
        a = graph.conv("a_conv", x, 4, 3, 1, bias=True)
        b = graph.norm("b_norm", a)
    assert [layer.group for layer in graph.layers] == [None, "pair", "pair"]
    with pytest.raises(AssertionError, match="inside a sequential group"):
        graph.act("reads_a", a)
    graph.act("reads_b", b)  # the group's output may be read
    with pytest.raises(AssertionError, match="does not read"), graph.sequential("split"):
        graph.act("c", b)
        graph.act("d", b)
    with pytest.raises(AssertionError, match="taken"), graph.sequential("pair"):
        pass


@pytest.mark.keras
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_convnext_layers_groups_and_operations_run_on_other_backends(backend, tmp_path):
    """LayerScale, StochasticDepth (trained a step), keras.Sequential and + on JAX and PyTorch."""
    import importlib.util
    import json
    import os
    import subprocess
    import sys

    from archspec.backends.keras import build_model
    from tests.test_backends import OTHER_BACKEND

    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed here (CI installs it)")
    spec_path = tmp_path / "tiny_convnext.yaml"
    spec_path.write_text(TINY_CONVNEXT)
    reference = build_model(archspec.lower(archspec.load(spec_path)))
    randomize_weights(reference, seed=8)
    weights = reference.get_weights()
    images = np.random.default_rng(9).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.savez(tmp_path / "weights.npz", **{f"w{i}": w for i, w in enumerate(weights)})
    np.save(tmp_path / "images.npy", images)
    arguments = [str(spec_path), str(tmp_path / "weights.npz"), str(tmp_path / "images.npy")]
    result = subprocess.run(
        [sys.executable, "-c", OTHER_BACKEND, *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, "KERAS_BACKEND": backend},
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert (report["backend"], report["layers"]) == (backend, len(reference.layers))
    expected = outputs(reference, images)
    for kind in ("built", "generated"):
        np.testing.assert_allclose(report["outputs"][kind], expected, rtol=1e-4, atol=1e-5)
    assert np.isfinite(report["loss"])


def test_generated_code_with_archspecs_layers_passes_ruff(tmp_path):
    """The copied classes keep to generated code's rules (88 columns, pydocstyle)."""
    import subprocess
    import sys

    from tests.test_codegen import RUFF_CHECK

    source = archspec.codegen(archspec.loads(TINY_CONVNEXT))
    assert "class LayerScale" in source and "class StochasticDepth" in source
    path = tmp_path / "tiny_convnext.py"
    path.write_text(source)
    for command in (RUFF_CHECK, ["format", "--isolated", "--check", "--diff"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, str(path)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
