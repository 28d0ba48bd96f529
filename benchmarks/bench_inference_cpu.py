"""CPU inference throughput of `--for inference` models against their keras.applications twins.

For each preset with a keras.applications twin, at batch 1 and batch 32 (224x224 images):
- archspec's inference build (BN folded into the convs, no dropout) in Keras, against the
  twin built by keras.applications (weights=None), both run by `predict_on_batch` (a traced
  graph, Grappler's rewrites applied, as `archspec bench` and Keras's predict run it), and
  both called directly, `model(images, training=False)` (eager: one TensorFlow op at a time,
  as hand-written serving loops often call a model);
- onnxruntime on archspec's exported ONNX file, and LiteRT's interpreter (XNNPACK) on its
  exported TFLite file (`archspec export --for inference`), against the same twin.

Each model pair runs in a process of its own, so memory is returned between them (batch 32 of
ResNet50 in three runtimes at once takes gigabytes); eager calls are timed at batch 1 only.

Each round times every runner in turn (so drift on the shared machine hits all alike) for
about `--seconds` each; the reported ratio is the median over rounds of that round's ratio to
the twin, and images/s are medians over rounds. CPU seconds per image (process time, summed
over threads) are shown too: other jobs on the machine move them less than wall time.
Targets (issue 17): resnet50 >= 1.3x at batch 1 and >= 1.1x at batch 32; resnet50v2 >= 1.05x.
Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from timing import machine

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

import archspec

TWINS = {
    "resnet50": ("ResNet50", {1: 1.3, 32: 1.1}),
    "resnet50v2": ("ResNet50V2", {1: 1.05, 32: 1.05}),
    "mobilenetv2": ("MobileNetV2", {}),
    "efficientnet_b0": ("EfficientNetB0", {}),
}
"""preset -> (keras.applications class, {batch: target ratio}); no target: reported only."""


@dataclass
class Runner:
    """One way to run a model on a batch: a step function and how many steps make a round."""

    label: str
    step: Callable[[], object]
    steps: int = 1


def keras_runner(label: str, model: keras.Model, images: np.ndarray) -> Runner:
    return Runner(label, lambda: model.predict_on_batch(images))


def eager_runner(label: str, model: keras.Model, images: np.ndarray) -> Runner:
    tensor = keras.ops.convert_to_tensor(images)
    return Runner(label, lambda: keras.ops.convert_to_numpy(model(tensor, training=False)))


def exported(name: str, export_format: str, folder: Path) -> Path:
    """The preset's inference build exported by the command, in a process of its own (the
    converters' memory goes with it)."""
    path = folder / f"{name}.{export_format}"
    if not path.exists():
        command = ["export", name, "--format", export_format, "-o", str(path), "--for", "inference"]
        subprocess.run([sys.executable, "-m", "archspec", *command], check=True)
    return path


