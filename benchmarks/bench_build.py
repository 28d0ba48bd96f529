"""Build time of resnet50v2 and resnet152v2 from their specs vs keras.applications.

Target: archspec's build (loading and lowering the spec included) takes at most as long as
keras.applications builds the same model: ratio <= 1.0. Alternating runs in one process; the
fastest run of each is compared (noise on a shared machine only ever adds time), and the
medians are shown beside it. Times are the process's CPU time. As a measure that noise cannot
move, the Python function calls of one build of each are counted too (cProfile).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time

from timing import alternate, median, report

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras

import archspec

ROUNDS = 15
MODELS = {"resnet50v2": "ResNet50V2", "resnet152v2": "ResNet152V2"}


def timed(build) -> float:
    """CPU seconds of one build: less disturbed than wall time by other jobs on the machine."""
    keras.backend.clear_session()
    start = time.process_time()
    build()
    return time.process_time() - start


def function_calls(build) -> int:
    """Python function calls made by one build (deterministic for a given environment)."""
    keras.backend.clear_session()
    profiler = cProfile.Profile()
    profiler.runcall(build)
    return pstats.Stats(profiler).total_calls  # type: ignore[attr-defined]


def main() -> int:
    rows, failed = [], False
    for spec, application in MODELS.items():
        peer = getattr(keras.applications, application)
        runs = {
            "keras.applications": lambda p=peer: timed(lambda: p(weights=None)),
            "archspec": lambda s=spec: timed(lambda: archspec.build(s)),
        }
        for run in runs.values():
            run()  # warm-up: TensorFlow initialises lazily on the first build
        times = alternate(runs, ROUNDS)
        base, ours = min(times["keras.applications"]), min(times["archspec"])
        ratio = ours / base
        median_ratio = median(times["archspec"]) / median(times["keras.applications"])
        failed |= ratio > 1.0
        calls_base = function_calls(lambda p=peer: p(weights=None))
        calls_ours = function_calls(lambda s=spec: archspec.build(s))
        rows.append(
            (f"keras.applications.{application}(weights=None)", base, f"{calls_base:,} calls")
        )
        rows.append(
            (
                f"archspec.build('{spec}')",
                ours,
                f"ratio {ratio:.3f} (target <= 1.0; ratio of medians {median_ratio:.3f}); "
                f"{calls_ours:,} calls, ratio {calls_ours / calls_base:.4f}",
            )
        )
    report(f"build CPU time, fastest of {ROUNDS} alternating runs", rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
