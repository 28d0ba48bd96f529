"""Checks across settings (archspec/consistency.py), where the mutation campaign found them open.

Each rule is pinned by the smallest spec that breaks it, with the whole diagnostic (path,
severity, code, message, hint) and the place it points at in the file (the key of a setting
that has no effect, the value of a contradiction), and by the near misses that must stay
quiet: each condition of the rule on its own, the setting left to its default, and the case
where the setting does apply.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

import archspec

CODES = {"contradiction", "unused", "single-class-softmax", "redundant-norm"}


def text(**sections: Any) -> str:
    """A small network's YAML, one key per line, with `sections` replacing or adding sections."""
    spec: dict[str, Any] = {
        "name": "consistency",
        "input": {"shape": [32, 32, 3]},
        "stem": {"filters": 8},
        "stages": [{"block": "basic", "filters": 8, "stride": 2, "depth": 1}],
        "head": {"classes": 3},
    }
    spec.update(sections)
    return yaml.safe_dump(spec, sort_keys=False, default_flow_style=False)


def checks(source: str) -> list[archspec.Diagnostic]:
    """The diagnostics of the checks across settings, nothing else."""
    analysis = archspec.analyze(archspec.loads(source, "consistency.yaml"))
    return [d for d in analysis.diagnostics if d.code in CODES]


def pointed_at(source: str, diagnostic: archspec.Diagnostic) -> str:
    """The file's text from where the diagnostic points to the end of that line."""
    assert diagnostic.location is not None
    line, column = diagnostic.location.line, diagnostic.location.column
    assert line is not None and column is not None
    return source.splitlines()[line - 1][column - 1 :]


UNUSED_DOWNSAMPLE = (
    "residual.shortcut.downsample",
    "warning",
    "unused",
    "no block downsamples without projecting, so this setting has no effect",
    "it applies to strided blocks without a projection: stride_at: last with when: "
    "first_block, or kind: identity",
)

