"""`archspec show`: the resolved spec is a complete spec of its own that reads back the same."""

from __future__ import annotations

import json
import typing

import pydantic
import pytest
import yaml
from click.testing import CliRunner

import archspec
from archspec.blocks.base import stage_models
from archspec.cli import main
from archspec.spec import Head, Spec
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


def _nullable_fields_with_other_defaults() -> list[str]:
    """Fields that accept null but default to something else: show would drop their null."""
    found, seen = [], set()

    def types_in(annotation: object) -> list[object]:
        return [annotation, *(t for arg in typing.get_args(annotation) for t in types_in(arg))]

    def walk(model: type[pydantic.BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            types = types_in(field.annotation)
            nullable = type(None) in typing.get_args(field.annotation)  # not a list's items
            # head.classes is null exactly when left out without the classifier (a validator)
            exempt = (model, name) == (Head, "classes")
            if nullable and field.default is not None and not exempt:
                found.append(f"{model.__name__}.{name}")
            for t in types:
                if isinstance(t, type) and issubclass(t, pydantic.BaseModel):
                    walk(t)

    for model in (Spec, *stage_models()):
        walk(model)
    return found


def test_show_may_leave_out_nulls_since_every_nullable_field_defaults_to_null():
    assert _nullable_fields_with_other_defaults() == []
