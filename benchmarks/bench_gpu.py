"""GPU throughput (the H200 device): archspec models against their hand-written twins.

Keras 3 on the JAX backend, mixed bfloat16, batch 256, synthetic data on the device, SGD with
momentum, 5 warm-up then 30 timed steps (the harness of ../shared/ANCHORS.md):

- archspec resnet22 vs the seed's hand-written resnet22 (anchor: 24,220 train img/s),
- archspec resnet50v2 vs keras.applications.ResNet50V2 (anchor: 6,404 train img/s),
- archspec resnetv2_50_timm vs timm's resnetv2_50 under torch.compile, channels_last, bf16
  autocast (anchor: 7,179 train img/s), where torch, CUDA and timm are present;
- archspec resnet50, mobilenetv2 and efficientnet_b0 vs keras.applications ResNet50,
  MobileNetV2 and EfficientNetB0, where those presets exist.

Inference is timed on archspec's inference build (`--for inference`: BN folded into the convs,
no dropout), as it would be deployed; the twins run as keras.applications builds them.
Measurements alternate between a model and its twin, repeat after repeat. Target: every
archspec model at >= 1.0x its twin. `--smoke` runs one tiny step of each on any machine, to
test the script before spending device time. Writes results.json into $OUT when set.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402

import archspec  # noqa: E402
from archspec.backends import keras as backend  # noqa: E402
from tests.reference_resnet22 import resnet22  # noqa: E402

PRECISION = "mixed_bfloat16"


def keras_runner(model, batch: int, phase: str):
    """A function timing `steps` steps of a Keras model, images/s."""
    if phase == "train":
        backend.compile_for_training(model, jit=True)
    images, labels = backend.synthetic_batch(model, batch)
    step = (
        backend.train_step(model, images, labels)
        if phase == "train"
        else backend.inference_step(model, images)
    )
    return lambda steps: steps * batch / backend.timed_steps(step, steps)


def torch_runner(batch: int, phase: str):
    """timm resnetv2_50 under torch.compile, or None where torch/CUDA/timm are missing."""
    try:
        import timm
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    model = timm.create_model("resnetv2_50", pretrained=False).cuda()
    model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    compiled = torch.compile(model)
    images = torch.rand(batch, 3, 224, 224, device="cuda").to(memory_format=torch.channels_last)
    labels = torch.randint(0, 1000, (batch,), device="cuda")
    loss_fn = torch.nn.CrossEntropyLoss()

    def train() -> None:
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = loss_fn(compiled(images), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def infer() -> None:
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
            compiled(images)

    step = train if phase == "train" else infer

    def run(steps: int) -> float:
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
        return steps * batch / (time.perf_counter() - start)

    return run


def twin_model(build):
    """A hand-written model under the global mixed policy (clear_session resets it)."""
    keras.mixed_precision.set_global_policy(PRECISION)
    try:
        return build()
    finally:
        keras.mixed_precision.set_global_policy("float32")


KERAS_TWINS = {
    "resnet22": ("hand-written resnet22 (seed)", resnet22),
    "resnet50v2": ("keras.applications ResNet50V2", "ResNet50V2"),
    "resnet50": ("keras.applications ResNet50", "ResNet50"),
    "mobilenetv2": ("keras.applications MobileNetV2", "MobileNetV2"),
    "efficientnet_b0": ("keras.applications EfficientNetB0", "EfficientNetB0"),
}
"""preset -> (twin label, its builder or its keras.applications class); presets that do not
exist on this checkout are left out."""


def archspec_model(name: str, phase: str):
    """The preset's model: its inference build for inference, the training build otherwise."""
    return archspec.build(name, precision=PRECISION, for_inference=phase == "infer")


def pairs(batch: int, phase: str):
    """(label, archspec runner, twin label, twin runner) for each comparison."""
    presets = set(archspec.preset_names())
    suffix = " --for inference" if phase == "infer" else ""
    for name, (twin_label, twin) in KERAS_TWINS.items():
        if name not in presets:
            continue
        build = twin if callable(twin) else getattr(keras.applications, twin)
        yield (
            f"archspec {name}{suffix}",
            keras_runner(archspec_model(name, phase), batch, phase),
            twin_label,
            keras_runner(twin_model(lambda b=build: _twin(b)), batch, phase),
        )
    twin_runner = torch_runner(batch, phase)
    if twin_runner is not None:
        yield (
            f"archspec resnetv2_50_timm{suffix}",
            keras_runner(archspec_model("resnetv2_50_timm", phase), batch, phase),
            "timm resnetv2_50 (torch.compile)",
            twin_runner,
        )


def _twin(build):
    """A twin model: keras.applications classes take weights=None; the seed takes nothing."""
    return build() if build is resnet22 else build(weights=None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="one tiny step of each, any machine")
    args = parser.parse_args()
    if args.smoke:
        args.batch, args.warmup, args.steps, args.repeats = 2, 1, 1, 1
    print(
        f"# {backend.backend_name()} on {backend.device_description()}, {PRECISION}, batch "
        f"{args.batch}, {args.warmup} warm-up + {args.steps} timed steps x {args.repeats}"
    )
    results, failed = [], False
    for phase in ("train", "infer"):
        for ours_label, ours, twin_label, twin in pairs(args.batch, phase):
            ours(args.warmup)
            twin(args.warmup)
            rates: dict[str, list[float]] = {ours_label: [], twin_label: []}
            for _ in range(args.repeats):
                rates[ours_label].append(ours(args.steps))
                rates[twin_label].append(twin(args.steps))
            a, b = statistics.median(rates[ours_label]), statistics.median(rates[twin_label])
            failed |= a < b
            results.append(
                {"phase": phase, "archspec": ours_label, "twin": twin_label,
                 "archspec_images_per_second": a, "twin_images_per_second": b, "ratio": a / b}
            )  # fmt: skip
            print(f"{phase:5} {ours_label:44} {a:10,.0f} img/s | {twin_label:34} "
                  f"{b:10,.0f} img/s | ratio {a / b:.3f}")  # fmt: skip
            keras.backend.clear_session()
    if os.environ.get("OUT"):
        (Path(os.environ["OUT"]) / "results.json").write_text(json.dumps(results, indent=2))
    return 1 if failed and not args.smoke else 0


if __name__ == "__main__":
    sys.exit(main())
