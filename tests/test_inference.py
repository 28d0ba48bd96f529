"""Inference builds: BN folded into the conv before it, identity layers dropped, same outputs."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from typing import ClassVar, Literal

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import archspec
from archspec.backends.python import generate
from archspec.blocks.base import StageSpec, unregister
from archspec.blocks.residual import Shortcut
from archspec.cli import main
from archspec.inference import plan_inference
from archspec.ops import op_of
from tests.conftest import SPECS
from tests.test_codegen import RUFF_CHECK, generated_module
from tests.test_keras_backend import layer_sequence

RELATIVE_TOLERANCE = 1e-5
"""Folding changes the order of float32 roundings, nothing else (the issue's bound)."""

POST_ACTIVATION = {
    "name": "post_small",
    "input": {"shape": [32, 32, 3]},
    "stem": {"filters": 8, "kernel": 3, "stride": 1, "pool": {"kind": "max", "size": 3}},
    "stages": [
        {"block": "basic", "filters": 8, "depth": 2},
        {"block": "bottleneck", "filters": 8, "stride": 2, "depth": 2, "se": {"divisor": 4}},
    ],
    "drop_path": {"rate": 0.2, "schedule": "linear"},
    "conv": {"bias": {"block": False, "block_out": False, "shortcut": False}},
    "head": {
        "conv": {"filters": 48, "activation": "relu"},
        "dense": [16],
        "dropout": 0.3,
        "classes": 5,
        "activation": "linear",
        "activation_layer": True,
    },
}


def graph_of(document: dict) -> archspec.Graph:
    return archspec.lower(archspec.Spec.model_validate(document))


def ops_of(graph: archspec.Graph) -> list[str]:
    return [layer.op for layer in graph]


# --- the IR pass ------------------------------------------------------------------------------


def test_post_activation_blocks_lose_every_bn_and_the_head_its_identities():
    plan = plan_inference(graph_of(POST_ACTIVATION))
    training, inference = plan.training, plan.graph
    assert "batch_norm" in ops_of(training)
    assert "batch_norm" not in ops_of(inference)
    assert "dropout" not in ops_of(inference)
    assert "classifier_activation" not in {layer.name for layer in inference}  # linear
    # The linear schedule starts at rate 0: the first block has no drop path.
    drop_paths = [f"stage{s}_block{b}_drop_path" for s, b in ((1, 2), (2, 1), (2, 2))]
    assert plan.dropped == (*drop_paths, "head_dropout", "classifier_activation")
    assert len(plan.folds) == ops_of(training).count("batch_norm")
    assert inference.output == "classifier"
    assert inference["classifier"].inputs == ("head_dense1",)
    # The conv takes the BN's place: its readers read the conv; it gains a bias.
    conv, norm = "stage1_block1_conv2", "stage1_block1_bn2"
    assert training[norm].inputs == (conv,)
    assert inference["stage1_block1_add"].inputs[0] == conv
    assert not training[conv].attrs["use_bias"] and inference[conv].attrs["use_bias"]
    assert inference[conv].params == training[conv].params + training[conv].attrs["filters"]
    assert inference["stem_conv"].params == training["stem_conv"].params  # had a bias
    assert inference["stem_relu"].inputs == ("stem_conv",)


def test_parameters_shrink_by_the_folded_bns_and_grow_by_the_new_biases():
    plan = plan_inference(graph_of(POST_ACTIVATION))
    norms = sum(plan.training[fold.norm].params for fold in plan.folds)
    biases = sum(
        plan.training[fold.conv].attrs["filters"]
        for fold in plan.folds
        if not plan.training[fold.conv].attrs["use_bias"]
    )
    assert plan.graph.params == plan.training.params - norms + biases
    assert plan.graph.trainable_params == plan.graph.params  # no moving statistics are left
    assert plan.graph.macs == plan.training.macs


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.stem)
def test_every_shipped_spec_gives_a_consistent_inference_graph(spec_path):
    plan = plan_inference(archspec.lower(archspec.load(spec_path)))
    graph = plan.graph
    names = {layer.name for layer in graph}
    assert len(names) == len(graph) == len(plan.training) - len(plan.removed)
    readers = [source for layer in graph for source in layer.inputs]
    seen: set[str] = set()
    for layer in graph:  # every input is created before it is read
        assert set(layer.inputs) <= seen, layer.name
        seen.add(layer.name)
        assert not op_of(layer.op).is_identity_at_inference(layer.attrs)
        if layer.op == "batch_norm":  # what stays follows no conv, or one read elsewhere too
            source = graph[layer.inputs[0]]
            assert op_of(source.op).fold_axes == 0 or readers.count(source.name) > 1, layer.name
    for block in graph.blocks:
        assert set(block.layers) <= names and block.output in names and block.input in names
        assert all(graph[name].block == block.name for name in block.layers)
    assert [s.blocks for s in graph.stages] == [s.blocks for s in plan.training.stages]
    assert graph.output in names
    # Pre-activation blocks fold the BNs inside the residual branch; the one before it stays,
    # unless it reads a conv that only it reads (a stem conv whose shortcut reads the preact).
    folded_into = {fold.norm: fold.conv for fold in plan.folds}
    for block in graph.blocks:
        if block.kind.startswith("preact"):
            local = {graph[name].local for name in block.layers}
            assert "bn1" not in local and "bn2" not in local
            preact = f"{block.name}_preact_bn"
            if preact not in names:
                assert plan.training[folded_into[preact]].op == "conv2d"


