"""Any document, however hostile, is a valid spec or a located SpecError; never a crash."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archspec
from archspec.cli import main
from archspec.errors import SpecError
from tests.hostile import FAMILIES, run_pipeline
from tests.strategies import DOCUMENTS, mutated_specs

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def accept_or_locate(text: str, *, json_syntax: bool = False) -> None:
    """The whole pipeline short of Keras: parse, validate, lower."""
    try:
        spec = archspec.loads(text, "fuzz.yaml", json_syntax=json_syntax)
        archspec.lower(spec)
    except SpecError as exc:
        assert exc.diagnostics
        for diagnostic in exc.diagnostics:
            assert diagnostic.location is not None, diagnostic
            assert diagnostic.message


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text(text):
    accept_or_locate(text)
    accept_or_locate(text, json_syntax=True)


@FUZZ
@given(DOCUMENTS)
def test_arbitrary_yaml_and_json_documents(document):
    accept_or_locate(yaml.safe_dump(document, allow_unicode=True))
    try:
        text = json.dumps(document, allow_nan=False)
    except ValueError:  # NaN and infinities have no JSON spelling
        return
    accept_or_locate(text, json_syntax=True)


@FUZZ
@given(mutated_specs())
def test_mutations_of_the_shipped_specs(document):
    accept_or_locate(yaml.safe_dump(document, allow_unicode=True))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([".yaml", ".json"]))
def test_arbitrary_bytes_through_the_cli(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"spec{suffix}"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


# --- the families of issue 15, through the whole pipeline and every output format -----------

FAMILY_RUNS = {name: 40 if name.startswith("large") else 150 for name in FAMILIES}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_hostile_family_is_accepted_or_located_and_renders_harmlessly(family):
    """benchmarks/fuzz_hostile.py runs the same check over 10,000 documents, timed."""

    @settings(
        max_examples=FAMILY_RUNS[family],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(FAMILIES[family])
    def check(document):
        text, json_syntax = document
        run_pipeline(text, json_syntax=json_syntax)

    check()
