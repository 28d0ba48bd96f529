"""The loader, where the mutation campaign found it unchecked (TESTING.md).

Each test pins a behaviour that a planted bug changed without any other test noticing: which
missing names get a preset suggested (a path never does; the spec suffix is dropped whatever its
case; any other suffix is part of the name), the code and hint of a refused override, what
`with_overrides` keeps of the spec it is given (`$schema`, and where the spec's values were
written) and that it refuses what `load` refuses, and where a number gets the hint that it is a
fraction, not a percentage; and the exact words of each kind of mistake and of the YAML 1.1
hints (a changed kind falls back to pydantic's words, which the other tests let through).
"""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import SpecError


def not_found(argument: str) -> tuple[str, str | None]:
    """The message and hint of loading a name that is no file, folder or preset."""
    with pytest.raises(SpecError) as info:
        archspec.load(argument)
    (d,) = info.value.diagnostics
    assert d.code == "not-found"
    return d.message, d.hint


@pytest.mark.parametrize(
    ("argument", "preset"),
    [
        ("vgg1.yaml", "vgg19"),  # the name without its suffix is what is compared
        ("vgg1.YAML", "vgg19"),  # whatever the suffix's case
        ("x.resnet22", "resnet22"),  # a suffix that is no spec's is part of the name
    ],
)
def test_a_missing_name_close_to_a_preset_suggests_it(argument, preset):
    assert not_found(argument) == (
        "no such file or preset",
        f"did you mean the preset '{preset}'?",
    )


@pytest.mark.parametrize(
    "argument",
    [
        "specs_old/resnet22x",  # a path names a file, never a preset
        "zzzzqqq",  # close to no preset
    ],
)
def test_a_missing_path_or_a_name_close_to_nothing_suggests_nothing(argument):
    assert not_found(argument) == ("no such file", None)


@pytest.mark.parametrize(
    ("overrides", "hint"),
    [
        (
            {"head..classes": 1},
            "write keys separated by dots, list positions in brackets: stages[1].depth",
        ),
        ({"extends": "resnet50"}, None),
        ({"stages[9].depth": 3}, None),
    ],
)
def test_a_refused_override_has_its_code_and_hint(overrides, hint):
    with pytest.raises(SpecError) as info:
        archspec.load("resnet22", overrides=overrides)
    (d,) = info.value.diagnostics
    assert (d.code, d.hint) == ("override", hint)
    assert d.as_dict()["code"] == "override"


TINY = """\
$schema: https://example.org/archspec.schema.json
name: tiny
input: {shape: [33, 33, 3]}
stem: {filters: 8}
stages: [{block: preact_basic, filters: 8, stride: 2}]
head: {classes: 10}
"""


def test_with_overrides_refuses_what_load_refuses():
    """The spec's `$schema` is its key; the Python name `schema_uri` is no key of a spec."""
    spec = archspec.loads(TINY, "tiny.yaml")
    for refused in (
        lambda: archspec.loads(TINY, "tiny.yaml", overrides={"schema_uri": "x"}),
        lambda: archspec.with_overrides(spec, {"schema_uri": "x"}),
    ):
        with pytest.raises(SpecError) as info:
            refused()
        (d,) = info.value.diagnostics
        assert (d.path, d.message) == ("schema_uri", "unknown key 'schema_uri'")
        assert d.hint.startswith("did you mean '$schema'?")


def test_with_overrides_keeps_the_schema_and_where_each_value_was_written():
    spec = archspec.loads(TINY, "tiny.yaml")
    changed = archspec.with_overrides(spec, {"head.classes": 3})
    assert changed.head.classes == 3
    assert changed.schema_uri == "https://example.org/archspec.schema.json"
    # The stride the file states meets an odd size: located in the file, as for `spec`.
    (before,) = archspec.analyze(spec).warnings
    (after,) = archspec.analyze(changed).warnings
    assert after.code == before.code == "uneven-stride"
    assert str(after.location) == str(before.location)
    assert str(after.location).startswith("tiny.yaml:5:")


GOOD = """\
name: tiny
input: {shape: [32, 32, 3]}
stem: {filters: 8}
stages: [{block: preact_basic, filters: 8}]
"""


@pytest.mark.parametrize(
    ("section", "message", "hint"),
    [
        # A bound that holds (at most 1) as well as one that is strict (less than 1).
        (
            "norm: {epsilon: 5}",
            "must be at most 1.0, got a whole number 5",
            "this is a fraction, not a percentage: 5% is 0.05",
        ),
        (
            "head: {classes: 3, dropout: 2}",
            "must be less than 1.0, got a whole number 2",
            "this is a fraction, not a percentage: 2% is 0.02",
        ),
        (
            "head: {classes: 3, dropout: 100}",
            "must be less than 1.0, got a whole number 100",
            "this is a fraction, not a percentage: 100% is 1",
        ),
        # Past 100 it is no percentage either; text in a number field is no YAML 1.1 boolean.
        ("head: {classes: 3, dropout: 101}", "must be less than 1.0, got a whole number 101", None),
        ("head: {classes: yes}", "expected a whole number, got text 'yes'", None),
    ],
)
def test_a_percentage_gets_its_hint_only_where_it_can_be_one(section, message, hint):
    text = GOOD + section + ("\n" if section.startswith("head") else "\nhead: {classes: 3}\n")
    with pytest.raises(SpecError) as info:
        archspec.loads(text, "tiny.yaml")
    (d,) = info.value.diagnostics
    assert (d.message, d.hint) == (message, hint)


