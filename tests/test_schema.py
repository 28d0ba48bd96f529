"""The checked-in JSON Schema is current, and it agrees with pydantic on valid and invalid specs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pydantic
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archspec.blocks import block_types
from archspec.cli import main
from archspec.errors import SpecError
from archspec.io import read_document
from archspec.loader import PRESETS_DIR, read_resolved
from archspec.schema import REGENERATE, SHIPPED_SCHEMA, schema_text
from archspec.spec import Spec
from tests.conftest import ROOT, SPECS
from tests.strategies import paths

SCHEMA_FILE = ROOT / "schemas" / "archspec.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
INVALID = sorted((ROOT / "tests" / "invalid").glob("*.*"))


def test_checked_in_schema_is_current():
    if SCHEMA_FILE.read_text() != schema_text():
        pytest.fail(f"schemas/archspec.schema.json is stale; regenerate it with: {REGENERATE}")


def test_the_package_ships_the_schema_where_its_presets_point():
    """Installed, `archspec/presets/x.yaml`'s `$schema=../schemas/...` names the shipped file."""
    assert SHIPPED_SCHEMA.read_text() == schema_text()
    for path in SPECS:
        modeline = path.read_text().splitlines()[0]
        relative = modeline.split("$schema=", 1)[1]
        assert (PRESETS_DIR / path.name).parent.joinpath(
            relative
        ).resolve() == SHIPPED_SCHEMA.resolve()


def test_schema_path_prints_the_shipped_file():
    result = CliRunner().invoke(main, ["schema", "--path"])
    assert result.exit_code == 0, result.output
    assert Path(result.output.strip()) == SHIPPED_SCHEMA
    assert CliRunner().invoke(main, ["schema", "--path", "-o", "x.json"]).exit_code == 2


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


def test_every_shipped_spec_carries_the_editor_modeline():
    for path in SPECS:
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/archspec.schema.json", path


def pydantic_accepts(data: object) -> bool:
    try:
        Spec.model_validate(data)
    except pydantic.ValidationError:
        return False
    return True


def schema_accepts(data: object) -> bool:
    return VALIDATOR.is_valid(data)


def resolved(path: Path) -> dict:
    data = copy.deepcopy(read_resolved(path).data)
    data.pop("extends", None)  # compare complete documents; extending files are partial
    return data


def test_schema_and_pydantic_accept_every_shipped_spec():
    for path in SPECS:
        assert schema_accepts(resolved(path)), path
        assert pydantic_accepts(resolved(path)), path


def test_extending_specs_are_partial_for_editors_but_still_checked():
    partial = read_document(ROOT / "specs" / "resnet101v2.yaml").data
    assert "input" not in partial and schema_accepts(partial)
    assert not schema_accepts({**partial, "head": {"clases": 3}})
    assert not schema_accepts({**partial, "stages": [{"filters": 8}]})  # stages stay whole


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_schema_and_pydantic_agree_on_the_invalid_corpus(path):
    try:
        data = read_document(path).data
    except SpecError:
        return  # not YAML/JSON at all: neither validator sees it
    if isinstance(data, dict):
        data.pop("extends", None)
    assert schema_accepts(data) == pydantic_accepts(data)


# --- property: random mutations of the shipped specs ------------------------------------------

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70_000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from([0.5, 3.0, 16.0, 1e-5, 2**70, -1.5]),
    st.text(max_size=6),
    st.sampled_from([*block_types(), "avg", "flatten", "explicit", "same", "x\n"]),
    st.lists(st.integers(-2, 300), max_size=4),
    st.dictionaries(st.sampled_from(["filters", "block", "depth", "bogus"]), st.integers(0, 9)),
)


def mutate(data: dict, draw) -> dict:
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        candidates = paths(data)
        path = draw(st.sampled_from(candidates))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add_key"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "add_key" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["bogus", "strides", "blocks"]))] = draw(VALUES)
        else:
            parent[path[-1]] = draw(VALUES)
    return data


BASES = [resolved(path) for path in SPECS]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_schema_and_pydantic_agree_on_mutated_specs(data):
    document = mutate(data.draw(st.sampled_from(BASES)), data.draw)
    assert schema_accepts(document) == pydantic_accepts(document), document
