"""How YAML scalars and keys are read: YAML 1.2's core schema, its standard tags, and refusals.

archspec resolves plain scalars itself (io.py `_NodeConverter.scalar`), so every spelling the
core schema gives a type to is pinned here with the value it reads as, and every spelling it
does not (YAML 1.1's `yes`, binary, underscores, a second dot) with the text it stays. A scalar
with a standard tag (`!!int 12`, `!!float '1'`) is read as the tag says or refused with a
message that names the tag. Keys are names: anything read as another type is refused.
"""

from __future__ import annotations

import pytest

from archspec.errors import SpecError
from archspec.io import MAX_NUMBER_LENGTH, parse_document

_NUMBER_HINT = (
    f"a spec's numbers are sizes and rates; none needs more than {MAX_NUMBER_LENGTH} characters"
)
_FINITE_HINT = "a spec's numbers are sizes and rates; use a finite value"
_TAG_HINT = (
    "archspec reads plain YAML: text, numbers, true/false, null, lists and mappings; remove the tag"
)


def value_of(written: str) -> object:
    """The value of `a: <written>` read as YAML; its type is checked with it."""
    return parse_document(f"a: {written}\n", "f.yaml").data["a"]


def problem(text: str) -> tuple[object, ...]:
    with pytest.raises(SpecError) as info:
        parse_document(text, "f.yaml")
    (diagnostic,) = info.value.diagnostics
    at = diagnostic.location
    assert at is not None and at.file == "f.yaml"
    return (at.line, at.column, diagnostic.code, diagnostic.message, diagnostic.hint)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        # null: the empty value, ~ and three spellings of null
        ("", None),
        ("~", None),
        ("null", None),
        ("Null", None),
        ("NULL", None),
        # booleans: three spellings of each, never YAML 1.1's yes/no/on/off
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("FALSE", False),
        ("yes", "yes"),
        ("off", "off"),
        # whole numbers: decimal with a sign, octal 0o, hexadecimal 0x (a leading zero is refused)
        ("12", 12),
        ("+5", 5),
        ("-5", -5),
        ("0o17", 15),
        ("0x1F", 31),
        ("0xff", 255),
        # numbers with a fraction or an exponent
        ("1.5", 1.5),
        (".5", 0.5),
        ("-.5", -0.5),
        ("1.", 1.0),
        ("1e3", 1000.0),
        ("-1.5E-2", -0.015),
        ("+2.5e+1", 25.0),
        # text that starts like a number but is none in YAML 1.2
        ("1.2.3", "1.2.3"),
        ("0b101", "0b101"),
        ("1_000", "1_000"),
        ("0o19", "0o19"),
        ("-0x1F", "-0x1F"),
        ("1x", "1x"),
        ("+", "+"),
        ("-x", "-x"),
        (".x", ".x"),
        ("2001-02-03", "2001-02-03"),
        ("1:30", "1:30"),
        # text, however it starts
        ("x", "x"),
        ("x1", "x1"),
        ("nulls", "nulls"),
        ("a b", "a b"),
        # quoted, or with the non-specific tag, or !!str: always text
        ("'1'", "1"),
        ('"true"', "true"),
        ("''", ""),
        ("'~'", "~"),
        ("! 1", "1"),
        ("!!str 1", "1"),
        ("!!str null", "null"),
        ("!<tag:yaml.org,2002:str> 0x10", "0x10"),
        # standard tags, on plain or quoted text
        ("!!null ''", None),
        ("!!null ~", None),
        ("!!null", None),
        ("!!bool true", True),
        ("!!bool 'False'", False),
        ("!!int 12", 12),
        ("!!int '12'", 12),
        ("!!int 0x10", 16),
        ("!!float 1", 1.0),
        ("!!float '2'", 2.0),
        ("!!float 0o10", 8.0),
        ("!!float 0x10", 16.0),
        ("!!float 1.5", 1.5),
        ("!!float '.25'", 0.25),
        ("!!float 1e2", 100.0),
    ],
)
def test_each_scalar_spelling_reads_as_the_core_schema_says(written, expected):
    value = value_of(written)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("written", "message", "hint", "code"),
    [
        (".inf", ".inf is not a finite number", _FINITE_HINT, "not-finite"),
        ("-.inf", "-.inf is not a finite number", _FINITE_HINT, "not-finite"),
        ("+.INF", "+.INF is not a finite number", _FINITE_HINT, "not-finite"),
        (".Inf", ".Inf is not a finite number", _FINITE_HINT, "not-finite"),
        (".nan", ".nan is not a finite number", _FINITE_HINT, "not-finite"),
        (".NaN", ".NaN is not a finite number", _FINITE_HINT, "not-finite"),
        (".NAN", ".NAN is not a finite number", _FINITE_HINT, "not-finite"),
        ("!!float .inf", ".inf is not a finite number", _FINITE_HINT, "not-finite"),
        ("!!float -.Inf", "-.Inf is not a finite number", _FINITE_HINT, "not-finite"),
        ("!!float .nan", ".nan is not a finite number", _FINITE_HINT, "not-finite"),
        ("1e999", "1e999 is not a finite number", _FINITE_HINT, "not-finite"),
        ("!!float -1e999", "-1e999 is not a finite number", _FINITE_HINT, "not-finite"),
        (
            "!!null x",
            "'x' is not null, as its tag !!null says",
            "write null, or remove the tag",
            "syntax",
        ),
        (
            "!!null false",
            "'false' is not null, as its tag !!null says",
            "write null, or remove the tag",
            "syntax",
        ),
        (
            "!!bool yes",
            "'yes' is not true or false, as its tag !!bool says",
            "write true or false, or remove the tag",
            "syntax",
        ),
        (
            "!!bool ~",
            "'~' is not true or false, as its tag !!bool says",
            "write true or false, or remove the tag",
            "syntax",
        ),
        (
            "!!int 1.5",
            "'1.5' is not a whole number, as its tag !!int says",
            "write a whole number, or remove the tag",
            "syntax",
        ),
        (
            "!!int true",
            "'true' is not a whole number, as its tag !!int says",
            "write a whole number, or remove the tag",
            "syntax",
        ),
        (
            "!!int -0o0",
            "'-0o0' is not a whole number, as its tag !!int says",
            "write a whole number, or remove the tag",
            "syntax",
        ),
        (
            "!!float abc",
            "'abc' is not a number, as its tag !!float says",
            "write a number, or remove the tag",
            "syntax",
        ),
        (
            "!!float 1.2.3",
            "'1.2.3' is not a number, as its tag !!float says",
            "write a number, or remove the tag",
            "syntax",
        ),
        (
            "!!float ''",
            "'' is not a number, as its tag !!float says",
            "write a number, or remove the tag",
            "syntax",
        ),
        (
            "!!int " + "x" * 100,
            f"'{'x' * 60}... (100 characters)' is not a whole number, as its tag !!int says",
            "write a whole number, or remove the tag",
            "syntax",
        ),
    ],
)
def test_a_scalar_that_is_not_what_it_must_be_is_refused_at_its_place(written, message, hint, code):
    assert problem(f"name: x\na: {written}\n") == (2, 4, code, message, hint)


