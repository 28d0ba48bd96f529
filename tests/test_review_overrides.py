"""A user's review of --set: every problem is located at the option, and adding is explained.

`--set head.foo.bar=1` (a misspelt section, with a key under it) was reported at the line of
the preset's `head:` in the installed package, not at the option that wrote it; and
`--set stages[4]=...` on four stages said there is no item 4 without saying how to add one.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import archspec
from archspec.cli import main
from archspec.errors import SpecError


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    ("key", "path", "allowed"),
    [
        ("head.foo.bar", "head.foo", "top, conv, norm, pool, pool_norm, dense"),
        ("residual.foo.bar", "residual.foo", "stride_at, shortcut, bottleneck_stride"),
        ("stages[0].foo.bar.baz", "stages[0].foo", "block, filters, depth, stride"),
    ],
)
def test_an_unknown_section_with_keys_under_it_is_located_at_the_option(key, path, allowed):
    result = run("inspect", "resnet22", "--set", f"{key}=1")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"--set {key}=1: error: {path}: unknown key 'foo'"
    assert lines[1].startswith(f"    hint: allowed keys: {allowed}")


@settings(max_examples=40, deadline=None)
@given(
    section=st.sampled_from(["head", "residual", "conv", "norm", "input", "stem"]),
    names=st.lists(st.from_regex(r"zz[a-z]{1,6}", fullmatch=True), min_size=2, max_size=4),
)
def test_every_unknown_key_an_override_writes_is_located_at_the_override(section, names):
    key = ".".join([section, *names])
    with pytest.raises(SpecError) as info:
        archspec.load("resnet22", overrides={key: 1})
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.message == f"unknown key '{names[0]}'"
    assert diagnostic.location is not None
    assert (diagnostic.location.file, diagnostic.location.line) == (f"overrides['{key}']", None)


@pytest.mark.parametrize(
    ("key", "here", "length"),
    [("stages[4]", "stages", 4), ("head.dense[1]", "head.dense", 1)],
)
def test_an_item_one_past_the_end_says_how_to_add_one(key, here, length):
    result = run("inspect", "resnet22", "--set", f"{key}=8")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"--set {key}=8: error: {key}: {here} has no item {length}: it is a list of {length}",
        "    hint: a key changes an item that exists; to add one, set the whole list: "
        f"{here}=[...]",
    ]


def test_an_item_further_past_the_end_gets_no_adding_hint():
    result = run("inspect", "resnet22", "--set", "stages[7].depth=2")
    assert result.output.splitlines() == [
        "--set stages[7].depth=2: error: stages[7].depth: stages has no item 7: it is a list of 4"
    ]