def with_layer_after(graph: archspec.Graph, source: str, name: str, op: str, attrs, inputs=None):
    """`graph` with a new layer reading `source` (or `inputs`), which `source`'s reader reads."""
    layers = list(graph.layers)
    position = next(i for i, layer in enumerate(layers) if layer.name == source) + 1
    base = graph[source]
    extra = archspec.Layer(
        name=name,
        op=op,
        inputs=inputs or (source,),
        attrs=attrs,
        shape=base.shape,
        params=0,
        trainable_params=0,
        macs=0,
        scope=base.scope,
    )
    reader = next(i for i, layer in enumerate(layers) if source in layer.inputs)
    rewired = tuple(name if s == source else s for s in layers[reader].inputs)
    layers[reader] = dataclasses.replace(layers[reader], inputs=rewired)
    layers.insert(position, extra)
    return archspec.Graph(graph.name, "", tuple(layers), graph.blocks, graph.stages, graph.output)


def test_a_conv_read_by_more_than_its_bn_keeps_the_bn():
    training = graph_of(POST_ACTIVATION)
    # A second reader of the conv: the sum conv + BN(conv) needs the unnormalized conv.
    edited = with_layer_after(
        training,
        "stage1_block1_bn1",
        "extra_add",
        "add",
        {},
        inputs=("stage1_block1_conv1", "stage1_block1_bn1"),
    )
    names = {layer.name for layer in plan_inference(edited).graph}
    assert "stage1_block1_bn1" in names and "stage1_block1_bn2" not in names


def test_a_bn_after_a_dropout_after_a_conv_folds_into_the_conv():
    training = graph_of(POST_ACTIVATION)
    edited = with_layer_after(
        training,
        "stage1_block1_conv1",
        "extra_dropout",
        "dropout",
        {"rate": 0.5, "noise_shape": None},
    )
    assert edited["stage1_block1_bn1"].inputs == ("extra_dropout",)
    plan = plan_inference(edited)
    assert "extra_dropout" in plan.dropped
    assert ("stage1_block1_conv1", "stage1_block1_bn1") in {(f.conv, f.norm) for f in plan.folds}
    assert plan.graph["stage1_block1_relu1"].inputs == ("stage1_block1_conv1",)


def test_an_inference_graph_has_nothing_left_to_fold():
    once = plan_inference(graph_of(POST_ACTIVATION)).graph
    again = plan_inference(once)
    assert again.folds == () and again.dropped == ()
    assert again.graph.layers == once.layers


