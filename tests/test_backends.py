"""The same spec on every Keras backend, precision and distribution setting."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import archspec
from archspec.cli import main
from tests.conftest import ROOT

pytestmark = pytest.mark.keras

# Runs in a fresh process, since Keras picks its backend once, at import.
OTHER_BACKEND = """
import json, sys
import numpy as np
import keras, archspec
spec = archspec.load(sys.argv[1])
weights = np.load(sys.argv[2])
images = np.load(sys.argv[3])
outputs = {}
models = {"built": archspec.build(spec)}
namespace = {}
exec(archspec.codegen(spec), namespace)
models["generated"] = namespace["build_model"]()
for kind, model in models.items():
    model.set_weights([weights[f"w{i}"] for i in range(len(weights.files))])
    outputs[kind] = np.asarray(model.predict_on_batch(images)).tolist()
model = models["built"]
optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
loss = float(np.asarray(model.train_on_batch(images, np.zeros(len(images), dtype="int32"))))
print(json.dumps({"backend": keras.backend.backend(), "params": model.count_params(),
                  "layers": len(model.layers), "outputs": outputs, "loss": loss}))
"""

BACKENDS = ["jax", "torch"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_built_and_generated_models_run_on_other_backends(backend, built_models, tmp_path):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed here (CI installs it)")
    spec = ROOT / "specs" / "resnet22.yaml"
    reference = built_models("resnet22")
    rng = np.random.default_rng(5)
    weights = [
        # Variances must stay positive, or backends differ in how they fail (NaN or not).
        rng.uniform(0.5, 1.5, w.shape) if "variance" in w.path else rng.normal(0, 0.05, w.shape)
        for w in reference.weights
    ]
    weights = [w.astype("float32") for w in weights]
    reference.set_weights(weights)
    images = rng.uniform(0, 1, (2, 256, 256, 3)).astype("float32")
    np.savez(tmp_path / "weights.npz", **{f"w{i}": w for i, w in enumerate(weights)})
    np.save(tmp_path / "images.npy", images)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            OTHER_BACKEND,
            str(spec),
            str(tmp_path / "weights.npz"),
            str(tmp_path / "images.npy"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "KERAS_BACKEND": backend},
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["backend"] == backend
    assert (report["params"], report["layers"]) == (1_751_924, 67)
    expected = reference.predict_on_batch(images)
    for kind in ("built", "generated"):
        np.testing.assert_allclose(report["outputs"][kind], expected, rtol=1e-4, atol=1e-5)
    assert np.isfinite(report["loss"])


MIRRORED = """
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, archspec
from archspec.backends.keras import compile_for_training, data_parallel
with data_parallel() as replicas:
    model = archspec.build("preact_resnet18_cifar", seed=3)
    compile_for_training(model, jit=False)
assert replicas == 2, replicas
before = [np.array(v.value.values[0]) for v in model.trainable_weights]
images = np.random.default_rng(0).uniform(0, 1, (8, 32, 32, 3)).astype("float32")
loss = model.train_on_batch(images, np.arange(8) % 10)
assert np.isfinite(loss)
changed = 0
for variable, old in zip(model.weights, [None] * len(model.weights)):
    copies = [np.array(t) for t in variable.value.values]
    assert len(copies) == 2, variable.path
    assert all(np.array_equal(copies[0], c) for c in copies[1:]), variable.path
for variable, old in zip(model.trainable_weights, before):
    changed += not np.array_equal(np.array(variable.value.values[0]), old)
assert changed > len(before) // 2, changed
print("replicas agree", replicas, changed)
"""


def test_mirrored_strategy_trains_one_step_with_replicas_in_agreement():
    result = subprocess.run(
        [sys.executable, "-c", MIRRORED], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "replicas agree 2" in result.stdout


def test_bench_command_reports_backend_device_and_throughput(tmp_path):
    result = CliRunner().invoke(
        main,
        ["bench", "preact_resnet18_cifar", "--batch-size", "4", "--steps", "1", "--warmup", "1",
         "--repeats", "2", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["backend"] == "tensorflow"
    assert report["device"] == "CPU"
    assert [p["phase"] for p in report["phases"]] == ["train", "infer"]
    for phase in report["phases"]:
        assert len(phase["images_per_second"]) == 2
        assert phase["images_per_second_median"] > 0


def test_bench_text_report():
    result = CliRunner().invoke(
        main,
        ["bench", "preact_resnet18_cifar", "--batch-size", "2", "--steps", "1", "--warmup", "0",
         "--repeats", "1", "--phase", "infer", "--precision", "mixed_bfloat16"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "on tensorflow, CPU, 1 replica(s); batch 2, mixed_bfloat16" in result.output
    assert "infer" in result.output and "train" not in result.output.split("replica")[1]


def test_precision_reaches_every_layer():
    model = archspec.build("preact_resnet18_cifar", precision="mixed_float16")
    policies = {layer.dtype_policy.name for layer in model.layers[1:-1]}
    assert policies == {"mixed_float16"}
    assert model.layers[-1].dtype_policy.name == "float32"