@pytest.mark.parametrize("tag", ["!!int", "!!float", ""])
def test_a_number_may_have_as_many_characters_as_the_limit_and_no_more(tag):
    def tagged(number: str) -> str:
        return f"{tag} {number}" if tag else number

    for digits in ("9" * MAX_NUMBER_LENGTH, "-" + "1" * (MAX_NUMBER_LENGTH - 1)):
        expected = float(digits) if tag == "!!float" else int(digits)
        assert value_of(tagged(digits)) == expected
        too_long = digits + "1"
        message = f"a number written with {len(too_long)} characters"
        assert problem(f"a: {tagged(too_long)}\n") == (
            1,
            4,
            "number-too-long",
            message,
            _NUMBER_HINT,
        )
    if tag != "!!int":
        fraction = "1." + "0" * (MAX_NUMBER_LENGTH - 2)
        assert value_of(tagged(fraction)) == 1.0
        message = f"a number written with {MAX_NUMBER_LENGTH + 1:,} characters"
        assert problem(f"a: {tagged(fraction + '0')}\n")[2:4] == ("number-too-long", message)
    message = "a number written with 1,234 characters"
    assert problem(f"a: {tagged('9' * 1234)}\n")[2:4] == ("number-too-long", message)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: !foo x\n",
            (1, 4, "tag", "the tag '!foo' is not allowed", _TAG_HINT),
        ),
        (
            "a: !!timestamp 2001-01-01\n",
            (1, 4, "tag", "the tag '!!timestamp' is not allowed", _TAG_HINT),
        ),
        (
            "a: !<tag:example.com,2000:x> 1\n",
            (1, 4, "tag", "the tag 'tag:example.com,2000:x' is not allowed", _TAG_HINT),
        ),
        (
            "a: !<tag:yaml.org,2002:binary> aGk=\n",
            (1, 4, "tag", "the tag '!!binary' is not allowed", _TAG_HINT),
        ),
        (
            "name: x\nb:\n  - !!python/name:os.system x\n",
            (3, 5, "tag", "the tag '!!python/name:os.system' is not allowed", _TAG_HINT),
        ),
        # collections take their own standard tag, or none, or the non-specific '!'
        (
            "a: !!seq {}\n",
            (1, 4, "tag", "the tag '!!seq' is not allowed", _TAG_HINT),
        ),
        (
            "a: !!map []\n",
            (1, 4, "tag", "the tag '!!map' is not allowed", _TAG_HINT),
        ),
        (
            "a: !!set {b: null}\n",
            (1, 4, "tag", "the tag '!!set' is not allowed", _TAG_HINT),
        ),
        (
            "a:\n  b: !!omap\n    - c: 1\n",
            (2, 6, "tag", "the tag '!!omap' is not allowed", _TAG_HINT),
        ),
        (
            "a: !!str [1]\n",
            (1, 4, "tag", "the tag '!!str' is not allowed", _TAG_HINT),
        ),
        (
            "a: !" + "x" * 100 + " 1\n",
            (1, 4, "tag", f"the tag '!{'x' * 59}... (101 characters)' is not allowed", _TAG_HINT),
        ),
    ],
)
def test_a_tag_outside_the_core_schema_is_refused_where_it_is_written(text, expected):
    assert problem(text) == expected


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("a: !!map {b: 1}\n", {"a": {"b": 1}}),
        ("a: !!seq [1]\n", {"a": [1]}),
        ("a: ! [1]\n", {"a": [1]}),
        ("a: ! {b: 1}\n", {"a": {"b": 1}}),
        ("!!map\nb: !<tag:yaml.org,2002:seq>\n  - 1\n", {"b": [1]}),
    ],
)
def test_collections_may_carry_their_own_standard_tag(text, data):
    assert parse_document(text, "f.yaml").data == data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("~: a\n", (1, 1, "key", "key '~' is read as NoneType, not a name", 'quote it: "~"')),
        (
            "name: a\nnull: 1\n",
            (2, 1, "key", "key 'null' is read as NoneType, not a name", 'quote it: "null"'),
        ),
        (
            "x: 1\ntrue: 1\n",
            (2, 1, "key", "key 'true' is read as bool, not a name", 'quote it: "true"'),
        ),
        ("1.5: a\n", (1, 1, "key", "key '1.5' is read as float, not a name", 'quote it: "1.5"')),
        ("0x1F: a\n", (1, 1, "key", "key '0x1F' is read as int, not a name", 'quote it: "0x1F"')),
        (
            "a:\n  !!int 7: b\n",
            (2, 3, "key", "key '7' is read as int, not a name", 'quote it: "7"'),
        ),
        (
            "!!int x: 1\n",
            (1, 1, "syntax", "'x' is not a whole number, as its tag !!int says",
             "write a whole number, or remove the tag"),
        ),
        ("!foo a: 1\n", (1, 1, "tag", "the tag '!foo' is not allowed", _TAG_HINT)),
        ("a: 1\n? [1]\n: a\n", (2, 3, "key", "a mapping key must be a plain name", None)),
        ("? {a: 1}\n: a\n", (1, 3, "key", "a mapping key must be a plain name", None)),
        (
            "a: &k [1]\n*k : 2\n",
            (1, 4, "key", "a mapping key must be a plain name", None),
        ),
        (
            "1" * 101 + ": a\n",
            (1, 1, "number-too-long", "a number written with 101 characters", _NUMBER_HINT),
        ),
        (
            ".inf: a\n",
            (1, 1, "not-finite", ".inf is not a finite number", _FINITE_HINT),
        ),
    ],
)  # fmt: skip
def test_a_key_must_read_as_a_name(text, expected):
    assert problem(text) == expected


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("'1': a\n", {"1": "a"}),
        ('"true": a\n', {"true": "a"}),
        ("!!str 1: a\n", {"1": "a"}),
        ("! null: a\n", {"null": "a"}),
        ("a b: 1\n", {"a b": 1}),
        ("x1: 1\n1x: 2\n", {"x1": 1, "1x": 2}),
        ("'': 1\n", {"": 1}),
        ("&k a: 1\n*k : 2\n", "duplicate"),
        ("&k b: 1\n*k : 2\n", "duplicate"),
        ("&k b: 1\nc: *k\n", {"b": 1, "c": "b"}),
    ],
)
def test_a_key_that_reads_as_text_is_a_name(text, data):
    if data == "duplicate":
        assert problem(text)[2] == "duplicate-key"
        return
    assert parse_document(text, "f.yaml").data == data


