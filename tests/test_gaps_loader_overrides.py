"""Overrides and the final validation of a document, where the mutation campaign found them
unchecked (TESTING.md).

Each test pins a behaviour that a planted bug changed without any other test noticing: the
value a refused set is named by, that a list of `Override`s is taken as it is, the whole
diagnostic of an override on a spec that is not a mapping, the words of a list position that
is not there (past the end, or in a value that is no list), that applying overrides leaves the
document it is given as it was, and the code and location of a spec that is not a mapping.
"""

from __future__ import annotations

import copy

import pytest

import archspec
from archspec.errors import Diagnostic, Location, SpecError
from archspec.io import Document, SourceMap, parse_document
from archspec.loader import Override, apply_overrides, as_overrides, validate_document
from tests.conftest import TINY_SPEC


def only_error(text: str = TINY_SPEC, file: str = "tiny.yaml", **kwargs) -> Diagnostic:
    """The one diagnostic of loading `text`."""
    with pytest.raises(SpecError) as info:
        archspec.loads(text, file, **kwargs)
    (d,) = info.value.diagnostics
    return d


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ({32}, "{32}"),
        (frozenset({32}), "frozenset({32})"),
        ([32, {7}, 3], "{7}"),  # the set itself, not the value that holds it
    ],
)
def test_a_refused_set_is_named_by_its_value(value, shown):
    d = only_error(overrides={"input.shape": value})
    assert d.message == f"{shown} is a set, which has no order"


def test_a_list_of_overrides_is_taken_as_given():
    spec = archspec.loads(
        TINY_SPEC, overrides=[Override("head.classes", 5, "--set head.classes=5")]
    )
    assert spec.head.classes == 5
    d = only_error(overrides=[Override("head.classes", 0, "--set head.classes=0")])
    assert (d.path, str(d.location)) == ("head.classes", "--set head.classes=0")


@pytest.mark.parametrize("text", ["[1, 2]\n", "3\n", "null\n"])
def test_an_override_on_a_spec_that_is_not_a_mapping_is_refused_at_the_override(text):
    d = only_error(text, "odd.yaml", overrides={"head.classes": 10})
    assert d == Diagnostic(
        "the spec is not a mapping",
        "head.classes",
        Location("overrides['head.classes']"),
        code="override",
    )


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("stages[1].depth", "stages has no item 1: it is a list of 1"),  # one past the end
        ("stages[1]", "stages has no item 1: it is a list of 1"),  # the last part, too
        ("head[0]", "head has no item 0: it is a mapping"),
        ("name[0]", "name has no item 0: it is text"),
        ("head.dense[0]", "head.dense has no item 0: it is a list of 0"),  # not in the spec
    ],
)
def test_a_list_position_that_is_not_there_is_refused(key, message):
    d = only_error(overrides={key: 1})
    assert (d.code, d.path, str(d.location), d.message) == (
        "override",
        key,
        f"overrides[{key!r}]",
        message,
    )


def test_applying_overrides_leaves_the_document_as_it_was():
    document = parse_document(TINY_SPEC, "tiny.yaml")
    before = copy.deepcopy(document.data)
    changed = apply_overrides(
        document, as_overrides({"stages[0].filters": 16, "head.classes": 3, "input.shape[0]": 33})
    )
    assert document.data == before
    assert changed.data["stages"][0]["filters"] == 16
    assert (changed.data["head"]["classes"], changed.data["input"]["shape"]) == (3, [33, 32, 3])


NOT_A_MAPPING = "a spec must be a mapping of keys (name, input, stem, stages, head), not {}"


@pytest.mark.parametrize(
    ("text", "kind", "where"),
    [
        ("[1, 2]\n", "a list", "odd.yaml:1:1"),
        ("\n\n7\n", "a whole number", "odd.yaml:3:1"),  # where the value is written
    ],
)
def test_a_spec_that_is_not_a_mapping_is_a_type_error(text, kind, where):
    d = only_error(text, "odd.yaml")
    assert (d.code, d.path, str(d.location), d.message) == (
        "type",
        "",
        where,
        NOT_A_MAPPING.format(kind),
    )


def test_a_document_without_locations_is_refused_at_its_first_line():
    with pytest.raises(SpecError) as info:
        validate_document(Document([1, 2], SourceMap(), "built.yaml"))
    (d,) = info.value.diagnostics
    assert (d.code, d.location, d.message) == (
        "type",
        Location("built.yaml", 1, 1),
        NOT_A_MAPPING.format("a list"),
    )
