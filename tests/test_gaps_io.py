"""Reading spec files, where the mutation campaign found it unchecked (TESTING.md).

Each test pins what a user sees of a problem in the file itself, as a planted bug changed it
without any other test noticing: the code of each reading error (`--format json` shows it and
tools match on it), where a bad character, a bad merge key or a misplaced key is located, the
message and hint, the same hint from libyaml and from PyYAML's own parser, and the kind of
special file refused.
"""

from __future__ import annotations

import os
import stat

import pytest
import yaml

import archspec.io
from archspec.errors import Diagnostic, Location, Origin, SpecError, UnreadableError
from archspec.io import MAX_DEPTH, MAX_FILE_BYTES, parse_document, read_document

_DEEP = "[" * 40 + "]" * 40
_LAUGHS = (
    "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: [" + ", ".join(["*c"] * 21) + "]\n"
)
_JSON_COMMA_HINT = "is a comma missing before this, or a bracket not closed?"
_JSON_QUOTES_HINT = 'JSON quotes keys and text with double quotes: "name"'
_MERGE_HINT = "write `<<: *anchor` where `&anchor` names a mapping"
_CONTROL_HINT = "remove it; YAML allows only printable text, tabs and newlines"


def problem(text: str, *, json_syntax: bool = False):
    """The one diagnostic of reading `text` as the file f.yaml (or f.json)."""
    name = "f.json" if json_syntax else "f.yaml"
    with pytest.raises(SpecError) as info:
        parse_document(text, name, json_syntax=json_syntax)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.file == name
    return diagnostic


def described(diagnostic) -> tuple[object, ...]:
    at = diagnostic.location
    return (at.line, at.column, diagnostic.code, diagnostic.message, diagnostic.hint)


@pytest.mark.parametrize(
    ("text", "json_syntax", "expected"),
    [
        (
            "a: 1\na: 2\n",
            False,
            (2, 1, "duplicate-key", "duplicate key 'a' (first given at line 1)",
             "each key may appear once; remove one of them"),
        ),
        (
            '{"a": 1, "a": 2}',
            True,
            (1, 10, "duplicate-key", "duplicate key 'a' (first given at line 1)",
             "each key may appear once; remove one of them"),
        ),
        (_DEEP, False, (1, 33, "too-deep", "nesting is deeper than 32 levels", None)),
        (_DEEP, True, (1, 33, "too-deep", "nesting is deeper than 32 levels", None)),
        (
            _LAUGHS,
            False,
            (1, 4, "too-large", "the document expands to more than 20000 values",
             "anchors and aliases (&a / *a) multiply; a spec needs only a few"),
        ),
        ('{"a" 1}', True, (1, 6, "syntax", "expected ':'", None)),
        ("[1 2]", True, (1, 4, "syntax", "expected ',' or ']'", _JSON_COMMA_HINT)),
        ('{"a": 1 "b": 2}', True, (1, 9, "syntax", "expected ',' or '}'", _JSON_COMMA_HINT)),
        ("{'a': 1}", True, (1, 2, "syntax", "expected a quoted key", _JSON_QUOTES_HINT)),
        ('{"a"', True, (1, 5, "syntax", "expected ':'", None)),  # the text ends there
        (
            '{"a',  # a key's string not closed
            True,
            (1, 2, "syntax", "not valid JSON: Unterminated string", None),
        ),
        ('{"a": 1} x', True, (1, 10, "syntax", "unexpected text after the JSON document", None)),
        ("\n{\"a\": tru}", True, (2, 7, "syntax", "not valid JSON: Expecting value", None)),
        ("", True, (1, 1, "empty", "the file is empty", None)),
        ("", False, (1, 1, "empty", "the file is empty", None)),
        (
            '{"a": 1.' + "0" * 200 + "}",
            True,
            (1, 7, "number-too-long", "a number written with 202 characters",
             "a spec's numbers are sizes and rates; none needs more than 100 characters"),
        ),
        (
            '{"a": "\\ud800"}',
            True,
            (1, 7, "encoding", "the text holds U+D800, half of a surrogate pair", None),
        ),
        (
            '{"\\ud800": 1}',
            True,
            (1, 2, "encoding", "the text holds U+D800, half of a surrogate pair", None),
        ),
        (
            '{"a": [1, 2,] }',  # text after the bracket
            True,
            (1, 13, "syntax", "a comma before ']'", "JSON allows no comma after the last item"),
        ),
        (
            "a: .inf\n",
            False,
            (1, 4, "not-finite", ".inf is not a finite number",
             "a spec's numbers are sizes and rates; use a finite value"),
        ),
        (
            "a: !!int x\n",
            False,
            (1, 4, "syntax", "'x' is not a whole number, as its tag !!int says",
             "write a whole number, or remove the tag"),
        ),
        (
            "a: !foo x\n",
            False,
            (1, 4, "tag", "the tag '!foo' is not allowed",
             "archspec reads plain YAML: text, numbers, true/false, null, lists and mappings; "
             "remove the tag"),
        ),
        ("? [1]\n: a\n", False, (1, 3, "key", "a mapping key must be a plain name", None)),
        ("1: a\n", False, (1, 1, "key", "key '1' is read as int, not a name", 'quote it: "1"')),
        ('{"a": tru}', True, (1, 7, "syntax", "not valid JSON: Expecting value", None)),
        (
            "a:\n  <<: 1\n",
            False,
            (2, 7, "syntax", "a merge key (<<) takes a mapping, or a list of mappings",
             _MERGE_HINT),
        ),
        (
            "a:\n  <<: [{b: 1}, 2]\n",
            False,
            (2, 7, "syntax", "a merge key (<<) takes a mapping, or a list of mappings",
             _MERGE_HINT),
        ),
    ],
)  # fmt: skip
def test_each_reading_error_has_its_code_place_message_and_hint(text, json_syntax, expected):
    assert described(problem(text, json_syntax=json_syntax)) == expected


