"""`archspec show`: the resolved spec is a complete spec of its own that reads back the same."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

import archspec
from archspec.cli import main
from tests.conftest import SPECS


def show(*args: str) -> str:
    result = CliRunner().invoke(main, ["show", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("output_format", ["yaml", "json"])
@pytest.mark.parametrize("path", SPECS, ids=lambda path: path.stem)
def test_the_resolved_spec_reads_back_as_the_same_spec(path, output_format, tmp_path):
    text = show(path.stem, "--format", output_format)
    data = json.loads(text) if output_format == "json" else yaml.safe_load(text)
    assert "extends" not in data and "$schema" not in data
    copy = tmp_path / f"{path.stem}.{output_format}"
    copy.write_text(text)
    again, original = archspec.load(copy), archspec.load(path.stem)
    assert again.model_dump() == original.model_dump() | {"extends": None, "schema_uri": None}


def test_show_applies_extends_and_overrides(tmp_path):
    spec = tmp_path / "mine.yaml"
    spec.write_text("extends: resnet22\nname: mine\n")
    data = yaml.safe_load(show(str(spec), "--set", "head.classes=10"))
    assert (data["name"], data["head"]["classes"]) == ("mine", 10)
    assert data["input"]["shape"] == [256, 256, 3]  # from resnet22
    assert data["norm"]["epsilon"] == 0.001  # a default, written out


def test_show_reports_an_invalid_override_like_other_commands():
    result = CliRunner().invoke(main, ["show", "resnet22", "--set", "head.classes=0"])
    assert result.exit_code == 1
    assert "head.classes" in result.stderr


def test_a_null_that_says_something_stays_and_a_default_null_goes():
    assert yaml.safe_load(show("vgg16"))["stem"] is None  # VGG has no stem: not the default
    stem = yaml.safe_load(show("resnet22"))["stem"]
    assert "pool" not in stem and stem["filters"] == [16]  # stem.pool's default is null
