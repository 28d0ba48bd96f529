"""No spec can inject code into generated source; generated identifiers are always valid."""

from __future__ import annotations

import ast

import pydantic
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import archspec
from archspec.backends.python import LINE_LENGTH, display_width
from archspec.errors import SpecError
from tests.conftest import ROOT
from tests.strategies import small_specs

RESNET22 = archspec.load(ROOT / "specs" / "resnet22.yaml")
EXPECTED_TOP_LEVEL = [
    "Expr",
    "Import",
    "ImportFrom",
    "FunctionDef",
    "FunctionDef",
    "FunctionDef",
    "If",
]


def assert_stays_in_the_docstring(description: str) -> None:
    spec = RESNET22.model_copy(update={"description": description})
    spec._source = None
    source = archspec.codegen(spec)
    tree = ast.parse(source)
    assert [type(node).__name__ for node in tree.body] == EXPECTED_TOP_LEVEL
    docstring = ast.get_docstring(tree, clean=False)
    assert "\\" not in source.split("import keras")[0]  # nothing escaped in the docstring
    for word in description.split():
        if word.isprintable() and not set(word) & {"\\", '"'}:
            assert word in docstring
    # ...and fits the line length as ruff measures it (wide characters take two columns),
    # bar a single word longer than a line, which ruff allows.
    for line in source.split("import keras")[0].splitlines():
        assert display_width(line) <= LINE_LENGTH or len(line.split()) == 1, line


HOSTILE = [
    'end """ + __import__("os").system("echo pwned") + """',
    "line one\nimport os\nos.system('echo pwned')",
    "backslash at the end \\",
    'ends with a quote "',
    "unicode line separator\u2028import os\u2029and paragraph",
    "nul \x00 and bell \x07 and escape \x1b[31m",
    "'''single''' and \"\"\"double\"\"\" and \\N{BULLET}",
]


@pytest.mark.parametrize("description", HOSTILE)
def test_hostile_descriptions_stay_inside_the_docstring(description):
    assert_stays_in_the_docstring(description)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_description_stays_inside_the_docstring(description):
    assert_stays_in_the_docstring(description)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_specs())
def test_generated_identifiers_are_valid_and_the_source_compiles(data):
    try:
        spec = archspec.Spec.model_validate(data)
        source = archspec.codegen(spec)
    except SpecError:
        assume(False)
    tree = ast.parse(source)
    compile(tree, "<generated>", "exec")
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            assert node.name.isidentifier()
            assert all(arg.arg.isidentifier() for arg in node.args.args)


def test_names_that_could_inject_are_refused():
    names = ('x"); import os; ("', "a\nb", "a b", "1abc", "a/b", 'a"', "é", "ünïcode", "a" * 65)
    for name in names:
        with pytest.raises(pydantic.ValidationError) as info:
            archspec.Spec.model_validate({**RESNET22.model_dump(by_alias=True), "name": name})
        assert info.value.errors()[0]["loc"] == ("name",)