def only_problem(section: str) -> tuple[str, str, str | None]:
    """Path, message and hint of the one error of a small spec with `section` replaced or added."""
    key = section.split(":")[0]
    lines = [line for line in GOOD.splitlines() if not line.startswith(f"{key}:")]
    if key != "head":
        lines.append("head: {classes: 3}")
    with pytest.raises(SpecError) as info:
        archspec.loads("\n".join([*lines, section]) + "\n", "tiny.yaml")
    (d,) = info.value.diagnostics
    return d.path, d.message, d.hint


YAML_BOOLS = "write true or false (YAML 1.2, which archspec reads, takes yes/no/on/off as text)"


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("norm: {epsilon: 0}", ("norm.epsilon", "must be greater than 0.0, got a whole number 0")),
        ("head: {classes: 3, dropout: x}", ("head.dropout", "expected a number, got text 'x'")),
        (
            "stem: {filters: 8, norm: 3}",
            ("stem.norm", "expected true or false, got a whole number 3"),
        ),
        ("name: 3", ("name", "expected text, got a whole number 3")),
        ("stages: [3]", ("stages[0]", "expected a mapping (key: value), got a whole number 3")),
        (f"name: {'a' * 65}", ("name", "is longer than 64 characters")),
    ],
)
def test_each_kind_of_mistake_gets_archspec_words_not_pydantics(section, problem):
    assert only_problem(section) == (*problem, None)


def test_a_validator_s_own_message_is_the_message():
    problem = only_problem("stages: [{block: depthwise_separable, filters: 8, kernel: 4}]")
    assert problem == (
        "stages[0].kernel",
        "must be odd so that 'same' padding is symmetric, got 4",
        None,
    )


@pytest.mark.parametrize(
    ("overrides", "path", "code"),
    [
        # An error at the overridden mapping or list itself, and one deep inside a mapping.
        ({"head": {"pool": "avg"}}, "head.classes", "missing"),
        ({"input.shape": [1, 2, 3, 4]}, "input.shape", "too_long"),
        (
            {"residual": {"shortcut": {"order": "sideways"}}},
            "residual.shortcut.order",
            "literal_error",
        ),
    ],
)
def test_everything_an_override_sets_is_located_at_the_override(overrides, path, code):
    with pytest.raises(SpecError) as info:
        archspec.load("resnet22", overrides=overrides)
    (d,) = info.value.diagnostics
    (key,) = overrides
    assert (str(d.location), d.path, d.code) == (f"overrides[{key!r}]", path, code)


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        (
            "width_multiplier: 1_000.5",
            (
                "width_multiplier",
                "expected a number, got text '1_000.5'",
                "write the number without separators: 1000.5",
            ),
        ),
        (
            "stem: {filters: 8, norm: yes}",
            ("stem.norm", "expected true or false, got text 'yes'", YAML_BOOLS),
        ),
        (
            "head: {classes: 1:30}",
            (
                "head.classes",
                "expected a whole number, got text '1:30'",
                "YAML 1.2 has no base-60 numbers; write the number itself",
            ),
        ),
    ],
)
def test_yaml_1_1_habits_get_their_whole_hint(section, problem):
    assert only_problem(section) == problem


def test_a_kind_without_words_of_its_own_gets_pydantics_lowercased():
    # YAML refuses .nan before validation; a Python override can hand it to a finite field.
    with pytest.raises(SpecError) as info:
        archspec.load("resnet22", overrides={"input.rescale": {"scale": float("nan")}})
    (d,) = info.value.diagnostics
    assert (d.path, d.code, d.message) == (
        "input.rescale.scale",
        "finite_number",
        "input should be a finite number",
    )


def test_a_wrong_value_is_named_by_its_kind():
    # null once ("got null", not "got null null"); bytes only a Python override can give.
    assert only_problem("name: null") == ("name", "expected text, got null", None)
    with pytest.raises(SpecError) as info:
        archspec.load("resnet22", overrides={"name": b"x"})
    (d,) = info.value.diagnostics
    assert (d.path, d.message) == ("name", "expected text, got bytes b'x'")
    with pytest.raises(SpecError) as info:
        archspec.load("vgg16", overrides={"stem.filters": 8})  # VGG has no stem
    (d,) = info.value.diagnostics
    assert (d.path, d.message) == ("stem.filters", "stem is null, not a mapping of keys")
