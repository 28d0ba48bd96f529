"""The whole pipeline on one hostile document, as `archspec validate` runs it, and the families
of hostile documents; shared by tests/security and benchmarks/fuzz_hostile.py.
"""

from __future__ import annotations

import json
import re
import time

import yaml
from hypothesis import strategies as st

import archspec
from archspec import report as reports
from archspec.check import FileReport
from archspec.errors import SpecError
from tests.strategies import (
    DOCUMENTS,
    anchor_documents,
    json_documents,
    large_documents,
    mutated_specs,
    tagged_scalar_documents,
)

OWN_STYLES = re.compile(r"\x1b\[(?:0|1|2|31|33)m")


def run_pipeline(text: str, *, json_syntax: bool = False) -> float:
    """Parse, validate, lower and render one document; the seconds it took.

    Anything but a located `SpecError` propagates (the caller sees the traceback), and every
    rendered line must be printable (one line, no control characters).
    """
    start = time.perf_counter()
    file = "fuzz.json" if json_syntax else "fuzz.yaml"
    try:
        spec = archspec.loads(text, file, json_syntax=json_syntax)
        diagnostics = archspec.analyze(spec).diagnostics
    except SpecError as exc:
        diagnostics = exc.diagnostics
        assert all(d.location is not None for d in diagnostics), diagnostics
    report = FileReport(file, tuple(diagnostics))
    # Styled as on a terminal; only archspec's own styles (bold, dim, red, yellow, reset) may
    # put an escape character in it.
    styled = reports.reports_text([report], strict=False)
    rendered = [OWN_STYLES.sub("", styled), reports.reports_github([report])]
    rendered += [d.format() for d in diagnostics]
    json.loads(reports.reports_json([report], strict=False))
    for output in rendered:
        for line in output.split("\n"):
            assert line.isprintable(), repr(line)
    return time.perf_counter() - start


def _as_yaml(document: object) -> tuple[str, bool]:
    return yaml.safe_dump(document, allow_unicode=True), False


def _as_json(document: object) -> tuple[str, bool]:
    return json.dumps(document, allow_nan=True), True


FAMILIES = {
    "tagged scalars, dates, numerals": tagged_scalar_documents().map(lambda t: (t, False)),
    "anchors, aliases, cycles, merges": anchor_documents().map(lambda t: (t, False)),
    "large and repeated (up to 1 MiB)": large_documents(),
    "JSON numerals, whitespace, escapes": json_documents().map(lambda t: (t, True)),
    "arbitrary text": st.tuples(st.text(max_size=300), st.booleans()),
    "arbitrary documents": DOCUMENTS.flatmap(lambda d: st.sampled_from([_as_yaml(d), _as_json(d)])),
    "mutated shipped specs": mutated_specs().map(_as_yaml),
}
"""Each family as (text, json_syntax) pairs."""

ALL_FAMILIES = st.one_of(*FAMILIES.values())
