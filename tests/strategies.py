"""Hypothesis strategies: hostile documents, mutations of the shipped specs, and valid specs."""

from __future__ import annotations

import copy
import json
import types
import typing
from typing import Any

import annotated_types
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from archspec.blocks import StageSpec, block_types, stage_model
from archspec.blocks.options import DropPath
from archspec.fields import PaddingStyle
from archspec.loader import read_resolved
from archspec.spec import KerasOptions
from tests.conftest import SPECS

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.integers(-3, 40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from([*block_types(), "first", "last", "explicit", "\u2028", "𝔘"]),
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=30,
)


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and indices) into a document, parents before children."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


SHIPPED = [read_resolved(path).data for path in SPECS]


@st.composite
def mutated_specs(draw: st.DrawFn) -> dict:
    """A shipped spec with one to four random edits: deletions, swapped types, deep nesting."""
    data = copy.deepcopy(draw(st.sampled_from(SHIPPED)))
    data.pop("extends", None)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(paths(data)))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "nest", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "nest":
            parent[path[-1]] = [[[[parent[path[-1]]]]]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = draw(DOCUMENTS)
        else:
            parent[path[-1]] = draw(DOCUMENTS)
    return data


# --- values of any spec field, derived from its pydantic model ---------------------------------

SMALL_INTS = (1, 2, 4)
"""Whole numbers drawn for a field besides its bounds and default: small, so models stay small."""


def _bounds(info: FieldInfo, annotation: Any) -> tuple[float | None, float | None]:
    low = high = None
    metadata = [*info.metadata]
    if typing.get_origin(annotation) is typing.Annotated:
        metadata += typing.get_args(annotation)[1:]
    for item in metadata:
        for inner in getattr(item, "metadata", [item]):
            if isinstance(inner, annotated_types.Ge | annotated_types.Gt):
                low = getattr(inner, "ge", None) or getattr(inner, "gt", None)
            if isinstance(inner, annotated_types.Le | annotated_types.Lt):
                high = getattr(inner, "le", None) or getattr(inner, "lt", None)
    return low, high


def _valid(info: FieldInfo, value: Any) -> bool:
    """Whether the field takes `value`: its validators may ask more than bounds (odd kernels)."""
    annotation = (
        typing.Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    )
    try:
        TypeAdapter(annotation).validate_python(value)
    except ValidationError:
        return False
    return True


def _base_type(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def field_values(info: FieldInfo) -> st.SearchStrategy[Any]:
    """Values of one field: from its Literal, bool, bounded number or nested model."""
    annotation = info.annotation
    kind = _base_type(annotation)
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(options) == 1:
            return st.one_of(st.none(), field_values(FieldInfo.from_annotation(options[0])))
    if origin is typing.Literal:
        return st.sampled_from(typing.get_args(kind))
    if kind is bool:
        return st.booleans()
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return model_values(kind)
    low, high = _bounds(info, annotation)
    default = [] if info.default is None or info.is_required() else [info.default]
    if kind is int:
        lo, hi = int(low if low is not None else 1), int(high if high is not None else 4)
        candidates = {lo, *default, *SMALL_INTS}
        return st.sampled_from(sorted(v for v in candidates if lo <= v <= hi and _valid(info, v)))
    if kind is float:
        lo, hi = float(low or 0.0), float(high if high is not None else 1.0)
        return st.sampled_from([*default, lo + (hi - lo) / 4])
    if info.is_required():
        raise TypeError(f"no strategy for a required field of type {annotation}")
    return st.just(info.default)


def model_values(model: type[BaseModel], skip: tuple[str, ...] = ()) -> st.SearchStrategy[dict]:
    """Mappings of a model's fields (all of them but `skip`) to values drawn for each."""
    return st.fixed_dictionaries(
        {
            info.alias or name: field_values(info)
            for name, info in model.model_fields.items()
            if name not in skip and info.alias != "$schema"
        }
    )


PADDINGS = typing.get_args(PaddingStyle)
STAGE_BASE_FIELDS = tuple(StageSpec.model_fields)
"""Fields every stage has; the strategy below draws them itself, small."""


# --- valid specs, small enough to build quickly ----------------------------------------------


@st.composite
def small_specs(draw: st.DrawFn) -> dict:
    """Specs over every knob, with small sizes; some are semantically invalid (callers filter)."""
    side = draw(st.integers(8, 40))
    stages = []
    for _ in range(draw(st.integers(1, 3))):
        block = draw(st.sampled_from(block_types()))
        stage = {
            "block": block,
            "filters": draw(st.sampled_from([4, 6, 8, 12, 16])),
            "depth": draw(st.integers(1, 3)),
            "stride": draw(st.sampled_from([1, 2])),
            **draw(model_values(stage_model(block), skip=STAGE_BASE_FIELDS)),
        }
        if draw(st.booleans()):  # per-block settings: some of the fields, for some blocks
            overrides = model_values(stage_model(block), skip=STAGE_BASE_FIELDS)
            stage["blocks"] = [
                {key: value for key, value in draw(overrides).items() if draw(st.booleans())}
                for _ in range(draw(st.integers(1, stage["depth"])))
            ]
        stages.append(stage)
    stem_filters = draw(
        st.one_of(
            st.sampled_from([4, 8]), st.lists(st.sampled_from([4, 8]), min_size=1, max_size=3)
        )
    )
    stem: dict[str, Any] = {
        "filters": stem_filters,
        "kernel": draw(st.sampled_from([1, 3, 5, 7])),
        "stride": draw(st.sampled_from([1, 2])),
        "norm": draw(st.booleans()),
        "activation": draw(st.booleans()),
        "padding": draw(st.sampled_from([None, *PADDINGS])),
    }
    if draw(st.booleans()):  # a patchify stem: an even kernel as large as its stride
        stem.update(filters=draw(st.sampled_from([4, 8])), kernel=2, stride=2)
    if draw(st.booleans()):
        stem["pool"] = {
            "kind": draw(st.sampled_from(["max", "avg"])),
            "size": draw(st.sampled_from([2, 3])),
            "stride": 2,
            "padding": draw(st.sampled_from([None, *PADDINGS])),
        }
    head = {
        "norm": draw(st.booleans()),
        "pool": draw(st.sampled_from(["avg", "max", "flatten"])),
        "pool_norm": draw(st.booleans()),
        "dense": draw(st.lists(st.sampled_from([4, 8]), max_size=2)),
        "dropout": draw(st.sampled_from([0.0, 0.25])),
        "classes": draw(st.integers(1, 5)),
        "activation": draw(st.sampled_from(["softmax", "sigmoid", "linear"])),
    }
    return {
        "name": draw(st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,10}", fullmatch=True)),
        "description": draw(st.text(max_size=40)),
        "input": draw(inputs(side)),
        "stem": draw(st.sampled_from([stem, None])),
        "stages": stages,
        "head": head,
        "residual": {
            "stride_at": draw(st.sampled_from(["first", "last"])),
            "shortcut": {
                "kind": draw(st.sampled_from(["conv", "avgpool_conv", "identity"])),
                "when": draw(st.sampled_from(["first_block", "shape_change"])),
                "downsample": draw(st.sampled_from(["projection", "maxpool"])),
                "source": draw(st.sampled_from(["input", "preact"])),
                "order": draw(st.sampled_from(["main_first", "shortcut_first"])),
            },
            "bottleneck_stride": draw(st.sampled_from(["spatial", "reduce"])),
            "zero_init_last": draw(st.booleans()),
        },
        "drop_path": draw(model_values(DropPath)),
        "conv": {
            "padding": draw(st.sampled_from(PADDINGS)),
            "bias": {k: draw(st.booleans()) for k in ("stem", "block", "block_out", "shortcut")},
        },
        "norm": {
            "kind": draw(st.sampled_from(["batch", "layer"])),
            "epsilon": draw(st.sampled_from([1e-3, 1.001e-5])),
            "momentum": draw(st.sampled_from([0.9, 0.99])),
        },
        "width_multiplier": draw(st.sampled_from([0.5, 1.0, 1.5])),
        "depth_multiplier": draw(st.sampled_from([1.0, 1.5])),
        "width_rounding": {
            "divisor": draw(st.sampled_from([None, 4, 8])),
            "min_fraction": draw(st.sampled_from([None, 0.9])),
        },
        "keras": draw(model_values(KerasOptions)),
    }


@st.composite
def inputs(draw: st.DrawFn, side: int) -> dict:
    """An input of this size or of any size, with or without preprocessing in the model."""
    channels = draw(st.sampled_from([1, 3]))
    size: Any = draw(st.sampled_from([side, None]))
    spec: dict[str, Any] = {"shape": [size, size, channels], "nominal_size": [side, side]}
    if draw(st.booleans()):
        spec["rescale"] = {"scale": draw(st.sampled_from([1 / 255, 2.0])), "offset": -1.0}
    normalize = draw(st.sampled_from(["none", "weights", "given"]))
    if normalize == "weights":
        spec["normalize"] = {}
    elif normalize == "given":
        spec["normalize"] = {"mean": [0.5] * channels, "std": [0.25] * channels}
    return spec


# --- hostile families (issue 15): parser-rejected scalars, cycles, numbers, sizes, controls --

MAX_TEXT = 1 << 20

TAGS = [
    "!!int",
    "!!float",
    "!!bool",
    "!!null",
    "!!str",
    "!!map",
    "!!seq",
    "!!merge",
    "!!timestamp",
    "!!binary",
    "!!set",
    "!!omap",
    "!!python/object/apply:os.system",
    "!!python/name:os.system",
    "!custom",
    "!",
    "!<tag:yaml.org,2002:int>",
    "!<tag:yaml.org,2002:timestamp>",
    "!<!>",
    "!e!int",
    "!e!float",
    "!e!timestamp",
]
NUMERALS = st.builds(
    lambda sign, digits, fraction, exponent: f"{sign}{digits}{fraction}{exponent}",
    st.sampled_from(["", "-", "+"]),
    st.one_of(
        st.text("0123456789_", min_size=1, max_size=12), st.integers(1, 6000).map("9".__mul__)
    ),
    st.sampled_from(["", ".", ".5", ".0e"]),
    st.sampled_from(["", "e5", "e-400", "e400", "E+99999"]),
)
SCALAR_TEXTS = st.one_of(
    NUMERALS,
    st.builds(
        "{:04d}-{:02d}-{:02d}".format, st.integers(0, 9999), st.integers(0, 19), st.integers(0, 39)
    ),
    st.sampled_from(
        [
            "1:30",
            "190:20:30",
            "yes",
            "No",
            "on",
            "OFF",
            "~",
            "null",
            ".inf",
            "-.Inf",
            ".NaN",
            "0x1F",
            "0o17",
            "0b101",
            "1_000",
            "abc",
            "maybe",
            "2001-12-14t21:59:43.10-05:00",
            "",
        ]
    ),
    st.text(max_size=20).map(json.dumps),
)
HOSTILE_KEYS = st.one_of(
    st.sampled_from(["name", "description", "width_multiplier", "head", "stem", "input"]),
    st.text(max_size=10).map(json.dumps),
)


@st.composite
def tagged_scalar_documents(draw: st.DrawFn) -> str:
    """A spec with a tagged (or plain) scalar where the parser used to fail."""
    tag = draw(st.sampled_from(["", *TAGS]))
    prefix = "%TAG !e! tag:yaml.org,2002:\n---\n" if "!e!" in tag else ""
    key = draw(HOSTILE_KEYS)
    value = draw(SCALAR_TEXTS)
    return f"{prefix}extends: resnet22\n{key}: {tag} {value}\n"


@st.composite
def anchor_documents(draw: st.DrawFn) -> str:
    """Anchors, aliases (to earlier nodes, or to the node they are in) and merge keys."""
    lines = []
    for i in range(draw(st.integers(1, 10))):
        refs = [f"*a{r}" for r in draw(st.lists(st.integers(0, i), max_size=9))]
        kind = draw(st.sampled_from(["list", "map", "merge", "scalar", "nested"]))
        if kind == "list":
            lines.append(f"a{i}: &a{i} [{', '.join(refs)}]")
        elif kind == "map":
            lines.append(f"a{i}: &a{i} {{{', '.join(f'k{j}: {r}' for j, r in enumerate(refs))}}}")
        elif kind == "merge":
            lines.append(f"a{i}: &a{i} {{<<: [{', '.join(refs)}], x{i}: 1}}")
        elif kind == "nested":
            depth = draw(st.integers(1, 40))
            lines.append(f"a{i}: &a{i} " + "[" * depth + ", ".join(refs) + "]" * depth)
        else:
            lines.append(f"a{i}: &a{i} {draw(SCALAR_TEXTS)}")
    return "\n".join(lines) + "\n"


REPEATED_UNITS = [
    "0, ", "[", "]", "{a: ", "a: 1\n", "- x\n", " ", "\n", "#c\n", "'x' ", '"\\x41" ', "\t",
    "&a [*a] ", "k: &b {x: 1}\n", "<<: *b\n", "? ", "- - - ", "!!int ", "*a ", "x" * 64,
    '"k": 1, ', "1e999, ", "\\u0000", "\u2028", "\x1b[2J", "é𝔘",
]  # fmt: skip


@st.composite
def large_documents(draw: st.DrawFn) -> tuple[str, bool]:
    """Up to a megabyte of one unit repeated inside a little structure, as YAML or JSON."""
    unit = draw(st.sampled_from(REPEATED_UNITS))
    count = draw(st.integers(0, MAX_TEXT // len(unit)))
    head, tail = draw(st.sampled_from([("", ""), ("a: [", "]"), ("{", "}"), ('{"a": [', "]}")]))
    text = (head + unit * count + tail)[:MAX_TEXT]
    return text, draw(st.booleans())


@st.composite
def json_documents(draw: st.DrawFn) -> str:
    """JSON with long numerals, odd whitespace, escapes and surrogates."""
    pad = draw(st.sampled_from(["", " ", "\n" * 50, " \t\r\n" * 10]))
    value = draw(
        st.one_of(NUMERALS, st.sampled_from(['"\\ud800"', '"\\u001b[2J"', "NaN", "-Infinity"]))
    )
    key = json.dumps(draw(st.text(max_size=8)))
    return f'{pad}{{{pad}"extends": "resnet22",{pad}{key}:{pad}{value}{pad}}}{pad}'
