"""How pydantic's errors become archspec's diagnostics (`loader.explain`), where the mutation
campaign found it unchecked.

At most 100 problems are listed per file and a final line counts the rest (README); the count
leaves out the errors that are never shown on their own (a list's length reported again
because its items fail). Problems in a file the spec extends are listed at the `extends` line
in the order they were written: by file, then line, then column.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

import archspec
from archspec.errors import Location, SpecError
from archspec.io import SourceMap
from archspec.loader import explain
from archspec.spec import Spec

VALID = """\
name: net
input: {shape: [32, 32, 3]}
stem: {filters: 16}
stages:
  - {block: basic, filters: 16, depth: 1, stride: 1}
head: {classes: 10}
"""

# Four problems a stage: three values below their bound and an unknown key.
FIELDS = ("filters", "depth", "stride", "colour")  # in the order written
BAD_STAGE = {"block": "basic", "filters": 0, "depth": 0, "stride": 0, "colour": 1}


def stages_text(count: int) -> str:
    """`VALID` with `count` stages of four problems each."""
    lines = "".join(
        "  - {block: basic, filters: 0, depth: 0, stride: 0, colour: 1}\n" for _ in range(count)
    )
    start = VALID.index("stages:\n") + len("stages:\n")
    end = VALID.index("head:")
    return VALID[:start] + lines + VALID[end:]


def problems(call) -> tuple:
    with pytest.raises(SpecError) as info:
        call()
    return info.value.diagnostics


def built() -> Spec:
    """A valid spec built in Python: none of its values has a place in a file."""
    data = archspec.loads(VALID).model_dump(mode="json", by_alias=True, exclude_unset=True)
    return Spec.model_validate(data)


def test_a_hundred_problems_are_all_listed_without_a_count():
    found = problems(lambda: archspec.loads(stages_text(25), "spec.yaml"))  # 25 x 4 = 100
    assert len(found) == 100
    assert all(d.code != "too-many-problems" for d in found)


@pytest.mark.parametrize(
    ("stages", "more"),
    [(26, 4), (30, 20)],  # every stage failing, pydantic adds a too-short the count leaves out
)
def test_problems_past_the_hundredth_are_counted_in_a_last_line_about_the_file(stages, more):
    found = problems(lambda: archspec.loads(stages_text(stages), "spec.yaml"))
    assert len(found) == 101
    *shown, last = found
    # The first hundred in file order: the first 25 stages, four problems each.
    assert [d.path for d in shown] == [
        f"stages[{i}].{field}"
        for i in range(25)
        for field in ("filters", "depth", "stride", "colour")
    ]
    assert [d.location.line for d in shown] == sorted(d.location.line for d in shown)
    assert last.message == f"{more} more problems in this file are not shown"
    assert last.hint == "only the first 100 are reported; fix those first"
    assert last.code == "too-many-problems"
    assert last.severity == "error"
    assert last.path == ""
    assert last.location == Location("spec.yaml")  # the file as a whole: no line
    assert last.format() == (
        f"spec.yaml: error: {more} more problems in this file are not shown\n"
        "    hint: only the first 100 are reported; fix those first"
    )


def test_the_count_of_what_is_not_shown_comes_last_for_a_spec_built_in_python_too():
    override = {"stages": [BAD_STAGE] * 30}
    found = problems(lambda: archspec.with_overrides(built(), override))
    assert len(found) == 101
    *shown, last = found
    assert {d.location for d in shown} == {Location("overrides['stages']")}
    assert last.message == "20 more problems in this file are not shown"
    assert last.code == "too-many-problems"
    assert last.location is None  # no file to point at


def test_the_count_line_is_what_the_command_line_prints_last(tmp_path):
    from click.testing import CliRunner

    from archspec.cli import main

    spec = tmp_path / "spec.yaml"
    spec.write_text(stages_text(30), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.exit_code == 1
    assert (
        f"{spec}: error: 20 more problems in this file are not shown\n"
        "    hint: only the first 100 are reported; fix those first\n"
    ) in result.output
    assert result.output.count("error:") == 101


def written_at(text: str, line_start: str, needle: str) -> tuple[int, int]:
    """Line and column (from 1) of `needle` in the line of `text` starting `line_start`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(line_start):
            return number, line.index(needle) + 1
    raise AssertionError(line_start)


def test_inherited_problems_are_listed_at_extends_by_file_then_line_then_column(tmp_path):
    # spec.yaml extends a.yaml extends b.yaml. In a.yaml a stage's stride (written first) and
    # depth fail on one line, another stage's filters on the next line, at a column between
    # the two; b.yaml's head fails on its first line. pydantic's order is none of these.
    b = "head: {classes: 0}\n" + VALID.replace("head: {classes: 10}\n", "")
    a = (
        "extends: b.yaml\n"
        "stages:\n"
        "  - {block: basic, stride: 0, filters: 16, depth: 0}\n"
        "  - {block: basic, filters: 0, depth: 1, stride: 1}\n"
    )
    spec = "extends: a.yaml\nname: net\n"
    for name, text in (("b.yaml", b), ("a.yaml", a), ("spec.yaml", spec)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    found = problems(lambda: archspec.load(tmp_path / "spec.yaml"))
    extends_at = Location(str(tmp_path / "spec.yaml"), 1, 10)
    assert {d.location for d in found} == {extends_at}
    assert [(d.path, Path(d.origin.file).name, d.origin.line, d.origin.column) for d in found] == [
        ("stages[0].stride", "a.yaml", *written_at(a, "  - {block: basic, stride", "0, filters")),
        ("stages[0].depth", "a.yaml", *written_at(a, "  - {block: basic, stride", "0}")),
        ("stages[1].filters", "a.yaml", *written_at(a, "  - {block: basic, filters", "0, depth")),
        ("head.classes", "b.yaml", *written_at(b, "head:", "0}")),
    ]


def test_explain_without_a_source_gives_problems_without_a_place():
    data = {**archspec.loads(VALID).model_dump(mode="json", by_alias=True, exclude_unset=True)}
    data["head"] = {"classes": 0}
    data["stem"] = {"filters": 16, "kernel": 0}
    with pytest.raises(ValidationError) as info:
        Spec.model_validate(data)
    found = explain(info.value, data, SourceMap())
    assert [(d.path, d.code, d.location) for d in found] == [
        ("stem.kernel", "greater_than_equal", None),
        ("head.classes", "greater_than_equal", None),
    ]
