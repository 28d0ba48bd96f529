"""The loader at its edges: `loads`'s defaults, JSON syntax and `root`, an empty name, the
length limit of suggestions, unknown keys nested inside a stage, and the beginner's hints for
the list fields an extension block type may have (the shipped block types have none)."""

from __future__ import annotations

from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Field

import archspec
from archspec.blocks.base import StageSpec, unregister
from archspec.loader import MAX_SUGGESTED_LENGTH, Override, closest
from tests.conftest import TINY_SPEC

TINY = (
    "name: tiny\ninput: {shape: [32, 32, 3]}\nstem: {filters: 8}\nhead: {classes: 10}\n"
    "stages:\n  - {block: %s}\n"
)


def only_error(text: str, file: str = "t.yaml", **kwargs) -> archspec.Diagnostic:
    with pytest.raises(archspec.SpecError) as info:
        archspec.loads(text, file, **kwargs)
    (d,) = info.value.diagnostics
    return d


def test_text_without_a_file_is_located_as_string():
    with pytest.raises(archspec.SpecError) as info:
        archspec.loads("name: [")
    (d,) = info.value.diagnostics
    assert (d.code, str(d.location)) == ("syntax", "<string>:2:1")


def test_loads_reads_json_when_asked_and_yaml_otherwise():
    d = only_error("name: tiny", json_syntax=True)
    assert (d.code, str(d.location), d.message) == (
        "syntax",
        "t.yaml:1:1",
        "not valid JSON: Expecting value",
    )
    with pytest.raises(archspec.SpecError) as info:
        archspec.loads("name: tiny", "t.yaml")  # YAML: a mapping missing its other keys
    assert {d.code for d in info.value.diagnostics} == {"missing"}


def test_extends_stays_in_the_files_folder_unless_a_root_is_given(tmp_path):
    (tmp_path / "base.yaml").write_text(TINY % "preact_basic, filters: 8")
    text = "extends: ../base.yaml\nname: child\n"
    child = tmp_path / "sub" / "child.yaml"
    d = only_error(text, str(child))
    assert (d.code, str(d.location)) == ("outside-root", f"{child}:1:10")
    spec = archspec.loads(text, str(child), root=tmp_path)
    assert (spec.name, spec.head.classes) == ("child", 10)


def test_an_empty_name_names_no_spec_file():
    with pytest.raises(archspec.UnreadableError) as info:
        archspec.load("")
    assert str(info.value) == "'': error: an empty name names no spec file"
    (d,) = info.value.diagnostics
    assert (d.code, d.message, str(d.location)) == (
        "not-found",
        "an empty name names no spec file",
        "''",
    )


def test_suggestions_compare_words_as_long_as_the_limit_and_no_longer():
    at_limit = "a" * MAX_SUGGESTED_LENGTH
    assert closest(at_limit, [at_limit]) == at_limit
    assert closest(at_limit + "a", [at_limit + "a"]) is None
    assert closest(at_limit[:-1] + "b", [at_limit + "a", at_limit]) == at_limit


def test_an_unknown_key_nested_in_a_stage_lists_the_nested_keys():
    d = only_error(TINY % "bottleneck, filters: 8, se: {ratio: 0.25, typo: 1}")
    assert (d.code, d.path) == ("extra_forbidden", "stages[0].se.typo")
    assert d.hint is not None and d.hint.startswith("allowed keys: ratio, ")
    assert "expansion" not in d.hint  # the stage's own keys
    d = only_error(TINY % "bottleneck, filters: 8, blocks: [{typo: 1}]")
    assert (d.path, d.hint) == ("stages[0].blocks[0].typo", "allowed keys: se, expansion, groups")


@pytest.fixture
def dilated_block():
    """A block type with a list field, as an extension may define one."""

    class DilatedStage(StageSpec):
        """Convs at the dilation rates listed."""

        block: Literal["gaps_dilated"]
        rates: list[int] = Field(default_factory=lambda: [1], description="Dilation rates.")

        def lower_block(self, b, x):
            return b.conv("conv", x, b.filters, 3, b.stride, bias=False)

    yield DilatedStage
    unregister("gaps_dilated")


@pytest.mark.parametrize(
    ("rates", "hint"),
    [
        ('"1x2"', "write a list: [1, 2]"),
        ('"1, 2, 4"', "write a list: [1, 2, 4]"),
        ('"1_000"', "write the number without separators: 1000"),
    ],
)
def test_list_fields_of_an_extension_get_the_beginners_hints(dilated_block, rates, hint):
    d = only_error(TINY % f"gaps_dilated, filters: 8, rates: {rates}")
    assert (d.code, d.path, d.hint) == ("list_type", "stages[0].rates", hint)


# --- a message quotes the value that was written ---------------------------------------------


def _keys(value: object, key: str = "") -> list[str]:
    """The key of every value in `value`, containers and what they hold."""
    inner: list[str] = []
    if isinstance(value, dict):
        inner = [k for name, item in value.items() for k in _keys(item, f"{key}.{name}")]
    elif isinstance(value, list):
        inner = [k for i, item in enumerate(value) for k in _keys(item, f"{key}[{i}]")]
    return [key.lstrip("."), *inner] if key else inner


_KEYS = [
    key
    for key in _keys(archspec.loads(TINY_SPEC).model_dump(mode="json", by_alias=True))
    if key.split(".")[0] not in ("extends", "$schema")
]


def test_a_value_a_field_turns_into_a_list_first_is_quoted_as_written():
    # pydantic reports `stem.filters: -1` at ('stem', 'filters', 0): the item of the tuple
    # the scalar became. The message must quote -1, not "null".
    d = only_error(TINY_SPEC.replace("stem: {filters: 8}", "stem: {filters: -1}"))
    assert (d.path, str(d.location), d.message) == (
        "stem.filters",
        "t.yaml:3:17",
        "must be at least 1, got a whole number -1",
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_KEYS),
    st.integers(-5, 5)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4)
    | st.booleans()
    | st.lists(st.integers(-3, 3), max_size=3),
)
def test_no_message_says_null_of_a_value_that_is_not_null(key, value):
    try:
        archspec.loads(TINY_SPEC, "t.yaml", overrides={key: value})
    except archspec.SpecError as error:
        for d in error.diagnostics:
            assert not d.message.endswith("got null"), (key, value, d)


def test_overrides_are_left_as_given_for_the_next_spec():
    # A command that reads several specs applies the same overrides to each.
    whole = Override("head", {"classes": 3}, "--set head={classes: 3}")
    overrides = [whole, Override("head.pool", "max", "--set head.pool=max")]
    for _ in range(2):
        spec = archspec.loads(TINY_SPEC, "t.yaml", overrides=overrides)
        assert (spec.head.classes, spec.head.pool) == (3, "max")
    assert whole.value == {"classes": 3}