# --- test-defined blocks: a depthwise conv, and drop path as per-sample dropout ---------------


@pytest.fixture
def depthwise_block():
    """An inverted-residual-like block: 1x1 expand, depthwise 3x3 (x2), 1x1 project, drop path."""

    class DepthwiseStage(StageSpec):
        """1x1 conv -> BN -> ReLU6 -> depthwise 3x3 x2 -> BN -> ReLU6 -> 1x1 conv -> BN, add."""

        block: Literal["dw_test"]
        preactivation: ClassVar[bool] = False

        def lower_block(self, b, x):
            residual = Shortcut(b, b.filters)
            h = b.conv("expand", x, b.filters * 2, 1, bias=False)
            h = b.activation("expand_relu", b.norm("expand_bn", h), "relu6")
            attrs = {
                "kernel": 3,
                "strides": b.stride,
                "padding": "same",
                "depth_multiplier": 2,
                "use_bias": False,
            }
            h = b.layer("depthwise_conv2d", "dwconv", (h,), attrs)
            h = b.activation("dw_relu", b.norm("dw_bn", h), "relu6")
            h = b.conv("project", h, b.filters, 1, bias=False)
            h = b.norm("project_bn", h)
            drop = {"rate": 0.2, "noise_shape": (None, 1, 1, 1)}
            h = b.layer("dropout", "drop_path", (h,), drop)
            return residual.add(h, residual.build(x, None, norm=True))

    yield DepthwiseStage
    unregister("dw_test")


DEPTHWISE = {
    "name": "dw_small",
    "input": {"shape": [24, 24, 3]},
    "stem": {"filters": 8, "stride": 2},
    "stages": [
        {"block": "dw_test", "filters": 8, "depth": 2},
        {"block": "dw_test", "filters": 16, "stride": 2, "depth": 2},
    ],
    "conv": {"bias": {"stem": False}},
    "head": {"classes": 4, "activation": "linear"},
}


def test_depthwise_convs_take_their_bn_and_drop_path_goes(depthwise_block):
    plan = plan_inference(graph_of(DEPTHWISE))
    names = {layer.name for layer in plan.graph}
    assert not any(op in ops_of(plan.graph) for op in ("batch_norm", "dropout"))
    assert ("stage1_block1_dwconv", "stage1_block1_dw_bn") in {(f.conv, f.norm) for f in plan.folds}
    dw = plan.graph["stage1_block1_dwconv"]
    assert dw.attrs["use_bias"] and dw.params == 9 * 32 + 32  # 16 channels x 2, a bias each
    # The dropped drop path's reader, the add, reads the folded project conv.
    assert plan.graph["stage1_block1_add"].inputs[0] == "stage1_block1_project"
    block = next(b for b in plan.graph.blocks if b.name == "stage1_block1")
    assert "stage1_block1_drop_path" not in block.layers and set(block.layers) <= names


# --- Keras: the folded model computes what the training model computes ----------------------


def randomise(model, seed: int) -> None:
    """BN statistics and biases far from their initial values, kernels as initialised."""
    import keras

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.gamma.shape[0]
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, channels),
                    rng.normal(0, 0.2, channels),
                    rng.normal(0, 0.3, channels),
                    rng.uniform(0.3, 3.0, channels),
                ]
            )
        elif getattr(layer, "use_bias", False):
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.normal(0, 0.2, bias.shape)])


def relative_difference(actual, expected) -> float:
    return float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))


def assert_folds_exactly(graph: archspec.Graph, images: np.ndarray, seed: int = 0):
    from archspec.backends.keras import build_model, fold_model

    plan = plan_inference(graph)
    training = build_model(graph)
    randomise(training, seed)
    inference = fold_model(training, plan)
    assert inference.count_params() == plan.graph.params
    assert [layer.name for layer in inference.layers] == [layer.name for layer in plan.graph]
    expected = training.predict_on_batch(images)
    actual = inference.predict_on_batch(images)
    difference = relative_difference(actual, expected)
    assert difference < RELATIVE_TOLERANCE, difference
    # Folding did something: without the statistics, the outputs are far apart.
    unfolded = build_model(plan.graph)
    for layer in unfolded.layers:
        if layer.weights:
            source = training.get_layer(layer.name).get_weights()
            layer.set_weights(source + [np.zeros(w.shape) for w in layer.weights[len(source) :]])
    assert relative_difference(unfolded.predict_on_batch(images), expected) > 1e-2
    return inference


