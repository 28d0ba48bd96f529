"""CPU training throughput: the compiled resnet22 vs the hand-written seed reference.

Same harness for both (synthetic data, SGD with momentum, train_on_batch, batch 32), timed in
alternating repeats in one process. Target: archspec / reference >= 0.98.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from timing import alternate, median, report

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import archspec
from archspec.backends import keras as backend
from tests.reference_resnet22 import resnet22

BATCH, STEPS, ROUNDS, TARGET = 32, 5, 7, 0.98


def harness(model):
    backend.compile_for_training(model, jit=None)
    images, labels = backend.synthetic_batch(model, BATCH)
    step = backend.train_step(model, images, labels)
    backend.timed_steps(step, 3)  # warm-up: tracing and first allocations
    return lambda: STEPS * BATCH / backend.timed_steps(step, STEPS)


def main() -> int:
    runs = {"reference": harness(resnet22()), "archspec": harness(archspec.build("resnet22"))}
    rates = alternate(runs, ROUNDS)
    base, ours = median(rates["reference"]), median(rates["archspec"])
    ratio = ours / base
    report(
        f"CPU training throughput of resnet22 (images/s; batch {BATCH}), median of {ROUNDS} rounds",
        [
            ("hand-written reference (seed)", base, ""),
            ("archspec build of specs/resnet22.yaml", ours,
             f"ratio {ratio:.3f} (target >= {TARGET})"),
        ],
        unit="images/s",
    )  # fmt: skip
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