@pytest.mark.parametrize("parser", ["libyaml", "pure"])
@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("\na: x\x01\n", (2, 5)),  # after a newline at the very start
        ("a: 1\nb: 2\n\nc: é\x01\nd: 3\n", (4, 5)),  # newlines and text on both sides
    ],
)
def test_a_control_character_is_located_on_its_own_line(text, where, parser, monkeypatch):
    if parser == "pure":
        monkeypatch.setattr(archspec.io, "_EventSource", yaml.BaseLoader)
    expected = (*where, "syntax", "character U+0001 is not allowed in YAML", _CONTROL_HINT)
    assert described(problem(text)) == expected


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("\nname: \ud800\n", (2, 7)),
        ("a: 1\nb: 2\nc: x\ud800\nd: 4\ne: 5\nf: 6\n", (3, 5)),
    ],
)
def test_an_unpaired_surrogate_in_yaml_text_is_located(text, where):
    # Text handed to parse_document directly (a file's bytes cannot decode to one).
    message = "character U+D800 (half of a surrogate pair) is not text"
    assert described(problem(text)) == (*where, "encoding", message, None)


@pytest.mark.parametrize("text", ["`a: 1\n", "a: 1\n`b: 2\n"])
def test_a_character_that_cannot_start_a_token_is_named_wherever_it_is(text):
    diagnostic = problem(text)
    assert diagnostic.message == (
        "while scanning for the next token: found character '`' that cannot start any token"
    )
    assert (diagnostic.location.line, diagnostic.location.column) == (text.count("\n"), 1)


@pytest.mark.parametrize("parser", ["libyaml", "pure"])
@pytest.mark.parametrize(
    ("text", "hint"),
    [
        (
            "a:\n  - 1\n  x: 2\n",
            "check the indentation: the items of the list that starts at line 2 are in column "
            "3, but line 3 starts in column 3; indent with spaces so that they line up",
        ),
        (
            "a:\n  b: 1\n c: 2\n",
            "check the indentation: the keys of the mapping that starts at line 1 are in "
            "column 1, but line 3 starts in column 2; indent with spaces so that they line up",
        ),
    ],
)
def test_a_misindented_line_is_explained_for_lists_and_mappings(text, hint, parser, monkeypatch):
    # PyYAML's own parser words the list's problem without the '-' that libyaml's names.
    if parser == "pure":
        monkeypatch.setattr(archspec.io, "_EventSource", yaml.BaseLoader)
    diagnostic = problem(text)
    assert (diagnostic.code, diagnostic.hint) == ("syntax", hint)


def test_a_missing_file_is_not_found(tmp_path):
    with pytest.raises(UnreadableError) as info:
        read_document(tmp_path / "missing.yaml")
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.file, diagnostic.message, diagnostic.code) == (
        str(tmp_path / "missing.yaml"),
        "no such file",
        "not-found",
    )


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        (stat.S_IFDIR, "folder"),
        (stat.S_IFIFO, "named pipe"),
        (stat.S_IFCHR, "character device"),
        (stat.S_IFBLK, "block device"),
        (stat.S_IFSOCK, "socket"),
        (0, "special file"),  # a kind this table does not know (BSD's whiteouts, Solaris's doors)
    ],
)
def test_each_kind_of_special_file_is_named(tmp_path, monkeypatch, mode, kind):
    # Not every kind can be made here (a block device needs root, and Linux refuses to open a
    # socket at all), so the file system reports the kind for an ordinary file.
    path = tmp_path / "spec.yaml"
    path.write_text("name: a\n")
    monkeypatch.setattr(os, "fstat", lambda descriptor: os.stat_result((mode, *[0] * 9)))
    with pytest.raises(UnreadableError) as info:
        read_document(path)
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.message, diagnostic.code) == (f"not a regular file (a {kind})", "not-a-file")


