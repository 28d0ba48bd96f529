"""Reading YAML and JSON: data, locations, and refusal of anything unsafe or ambiguous."""

from __future__ import annotations

import pytest

from archspec.errors import SpecError
from archspec.io import MAX_DEPTH, MAX_FILE_BYTES, parse_document, read_document


def error_of(text: str, *, json_syntax: bool = False):
    with pytest.raises(SpecError) as info:
        parse_document(text, "f.yaml", json_syntax=json_syntax)
    (diagnostic,) = info.value.diagnostics
    return diagnostic


def test_yaml_values_and_their_locations():
    doc = parse_document("name: a\nstages:\n  - {filters: 16}\n  - filters: 32\n", "f.yaml")
    assert doc.data == {"name": "a", "stages": [{"filters": 16}, {"filters": 32}]}
    at = doc.source.values
    assert (at[("name",)].line, at[("name",)].column) == (1, 7)
    assert (at[("stages", 0, "filters")].line, at[("stages", 0, "filters")].column) == (3, 15)
    assert (at[("stages", 1, "filters")].line, at[("stages", 1, "filters")].column) == (4, 14)
    key = doc.source.keys[("stages", 1, "filters")]
    assert (key.line, key.column) == (4, 5)


def test_json_values_and_their_locations():
    text = '{\n  "name": "a",\n  "stages": [{"filters": 16}]\n}\n'
    doc = parse_document(text, "f.json", json_syntax=True)
    assert doc.data == {"name": "a", "stages": [{"filters": 16}]}
    location = doc.source.values[("stages", 0, "filters")]
    assert (location.line, location.column) == (3, 26)


def test_locate_falls_back_to_the_nearest_written_parent():
    doc = parse_document("head:\n  classes: 4\n", "f.yaml")
    location = doc.source.locate(("head", "pool"))
    assert (location.line, location.column) == (2, 3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\na: 2\n", "duplicate key 'a' (first given at line 1)"),
        ("a:\n\t- 1\n", "cannot start any token"),
        ("a: [1, 2\n", "expected ',' or ']'"),
        ("a: !!python/object:os.system {}\n", "the tag '!!python/object:os.system' is not allowed"),
        ("a: *missing\n", "found undefined alias"),
        ("1: a\n", "key '1' is read as int, not a name"),
        ("", "the file is empty"),
        ("a: 1\n---\nb: 2\n", "expected a single document"),
    ],
)
def test_yaml_problems_are_located(text, message):
    diagnostic = error_of(text)
    assert message in diagnostic.message
    assert diagnostic.location is not None and diagnostic.location.file == "f.yaml"


def test_tab_indentation_gets_a_hint():
    diagnostic = error_of("a:\n\tb: 1\n")
    assert diagnostic.location.line == 2
    assert "tabs" in diagnostic.hint


def test_python_tags_are_never_constructed():
    diagnostic = error_of("a: !!python/object/apply:os.system ['echo hacked']\n")
    assert diagnostic.location.line == 1
    assert "plain YAML" in diagnostic.hint


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ('{"a": NaN}', "NaN is not allowed in JSON"),
        ('{"a": 1,}', "a comma before '}'"),
        ("[1, 2,]", "a comma before ']'"),
        ('{"a": 1} x', "unexpected text after the JSON document"),
        ("{'a': 1}", "expected a quoted key"),
        ('{"a" 1}', "expected ':'"),
    ],
)
def test_json_problems_are_located(text, message):
    diagnostic = error_of(text, json_syntax=True)
    assert message in diagnostic.message
    assert diagnostic.location.line == 1


def test_deep_nesting_is_refused_without_recursing():
    for text, json_syntax in (("[" * 10_000 + "]" * 10_000, False), ("[" * 10_000, True)):
        diagnostic = error_of(text, json_syntax=json_syntax)
        assert f"deeper than {MAX_DEPTH}" in diagnostic.message


def test_billion_laughs_is_refused():
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        previous, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    diagnostic = error_of("\n".join(lines) + "\n")
    assert "expands to more than" in diagnostic.message


def test_merge_keys_keep_the_anchor_location():
    doc = parse_document("base: &b {filters: 16}\nstage:\n  <<: *b\n  depth: 2\n", "f.yaml")
    assert doc.data["stage"] == {"filters": 16, "depth": 2}
    assert doc.source.values[("stage", "filters")].line == 1


def test_non_utf8_bytes_are_reported_with_their_position(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"name: ok\ndescription: caf\xe9\n")
    with pytest.raises(SpecError) as info:
        read_document(path)
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.location.line, diagnostic.location.column) == (2, 17)
    assert "0xe9" in diagnostic.message


def test_oversized_files_are_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(SpecError) as info:
        read_document(path)
    assert "larger than" in info.value.diagnostics[0].message


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: x\n")
    assert read_document(path).data == {"name": "x"}


def test_merge_keys_are_overridden_by_keys_written_here():
    text = "base: &b {filters: 16, depth: 2}\nstage:\n  <<: *b\n  depth: 3\n"
    doc = parse_document(text, "f.yaml")
    assert doc.data["stage"] == {"filters": 16, "depth": 3}
    assert doc.source.values[("stage", "depth")].line == 4
    assert doc.source.values[("stage", "filters")].line == 1
    many = "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n"
    assert parse_document(many, "f.yaml").data["c"] == {"x": 1, "y": 1, "z": 2}  # first wins
    with pytest.raises(SpecError) as info:
        parse_document("stage:\n  <<: {a: 1}\n  depth: 3\n  depth: 4\n", "f.yaml")
    assert "duplicate key 'depth' (first given at line 3)" in info.value.diagnostics[0].message


def test_json_and_yaml_share_the_nesting_limit_and_refuse_infinity():
    inside = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    beyond = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    for json_syntax in (False, True):
        parse_document(inside, "f", json_syntax=json_syntax)
        with pytest.raises(SpecError):
            parse_document(beyond, "f", json_syntax=json_syntax)
    assert error_of('{"a": 1e999}', json_syntax=True).message == "1e999 is not a finite number"


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: [x, 'y', \"z\"]\nc: {d: ~, e: 1.5e-3, f: 0x1F}\n",
        "base: &b {x: 1, y: 2}\nstage:\n  <<: *b\n  y: 3\n",
        "name: é𝔘\u00a0x\n",
    ],
)
def test_pure_python_yaml_reads_as_libyaml_does(text, monkeypatch):
    """Without libyaml (PyYAML built without it), the same data at the same places."""
    import yaml

    import archspec.io

    fast = parse_document(text, "f.yaml")
    monkeypatch.setattr(archspec.io, "_EventSource", yaml.BaseLoader)
    slow = parse_document(text, "f.yaml")
    assert slow.data == fast.data
    assert slow.source == fast.source


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a: [*a]\n", (1, 5)),
        ("a: &a [*a]\n", (1, 8)),
        ("é: b\x1fc\n", (1, 5)),
        ("a: !!int x\n", (1, 4)),
        ("a:\n  b: 1\n c: 2\n", (3, 2)),
    ],
)
def test_pure_python_yaml_locates_problems_as_libyaml_does(text, where, monkeypatch):
    import yaml

    import archspec.io

    for source in (archspec.io._EventSource, yaml.BaseLoader):
        monkeypatch.setattr(archspec.io, "_EventSource", source)
        location = error_of(text).location
        assert (location.line, location.column) == where, source
