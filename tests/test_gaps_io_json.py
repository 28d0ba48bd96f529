"""How JSON specs are read: every value's place, and each refusal at the end of the text too.

io.py reads JSON with its own reader (`_JsonReader`) to keep each value's line and column;
the standard library scans only strings and numbers. These tests pin the places it records
(across lines, with and without spaces), the value count, and each error where the text ends
early or holds what JSON does not allow (constants, non-finite numbers, long numerals, half
surrogate pairs), with its message and place.
"""

from __future__ import annotations

import pytest

from archspec.errors import SpecError
from archspec.io import MAX_DEPTH, MAX_NUMBER_LENGTH, MAX_VALUES, parse_document

_COMMA_HINT = "JSON allows no comma after the last item"
_NUMBER_HINT = (
    f"a spec's numbers are sizes and rates; none needs more than {MAX_NUMBER_LENGTH} characters"
)

_MISSING_COMMA_HINT = "is a comma missing before this, or a bracket not closed?"
_FINITE_HINT = "a spec's numbers are sizes and rates; use a finite value"


def read(text: str, **kwargs: object):
    return parse_document(text, "f.json", json_syntax=True, **kwargs)  # type: ignore[arg-type]


def problem(text: str, **kwargs: object) -> tuple[object, ...]:
    with pytest.raises(SpecError) as info:
        read(text, **kwargs)
    (diagnostic,) = info.value.diagnostics
    at = diagnostic.location
    assert at is not None and at.file == "f.json"
    return (at.line, at.column, diagnostic.code, diagnostic.message, diagnostic.hint)


def places(table) -> dict[object, tuple[int | None, int | None]]:
    return {path: (at.line, at.column) for path, at in table.items()}


def test_values_and_keys_are_located_across_lines():
    text = '{\n "a": {\n  "b": [\n   1,\n   2\n  ]\n },\n "c": "d"\n}\n'
    document = read(text)
    assert document.data == {"a": {"b": [1, 2]}, "c": "d"}
    assert document.values == 6
    assert places(document.source.values) == {
        (): (1, 1),
        ("a",): (2, 7),
        ("a", "b"): (3, 8),
        ("a", "b", 0): (4, 4),
        ("a", "b", 1): (5, 4),
        ("c",): (8, 7),
    }
    assert places(document.source.keys) == {("a",): (2, 2), ("a", "b"): (3, 3), ("c",): (8, 2)}
    assert {at.file for at in document.source.values.values()} == {"f.json"}


@pytest.mark.parametrize(
    ("text", "data", "values", "keys"),
    [
        ('{"a":1}', {"a": 1}, {(): (1, 1), ("a",): (1, 6)}, {("a",): (1, 2)}),
        (
            '{"a" : 1 , "b" :2 }',
            {"a": 1, "b": 2},
            {(): (1, 1), ("a",): (1, 8), ("b",): (1, 17)},
            {("a",): (1, 2), ("b",): (1, 12)},
        ),
        ('{"a"\n:\n1}', {"a": 1}, {(): (1, 1), ("a",): (3, 1)}, {("a",): (1, 2)}),
        (
            "[1 ,2 , 3 ]",
            [1, 2, 3],
            {(): (1, 1), (0,): (1, 2), (1,): (1, 5), (2,): (1, 9)},
            {},
        ),
        (
            '[1, 2.5, "s", null, false]',
            [1, 2.5, "s", None, False],
            {(): (1, 1), (0,): (1, 2), (1,): (1, 5), (2,): (1, 10), (3,): (1, 15), (4,): (1, 21)},
            {},
        ),
        ("\n\n  {}", {}, {(): (3, 3)}, {}),
        ("{ }", {}, {(): (1, 1)}, {}),
        ("[\n]", [], {(): (1, 1)}, {}),
        ('"é"', "é", {(): (1, 1)}, {}),
        ("-0.5e1", -5.0, {(): (1, 1)}, {}),
        ('{"é": "\\u00e9"}', {"é": "é"}, {(): (1, 1), ("é",): (1, 7)}, {("é",): (1, 2)}),
        (
            '{"a": {}, "b": [], "c": [{}]}',
            {"a": {}, "b": [], "c": [{}]},
            {(): (1, 1), ("a",): (1, 7), ("b",): (1, 16), ("c",): (1, 25), ("c", 0): (1, 26)},
            {("a",): (1, 2), ("b",): (1, 11), ("c",): (1, 20)},
        ),
    ],
)
def test_each_value_and_key_is_located_with_or_without_spaces(text, data, values, keys):
    document = read(text)
    assert document.data == data
    assert type(document.data) is type(data)
    assert places(document.source.values) == values
    assert places(document.source.keys) == keys
    assert document.values == len(values)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the text ends early
        ("  \n  ", (2, 3, "empty", "the file is empty", None)),
        ("\n\n", (3, 1, "empty", "the file is empty", None)),
        ("[1,", (1, 4, "syntax", "not valid JSON: Expecting value", None)),
        ("[1", (1, 3, "syntax", "expected ',' or ']'", _MISSING_COMMA_HINT)),
        ("[", (1, 2, "syntax", "not valid JSON: Expecting value", None)),
        ("{", (1, 2, "syntax", "expected a quoted key", None)),
        ('{"a":1', (1, 7, "syntax", "expected ',' or '}'", _MISSING_COMMA_HINT)),
        ('{"a":1,', (1, 8, "syntax", "expected a quoted key", None)),
        ('{"a":', (1, 6, "syntax", "not valid JSON: Expecting value", None)),
        ('{"a":\n  ', (2, 3, "syntax", "not valid JSON: Expecting value", None)),
        ('{"a"\n', (2, 1, "syntax", "expected ':'", None)),
        ('["a', (1, 2, "syntax", "not valid JSON: Unterminated string", None)),
        # a comma with nothing after it
        ('{"a": 1,\n}', (2, 1, "syntax", "a comma before '}'", _COMMA_HINT)),
        ("[1,\n\n ]", (3, 2, "syntax", "a comma before ']'", _COMMA_HINT)),
        ("[[1],]", (1, 6, "syntax", "a comma before ']'", _COMMA_HINT)),
        ("[,]", (1, 2, "syntax", "not valid JSON: Expecting value", None)),
        ("{,}", (1, 2, "syntax", "expected a quoted key", None)),
        ("\n\n  [1,\n 2,,]", (4, 4, "syntax", "not valid JSON: Expecting value", None)),
        # what follows the document
        ('{"a": 1}\n\n  x', (3, 3, "syntax", "unexpected text after the JSON document", None)),
        ("[\n1\n]\n\n]", (5, 1, "syntax", "unexpected text after the JSON document", None)),
        ("[1] [2]", (1, 5, "syntax", "unexpected text after the JSON document", None)),
        # constants and numbers JSON does not allow, or a spec does not need
        ("Infinity", (1, 1, "syntax", "Infinity is not allowed in JSON", None)),
        ("[1,\n -Infinity]", (2, 2, "syntax", "-Infinity is not allowed in JSON", None)),
        ('{"a": NaN}', (1, 7, "syntax", "NaN is not allowed in JSON", None)),
        ("1e999", (1, 1, "not-finite", "1e999 is not a finite number", _FINITE_HINT)),
        ('{"a":\n -1e999 }', (2, 2, "not-finite", "-1e999 is not a finite number", _FINITE_HINT)),
        ("[tru]", (1, 2, "syntax", "not valid JSON: Expecting value", None)),
        ("[01]", (1, 3, "syntax", "expected ',' or ']'", _MISSING_COMMA_HINT)),
        # half of a surrogate pair, written as an escape
        ('"\\ud800"', (1, 1, "encoding", "the text holds U+D800, half of a surrogate pair", None)),
        (
            '[1,\n "\u00e9\\udc00x"]',
            (2, 2, "encoding", "the text holds U+DC00, half of a surrogate pair", None),
        ),
        (
            '{"ok": 1,\n "k\\udbff": 2}',
            (2, 2, "encoding", "the text holds U+DBFF, half of a surrogate pair", None),
        ),
        # a key given twice, on another line
        (
            '{"a": 1,\n "b": 2,\n  "a": 3}',
            (3, 3, "duplicate-key", "duplicate key 'a' (first given at line 1)",
             "each key may appear once; remove one of them"),
        ),
    ],
)  # fmt: skip
def test_each_json_error_has_its_place_message_code_and_hint(text, expected):
    assert problem(text) == expected