CASES = {
    "preact source in a post-activation network": (
        {"residual": {"shortcut": {"source": "preact"}}},
        (
            "residual.shortcut.source",
            "error",
            "contradiction",
            "'preact' needs pre-activation blocks, but every stage uses a post-activation block",
            "use source: input with basic/bottleneck blocks",
        ),
        "preact",
    ),
    "maxpool downsampling that no block uses": (
        {"residual": {"shortcut": {"downsample": "maxpool"}}},
        UNUSED_DOWNSAMPLE,
        "downsample:",
    ),
    "an SE ratio beside a fixed width": (
        {"stages": [{"block": "basic", "filters": 8, "se": {"width": 4, "ratio": 0.5}}]},
        (
            "stages[0].se.ratio",
            "warning",
            "unused",
            "a fixed `width` is given, so the ratio has no effect",
            "give ratio or width, not both",
        ),
        "ratio:",
    ),
    "a nominal size for a fixed input": (
        {"input": {"shape": [32, 32, 3], "nominal_size": [64, 64]}},
        (
            "input.nominal_size",
            "warning",
            "unused",
            "input.shape fixes the size, so this setting has no effect",
            "it applies where input.shape leaves the height or width open (null)",
        ),
        "nominal_size:",
    ),
    "a hard_sigmoid style that no layer uses": (
        {"keras": {"hard_sigmoid": "ReLU6"}},
        (
            "keras.hard_sigmoid",
            "warning",
            "unused",
            "no layer uses hard_sigmoid, so this setting has no effect",
            "it applies to activations and gates that are hard_sigmoid",
        ),
        "hard_sigmoid:",
    ),
    "a dense activation without dense layers": (
        {"head": {"classes": 3, "dense_activation": "relu"}},
        (
            "head.dense_activation",
            "warning",
            "unused",
            "there are no hidden dense layers, so this setting has no effect",
            None,
        ),
        "dense_activation:",
    ),
    "softmax over one class, by default": (
        {"head": {"classes": 1}},
        (
            "head.classes",
            "warning",
            "single-class-softmax",
            "softmax over a single class always outputs 1",
            "use activation: sigmoid for one class, or give classes: 2",
        ),
        "1",
    ),
    "softmax over one class, stated": (
        {"head": {"classes": 1, "activation": "softmax"}},
        (
            "head.activation",
            "warning",
            "single-class-softmax",
            "softmax over a single class always outputs 1",
            "use activation: sigmoid for one class, or give classes: 2",
        ),
        "softmax",
    ),
    "a stated stem norm before a pre-activation block": (
        {
            "stem": {"filters": 8, "norm": True},
            "stages": [{"block": "preact_basic", "filters": 8, "stride": 2}],
        },
        (
            "stem.norm",
            "warning",
            "redundant-norm",
            "the stem ends in BN -> ReLU and the first pre-activation block starts with "
            "BN -> ReLU again",
            "pre-activation networks usually set stem.norm: false",
        ),
        "true",
    ),
    "a stem activation without a stem norm": (
        {"stem": {"filters": 8, "norm": False, "activation": False}},
        (
            "stem.activation",
            "warning",
            "unused",
            "the stem has no norm after its last conv, so this setting has no effect",
            "it says whether that norm is followed by the activation",
        ),
        "activation:",
    ),
    "a sequential stem without a stem": (
        {"stem": None, "keras": {"sequential_stem": True}},
        (
            "keras.sequential_stem",
            "warning",
            "unused",
            "there is no stem to wrap, so this setting has no effect",
            "it wraps the stem's layers; this network has no stem",
        ),
        "sequential_stem:",
    ),
    "sequential transitions without a transition": (
        {"keras": {"sequential_transitions": True}},
        (
            "keras.sequential_transitions",
            "warning",
            "unused",
            "there is no transition to wrap, so this setting has no effect",
            "transitions are the layers a stage runs besides its blocks (DenseNet's, "
            "ConvNeXt's downsampling, a strided plain stage's pool)",
        ),
        "sequential_transitions:",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_rule_reports_its_whole_diagnostic_at_its_place(case):
    sections, expected, at = CASES[case]
    source = text(**sections)
    [diagnostic] = checks(source)
    found = (diagnostic.path, diagnostic.severity, diagnostic.code, diagnostic.message)
    assert (*found, diagnostic.hint) == expected
    assert pointed_at(source, diagnostic).startswith(at)


PREACT = {"block": "preact_basic", "filters": 8, "stride": 2}
BASIC = {"block": "basic", "filters": 8, "stride": 2}
QUIET = {
    "preact source with one pre-activation stage among others": {
        "residual": {"shortcut": {"source": "preact"}},
        "stem": {"filters": 8, "norm": False},
        "stages": [BASIC, PREACT],
    },
    "maxpool downsampling where a strided block does not project": {
        "residual": {"shortcut": {"downsample": "maxpool", "kind": "identity"}},
        "stages": [{"block": "basic", "filters": 8, "stride": 2, "depth": 2}],
        "stem": {"filters": 8},
    },
    "projection downsampling stated": {"residual": {"shortcut": {"downsample": "projection"}}},
    "an SE width alone": {"stages": [{"block": "basic", "filters": 8, "se": {"width": 4}}]},
    "an SE ratio alone": {"stages": [{"block": "basic", "filters": 8, "se": {"ratio": 0.5}}]},
    "a block type without SE": {"stages": [{"block": "convnext", "filters": 8}]},
    "a nominal size for an open input": {
        "input": {"shape": [None, None, 3], "nominal_size": [64, 64]},
    },
    "a dense activation with a dense layer": {
        "head": {"classes": 3, "dense": [16], "dense_activation": "relu"},
    },
    "one class with sigmoid": {"head": {"classes": 1, "activation": "sigmoid"}},
    "two classes with softmax": {"head": {"classes": 2, "activation": "softmax"}},
    "a default stem norm before a pre-activation block": {"stages": [PREACT]},
    "a stated stem norm before a post-activation block": {
        "stem": {"filters": 8, "norm": True},
        "stages": [BASIC],
    },
    "a stated stem norm and a pool before a pre-activation block": {
        "stem": {"filters": 8, "norm": True, "pool": {"size": 3, "stride": 2}},
        "stages": [PREACT],
    },
    "no stem norm before a pre-activation block": {
        "stem": {"filters": 8, "norm": False},
        "stages": [PREACT],
    },
    "a stem activation after a stem norm": {"stem": {"filters": 8, "activation": True}},
    "a sequential stem with a stem": {"keras": {"sequential_stem": True}},
    "sequential transitions with a transition": {
        "keras": {"sequential_transitions": True},
        "stages": [{"block": "plain", "filters": 8, "stride": 2}],
    },
    "sequential options off without a stem or transition": {
        "stem": None,
        "keras": {"sequential_stem": False, "sequential_transitions": False},
    },
}


@pytest.mark.parametrize("case", QUIET)
def test_near_misses_stay_quiet(case):
    assert checks(text(**QUIET[case])) == []


def test_every_rule_reports_at_once_in_one_spec():
    # One spec breaking several rules gets each diagnostic, in the order of its lines.
    source = text(
        input={"shape": [32, 32, 3], "nominal_size": [64, 64]},
        head={"classes": 1, "dense_activation": "relu"},
        keras={"sequential_transitions": True},
    )
    assert [d.path for d in checks(source)] == [
        "input.nominal_size",
        "head.classes",
        "head.dense_activation",
        "keras.sequential_transitions",
    ]
