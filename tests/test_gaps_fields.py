"""The spec language's value types, where the mutation campaign found them unchecked (TESTING.md).

`Whole` is what a block type's author writes for every whole-number field
(`Annotated[int, Whole(1, 8)]`); the preset fields are built with it when archspec is imported,
before any test can look. These tests build new fields with it and pin what each part of it
does: the bounds, the description and extra keywords in the JSON Schema, no text or booleans,
and 16.0 read as 16; and `Kernel`'s odd-only rule with its message.
"""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import TypeAdapter, ValidationError

from archspec.fields import Kernel, Whole


def test_a_whole_field_states_its_bounds_description_and_extras_in_the_schema():
    field = TypeAdapter(Annotated[int, Whole(2, 5, "Number of things.", examples=[3])])
    assert field.json_schema() == {
        "type": "integer",
        "minimum": 2,
        "maximum": 5,
        "description": "Number of things.",
        "examples": [3],
    }
    bare = TypeAdapter(Annotated[int, Whole(0, 9)])
    assert bare.json_schema() == {"type": "integer", "minimum": 0, "maximum": 9}


def test_a_whole_field_takes_whole_numbers_within_its_bounds_only():
    field = TypeAdapter(Annotated[int, Whole(2, 5)])
    assert field.validate_python(2) == 2
    assert field.validate_python(5) == 5
    converted = field.validate_python(4.0)
    assert (converted, type(converted)) == (4, int)
    for value in (1, 6, 4.5, True, "3", None):
        with pytest.raises(ValidationError):
            field.validate_python(value)


def test_a_kernel_is_odd_and_says_why():
    kernel = TypeAdapter(Kernel)
    assert kernel.validate_python(3) == 3
    assert kernel.validate_python(5.0) == 5
    with pytest.raises(ValidationError) as info:
        kernel.validate_python(4)
    assert "must be odd so that 'same' padding is symmetric, got 4" in str(info.value)
