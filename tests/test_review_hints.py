"""A user's review of validation hints: what people write by mistake gets a hint that fits.

Each case is a mistake a person makes, with the exact line `archspec validate` prints and the
hint under it: a thousands separator or a decimal comma, a percentage written with '%', one
value where a list goes, SE's reduction ratio where archspec wants the share of channels kept,
and an `extends` that names a file that is not there.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import archspec
from archspec.cli import main
from archspec.errors import SpecError

SPEC = (
    "name: r\n"
    "input: {shape: [64, 64, 3]}\n"
    "stem: {filters: 8}\n"
    "stages:\n"
    "  - {block: basic, filters: 16}\n"
    "head:\n"
    "  classes: 4\n"
)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def validate(tmp_path, monkeypatch, text: str, name: str = "s.yaml") -> tuple[int, list[str]]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(text)
    result = run("validate", name)
    return result.exit_code, result.output.splitlines()


def only(text: str):
    with pytest.raises(SpecError) as info:
        archspec.loads(text, "s.yaml")
    (diagnostic,) = info.value.diagnostics
    return diagnostic


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "  dropout: 0,5",
            [
                "s.yaml:8:12: error: head.dropout: expected a number, got text '0,5'",
                "    hint: write a decimal point: 0.5",
            ],
        ),
        (
            "  dropout: 50%",
            [
                "s.yaml:8:12: error: head.dropout: expected a number, got text '50%'",
                "    hint: write a fraction, without '%': 50% is 0.5",
            ],
        ),
        (
            "  dense: 128",
            [
                "s.yaml:8:10: error: head.dense: expected a list, got a whole number 128",
                "    hint: write a list: [128]",
            ],
        ),
    ],
)
def test_a_head_mistake_gets_its_hint(tmp_path, monkeypatch, line, expected):
    code, lines = validate(tmp_path, monkeypatch, SPEC + line + "\n")
    assert code == 1
    assert lines[: len(expected)] == expected


@pytest.mark.parametrize(
    ("text", "path", "message", "hint"),
    [
        (
            SPEC.replace("stem: {filters: 8}", "stem:\n  filters: 1,024"),
            "stem.filters",
            "expected a whole number or a list of them, got text '1,024'",
            "write the number without separators: 1024",
        ),
        (
            SPEC.replace("stem: {filters: 8}", "stem:\n  filters: 32,32,64"),
            "stem.filters",
            "expected a whole number or a list of them, got text '32,32,64'",
            "write a list: [32, 32, 64]",
        ),
        (
            SPEC.replace("  - {block: basic, filters: 16}", "  - block: basic\n    filters: 2,048"),
            "stages[0].filters",
            "expected a whole number, got text '2,048'",
            "write the number without separators: 2048",
        ),
        (
            SPEC + "warnings: {ignore: unused}\n",
            "warnings.ignore",
            "expected a list, got text 'unused'",
            "write a list: [unused]",
        ),
        (
            SPEC.replace("  - {block: basic, filters: 16}", "  {block: basic, filters: 16}"),
            "stages",
            "expected a list, got a mapping",
            "a list is needed even for one item: put it in brackets, [{...}], or start its "
            "line with '- '",
        ),
        (
            SPEC.replace("[64, 64, 3]}", "[64, 64, 3], nominal_size: 224}"),
            "input.nominal_size",
            "expected a list, got a whole number 224",
            "[height, width] at which inspect, diff and the budgets count MACs and memory where "
            "`shape` leaves the size open.",
        ),
        (
            SPEC.replace("stages:\n  - {block: basic, filters: 16}", "stages: []"),
            "stages",
            "needs at least 1 item, got 0",
            None,
        ),
    ],
)
def test_what_people_write_for_numbers_and_lists_gets_a_hint(text, path, message, hint):
    d = only(text)
    assert (d.path, d.message, d.hint) == (path, message, hint)


@settings(max_examples=40, deadline=None)
@given(number=st.integers(1_000, 16_384))
def test_a_width_with_a_thousands_separator_is_told_to_drop_it(number):
    written = f"{number:,}"
    d = only(
        SPEC.replace("  - {block: basic, filters: 16}", f"  - block: basic\n    filters: {written}")
    )
    assert (d.path, d.message, d.hint) == (
        "stages[0].filters",
        f"expected a whole number, got text '{written}'",
        f"write the number without separators: {number}",
    )


@pytest.mark.parametrize(("written", "ratio"), [(16, "0.0625"), (4, "0.25"), (3, "0.3333")])
@pytest.mark.parametrize("where", ["stage", "block"])
def test_an_se_reduction_ratio_is_told_what_ratio_means(written, ratio, where):
    se = f"se: {{ratio: {written}}}"
    stage = (
        f"{{block: basic, filters: 16, {se}}}"
        if where == "stage"
        else f"{{block: basic, filters: 16, blocks: [{{{se}}}]}}"
    )
    d = only(SPEC.replace("{block: basic, filters: 16}", stage))
    path = "stages[0].se.ratio" if where == "stage" else "stages[0].blocks[0].se.ratio"
    assert (d.path, d.message, d.hint) == (
        path,
        f"must be at most 1.0, got a whole number {written}",
        "ratio is the share of the channels the squeeze keeps, not a reduction: a reduction "
        f"of {written} is ratio: {ratio}",
    )


def test_other_fractions_keep_the_percentage_hint():
    d = only(SPEC + "  dropout: 50\n")
    assert d.hint == "this is a fraction, not a percentage: 50% is 0.5"


def test_a_percent_sign_on_a_whole_number_field_gets_no_fraction_hint():
    d = only(SPEC.replace("classes: 4", "classes: 4%"))
    assert (d.message, d.hint) == ("expected a whole number, got text '4%'", None)


# --- extends of a file that is not there -----------------------------------------------------


@pytest.mark.parametrize(
    ("target", "hint"),
    [
        (
            "base.yaml",
            "a path in extends is relative to the folder of the file that names it; there is "
            "no models/base.yaml",
        ),
        (
            "sub/base.yaml",
            "a path in extends is relative to the folder of the file that names it; there is "
            "no models/sub/base.yaml",
        ),
        ("resnet22.yaml", "did you mean the preset 'resnet22'?"),
        ("resnet50v3.json", "did you mean the preset 'resnet50v2'?"),
    ],
)
def test_extends_of_a_missing_file_says_no_such_file(tmp_path, monkeypatch, target, hint):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mine.yaml").write_text(f"extends: {target}\nname: mine\n")
    result = run("validate", "models/mine.yaml")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"models/mine.yaml:1:10: error: extends: '{target}' cannot be read: no such file",
        f"    hint: {hint}",
        "1 file checked: 0 valid, 1 invalid (1 error, 0 warnings)",
    ]
    json_result = run("validate", "--format", "json", "models/mine.yaml")
    assert '"code": "not-found"' in json_result.output


def test_extends_of_a_missing_file_outside_the_tree_is_still_refused_unprobed(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mine.yaml").write_text("extends: ../nope.yaml\nname: mine\n")
    result = run("validate", "models/mine.yaml")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "models/mine.yaml:1:10: error: extends: '../nope.yaml' is outside the folder models"
    )


# --- a loop of extends shows the loop ---------------------------------------------------------


def test_a_loop_of_extends_shows_the_chain(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, base in (("x", "y"), ("y", "z"), ("z", "y")):
        (tmp_path / f"{name}.yaml").write_text(f"extends: {base}.yaml\nname: {name}\n")
    result = run("validate", "x.yaml")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "z.yaml:1:10: error: extends: 'y.yaml' extends itself, directly or through other specs",
        "    hint: the chain: x.yaml -> y.yaml -> z.yaml -> y.yaml",
        "1 file checked: 0 valid, 1 invalid (1 error, 0 warnings)",
    ]


def test_a_file_that_extends_itself_needs_no_chain(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text("extends: s.yaml\nname: s\n")
    result = run("validate", "s.yaml")
    assert result.output.splitlines()[:2] == [
        "s.yaml:1:10: error: extends: 's.yaml' extends itself, directly or through other specs",
        "1 file checked: 0 valid, 1 invalid (1 error, 0 warnings)",
    ]


def test_a_shape_with_a_batch_size_is_told_what_the_shape_holds():
    d = only(SPEC.replace("[64, 64, 3]", "[1, 64, 64, 3]"))
    assert (d.path, d.message, d.hint) == (
        "input.shape",
        "allows at most 3 items, got 4",
        "[height, width, channels] of one input image; null for a height or width of any size "
        "(the model then needs a global pool before any dense layer).",
    )


# --- a value that differs only in case gets its suggestion ------------------------------------


@pytest.mark.parametrize(
    ("line", "path", "suggestion"),
    [
        ("activation: ReLU", "activation", "relu"),
        ("activation: GELU", "activation", "gelu"),
        ("activation: Hard_Swish", "activation", "hard_swish"),
    ],
)
def test_a_value_in_other_case_gets_the_suggestion(line, path, suggestion):
    d = only(SPEC + line + "\n")
    assert d.path == path
    assert d.hint is not None
    assert d.hint.startswith(f"did you mean '{suggestion}'? (allowed values: ")


def test_a_preset_name_in_other_case_gets_the_suggestion(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("inspect", "ResNet50V2")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "ResNet50V2: error: no such file or preset",
        "    hint: did you mean the preset 'resnet50v2'?",
    ]


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(["relu", "relu6", "swish", "gelu", "hard_swish", "sigmoid", "tanh"]),
       st.randoms())  # fmt: skip
def test_any_casing_of_an_activation_is_suggested_back(name, random):
    cased = "".join(c.upper() if random.random() < 0.5 else c for c in name)
    if cased == name:
        return
    d = only(SPEC + f"activation: {cased}\n")
    assert d.hint is not None and d.hint.startswith(f"did you mean '{name}'?")
