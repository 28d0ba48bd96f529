"""Overrides: values set by key without editing a file (`--set`, `overrides=`), validated and
located like a file's values."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import archspec
from archspec.cli import main
from archspec.loader import override_path
from tests.conftest import TINY_SPEC


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def only_error(**kwargs) -> archspec.Diagnostic:
    with pytest.raises(archspec.SpecError) as info:
        archspec.load("resnet50v2", **kwargs)
    (d,) = info.value.diagnostics
    return d


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("head.classes", ("head", "classes")),
        ("stages[1].depth", ("stages", 1, "depth")),
        ("stages.1.depth", ("stages", 1, "depth")),
        ("$schema", ("$schema",)),
        ("head..classes", None),
        (".head", None),
        ("head.", None),
        ("[1]", None),
        ("stages[x]", None),
        ("", None),
    ],
)
def test_keys_are_dotted_paths_with_list_positions(key, path):
    assert override_path(key) == path


def test_load_sets_values_by_key():
    spec = archspec.load("resnet50v2", overrides={"head.classes": 10, "input.shape": (128, 128, 3)})
    assert (spec.head.classes, spec.input.shape) == (10, (128, 128, 3))
    assert spec.head.pool == "avg"  # the rest of the mapping is the file's
    graph = archspec.lower(spec)
    assert graph[graph.output].shape == (10,)
    assert graph["head_relu"].shape == (4, 4, 2048)


def test_a_list_item_and_a_new_mapping_can_be_set():
    spec = archspec.load("resnet22", overrides={"stages[1].depth": 3, "stem.pool.kind": "avg"})
    assert spec.stages[1].depth == 3
    assert spec.stem.pool is not None and spec.stem.pool.kind == "avg"


def test_a_mapping_value_replaces_the_mapping():
    spec = archspec.load("resnet22", overrides={"head": {"classes": 3}})
    assert (spec.head.classes, spec.head.pool, spec.head.dense) == (3, "avg", ())


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        ({"head.classes": 0}, "head.classes", "must be at least 1"),
        ({"head.clases": 3}, "head.clases", "unknown key 'clases'"),
        ({"stages[9].depth": 3}, "stages[9].depth", "stages has no item 9: it is a list of 4"),
        ({"input.shape.x": 1}, "input.shape.x", "input.shape is a list, not a mapping"),
        ({"extends": "resnet22"}, "extends", "'extends' cannot be overridden"),
        ({"head..classes": 1}, "", "'head..classes' is not a key"),
    ],
)
def test_a_bad_override_is_located_at_the_override(overrides, path, message):
    d = only_error(overrides=overrides)
    (key,) = overrides
    assert str(d.location) == f"overrides[{key!r}]"
    assert d.path == path
    assert message in d.message


def test_an_overridden_spec_keeps_what_it_states_and_where():
    spec = archspec.loads(
        "name: tiny\ninput: {shape: [32, 32, 3]}\nstem: {filters: 8}\n"
        "stages: [{block: preact_basic, filters: 8}]\nhead: {classes: 10}\n",
        "tiny.yaml",
    )
    changed = archspec.with_overrides(spec, {"input.shape": [33, 33, 3], "stages[0].stride": 2})
    assert "norm" not in changed.stem.model_fields_set  # still a default: no redundant-norm
    (warning,) = archspec.analyze(changed).warnings
    assert (warning.code, str(warning.location)) == (
        "uneven-stride",
        "overrides['stages[0].stride']",
    )
    assert archspec.with_overrides(spec, {}) is spec


def test_codegen_takes_overrides():
    source = archspec.codegen("resnet22", overrides={"head.classes": 7})
    assert "classes=7" in source


@pytest.mark.keras
def test_build_takes_overrides():
    model = archspec.build("resnet22", overrides={"head.classes": 3, "input.shape": [64, 64, 3]})
    assert model.output_shape == (None, 3)
    assert model.input_shape == (None, 64, 64, 3)


# --- on the command line ----------------------------------------------------------------------


def test_set_on_the_command_line():
    result = run(
        "inspect", "resnet50v2", "--set", "head.classes=10", "--set", "input.shape=[128,128,3]"
    )
    assert result.exit_code == 0, result.output
    assert "4x4x2048" in result.stdout
    assert "1000" not in result.stdout


def test_a_bad_value_names_the_option_and_the_key():
    result = run("validate", "resnet50v2", "--set", "head.classes=-3")
    assert result.exit_code == 1
    assert result.stdout.startswith(
        "--set head.classes=-3: error: head.classes: must be at least 1, got a whole number -3"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("head.classes", "'head.classes' is not KEY=VALUE"),
        ("=3", "'=3' is not KEY=VALUE"),
        ("head..classes=3", "'head..classes' is not a key"),
        ("input.shape=[128,128", "the value is not YAML"),
        ("head.classes=!!python/name:os.system", "the tag '!!python/name:os.system' is not"),
    ],
)
def test_a_malformed_set_is_a_usage_error_naming_the_option(value, message):
    result = run("inspect", "resnet22", "--set", value)
    assert result.exit_code == 2
    assert "Invalid value for '--set'" in result.output
    assert message in result.output


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30))
def test_no_key_or_value_makes_set_fail_other_than_plainly(key, value):
    result = CliRunner().invoke(main, ["validate", "resnet22", "--set", f"{key}={value}"])
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "value",
    [{32, 33, 3}, frozenset({32}), [32, {32}, 3], ({3},), {"shape": {1}}],
    ids=["set", "frozenset", "set-in-list", "set-in-tuple", "set-in-mapping"],
)
def test_a_set_is_refused_where_a_list_would_be_taken(value):
    # pydantic would take a set for a list, in whatever order the set iterates.
    with pytest.raises(archspec.SpecError) as info:
        archspec.loads(TINY_SPEC, overrides={"input.shape": value})
    (d,) = info.value.diagnostics
    assert (d.code, str(d.location), d.path) == (
        "override",
        "overrides['input.shape']",
        "input.shape",
    )
    assert "is a set, which has no order" in d.message
    assert d.hint == "give the values as a list or a tuple, in the order they belong"


_DATA = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 300) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.frozensets(st.integers(0, 300), max_size=3)
        | st.dictionaries(st.sampled_from(["a", "shape"]), inner, max_size=2)
    ),
    max_leaves=8,
)


def _holds_a_set(value) -> bool:
    if isinstance(value, set | frozenset):
        return True
    if isinstance(value, dict):
        return any(_holds_a_set(item) for item in value.values())
    return isinstance(value, list | tuple) and any(_holds_a_set(item) for item in value)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["input.shape", "stem.filters", "stages[0]", "head"]), _DATA)
def test_a_set_anywhere_in_a_python_override_is_refused_and_nothing_else_is_for_it(key, value):
    try:
        archspec.loads(TINY_SPEC, overrides={key: value})
    except archspec.SpecError as error:
        set_errors = [d for d in error.diagnostics if "is a set" in d.message]
        assert bool(set_errors) == _holds_a_set(value)
        assert all(str(d.location) == f"overrides[{key!r}]" for d in set_errors)
    else:
        assert not _holds_a_set(value)
