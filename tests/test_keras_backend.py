"""The compiled models are the reference models: layer for layer, weight for weight."""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from archspec.ops import keras_layers
from tests.conftest import BUILT_SPECS

pytestmark = pytest.mark.keras


def randomize_weights(model, seed: int) -> None:
    """Give every weight a random value, all different, so a transfer into the wrong layer shows.

    Moving variances stay positive (a negative one would make every output NaN, and NaN
    equals NaN in assert_array_equal). One variable at a time, in float32: the largest models
    never hold a second copy of their weights here.
    """
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        shape = tuple(weight.shape)
        if weight.path.endswith("moving_variance"):
            weight.assign(rng.uniform(0.5, 1.5, shape).astype("float32"))
        else:
            weight.assign(rng.standard_normal(shape, dtype=np.float32) * np.float32(0.05))


def outputs(model, images: np.ndarray) -> np.ndarray:
    """The model's inference outputs, called eagerly (tracing a graph costs more here)."""
    return np.asarray(model(images, training=False))


def layer_sequence(model) -> list[tuple[str, tuple, int]]:
    return [
        (layer.__class__.__name__, tuple(layer.output.shape), layer.count_params())
        for layer in model.layers
    ]


def test_resnet22_has_the_seed_figures(built_models):
    model = built_models("resnet22")
    assert len(model.layers) == 67
    assert model.count_params() == 1_751_924
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 1_750_196


def test_resnet22_layer_sequence_equals_the_hand_written_reference(
    built_models, reference_resnet22
):
    assert layer_sequence(built_models("resnet22")) == layer_sequence(reference_resnet22)


def test_resnet22_gives_identical_outputs_after_weight_transfer(built_models, reference_resnet22):
    model = built_models("resnet22")
    weights = reference_resnet22.get_weights()
    # Make every weight distinct, so a transfer into the wrong layer cannot go unnoticed.
    rng = np.random.default_rng(22)
    weights = [rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in weights]
    reference_resnet22.set_weights(weights)
    model.set_weights(weights)
    images = rng.uniform(0, 1, (3, 256, 256, 3)).astype("float32")
    expected = reference_resnet22.predict_on_batch(images)
    np.testing.assert_array_equal(model.predict_on_batch(images), expected)


def assert_keras_layers_match_the_ir(graph, model) -> None:
    """model.layers are the IR's layers: the same names, output shapes and parameters.

    A sequential group is one Keras layer (its figures are its members'); an op computed as
    a Keras operation (keras.ops) is no layer. (Keras orders model.layers by its own
    topological sort, so they are matched by name.)
    """
    assert graph.params == model.count_params()
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert graph.trainable_params == trainable
    assert graph.layer_count == len(model.layers)
    entries = dict(keras_layers(graph))
    assert sorted(entries) == sorted(layer.name for layer in model.layers)
    for keras_layer in model.layers:
        members = entries[keras_layer.name]
        assert tuple(keras_layer.output.shape[1:]) == members[-1].shape, keras_layer.name
        assert keras_layer.count_params() == sum(layer.params for layer in members)


@pytest.mark.parametrize("spec_path", BUILT_SPECS)
def test_ir_figures_equal_keras_for_every_shipped_spec(spec_path, built_models):
    graph = archspec.lower(archspec.load(spec_path))
    assert_keras_layers_match_the_ir(graph, built_models(spec_path.stem))


def test_saved_model_loads_with_plain_keras(built_models, tmp_path):
    import keras

    model = built_models("resnet22")
    path = tmp_path / "resnet22.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    images = np.random.default_rng(0).uniform(0, 1, (2, 256, 256, 3)).astype("float32")
    np.testing.assert_array_equal(loaded.predict_on_batch(images), model.predict_on_batch(images))
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


def test_layers_carry_the_explicit_ir_names(built_models):
    model = built_models("resnet22")
    graph = archspec.lower(archspec.load("specs/resnet22.yaml"))
    assert sorted(layer.name for layer in model.layers) == sorted(
        layer.name for layer in graph if layer.is_layer
    )
    assert model.get_layer("stage2_block1_conv1").strides == (2, 2)
    assert model.get_layer("stage2_block1_shortcut_conv").kernel_size == (1, 1)


@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_keeps_the_classifier_in_float32(precision):
    model = archspec.build("specs/resnet22.yaml", precision=precision)
    compute = precision.removeprefix("mixed_")
    assert model.get_layer("stage1_block1_conv1").compute_dtype == compute
    assert model.get_layer("stage1_block1_conv1").variable_dtype == "float32"
    assert model.get_layer("classifier").compute_dtype == "float32"
    assert model.output.dtype == "float32"
