"""`archspec export`: SavedModel, ONNX and TFLite files that compute what the Keras model does.

Each export is loaded in its own runtime (TensorFlow, onnxruntime, the TFLite interpreter) and
its outputs compared with the Keras model's. A small spec keeps these fast.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest
from click.testing import CliRunner

import archspec
from archspec import ops
from archspec.blocks.base import StageSpec, unregister
from archspec.cli import main

pytestmark = pytest.mark.keras

SPEC = """\
name: export_small
input: {shape: [32, 32, 3]}
stem: {filters: 8, kernel: 3, stride: 1}
stages:
  - {block: basic, filters: 8, depth: 1}
  - {block: bottleneck, filters: 8, stride: 2, depth: 1}
head: {classes: 5, dropout: 0.2, activation: linear}
"""

SEED = 7

TOLERANCES = {
    "savedmodel": {"rtol": 0, "atol": 0},
    "onnx": {"rtol": 1e-5, "atol": 1e-6},
    "tflite": {"rtol": 1e-5, "atol": 1e-6},
}
"""A SavedModel runs TensorFlow's own kernels on the same graph: the outputs are the Keras
model's bit for bit. onnxruntime and TFLite (XNNPACK) have kernels of their own, which sum in
other orders: float32 rounding (measured: at most 7e-8 on outputs up to 0.5)."""


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "export_small.yaml"
    path.write_text(SPEC)
    return path


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(3).uniform(-1, 1, (4, 32, 32, 3)).astype("float32")


def run(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def run_saved_model(path, images):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # kept: its functions reference its variables
    return loaded.serve(images).numpy()


def run_onnx(path, images):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [item.name for item in session.get_inputs()] == ["input"]
    assert [item.name for item in session.get_outputs()] == ["output"]
    return session.run(None, {"input": images})[0]


def run_tflite(path, images):
    # LiteRT's own interpreter: tf.lite.Interpreter is deprecated in favour of it.
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    (given,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(given["index"], images.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(given["index"], images)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


RUNTIMES = {
    "savedmodel": ("model", run_saved_model),
    "onnx": ("model.onnx", run_onnx),
    "tflite": ("model.tflite", run_tflite),
}


@pytest.mark.parametrize("purpose", ["inference", "training"])
@pytest.mark.parametrize("export_format", list(RUNTIMES))
def test_exported_model_computes_the_keras_models_outputs(
    export_format, purpose, spec_path, images, tmp_path
):
    name, runtime = RUNTIMES[export_format]
    output = tmp_path / name
    result = run(
        "export", spec_path, "--format", export_format, "-o", output, "--for", purpose,
        "--seed", SEED,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"exported {output}" in result.output
    model = archspec.build(spec_path, seed=SEED, for_inference=purpose == "inference")
    expected = model.predict_on_batch(images)
    np.testing.assert_allclose(runtime(output, images), expected, **TOLERANCES[export_format])
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary left behind


def test_savedmodel_replaces_an_earlier_export_whole(spec_path, images, tmp_path):
    output = tmp_path / "model"
    assert run("export", spec_path, "--format", "savedmodel", "-o", output).exit_code == 0
    first = run_saved_model(output, images)
    again = ["--seed", SEED + 1, "--for", "inference"]
    assert run("export", spec_path, "--format", "savedmodel", "-o", output, *again).exit_code == 0
    assert not np.allclose(run_saved_model(output, images), first)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.parametrize(
    ("export_format", "name", "message"),
    [
        ("onnx", "model.tflite", "must end in .onnx"),
        ("tflite", "model.onnx", "must end in .tflite"),
        ("savedmodel", "export_small.yaml", "refusing to overwrite a file this command reads"),
        ("savedmodel", ".", "refusing to replace a folder that holds"),
        ("savedmodel", "..", "refusing to replace a folder that holds"),
        ("savedmodel", "other", "not an earlier export"),
        ("onnx", "missing/model.onnx", "does not exist"),
    ],
)
def test_refuses_outputs_it_must_not_write(spec_path, export_format, name, message):
    folder = spec_path.parent
    (folder / "other").mkdir(exist_ok=True)
    (folder / "other" / "notes.txt").write_text("keep me")
    before = sorted(p.name for p in folder.rglob("*"))
    result = run("export", spec_path, "--format", export_format, "-o", folder / name)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert sorted(p.name for p in folder.rglob("*")) == before
    assert (folder / "other" / "notes.txt").read_text() == "keep me"


def test_a_failed_export_leaves_the_earlier_one(spec_path, tmp_path, monkeypatch):
    from archspec.backends import keras as backend

    output = tmp_path / "model.onnx"
    output.write_bytes(b"earlier export")

    def broken(model, path, export_format):
        path.write_bytes(b"half")
        raise RuntimeError("converter crashed")

    monkeypatch.setattr(backend, "export_model", broken)
    with pytest.raises(RuntimeError):
        run("export", spec_path, "--format", "onnx", "-o", output)
    assert output.read_bytes() == b"earlier export"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


@pytest.fixture
def normalizing_block(monkeypatch):
    """A block type whose first layer is Keras's Normalization with fixed statistics."""
    normalize = ops.Op(
        "fixed_normalize",
        ops.KerasCall("Normalization", (), (ops.Keyword("mean"), ops.Keyword("variance"))),
        lambda a: "normalize",
    )
    monkeypatch.setitem(ops.OPS, normalize.name, normalize)

    class NormalizedStage(StageSpec):
        """Normalization (fixed mean and variance per channel), then conv -> BN -> ReLU."""

        block: Literal["normalized_plain"]

        def lower_block(self, b, x):
            channels = b.shape(x)[-1]
            statistics = {"mean": (0.5,) * channels, "variance": (4.0,) * channels}
            h = b.layer("fixed_normalize", "normalize", (x,), statistics)
            h = b.conv("conv", h, b.filters, 3, b.stride, bias=False)
            return b.act("relu", b.norm("bn", h))

    yield NormalizedStage
    unregister("normalized_plain")


NORMALIZED = """\
name: normalized
input: {shape: [16, 16, 3]}
stem: {filters: 4, stride: 1}
stages: [{block: normalized_plain, filters: 8, stride: 2}]
head: {classes: 3, activation: linear}
"""


def test_constants_that_layers_hold_stay_constants_in_onnx(normalizing_block, tmp_path, images):
    # Keras's own ONNX export makes Normalization's mean and variance into graph inputs.
    spec_path = tmp_path / "normalized.yaml"
    spec_path.write_text(NORMALIZED)
    output = tmp_path / "normalized.onnx"
    result = run("export", spec_path, "--format", "onnx", "-o", output, "--seed", SEED)
    assert result.exit_code == 0, result.output
    model = archspec.build(spec_path, seed=SEED)
    small = images[:, :16, :16, :]
    np.testing.assert_allclose(
        run_onnx(output, small), model.predict_on_batch(small), **TOLERANCES["onnx"]
    )
