"""`archspec bench`: training and inference throughput of a spec's model on this machine.

The harness is the one the anchors' figures come from: synthetic data already on the device,
SGD with momentum, warm-up steps, then timed steps with `train_on_batch` / `predict_on_batch`,
repeated to show the spread. Keras itself is imported through `archspec.backends.keras`.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from archspec.ir import Graph

Phase = Literal["train", "infer"]


@dataclass(frozen=True)
class PhaseResult:
    """Throughput of one phase over the repeats."""

    phase: Phase
    images_per_second: tuple[float, ...]
    steps: int
    batch_size: int

    @property
    def median(self) -> float:
        """Median images/s over the repeats (the reported figure)."""
        return statistics.median(self.images_per_second)

    @property
    def spread(self) -> float:
        """Half the range of images/s over the repeats, as a share of the median."""
        low, high = min(self.images_per_second), max(self.images_per_second)
        return (high - low) / 2 / self.median

    @property
    def milliseconds_per_step(self) -> float:
        """Median wall time of one step."""
        return 1000 * self.batch_size / self.median


@dataclass(frozen=True)
class BenchResult:
    """Everything `archspec bench --format json` reports."""

    model: str
    backend: str
    device: str
    replicas: int
    batch_size: int
    precision: str
    jit: bool | None
    params: int
    phases: list[PhaseResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The documented JSON shape."""
        out = asdict(self)
        out["phases"] = [
            {
                **asdict(p),
                "images_per_second_median": p.median,
                "spread": p.spread,
                "milliseconds_per_step": p.milliseconds_per_step,
            }
            for p in self.phases
        ]
        return out


@dataclass(frozen=True)
class BenchSettings:
    """How to benchmark: batch, step counts, precision, compilation, phases, distribution."""

    batch_size: int = 32
    steps: int = 10
    warmup: int = 3
    repeats: int = 3
    precision: str = "float32"
    jit: bool | None = None
    phases: tuple[Phase, ...] = ("train", "infer")
    distribute: bool = False


def run_benchmark(
    graph: Graph,
    settings: BenchSettings = BenchSettings(),
    advance: Callable[[int], None] = lambda steps: None,
) -> BenchResult:
    """Build the model and time its phases; `advance(n)` reports progress in steps."""
    import contextlib

    from archspec.backends import keras as backend

    # The whole run stays in the data-parallel scope: JAX's trainer reads the distribution
    # at every step, not only when the model is built.
    scope = backend.data_parallel() if settings.distribute else contextlib.nullcontext(1)
    with scope as replicas:
        return _run_phases(graph, settings, replicas, advance)


def _run_phases(
    graph: Graph, settings: BenchSettings, replicas: int, advance: Callable[[int], None]
) -> BenchResult:
    from archspec.backends import keras as backend

    s = settings
    model = backend.build_model(graph, precision=s.precision, seed=0)  # type: ignore[arg-type]
    backend.compile_for_training(model, jit=s.jit)
    images, labels = backend.synthetic_batch(
        model, s.batch_size, image_shape=graph.input.sized_shape
    )
    result = BenchResult(
        model=graph.name,
        backend=backend.backend_name(),
        device=backend.device_description(),
        replicas=replicas,
        batch_size=s.batch_size,
        precision=s.precision,
        jit=s.jit,
        params=graph.params,
    )
    for phase in s.phases:
        step = (
            backend.train_step(model, images, labels)
            if phase == "train"
            else backend.inference_step(model, images)
        )
        backend.timed_steps(step, s.warmup)
        advance(s.warmup)
        rates = []
        for _ in range(s.repeats):
            seconds = backend.timed_steps(step, s.steps)
            rates.append(s.steps * s.batch_size / seconds)
            advance(s.steps)
        result.phases.append(PhaseResult(phase, tuple(rates), s.steps, s.batch_size))
    return result
