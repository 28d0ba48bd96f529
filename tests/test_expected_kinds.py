"""What a type error says a field expects names every kind of value the field accepts.

`stem.filters` takes one number or a list of them; a text there was once refused with
"expected a list", which sends the writer to the wrong form. Every field of every block type
is probed: the kinds it accepts are found by loading samples of each kind, then every sample
of every other kind that is refused with an "expected ..." must be told each of them.
"""

from __future__ import annotations

import re

import pytest

import archspec
from archspec.blocks.base import block_types
from tests.conftest import TINY_SPEC

SAMPLES: dict[str, tuple[object, ...]] = {
    "whole number": (1, 2, 3, 8, 0),
    "number": (0.5, 0.25, 1.5),
    "text": ("x", "a1"),
    "true or false": (True, False),
    "list": ([8], [1], [8, 8], []),
    "mapping": ({},),
}
"""Samples of each kind of value, named as messages name them."""
NAMED_BY = {
    "whole number": ("whole number", "a number"),
    "number": ("a number",),
    "text": ("text",),
    "true or false": ("true or false",),
    "list": ("list",),
    "mapping": ("mapping",),
}
"""The words in "expected ..." that cover each kind ("a number" takes whole numbers too)."""


def _keys(value: object, key: str = "") -> list[str]:
    """The key of every value in `value` that is not a container."""
    if isinstance(value, dict):
        return [k for name, item in value.items() for k in _keys(item, f"{key}.{name}")]
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [k for i, item in enumerate(value) for k in _keys(item, f"{key}[{i}]")]
    return [key.lstrip(".")]


def _spec(block: str) -> str:
    return TINY_SPEC.replace("{block: preact_basic, filters: 8}", f"{{block: {block}, filters: 8}}")


def _loads(block: str, key: str, value: object) -> list[archspec.Diagnostic]:
    try:
        archspec.loads(_spec(block), "t.yaml", overrides={key: value})
    except archspec.SpecError as error:
        return list(error.diagnostics)
    return []


FIELDS = sorted(
    {
        (block, key)
        for block in block_types()
        for key in _keys(archspec.loads(_spec(block)).model_dump(mode="json", by_alias=True))
        if key.split(".")[0] not in ("extends", "$schema", "name", "description")
        and not key.endswith(".block")
    }
)


def _accepted(block: str, key: str) -> set[str]:
    return {
        kind
        for kind, samples in SAMPLES.items()
        if any(not _loads(block, key, sample) for sample in samples)
    }


ACCEPTED = {field: _accepted(*field) for field in FIELDS}


def test_the_probe_sees_the_forms_of_a_field_that_takes_one_or_many():
    assert ACCEPTED[("preact_basic", "stem.filters")] >= {"whole number", "list"}


@pytest.mark.parametrize("field", FIELDS, ids="-".join)
def test_expected_names_every_kind_the_field_accepts(field):
    accepted = ACCEPTED[field]
    for kind in SAMPLES.keys() - accepted:
        for value in SAMPLES[kind]:
            for d in _loads(*field, value):
                said = re.match(r"expected (.*?), got ", d.message)
                if said is None or d.path != field[1]:
                    continue
                if kind == "number" and said.group(1) == "a whole number":
                    continue  # read as the one-number form, with a value that is not whole
                for wanted in accepted:
                    assert any(word in said.group(1) for word in NAMED_BY[wanted]), (value, d)


def test_one_filter_count_or_a_list_is_what_a_text_stem_is_told():
    (d,) = _loads("preact_basic", "stem.filters", "x")
    assert d.message == "expected a whole number or a list of them, got text 'x'"