def images_for(graph: archspec.Graph, count: int = 3, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (count, *graph.input.shape)).astype("float32")


@pytest.mark.keras
def test_folded_post_activation_network_equals_the_training_network():
    graph = graph_of(POST_ACTIVATION)
    assert_folds_exactly(graph, images_for(graph))


@pytest.mark.keras
def test_folded_depthwise_network_equals_the_training_network(depthwise_block):
    graph = graph_of(DEPTHWISE)
    assert_folds_exactly(graph, images_for(graph))


@pytest.mark.keras
def test_folded_resnet22_equals_the_seed_model():
    # Class scores before the softmax, which would hide differences in saturated outputs.
    text = "extends: resnet22\nname: resnet22_scores\nhead: {activation: linear}\n"
    graph = archspec.lower(archspec.loads(text, "scores.yaml"))
    model = assert_folds_exactly(graph, images_for(graph, 2), seed=22)
    assert len(model.layers) == 67 - 9  # the stem BN, and the BN inside each of the 8 blocks


@pytest.mark.keras
@pytest.mark.parametrize(("preset", "folded"), [("mobilenetv2", 52), ("efficientnet_b0", 49)])
def test_folded_mobile_presets_equal_their_training_networks(preset, folded):
    # Depthwise convs, ReLU6 and SE (with drop path at inference: gone) in the real presets, at
    # a small input (the graph is the same) and with class scores before the softmax.
    text = (
        f"extends: {preset}\nname: {preset}_scores\ninput: {{shape: [64, 64, 3]}}\n"
        "head: {activation: linear}\n"
    )
    graph = archspec.lower(archspec.loads(text, "scores.yaml"))
    assert len(plan_inference(graph).folds) == folded
    assert_folds_exactly(graph, images_for(graph, 2), seed=7)


@pytest.mark.keras
def test_build_for_inference_through_the_api():
    model = archspec.build("resnet22", for_inference=True, seed=3)
    training = archspec.build("resnet22", seed=3)
    images = images_for(archspec.lower(archspec.load("resnet22")), 2)
    difference = relative_difference(
        model.predict_on_batch(images), training.predict_on_batch(images)
    )
    assert difference < RELATIVE_TOLERANCE
    assert not any(layer.__class__.__name__ == "Dropout" for layer in model.layers)


@pytest.mark.keras
def test_codegen_for_inference_builds_the_folded_architecture(tmp_path):
    path = tmp_path / "post_small.yaml"
    path.write_text(yaml.safe_dump(POST_ACTIVATION, sort_keys=False))
    source = archspec.codegen(path, for_inference=True)
    assert "layers.BatchNormalization(" not in source and "layers.Dropout(" not in source
    assert "Built for inference" in source
    generated = generated_module(source, "post_small").build_model()
    assert layer_sequence(generated) == layer_sequence(archspec.build(path, for_inference=True))


