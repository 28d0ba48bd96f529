"""A user's review: an input shape written channels first was accepted without a word.

`input: {shape: [3, 224, 224]}`, as PyTorch writes an image, validated and built a model for
images 3 pixels high with 224 channels. It is legal, so it is a warning (`channels-first`),
silenced like any other; shapes that are channels last, or too small to say, stay quiet.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import archspec
from archspec.cli import main
from archspec.loader import preset_names

SPEC = (
    "name: r\n"
    "input: {shape: [%s]}\n"
    "stem: {filters: 8}\n"
    "stages:\n"
    "  - {block: basic, filters: 8}\n"
    "head: {classes: 4}\n"
)


def warnings_of(shape: str) -> list[archspec.Diagnostic]:
    return list(archspec.analyze(archspec.loads(SPEC % shape, "s.yaml")).warnings)


def test_a_channels_first_shape_warns_at_the_shape(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(SPEC % "3, 224, 224")
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "s.yaml:2:16: warning: input.shape: [3, 224, 224] looks channels first: archspec reads "
        "[height, width, channels], so this is 3 pixels high with 224 channels [channels-first]",
        "    hint: write [224, 224, 3] for 3-channel images",
        "1 file checked: 1 valid, 0 invalid (0 errors, 1 warning)",
    ]
    strict = CliRunner().invoke(main, ["validate", "--strict", "s.yaml"])
    assert strict.exit_code == 1
    quiet = CliRunner().invoke(
        main, ["validate", "--strict", "--ignore", "channels-first", "s.yaml"]
    )
    assert quiet.exit_code == 0


@settings(max_examples=60, deadline=None)
@given(
    first=st.sampled_from([1, 3, 4]),
    width=st.integers(16, 512),
    channels=st.integers(16, 512),
)
def test_every_channels_first_shape_warns(first, width, channels):
    (warning,) = warnings_of(f"{first}, {width}, {channels}")
    assert (warning.code, warning.path) == ("channels-first", "input.shape")
    assert warning.hint == f"write [{width}, {channels}, {first}] for {first}-channel images"


@settings(max_examples=60, deadline=None)
@given(
    height=st.integers(16, 512),
    width=st.integers(16, 512),
    channels=st.sampled_from([1, 3, 4, 8, 64]),
)
def test_channels_last_shapes_stay_quiet(height, width, channels):
    assert [w.code for w in warnings_of(f"{height}, {width}, {channels}")] in (
        [],
        ["uneven-stride"],
    )


@pytest.mark.parametrize("shape", ["3, 8, 8", "2, 64, 64", "null, null, 3", "3, 64, 8"])
def test_shapes_that_do_not_say_stay_quiet(shape):
    assert "channels-first" not in [w.code for w in warnings_of(shape)]


def test_no_preset_warns():
    for name in preset_names():
        assert archspec.analyze(archspec.load(name)).warnings == (), name
