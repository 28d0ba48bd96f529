"""The Keras backend's helpers for bench, load and export, where mutation testing found gaps.

`archspec bench` times what these helpers return, so a step must really train or predict, the
timer must measure the calls, and the training setup must be the anchors' harness (SGD at 0.01
with momentum 0.9 on sparse categorical cross-entropy, the backend's own XLA default unless
asked). The device string is what a benchmark report names its hardware by, on each backend
(TensorFlow's GPU list is replaced by one with a GPU, as on a GPU machine; JAX and PyTorch are
asked for real where installed). `archspec.load_model` loads a saved model, and an ONNX file
says which model it holds. One small spec is built for all of them.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import archspec
from archspec.backends import keras as backend

pytestmark = pytest.mark.keras

SPEC = """\
name: gaps_keras
input: {shape: [16, 16, 3]}
stem: {filters: 4, kernel: 3, stride: 1}
stages:
  - {block: basic, filters: 4, depth: 1}
head: {classes: 3}
"""


def small_model():
    return archspec.build(archspec.loads(SPEC, "gaps_keras.yaml"), seed=1)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(0, 1, (2, 16, 16, 3)).astype("float32")


@pytest.fixture(scope="module")
def trained():
    """A model compiled as benchmarks compile it, with Keras's XLA default."""
    model = small_model()
    backend.compile_for_training(model, jit=None)
    return model


def test_training_is_sgd_with_momentum_on_sparse_cross_entropy(trained):
    import keras

    optimizer = trained.optimizer
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert float(np.asarray(optimizer.learning_rate)) == pytest.approx(0.01)
    assert optimizer.momentum == 0.9
    assert isinstance(trained.loss, keras.losses.SparseCategoricalCrossentropy)


def test_jit_none_keeps_the_backends_default_and_a_bool_is_obeyed(trained):
    default = small_model()
    default.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")  # Keras's default
    assert trained.jit_compile == default.jit_compile
    for jit in (True, False):
        model = small_model()
        backend.compile_for_training(model, jit=jit)
        assert model.jit_compile is jit


def test_a_train_step_updates_the_weights_and_returns_the_loss(trained, images):
    before = [np.array(w) for w in trained.trainable_weights]
    loss = backend.train_step(trained, images, np.array([0, 2]))()
    assert np.isfinite(float(np.asarray(loss)))
    after = [np.array(w) for w in trained.trainable_weights]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_an_inference_step_returns_the_models_predictions(trained, images):
    scores = backend.inference_step(trained, images)()
    np.testing.assert_array_equal(scores, trained.predict_on_batch(images))


def test_timed_steps_measures_the_calls():
    calls = []

    def step():
        calls.append(None)
        time.sleep(0.02)

    start = time.perf_counter()
    seconds = backend.timed_steps(step, 3)
    elapsed = time.perf_counter() - start
    assert len(calls) == 3
    assert 0.06 <= seconds <= elapsed


def test_load_model_loads_a_saved_model(tmp_path, images):
    model = small_model()
    path = tmp_path / "small.keras"
    model.save(path)
    loaded = archspec.load_model(path)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict_on_batch(images), model.predict_on_batch(images))


def test_the_device_on_tensorflow_names_the_gpus_tensorflow_sees(monkeypatch):
    import tensorflow as tf

    devices = [
        tf.config.LogicalDevice("/device:CPU:0", "CPU"),
        tf.config.LogicalDevice("/device:GPU:0", "GPU"),
    ]

    def list_logical_devices(device_type=None):  # TensorFlow's filter: the exact type name
        return [d for d in devices if device_type is None or d.device_type == device_type]

    monkeypatch.setattr(tf.config, "list_logical_devices", list_logical_devices)
    assert backend.device_description() == "1 x GPU (/device:GPU:0)"


def test_the_device_on_jax_is_named_by_platform_and_kind(monkeypatch):
    jax = pytest.importorskip("jax")
    monkeypatch.setattr(backend, "backend_name", lambda: "jax")
    devices = jax.devices()
    if devices[0].platform == "cpu":
        assert backend.device_description() == "1 x CPU (cpu)"
    else:
        kind = devices[0].device_kind
        assert backend.device_description() == f"{len(devices)} x GPU ({kind})"


def test_the_device_on_torch_without_cuda_is_the_cpu(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(backend, "backend_name", lambda: "torch")
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        assert backend.device_description() == f"{torch.cuda.device_count()} x GPU ({name})"
    else:
        assert backend.device_description() == "CPU"


def test_an_unknown_backend_is_named_unknown(monkeypatch):
    monkeypatch.setattr(backend, "backend_name", lambda: "numpy")
    assert backend.device_description() == "unknown"


def test_an_onnx_file_says_which_model_it_holds_and_names_input_and_output(tmp_path):
    onnx = pytest.importorskip("onnx")
    path = tmp_path / "small.onnx"
    backend.export_model(small_model(), path, "onnx")
    graph = onnx.load(str(path)).graph
    assert (graph.name, graph.doc_string) == ("gaps_keras", "converted from gaps_keras")
    assert [item.name for item in graph.input] == ["input"]
    assert [item.name for item in graph.output] == ["output"]


def test_a_synthetic_batch_is_seeded_shaped_and_labelled_with_every_class(trained):
    images, labels = backend.synthetic_batch(trained, 64)
    assert tuple(images.shape) == (64, 16, 16, 3)
    assert sorted(set(np.asarray(labels).tolist())) == [0, 1, 2]
    again_images, again_labels = backend.synthetic_batch(trained, 64, seed=0)  # the default
    np.testing.assert_array_equal(np.asarray(images), np.asarray(again_images))
    np.testing.assert_array_equal(np.asarray(labels), np.asarray(again_labels))
    other_images, _ = backend.synthetic_batch(trained, 64, seed=1)
    assert not np.array_equal(np.asarray(images), np.asarray(other_images))
    sized, _ = backend.synthetic_batch(trained, 2, image_shape=(8, 12, 3))
    assert tuple(sized.shape) == (2, 8, 12, 3)


def test_a_model_with_one_output_gets_only_label_zero():
    model = archspec.build(archspec.loads(SPEC.replace("classes: 3", "classes: 1"), "one.yaml"))
    _, labels = backend.synthetic_batch(model, 32)
    assert set(np.asarray(labels).tolist()) == {0}


def test_export_on_another_backend_says_which_and_how_to_switch(monkeypatch, tmp_path):
    monkeypatch.setattr(backend, "backend_name", lambda: "jax")
    with pytest.raises(NotImplementedError) as info:
        backend.export_model(None, tmp_path / "model", "savedmodel")
    assert str(info.value) == (
        "export runs on the TensorFlow backend, not jax (unset KERAS_BACKEND)"
    )


def test_a_savedmodel_export_prints_nothing(tmp_path, capfd):
    model = small_model()
    capfd.readouterr()
    backend.export_model(model, tmp_path / "model", "savedmodel")
    assert capfd.readouterr().out == ""