def litert_runner(label: str, name: str, images: np.ndarray, folder: Path) -> Runner:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(
        model_path=str(exported(name, "tflite", folder)), num_threads=os.cpu_count() or 1
    )
    (given,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(given["index"], images.shape)
    interpreter.allocate_tensors()
    output = interpreter.get_output_details()[0]["index"]

    def step() -> object:
        interpreter.set_tensor(given["index"], images)
        interpreter.invoke()
        return interpreter.get_tensor(output)

    return Runner(label, step)


def onnx_runner(label: str, name: str, images: np.ndarray, folder: Path) -> Runner:
    import onnxruntime

    path = exported(name, "onnx", folder)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1  # as many threads as TensorFlow uses
    # No spinning after a run: spinning threads would take the CPU from the next runner.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return Runner(label, lambda: session.run(None, {name: images}))


def calibrate(runner: Runner, seconds: float, warmup: int) -> None:
    """Warm up, then pick the number of steps that takes about `seconds`."""
    for _ in range(warmup):
        runner.step()
    start = time.perf_counter()
    runner.step()
    runner.steps = max(1, round(seconds / (time.perf_counter() - start)))


def timed_round(runner: Runner, batch: int) -> tuple[float, float]:
    """(images/s, CPU seconds per image) of one round of `runner`."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(runner.steps):
        runner.step()
    images = runner.steps * batch
    return images / (time.perf_counter() - wall), (time.process_time() - cpu) / images


def compare(runners: list[Runner], batch: int, rounds: int) -> dict[str, dict[str, float]]:
    """Alternating rounds; per runner: median images/s, CPU s/image, and paired ratios."""
    rates: dict[str, list[float]] = {r.label: [] for r in runners}
    cpu: dict[str, list[float]] = {r.label: [] for r in runners}
    for _ in range(rounds):
        for runner in runners:
            rate, seconds = timed_round(runner, batch)
            rates[runner.label].append(rate)
            cpu[runner.label].append(seconds)
    twin = runners[0].label
    return {
        r.label: {
            "images_per_second": statistics.median(rates[r.label]),
            "cpu_seconds_per_image": statistics.median(cpu[r.label]),
            "ratio": statistics.median(
                a / b for a, b in zip(rates[r.label], rates[twin], strict=True)
            ),
            "cpu_ratio": statistics.median(
                b / a for a, b in zip(cpu[r.label], cpu[twin], strict=True)
            ),
        }
        for r in runners
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(TWINS))
    parser.add_argument("--batches", nargs="*", type=int, default=[1, 32])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=2.0, help="per runner and round")
    parser.add_argument(
        "--no-exports", action="store_true", help="leave out onnxruntime and LiteRT"
    )
    parser.add_argument("--eager-batches", nargs="*", type=int, default=[1],
                        help="batch sizes at which direct (eager) calls are timed too")  # fmt: skip
    args, _ = parser.parse_known_args()
    if len(args.models) > 1:  # one process per model, each returning its memory
        return run_each_model(args.models)
    presets = set(archspec.preset_names())
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models:
            application, targets = TWINS[name]
            if name not in presets:
                print(f"{name:16} skipped: no `{name}` preset on this branch yet")
                continue
            keras.backend.clear_session()
            twin = getattr(keras.applications, application)(weights=None)
            ours = archspec.build(name, for_inference=True, seed=0)
            for batch in args.batches:
                shape = (batch, *twin.input_shape[1:])
                images = np.random.default_rng(0).uniform(-1, 1, shape).astype("float32")
                runners = [
                    keras_runner(f"keras.applications.{application}", twin, images),
                    keras_runner(f"archspec {name} --for inference", ours, images),
                ]
                if not args.no_exports:
                    runners.append(
                        onnx_runner("onnxruntime (exported)", name, images, Path(folder))
                    )
                    runners.append(
                        litert_runner("LiteRT, XNNPACK (exported)", name, images, Path(folder))
                    )
                for runner in runners:
                    calibrate(runner, args.seconds, warmup=3)
                results = compare(runners, batch, args.rounds)
                if batch in args.eager_batches:  # a pair of its own: ratios to the eager twin
                    eager = [
                        eager_runner(f"keras.applications.{application} (eager)", twin, images),
                        eager_runner(f"archspec {name} --for inference (eager)", ours, images),
                    ]
                    for runner in eager:
                        calibrate(runner, args.seconds, warmup=3)
                    results.update(compare(eager, batch, args.rounds))
                for label, figures in results.items():
                    target = (
                        targets.get(batch)
                        if label.startswith("archspec") and "eager" not in label
                        else None
                    )
                    verdict = ""
                    if target is not None:
                        ok = figures["ratio"] >= target
                        failed |= not ok
                        verdict = f"(target >= {target}) {'ok' if ok else 'MISSED'}"
                    print(
                        f"{name:16} batch {batch:>3}  {label:40} "
                        f"{figures['images_per_second']:8.2f} img/s  "
                        f"{1000 * figures['cpu_seconds_per_image']:8.1f} CPU ms/img  "
                        f"ratio {figures['ratio']:.3f} (CPU {figures['cpu_ratio']:.3f}) {verdict}",
                        flush=True,
                    )
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
            print(f"{name:16} peak memory of its process: {peak:.1f} GiB", flush=True)
    return 1 if failed else 0


def run_each_model(models: list[str]) -> int:
    """Run this script once per model, passing the other options on; 1 if any missed."""
    load = os.getloadavg()
    print(f"# CPU inference, {time.strftime('%Y-%m-%d %H:%M')}, {machine()}", flush=True)
    print(f"# load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    rest = [a for a in sys.argv[1:] if a not in models and a != "--models"]
    codes = [
        subprocess.run([sys.executable, __file__, "--models", name, *rest], check=False).returncode
        for name in models
    ]
    load = os.getloadavg()
    print(f"# load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 1 if any(codes) else 0


if __name__ == "__main__":
    sys.exit(main())