@pytest.mark.parametrize("sign", ["", "-"])
def test_a_json_number_may_have_as_many_characters_as_the_limit_and_no_more(sign):
    whole = sign + "7" * (MAX_NUMBER_LENGTH - len(sign))
    fraction = sign + "1." + "0" * (MAX_NUMBER_LENGTH - 2 - len(sign))
    assert read(f"[{whole}, {fraction}]").data == [int(whole), float(fraction)]
    for number in (whole + "7", fraction + "0"):
        message = f"a number written with {MAX_NUMBER_LENGTH + 1} characters"
        assert problem(f'{{"a": 1,\n "b": {number}}}') == (
            2,
            7,
            "number-too-long",
            message,
            _NUMBER_HINT,
        )


def test_json_nests_to_the_depth_limit_and_no_deeper():
    message = f"nesting is deeper than {MAX_DEPTH} levels"
    deepest = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert read(deepest).values == MAX_DEPTH
    with_value = "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH
    assert problem(with_value) == (1, MAX_DEPTH + 1, "too-deep", message, None)
    objects = '{"a":' * MAX_DEPTH + "1" + "}" * MAX_DEPTH
    assert problem(objects) == (1, 5 * MAX_DEPTH + 1, "too-deep", message, None)


@pytest.mark.parametrize(
    ("text", "values", "last"),
    [
        ("[0, 1, 2, 3, 4, 5]", 7, (1, 17)),
        ('{"a": [1, 2],\n "b": {"c": 3}}', 6, (2, 13)),
        ('{"a": [1, 2],\n "b": {"c": 3}, "d": 4}', 7, (2, 22)),
    ],
)
def test_a_json_document_of_its_bound_is_read_and_one_value_more_is_not(text, values, last):
    """The root counts, every value counts, keys do not; the last value is one too many."""
    assert read(text).values == values
    assert read(text, max_values=values).values == values
    assert problem(text, max_values=values - 1) == (
        *last,
        "too-large",
        "with the specs that extend it, it expands to more than 20000 values",
        "anchors and aliases (&a / *a) multiply; a spec needs only a few",
    )


def test_a_json_document_beyond_the_default_bound_is_refused_as_the_document():
    """Alone (no `extends` chain sharing the bound), the message speaks of the document."""
    text = "[" + "0, " * MAX_VALUES + "0]"  # the root and 20,001 items
    # the root is the first value: item 19,999 (at column 2 + 3 * 19,999) is the 20,001st
    assert problem(text) == (
        1,
        2 + 3 * (MAX_VALUES - 1),
        "too-large",
        f"the document expands to more than {MAX_VALUES} values",
        "anchors and aliases (&a / *a) multiply; a spec needs only a few",
    )
