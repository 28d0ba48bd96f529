"""The classic families (VGG, DenseNet, MobileNet, ConvNeXt) and the mechanisms they need."""

from __future__ import annotations

import numpy as np
import pytest

import archspec
from tests.test_keras_backend import distinct_weights, layer_sequence, outputs

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
}
"""Figures from /work/shared/ANCHORS.md (Keras 3.15, weights=None, default arguments). VGG's
outputs are compared at 32x32: its Flatten ties the Dense weights to the input size, so both
models are rebuilt there (keras.applications takes input_shape with weights=None)."""


def assert_same_outputs(model, peer, seed: int = 0) -> None:
    """After `model.set_weights(peer.get_weights())` both compute the same, bit for bit."""
    peer.set_weights(distinct_weights(peer, seed))
    model.set_weights(peer.get_weights())
    shape = (2, *peer.input_shape[1:])
    images = np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")
    np.testing.assert_array_equal(outputs(model, images), outputs(peer, images))


def built_at(name: str, size: int):
    from archspec.backends.keras import build_model

    return build_model(archspec.lower(archspec.load(name), input_size=(size, size)))


@pytest.mark.keras
@pytest.mark.parametrize("name", list(PEERS))
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