def test_keys_and_values_are_located_where_they_are_written():
    text = "name: n\nstages:\n  - {depth: 2, filters: 0x10}\n  -   depth: !!int '3'\n"
    document = parse_document(text, "f.yaml")
    assert document.data == {"name": "n", "stages": [{"depth": 2, "filters": 16}, {"depth": 3}]}
    values = {path: (at.line, at.column) for path, at in document.source.values.items()}
    keys = {path: (at.line, at.column) for path, at in document.source.keys.items()}
    assert values == {
        (): (1, 1),
        ("name",): (1, 7),
        ("stages",): (3, 3),
        ("stages", 0): (3, 5),
        ("stages", 0, "depth"): (3, 13),
        ("stages", 0, "filters"): (3, 25),
        ("stages", 1): (4, 7),
        ("stages", 1, "depth"): (4, 14),
    }
    assert keys == {
        ("name",): (1, 1),
        ("stages",): (2, 1),
        ("stages", 0, "depth"): (3, 6),
        ("stages", 0, "filters"): (3, 16),
        ("stages", 1, "depth"): (4, 7),
    }
    written = (*document.source.values.values(), *document.source.keys.values())
    assert {at.file for at in written} == {"f.yaml"}
    assert document.values == 8  # the root, name, stages, two items and their three values
