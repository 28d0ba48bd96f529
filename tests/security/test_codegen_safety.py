"""No spec can inject code into generated source; generated identifiers are always valid."""

from __future__ import annotations

import ast

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import archspec
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


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_description_stays_inside_the_docstring(description):
    spec = RESNET22.model_copy(update={"description": description})
    spec._source = None
    source = archspec.codegen(spec)
    tree = ast.parse(source)
    assert [type(node).__name__ for node in tree.body] == EXPECTED_TOP_LEVEL
    docstring = ast.get_docstring(tree, clean=False)
    for word in description.split():
        if word.isprintable():
            assert word in docstring


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
    for name in ('x"); import os; ("', "a\nb", "a b", "1abc", "a/b", 'a"', "é"):
        try:
            archspec.Spec.model_validate({**RESNET22.model_dump(by_alias=True), "name": name})
        except Exception as exc:  # pydantic's ValidationError is the expected outcome
            assert "name" in str(exc)
        else:
            raise AssertionError(f"name {name!r} was accepted")
