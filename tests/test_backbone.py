"""Headless backbones (`head.top: false`): keras.applications' include_top=False, any preset.

The features are the output: the last feature map (`pool: none`, keras's pooling=None) or the
pooled vector (`pool: avg|max`). The top conv and the final norm stay, as keras keeps them.
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import archspec
from archspec.cli import main
from archspec.cost import cost_rows
from archspec.errors import SpecError
from tests.test_codegen import generated_module
from tests.test_keras_backend import layer_sequence

HEADLESS = {"head.top": False, "head.pool": "none"}


def headless(name: str, pool: str = "none", **overrides: object) -> archspec.Graph:
    spec = archspec.load(name, overrides={"head.top": False, "head.pool": pool, **overrides})
    return archspec.lower(spec)


def test_the_output_is_the_last_feature_map():
    full = archspec.lower(archspec.load("resnet50v2"))
    graph = headless("resnet50v2")
    assert graph[graph.output].shape == (7, 7, 2048)
    assert graph.output == "head_relu"  # the final BN -> ReLU of a pre-activation network stays
    assert full.params - graph.params == 2048 * 1000 + 1000  # the classifier, and only it
    assert [row.name for row in cost_rows(graph)][-1] == "head"


def test_a_v1_backbone_ends_at_its_last_stage_and_every_view_says_so():
    graph = headless("resnet50")
    assert graph[graph.output].scope == graph.stages[-1].name
    assert "head" not in [row.name for row in cost_rows(graph, "layer")]
    diagram = CliRunner().invoke(main, ["graph", "resnet50", "--set", "head.top=false",
                                        "--set", "head.pool=none"]).output  # fmt: skip
    assert f'{graph.stages[-1].blocks[-1]}_add -->|"7x7x2048"| output' in diagram
    source = archspec.codegen("resnet50", overrides=HEADLESS)
    assert "def build_model(input_shape=(224, 224, 3)):" in source  # no classes to take


def test_pooled_features_and_inputs_of_any_size():
    assert headless("resnet50", "avg")[headless("resnet50", "avg").output].shape == (2048,)
    graph = headless("efficientnet_b0", **{"input.shape": [None, None, 3]})
    assert graph[graph.output].shape == (None, None, 1280)  # top conv, BN, swish kept
    result = CliRunner().invoke(
        main, ["inspect", "resnet50", "--set", "head.top=false", "--set", "head.pool=none",
               "--set", "input.shape=[null,null,3]"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "?x?x2048" in result.output


def test_a_classifier_without_pooling_or_classes_is_a_located_error(tmp_path):
    result = CliRunner().invoke(main, ["inspect", "resnet50", "--set", "head.pool=none"])
    assert result.exit_code == 1
    assert "--set head.pool=none: error: head.pool: a classifier needs pooled features" in (
        result.stderr
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: x\ninput: {shape: [32, 32, 3]}\nstem: {filters: 8}\n"
        "stages: [{block: basic, filters: 8, depth: 1, stride: 1}]\nhead: {pool: avg}\n"
    )
    with pytest.raises(SpecError) as caught:
        archspec.lower(archspec.load(spec))
    (error,) = caught.value.errors
    assert (error.path, error.location.line) == ("head.classes", 5)  # at the head: not written
    assert error.message == "missing required key 'classes'"
    assert "top: false" in error.hint
    spec.write_text(spec.read_text().replace("{pool: avg}", "{top: false, pool: none}"))
    assert archspec.lower(archspec.load(spec)).params > 0
    spec.write_text(spec.read_text().replace("{top: false, pool: none}", "{classes: null}"))
    with pytest.raises(SpecError) as caught:
        archspec.lower(archspec.load(spec))
    (error,) = caught.value.errors
    assert error.path == "head.classes"
    assert error.message == "the classifier needs a number of classes"


# --- keras.applications, include_top=False -----------------------------------------------------

PEERS = [
    ("resnet50v2", "ResNet50V2", None),
    ("resnet50", "ResNet50", "max"),
    ("efficientnet_b0", "EfficientNetB0", "avg"),
    ("mobilenetv3_small", "MobileNetV3Small", None),
    ("vgg16", "VGG16", None),
    ("densenet121", "DenseNet121", "avg"),
    ("convnext_tiny", "ConvNeXtTiny", None),
    ("mobilenet", "MobileNet", "max"),
]
"""(preset, keras.applications model, pooling): compared at 64x64, both built at that size."""


@pytest.mark.keras
@pytest.mark.parametrize(("name", "application", "pooling"), PEERS, ids=[p[0] for p in PEERS])
def test_a_headless_preset_equals_keras_applications_without_top(name, application, pooling):
    import keras

    from archspec.backends.keras import build_model

    peer = getattr(keras.applications, application)(
        weights=None, include_top=False, pooling=pooling, input_shape=(64, 64, 3)
    )
    spec = archspec.load(name, overrides={"head.top": False, "head.pool": pooling or "none"})
    model = build_model(archspec.lower(spec, input_size=(64, 64)))
    assert layer_sequence(model) == layer_sequence(peer)
    model.set_weights(peer.get_weights())
    images = np.random.default_rng(3).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    np.testing.assert_array_equal(model(images), peer(images))
    if name == "resnet50v2":  # generated code builds the same backbone
        source = archspec.codegen(spec)
        built = generated_module(source, name).build_model(input_shape=(64, 64, 3))
        assert layer_sequence(built) == layer_sequence(peer)
