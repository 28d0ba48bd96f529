"""The resource budgets, where the mutation campaign found them unchecked (TESTING.md).

Each budget's error is what a user reads when a spec is too large: the figure against the limit,
both written for people, a hint naming the option that raises it, and its code. These tests pin
all of them, for a figure one unit over its limit.
"""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import SpecError
from archspec.limits import Limits

SMALL = {
    "name": "small",
    "input": {"shape": [32, 32, 3]},
    "stem": {"filters": 8},
    "stages": [{"block": "basic", "filters": 8, "stride": 1, "depth": 1}],
    "head": {"classes": 3},
}
"""1,619 parameters, 405,548 bytes (396.0 KiB) of activations, 15 layers."""


@pytest.mark.parametrize(
    ("limits", "message", "hint", "code"),
    [
        (
            Limits(max_params=1618),
            "the model would have 1,619 parameters, over the limit of 1,618",
            "reduce filters, depth or the dense layers, or raise --max-params",
            "too-many-params",
        ),
        (
            Limits(max_activation_bytes=405_547),  # shown rounded, as both are the same size
            "the model would have 396.0 KiB of activations per sample, over the limit of 396.0 KiB",
            "reduce the input size or the widths, or raise --max-activation-memory",
            "too-much-memory",
        ),
        (
            Limits(max_layers=14),
            "the model would have 15 layers, over the limit of 14",
            "reduce the depth of the stages, or raise --max-layers",
            "too-many-layers",
        ),
    ],
)
def test_each_budget_says_how_far_over_it_is_and_how_to_fix_it(limits, message, hint, code):
    spec = archspec.Spec.model_validate(SMALL)
    graph = archspec.lower(spec)
    assert (graph.params, graph.activation_bytes, len(graph)) == (1619, 405_548, 15)
    with pytest.raises(SpecError) as raised:
        archspec.lower(spec, limits=limits)
    (error,) = raised.value.diagnostics
    assert (error.message, error.hint, error.code, error.path) == (
        message,
        hint,
        code,
        "head.classes",  # the last layer added, the classifier, passed the limit
    )
