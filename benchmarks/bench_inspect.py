"""`archspec inspect` against building the model in Keras, in one process, alternating.

Target: inspecting resnet152v2 (lowering plus the cost report) takes a small fraction of the
time Keras takes to build the same model. Exits 1 if it takes more than a fiftieth.
"""

from __future__ import annotations

import os
import sys
import time

from timing import alternate, median, report

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import archspec
from archspec.backends.keras import build_model
from archspec.cost import cost_rows, graph_json

ROUNDS = 5
TARGET = 1 / 50
SPEC = "resnet152v2"


def inspect_seconds() -> float:
    start = time.perf_counter()
    graph = archspec.lower(archspec.load(SPEC))
    cost_rows(graph, "layer")
    graph_json(graph)
    return time.perf_counter() - start


def build_seconds() -> float:
    import keras

    graph = archspec.lower(archspec.load(SPEC))
    keras.backend.clear_session()
    start = time.perf_counter()
    build_model(graph)
    return time.perf_counter() - start


def main() -> int:
    build_seconds()  # warm-up: the first build pays for TensorFlow's lazy initialisation
    times = alternate({"inspect": inspect_seconds, "keras build": build_seconds}, ROUNDS)
    inspect, build = median(times["inspect"]), median(times["keras build"])
    ratio = inspect / build
    verdict = "ok" if ratio <= TARGET else "MISSED"
    report(
        f"inspect vs Keras build of {SPEC}, median of {ROUNDS} alternating runs",
        [
            (f"keras build of {SPEC} (baseline)", build, ""),
            (f"archspec inspect {SPEC} (in process)", inspect,
             f"ratio {ratio:.4f} (target <= {TARGET:.3f}) {verdict}"),
        ],
    )  # fmt: skip
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
