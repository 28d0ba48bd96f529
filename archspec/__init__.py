"""archspec: a declarative, spec-driven compiler for CNN architectures.

The public API is small and framework-free at import time; only `build` imports Keras.

    spec = archspec.load("specs/resnet22.yaml")   # validate (raises a located SpecError)
    graph = archspec.lower(spec)                  # resolved IR: shapes, params, MACs
    model = archspec.build(spec)                  # keras.Model
    source = archspec.codegen(spec)               # self-contained Keras source
    fast = archspec.build(spec, for_inference=True)   # BN folded into convs, no dropout
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archspec.errors import Diagnostic, Location, SpecError, UnreadableError
from archspec.ir import Graph, Layer
from archspec.limits import Limits
from archspec.loader import load, loads, preset_names, with_overrides
from archspec.lower import analyze, lower
from archspec.spec import Spec

if TYPE_CHECKING:
    import keras

    from archspec.backends.keras import Precision
    from archspec.inference import InferencePlan, plan_inference
    from archspec.weights import LoadReport, WeightsError

# Names whose modules `validate` and `inspect` do not need: imported on first use, which keeps
# those commands' start-up short (benchmarks/bench_validate.py).
_LAZY = {
    "InferencePlan": "archspec.inference",
    "plan_inference": "archspec.inference",
    "LoadReport": "archspec.weights",
    "WeightsError": "archspec.weights",
}


def __getattr__(name: str) -> Any:
    """Import a name of `_LAZY` from its module when it is first asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module 'archspec' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "Diagnostic",
    "Graph",
    "InferencePlan",
    "Layer",
    "Limits",
    "LoadReport",
    "Location",
    "Overrides",
    "Spec",
    "SpecError",
    "UnreadableError",
    "WeightsError",
    "analyze",
    "build",
    "codegen",
    "load",
    "load_model",
    "load_weights",
    "loads",
    "lower",
    "plan_inference",
    "preset_names",
    "with_overrides",
]


Overrides = Mapping[str, Any]
"""Values set by key on top of a spec: `{"head.classes": 10, "input.shape": [128, 128, 3]}`."""


def _as_spec(spec: Spec | str | Path, overrides: Overrides | None = None) -> Spec:
    if isinstance(spec, Spec):
        return with_overrides(spec, overrides)
    return load(spec, overrides=overrides)


def build(
    spec: Spec | str | Path,
    *,
    overrides: Overrides | None = None,
    precision: Precision = "float32",
    limits: Limits | None = None,
    seed: int | None = None,
    weights: str | Path | None = None,
    weights_strict: bool = False,
    for_inference: bool = False,
) -> keras.Model:
    """Compile a spec (or a spec file, or a preset name) into a Keras functional model.

    `overrides` set values by key first (`{"head.classes": 10}`; see `archspec.load`),
    validated and located as a file's values are. The spec is lowered and checked against
    `limits` before Keras is imported. With a `seed`, the initial weights are the same in
    every run and process (Keras's global seed is set).
    `weights` loads a `.weights.h5` or `.keras` file by layer name (see `load_weights`); with
    `weights_strict`, a layer it cannot load raises `WeightsError`. `for_inference` returns the
    inference model instead (`archspec.inference`): the training model is built, `weights`
    loaded into it, and its weights folded into the inference model's.
    """
    graph = lower(_as_spec(spec, overrides), limits=limits)
    from archspec.backends.keras import build_model, fold_model
    from archspec.inference import plan_inference

    model = build_model(graph, precision=precision, seed=seed)
    if weights is not None:
        load_weights(model, weights, strict=weights_strict)
    if for_inference:
        return fold_model(model, plan_inference(graph), precision=precision)
    return model


def load_model(path: str | Path) -> keras.Model:
    """Load a saved `.keras` model, however deep, with archspec's own layers registered.

    Plain `keras.saving.load_model` works too for models up to about 900 layers on their
    longest path; deeper ones (ResNet-1001) need the recursion headroom this gives.
    """
    from archspec.backends.keras import load_model as load

    return load(path)


def load_weights(model: keras.Model, path: str | Path, *, strict: bool = False) -> LoadReport:
    """Load a Keras `.weights.h5` or `.keras` file into `model` by layer name; say what loaded.

    Each layer whose name the file has, with weights of the same shapes, gets the file's
    weights, so a changed spec (other classes, another stage, another width) keeps everything
    its change left alone. With `strict`, a layer left out raises `WeightsError`.
    """
    from archspec.backends.keras import load_weights as load
    from archspec.weights import WeightsError

    report = load(model, path)
    if strict and not report.complete:
        left = [*report.missing, *(name for name, _, _ in report.mismatched)]
        shown = ", ".join(left[:5]) + (", ..." if len(left) > 5 else "")
        raise WeightsError(f"{path}: {len(left)} layers of the model were not loaded: {shown}")
    return report


def codegen(
    spec: Spec | str | Path,
    *,
    overrides: Overrides | None = None,
    limits: Limits | None = None,
    for_inference: bool = False,
) -> str:
    """Python source of a self-contained module whose `build_model()` builds the spec's model.

    The module imports only Keras; it is generated from the same IR as `build`. `overrides`
    as for `build`. `for_inference` writes the inference architecture (BN folded into convs,
    no dropout).
    """
    from archspec.backends.python import generate
    from archspec.inference import plan_inference

    graph = lower(_as_spec(spec, overrides), limits=limits)
    return generate(plan_inference(graph).graph if for_inference else graph)