def test_codegen_for_inference_passes_ruff_as_generated(tmp_path):
    sources = {path.stem: archspec.codegen(path, for_inference=True) for path in SPECS}
    sources["post_small"] = generate(plan_inference(graph_of(POST_ACTIVATION)).graph)
    for name, source in sources.items():
        (tmp_path / f"{name}.py").write_text(source)
    ruff = [sys.executable, "-m", "ruff"]
    for command in (RUFF_CHECK, ["format", "--isolated", "--check", "--diff"]):
        result = subprocess.run(
            [*ruff, *command, str(tmp_path)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_codegen_for_inference_golden(golden):
    golden("codegen_inference/resnet22.py", archspec.codegen("resnet22", for_inference=True))


# --- the command line -------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_inspect_and_graph_for_inference_describe_the_folded_graph():
    training = archspec.lower(archspec.load("resnet22"))
    inference = plan_inference(training).graph
    result = run("inspect", "resnet22", "--for", "inference", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["params"] == inference.params != training.params
    assert document["non_trainable_params"] == inference.params - inference.trainable_params
    assert not any(row["name"].endswith("_bn1") for row in document["layers"])
    mermaid = run("graph", "resnet22", "--for", "inference").output
    assert "conv 3x3 16 → ReLU → conv 3x3 16" in mermaid


def test_bench_for_inference_times_inference_only():
    result = run("bench", "resnet22", "--for", "inference", "--phase", "train")
    assert result.exit_code == 2
    assert "--phase infer" in result.output


@pytest.mark.keras
def test_build_for_inference_saves_the_folded_model(tmp_path):
    import keras

    spec_path = tmp_path / "post_small.yaml"
    spec_path.write_text(yaml.safe_dump(POST_ACTIVATION, sort_keys=False))
    output = tmp_path / "post_small.keras"
    result = run("build", str(spec_path), "--for", "inference", "--seed", "1", "-o", str(output))
    assert result.exit_code == 0, result.output
    plan = plan_inference(graph_of(POST_ACTIVATION))
    assert plan.summary() in result.output
    assert f"{len(plan.graph)} layers, {plan.graph.params:,} parameters" in result.output
    loaded = keras.saving.load_model(output)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in plan.graph]
    training = archspec.build(spec_path, seed=1)
    images = images_for(plan.graph)
    difference = relative_difference(
        loaded.predict_on_batch(images), training.predict_on_batch(images)
    )
    assert difference < RELATIVE_TOLERANCE


# --- trained weights: loaded into the training model, then folded ----------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A spec file and a .weights.h5 of its training model with far-from-initial BN statistics."""
    folder = tmp_path_factory.mktemp("trained")
    spec_path = folder / "post_small.yaml"
    spec_path.write_text(yaml.safe_dump(POST_ACTIVATION, sort_keys=False))
    model = archspec.build(spec_path, seed=5)
    randomise(model, 5)
    weights = folder / "post_small.weights.h5"
    model.save_weights(weights)
    return spec_path, weights, model


@pytest.mark.keras
def test_weights_load_before_folding_through_the_api(trained):
    spec_path, weights, model = trained
    inference = archspec.build(spec_path, weights=weights, weights_strict=True, for_inference=True)
    images = images_for(plan_inference(graph_of(POST_ACTIVATION)).graph)
    expected = model.predict_on_batch(images)
    assert relative_difference(inference.predict_on_batch(images), expected) < RELATIVE_TOLERANCE
    initial = archspec.build(spec_path, seed=5, for_inference=True)  # the same, unloaded
    assert relative_difference(initial.predict_on_batch(images), expected) > 1e-2


@pytest.mark.keras
def test_build_and_export_for_inference_fold_the_weights_they_load(trained, tmp_path):
    import onnxruntime

    spec_path, weights, model = trained
    built = run("build", str(spec_path), "--weights", str(weights), "--for", "inference")
    assert built.exit_code == 0, built.output
    assert "loaded" in built.output
    assert "for inference: " in built.output
    output = tmp_path / "post_small.onnx"
    exported = run(
        "export", str(spec_path), "--format", "onnx", "-o", str(output),
        "--weights", str(weights), "--weights-strict", "--for", "inference",
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    images = images_for(plan_inference(graph_of(POST_ACTIVATION)).graph)
    session = onnxruntime.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    (scores,) = session.run(None, {"input": images})
    assert relative_difference(scores, model.predict_on_batch(images)) < RELATIVE_TOLERANCE
    over_input = ["--format", "savedmodel", "-o", str(weights), "--weights", str(weights)]
    refused = run("export", str(spec_path), *over_input)
    assert refused.exit_code == 2
    assert "refusing to overwrite a file this command reads" in refused.output
