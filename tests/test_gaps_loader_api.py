"""The loader at its edges: `loads`'s defaults, JSON syntax and `root`, an empty name, the
length limit of suggestions, unknown keys nested inside a stage, and the beginner's hints for
the list fields an extension block type may have (the shipped block types have none)."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field

import archspec
from archspec.blocks.base import StageSpec, unregister
from archspec.loader import MAX_SUGGESTED_LENGTH, closest

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
