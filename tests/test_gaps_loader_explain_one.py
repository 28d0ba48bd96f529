"""How one pydantic error is worded and located, where the mutation campaign found it unchecked.

The built-in spec models are strict and have few shapes, so several branches of `_explain_one`
and `_describe` are reached only by a block type of one's own (the extension point: any
`StageSpec` subclass is part of the language). Such a block may use lax `int` and `float`
fields, `dict` and `list` fields, a union of tuple and text or of two models, and validators
that raise pydantic's own errors; each must still be reported in archspec's words, and an error
the loader cannot place in a model must get no hint rather than a crash.

Among the built-in models: a short fixed-length list is hinted with its own field's description
(not its model's first field's), a key missing two levels down with its field's description,
and an unknown key points at the key even when the key is the name of the block type.
"""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

import archspec
from archspec.blocks.base import StageSpec, unregister
from archspec.errors import SpecError
from archspec.fields import Model

BLOCK = "odd_fields_under_test"


class _First(Model):
    """One member of a union of models."""

    first: int


class _Second(Model):
    """The other member: pydantic tries both, and tags its errors with the member's name."""

    second: int


@pytest.fixture(scope="module")
def odd_block():
    """A block type whose fields have shapes no built-in block has; removed afterwards."""

    class OddFieldsStage(StageSpec):
        """Lax numbers, a mapping, a list, and unions the loader cannot follow into a model."""

        block: Literal["odd_fields_under_test"]
        count: int = 1
        ratio: float = 1.0
        table: dict[str, int] = Field(default_factory=dict)
        sizes: list[int] = Field(default_factory=list)
        pair: tuple[int, int] | str = (1, 1)
        part: _First | _Second | None = None
        label: str = "ok"

        @field_validator("label")
        @classmethod
        def _refuse(cls, value: str) -> str:
            if value == "refused":
                raise PydanticCustomError("value_error", "this label is refused")
            return value

        def lower_block(self, b, x):
            return x

    yield OddFieldsStage
    unregister(BLOCK)


HEAD = """\
name: odd
input: {shape: [33, 33, 3]}
stem: {filters: 8}
head: {classes: 10}
"""


def problems(text: str) -> list[tuple[str, str | None, str, str]]:
    """Message, hint, code and path of each diagnostic of loading `text`, in file order."""
    with pytest.raises(SpecError) as info:
        archspec.loads(text)
    return [(d.message, d.hint, d.code, d.path) for d in info.value.diagnostics]


def odd_stage(setting: str) -> list[tuple[str, str | None, str, str]]:
    return problems(HEAD + f"stages: [{{block: {BLOCK}, filters: 8, {setting}}}]\n")


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        # lax int: a fraction is int_from_float, worded as a strict int's int_type is
        ("count: 2.5", ("expected a whole number, got a number 2.5", None, "int_from_float")),
        # lax float: text that is no number is float_parsing
        ("ratio: abc", ("expected a number, got text 'abc'", None, "float_parsing")),
        ("table: 3", ("expected a mapping (key: value), got a whole number 3", None, "dict_type")),
        ("sizes: 3", ("expected a list, got a whole number 3", None, "list_type")),
        # pydantic's own error, with no context: its message is the message
        ("label: refused", ("this label is refused", None, "value_error")),
    ],
)
def test_each_kind_of_error_of_a_block_of_ones_own_is_in_archspecs_words(
    odd_block, setting, expected
):
    name = setting.split(":")[0]
    assert odd_stage(setting) == [(*expected, f"stages[0].{name}")]


def test_a_short_list_in_a_union_is_reported_without_a_hint(odd_block):
    # The tuple is one member of a union: there is no single model whose field it is.
    assert odd_stage("pair: [1]")[0] == (
        "too few items: nothing at position 1 (counting from 0)",
        None,
        "missing",
        "stages[0].pair",
    )


def test_a_missing_key_in_a_union_of_models_is_reported_without_a_hint(odd_block):
    assert odd_stage("part: {}") == [
        ("missing required key 'first'", None, "missing", "stages[0].part.first"),
        ("missing required key 'second'", None, "missing", "stages[0].part.second"),
    ]


def test_an_unknown_key_in_a_union_of_models_gets_no_empty_list_of_allowed_keys(odd_block):
    # Which member the key was meant for is unknown, so there is no list of keys to offer.
    assert odd_stage("part: {first: 1, zz: 2}") == [
        ("missing required key 'second'", None, "missing", "stages[0].part.second"),
        ("unknown key 'first'", None, "extra_forbidden", "stages[0].part.first"),
        ("unknown key 'zz'", None, "extra_forbidden", "stages[0].part.zz"),
    ]


def valid(**lines: str) -> str:
    """A valid spec with some of its lines replaced."""
    text = {
        "name": "name: tiny",
        "input": "input: {shape: [33, 33, 3]}",
        "stem": "stem: {filters: 8}",
        "head": "head: {classes: 10}",
        "stages": "stages: [{block: preact_basic, filters: 8, stride: 2}]",
    }
    text.update(lines)
    return "\n".join(text.values()) + "\n"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (  # a fixed-length list that is not its model's first field gets its own description
            {"input": "input: {shape: [33, 33, 3], nominal_size: [224]}"},
            (
                "too few items: nothing at position 1 (counting from 0)",
                "[height, width] at which inspect, diff and the budgets count MACs and memory "
                "where `shape` leaves the size open.",
                "missing",
                "input.nominal_size",
            ),
        ),
        (  # two levels down, the model is the one holding the key, not the top-level one
            {"input": "input: {shape: [33, 33, 3], rescale: {offset: 1.0}}"},
            (
                "missing required key 'scale'",
                "Factor, such as 0.00392156862745098 (1 / 255).",
                "missing",
                "input.rescale.scale",
            ),
        ),
    ],
)
def test_a_missing_item_or_key_is_hinted_with_its_own_fields_description(lines, expected):
    assert problems(valid(**lines)) == [expected]


def test_an_unknown_key_named_like_the_block_type_is_located_at_the_key():
    # pydantic's loc for the key is (stages, 0, preact_basic, preact_basic): the first is the
    # union's tag, which here is also a key of the data, so the key is not found in full; the
    # diagnostic must still point at the key, as it does for any unknown key.
    text = valid(stages="stages:\n  - block: preact_basic\n    filters: 8\n    preact_basic: 3")
    with pytest.raises(SpecError) as info:
        archspec.loads(text)
    (d,) = info.value.diagnostics
    assert (d.message, d.code, d.path) == (
        "unknown key 'preact_basic'",
        "extra_forbidden",
        "stages[0].preact_basic",
    )
    assert (d.location.line, d.location.column) == (8, 5)