def test_a_file_of_exactly_the_size_limit_is_read_and_one_byte_more_is_not(tmp_path):
    path = tmp_path / "spec.yaml"
    text = "name: a\n"
    path.write_text(text + "#" * (MAX_FILE_BYTES - len(text)))
    assert read_document(path).data == {"name": "a"}
    path.write_text(text + "#" * (MAX_FILE_BYTES - len(text) + 1))
    with pytest.raises(SpecError) as info:
        read_document(path)
    (diagnostic,) = info.value.diagnostics
    assert described(diagnostic) == (
        1,
        1,
        "file-too-large",
        "file is larger than 1024 KiB",
        "a spec is a short description of a model; is this the right file?",
    )
    assert diagnostic.file == str(path)


def test_a_file_is_read_within_the_bound_it_is_given_and_counts_its_values(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("a: [1, 2]\nb: {c: 3}\n")
    document = read_document(path)
    assert document.values == 6  # the root, a, its two items, b and c
    assert read_document(path, max_values=6).data == {"a": [1, 2], "b": {"c": 3}}
    with pytest.raises(SpecError) as info:
        read_document(path, max_values=5)
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.code, diagnostic.location.line) == ("too-large", 2)
    assert diagnostic.message == (
        "with the specs that extend it, it expands to more than 20000 values"
    )


def test_a_source_map_locates_a_path_its_key_or_its_nearest_written_ancestor():
    doc = parse_document("head:\n  classes: 4\nstages:\n  - {filters: 8}\n", "f.yaml")
    at = doc.source.locate
    assert (at(("head", "classes")).line, at(("head", "classes")).column) == (2, 12)
    assert (at(("head", "classes"), key=True).line, at(("head", "classes"), key=True).column) == (
        2,
        3,
    )
    # Not written: its parent's value, or with key=True the parent's key.
    assert (at(("head", "pool")).line, at(("head", "pool")).column) == (2, 3)
    assert (at(("head", "pool"), key=True).line, at(("head", "pool"), key=True).column) == (1, 1)
    # A list item has no key: its value, even with key=True.
    assert (at(("stages", 0), key=True).line, at(("stages", 0), key=True).column) == (4, 5)
    assert at(()) == doc.source.values[()]
    assert archspec.io.SourceMap().locate(("head",)) is None


def test_a_source_map_without_a_path_forgets_it_and_all_below_it_only():
    doc = parse_document("a:\n  b: 1\n  c: {d: 2}\ne: 3\n", "f.yaml")
    doc.source.inherited["base.yaml"] = "preset"
    kept = doc.source.without({("a", "c")})
    assert sorted(kept.values) == [(), ("a",), ("a", "b"), ("e",)]
    assert sorted(kept.keys) == [("a",), ("a", "b"), ("e",)]
    assert kept.inherited == {"base.yaml": "preset"}
    kept.inherited.clear()  # a copy: the original keeps its own
    assert doc.source.inherited == {"base.yaml": "preset"}
    assert doc.source.without(set()) == doc.source


def test_problems_in_an_extended_file_move_to_the_extends_line_and_come_in_line_order():
    source = parse_document("name: a\nextends: base.yaml\nhead: {classes: 3}\n", "c.yaml").source
    source.inherited.update({"base.yaml": None, "preset.yaml": "resnet22"})
    extends_at = source.values[("extends",)]
    whole_file = Diagnostic("unreadable", location=Location("c.yaml"))
    no_place = Diagnostic("built in Python")
    late = Diagnostic("late", location=Location("c.yaml", 3, 7))
    early = Diagnostic("early", location=Location("c.yaml", 1, 9))
    same_line = Diagnostic("same line, earlier column", location=Location("c.yaml", 3, 2))
    inherited = Diagnostic("inherited", location=Location("preset.yaml", 14, 5))
    shown = source.relocated([whole_file, late, inherited, no_place, early, same_line, late])
    moved = Diagnostic(
        "inherited", location=extends_at, origin=Origin("preset.yaml", 14, 5, "resnet22")
    )
    assert shown == (early, moved, same_line, late, whole_file, no_place)
    # Without an extends line there is nowhere to move it: it stays where it was written.
    alone = parse_document("name: a\n", "c.yaml").source
    alone.inherited["preset.yaml"] = "resnet22"
    assert alone.relocated([inherited]) == (inherited,)


def test_json_objects_nest_to_the_limit_and_count_their_values():
    inside = '{"a":' * (MAX_DEPTH - 1) + "{}" + "}" * (MAX_DEPTH - 1)
    assert parse_document(inside, "f.json", json_syntax=True).values == MAX_DEPTH
    beyond = '{"a":' * MAX_DEPTH + "{}" + "}" * MAX_DEPTH
    assert problem(beyond, json_syntax=True).code == "too-deep"
    text = '{"a":[1,2],"b":{"c":3}}'  # no space anywhere
    document = parse_document(text, "f.json", json_syntax=True, max_values=6)
    assert (document.data, document.values) == ({"a": [1, 2], "b": {"c": 3}}, 6)
    with pytest.raises(SpecError):
        parse_document(text, "f.json", json_syntax=True, max_values=5)
