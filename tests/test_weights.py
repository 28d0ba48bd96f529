"""Weights by layer name: a changed spec keeps what its change left alone, and says the rest."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import archspec
from archspec.cli import main
from archspec.weights import LoadReport, WeightsError, match_layers, read_keras_weights
from tests.conftest import ROOT

pytestmark = pytest.mark.keras

RESNET22 = (ROOT / "specs" / "resnet22.yaml").read_text()


def changed(change: str, name: str) -> archspec.Spec:
    """resnet22 with `change` (YAML merged over it, as `extends` does)."""
    return archspec.loads(f"extends: resnet22\nname: {name}\n{change}", f"{name}.yaml")


CHANGES = {
    "other_classes": "head: {dense: [128], classes: 10}\n",
    "one_more_stage": (
        "stages:\n"
        "  - {block: preact_basic, filters: 16, stride: 2, depth: 2}\n"
        "  - {block: preact_basic, filters: 32, stride: 2, depth: 2}\n"
        "  - {block: preact_basic, filters: 64, stride: 2, depth: 2}\n"
        "  - {block: preact_basic, filters: 128, stride: 2, depth: 2}\n"
        "  - {block: preact_basic, filters: 128, stride: 1, depth: 1}\n"
    ),
    "another_width": (
        "stages:\n"
        "  - {block: preact_basic, filters: 16, stride: 2, depth: 2}\n"
        "  - {block: preact_basic, filters: 32, stride: 2, depth: 2}\n"
        "  - {block: preact_basic, filters: 64, stride: 2, depth: 2}\n"
        "  - {block: preact_basic, filters: 96, stride: 2, depth: 2}\n"
    ),
}


@pytest.fixture(scope="module")
def saved_resnet22(tmp_path_factory):
    """resnet22 with distinct random weights, saved as .weights.h5 and as .keras."""
    model = archspec.build("resnet22", seed=7)
    rng = np.random.default_rng(22)
    model.set_weights([rng.normal(0, 0.1, w.shape).astype("float32") for w in model.weights])
    folder = tmp_path_factory.mktemp("weights")
    model.save_weights(folder / "resnet22.weights.h5")
    model.save(folder / "resnet22.keras")
    return model, folder


@pytest.mark.parametrize("suffix", [".weights.h5", ".keras"])
def test_the_same_spec_loads_every_layer(saved_resnet22, suffix):
    source, folder = saved_resnet22
    file = read_keras_weights(folder / f"resnet22{suffix}")
    assert set(file) == {layer.name for layer in source.layers if layer.weights}
    model = archspec.build("resnet22", weights=folder / f"resnet22{suffix}", weights_strict=True)
    for ours, theirs in zip(model.weights, source.weights, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_changed_spec_loads_what_matches_and_reports_the_rest(saved_resnet22, change):
    source, folder = saved_resnet22
    model = archspec.build(changed(CHANGES[change], change))
    report = archspec.load_weights(model, folder / "resnet22.weights.h5")
    loaded = {name for name, _ in report.loaded}
    for name in loaded:
        for ours, theirs in zip(
            model.get_layer(name).weights, source.get_layer(name).weights, strict=True
        ):
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    if change == "other_classes":
        assert report.mismatched == (("classifier", "128x10, 10", "128x4, 4"),)
        assert report.missing == report.unused == ()
    elif change == "one_more_stage":
        assert report.missing[:3] == (
            "stage5_block1_preact_bn", "stage5_block1_conv1", "stage5_block1_bn1"
        )  # fmt: skip
        assert report.mismatched == report.unused == ()
    else:
        names = [name for name, _, _ in report.mismatched]
        assert names[:3] == ["stage4_block1_conv1", "stage4_block1_bn1", "stage4_block1_conv2"]
        assert "head_dense1" in names and report.missing == report.unused == ()
        assert "stage3_block2_conv2" in loaded
    assert not report.complete
    assert len(loaded) + len(report.missing) + len(report.mismatched) == sum(
        1 for layer in model.layers if layer.weights
    )


def test_weights_strict_fails_on_any_miss(saved_resnet22, tmp_path):
    _, folder = saved_resnet22
    spec = changed(CHANGES["other_classes"], "other_classes")
    with pytest.raises(WeightsError, match="1 layers of the model were not loaded: classifier"):
        archspec.build(spec, weights=folder / "resnet22.weights.h5", weights_strict=True)
    path = tmp_path / "other_classes.yaml"
    path.write_text(
        f"extends: {ROOT / 'specs' / 'resnet22.yaml'}\nname: x\n" + CHANGES["other_classes"]
    )
    weights = str(folder / "resnet22.weights.h5")
    runner = CliRunner()
    result = runner.invoke(main, ["build", str(path), "--weights", weights])
    assert result.exit_code == 0, result.output
    assert "loaded" in result.output and "mismatched" in result.output
    assert "128x10, 10" in result.output and "128x4, 4" in result.output
    strict = runner.invoke(main, ["build", str(path), "--weights", weights, "--weights-strict"])
    assert strict.exit_code == 1
    assert "1 layers were not loaded" in strict.output


def test_an_unreadable_weights_file_exits_2_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.weights.h5"
    bad.write_bytes(b"not hdf5")
    result = CliRunner().invoke(main, ["build", "resnet22", "--weights", str(bad)])
    assert result.exit_code == 2
    assert "not a readable Keras weights file" in result.output
    assert "Traceback" not in result.output
    other = tmp_path / "weights.npz"
    other.write_bytes(b"")
    with pytest.raises(WeightsError, match=r"\.weights\.h5 or a \.keras file"):
        read_keras_weights(other)


def test_match_layers_never_loads_a_layer_in_part():
    file = {"a": [np.zeros((3, 3)), np.zeros(3)], "b": [np.zeros(2)], "c": [np.zeros(1)]}
    model = {"a": [(3, 3), (4,)], "b": [(2,)], "d": [(1,)]}
    assign, report = match_layers(model, file)
    assert set(assign) == {"b"}
    assert report == LoadReport(
        loaded=(("b", 2),), missing=("d",), mismatched=(("a", "3x3, 4", "3x3, 3"),), unused=("c",)
    )


def test_fine_tuning_a_changed_resnet50v2_from_keras_applications_weights(tmp_path):
    """keras.applications weights -> the equal preset -> a changed spec, then one training step."""
    import keras

    peer = keras.applications.ResNet50V2(weights=None, input_shape=(64, 64, 3))
    rng = np.random.default_rng(50)
    peer.set_weights([rng.normal(0, 0.05, w.shape).astype("float32") for w in peer.weights])
    from archspec.backends.keras import build_model

    equal = build_model(archspec.lower(archspec.load("resnet50v2"), input_size=(64, 64)))
    equal.set_weights(peer.get_weights())
    equal.save_weights(tmp_path / "resnet50v2.weights.h5")
    spec = archspec.loads(
        "extends: resnet50v2\nname: mine\ninput: {shape: [64, 64, 3]}\nhead: {classes: 5}\n"
    )
    model = archspec.build(spec, weights=tmp_path / "resnet50v2.weights.h5")
    assert model.get_layer("head_bn").get_weights()[0].tolist() == (
        peer.get_layer("post_bn").get_weights()[0].tolist()
    )
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    images = rng.uniform(0, 1, (4, 64, 64, 3)).astype("float32")
    labels = np.array([0, 1, 2, 3])
    before = model.get_layer("classifier").get_weights()[0].copy()
    loss = model.train_on_batch(images, labels)
    assert np.isfinite(loss)
    assert not np.array_equal(model.get_layer("classifier").get_weights()[0], before)
