"""The compiled models are the reference models: layer for layer, weight for weight."""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from tests.conftest import BUILT_SPECS

pytestmark = pytest.mark.keras


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


@pytest.mark.parametrize("spec_path", BUILT_SPECS)
def test_ir_figures_equal_keras_for_every_shipped_spec(spec_path, built_models):
    graph = archspec.lower(archspec.load(spec_path))
    model = built_models(spec_path.stem)
    assert graph.params == model.count_params()
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert graph.trainable_params == trainable
    assert graph.layer_count == len(model.layers)
    for layer in (layer for layer in graph if layer.is_layer):  # keras.ops calls have no name
        keras_layer = model.get_layer(layer.name)
        assert tuple(keras_layer.output.shape[1:]) == layer.shape, layer.name
        assert keras_layer.count_params() == layer.params, layer.name


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
