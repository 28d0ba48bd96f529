"""YAML is read safely: no code runs, expansion and nesting are bounded, bytes are checked."""

from __future__ import annotations

import sys

import pytest

import archspec
import archspec.io
from archspec.errors import SpecError
from archspec.io import MAX_DEPTH, MAX_FILE_BYTES, MAX_VALUES, parse_document, read_document


def diagnostic(text: str):
    with pytest.raises(SpecError) as info:
        archspec.loads(text, "hostile.yaml")
    return info.value.diagnostics[0]


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system",
        "!!python/object/new:os.system",
        "!!python/name:os.system",
        "!!python/module:os",
    ],
)
def test_python_tags_never_run(tmp_path, tag):
    marker = tmp_path / "pwned"
    d = diagnostic(f"name: {tag} ['touch {marker}']\n")
    assert "is not allowed" in d.message
    assert not marker.exists()


def test_billion_laughs_is_refused_at_the_expansion_bound():
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        previous, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    d = diagnostic("\n".join(lines) + "\n")
    assert f"more than {MAX_VALUES} values" in d.message


def test_deep_nesting_is_refused_without_recursion_error():
    limit = sys.getrecursionlimit()
    for depth in (MAX_DEPTH + 1, 50_000):
        d = diagnostic("name: " + "[" * depth + "]" * depth + "\n")
        assert "nesting is deeper" in d.message
        d = diagnostic("a:\n" + "".join("  " * i + "- \n" for i in range(1, 200)))
        assert "nesting is deeper" in d.message
    assert sys.getrecursionlimit() == limit


def test_size_limit(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("name: x\n" + "# padding\n" * (MAX_FILE_BYTES // 10))
    with pytest.raises(SpecError) as info:
        read_document(path)
    assert "larger than 1024 KiB" in info.value.diagnostics[0].message


def test_non_utf8_is_reported_at_its_byte(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: ok\ndescription: naïve\n".encode("latin-1"))
    with pytest.raises(SpecError) as info:
        read_document(path)
    location = info.value.diagnostics[0].location
    assert (location.line, location.column) == (2, 16)


def test_control_characters_are_located():
    with pytest.raises(SpecError) as info:
        parse_document("name: a\x1fb\n", "c.yaml")
    d = info.value.diagnostics[0]
    assert (d.location.line, d.location.column) == (1, 8)
    assert "U+001F" in d.message


def test_duplicate_keys_are_errors_not_last_one_wins():
    d = diagnostic("name: a\nname: b\n")
    assert "duplicate key 'name'" in d.message


def test_non_finite_numbers_are_refused():
    for spelling in (".nan", ".inf", "-.inf"):
        assert (
            "not a finite number" in diagnostic(f"name: x\nwidth_multiplier: {spelling}\n").message
        )


# --- scalars the parser itself would reject, and cycles ---------------------------------------

REJECTED_SCALARS = [
    ("name: 2001-02-30\n", "is not a valid name"),  # YAML 1.2: a date is text
    ("name: !!int abc\n", "'abc' is not a whole number, as its tag !!int says"),
    ("name: !!float abc\n", "'abc' is not a number"),
    ("name: !!bool maybe\n", "'maybe' is not true or false"),
    ("name: !!null x\n", "'x' is not null"),
    ("name: !!timestamp x\n", "the tag '!!timestamp' is not allowed"),
    ("name: !!binary aGk=\n", "the tag '!!binary' is not allowed"),
    ("name: !!set {a: null}\n", "the tag '!!set' is not allowed"),
    ("name: !custom x\n", "the tag '!custom' is not allowed"),
    ("%TAG !e! tag:yaml.org,2002:\n---\nname: !e!int abc\n", "is not a whole number"),
    ("name: !<tag:yaml.org,2002:int> abc\n", "is not a whole number"),
    ("name: !<tag:yaml.org,2002:timestamp> 2001-01-01\n", "is not allowed"),
    ("name: " + "9" * 4301 + "\n", "a number written with 4,301 characters"),
    ("name: !!int " + "9" * 5000 + "\n", "a number written with 5,000 characters"),
    ("name: -" + "1" * 200 + ".5e3\n", "a number written with 205 characters"),
]


@pytest.mark.parametrize(("text", "message"), REJECTED_SCALARS)
def test_scalars_the_parser_would_reject_are_located_errors(text, message):
    with pytest.raises(SpecError) as info:
        archspec.loads(text, "hostile.yaml")
    (d,) = [d for d in info.value.diagnostics if message in d.message]
    assert (d.location.line, d.location.column) == (text.count("\n"), 7)


@pytest.mark.parametrize("digits", [4301, 100_000])
def test_huge_json_integers_are_located_errors(digits):
    with pytest.raises(SpecError) as info:
        archspec.loads('{"name": ' + "7" * digits + "}", "big.json", json_syntax=True)
    d = info.value.diagnostics[0]
    assert f"a number written with {digits:,} characters" in d.message
    assert (d.location.line, d.location.column) == (1, 10)


@pytest.mark.parametrize(
    "text",
    [
        "a: &a [*a]\n",
        "a: &a {b: *a}\n",
        "a: &a {<<: *a}\n",
        "a: &a [1, [2, [3, *a]]]\n",
        "&a {x: *a}\n",
    ],
)
def test_an_alias_inside_the_node_it_names_is_refused(text):
    d = diagnostic(text)
    assert "is inside the node &a names" in d.message
    assert d.code == "alias-cycle"


def test_alias_chains_nest_no_deeper_than_the_limit():
    """Each anchor is shallow; expanded through aliases they nest thousands of levels deep."""
    lines = ["a0: &a0 []"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 3000)]
    limit = sys.getrecursionlimit()
    d = diagnostic("\n".join(lines) + "\n")
    assert "nesting is deeper" in d.message
    assert sys.getrecursionlimit() == limit


def test_merge_keys_nest_no_deeper_than_the_limit():
    lines = ["m0: &m0 {x: 1}"] + [f"m{i}: &m{i} {{<<: *m{i - 1}}}" for i in range(1, 3000)]
    d = diagnostic("\n".join(lines) + "\n")
    assert "merge keys nest deeper" in d.message


def test_merged_keys_count_against_the_bound():
    """Merging the same large mapping again and again is bounded, not quadratic."""
    keys = ", ".join(f"k{i}: {i}" for i in range(3000))
    text = f"a: &a {{{keys}}}\n" + "".join(f"b{i}: {{<<: [*a, *a, *a]}}\n" for i in range(50))
    d = diagnostic(text)
    assert f"more than {MAX_VALUES} values" in d.message


def test_the_parser_stops_at_the_value_bound_not_at_the_end(yaml_events):
    """A flat megabyte list is refused after the bound's events, not after parsing it all."""
    text = "[" + "0, " * (MAX_FILE_BYTES // 3 - 2) + "0]\n"
    d = diagnostic(text)
    assert f"more than {MAX_VALUES} values" in d.message
    assert yaml_events[0] < MAX_VALUES + 10


def test_json_positions_are_right_after_a_megabyte_of_whitespace():
    text = "{" + " \n" * 400_000 + '"name": 1}'
    with pytest.raises(SpecError) as info:
        archspec.loads(text, "ws.json", json_syntax=True)
    (d,) = [d for d in info.value.diagnostics if d.path == "name"]
    assert (d.location.line, d.location.column) == (400_001, 9)


def test_an_extends_chain_shares_one_value_bound(tmp_path):
    """Nine files of 19,000 values each would be nine times the work of one: refused."""
    values = "".join(f"  k{i}: 1\n" for i in range(10_500))
    assert archspec.io.parse_document(f"x:\n{values}").values == 10_502  # each file is fine
    (tmp_path / "base.yaml").write_text(f"x:\n{values}")
    (tmp_path / "child.yaml").write_text(f"extends: base.yaml\ny:\n{values}")
    with pytest.raises(SpecError) as info:
        archspec.load(tmp_path / "child.yaml")
    (d,) = info.value.diagnostics
    assert (
        d.message == f"with the specs that extend it, it expands to more than {MAX_VALUES} values"
    )
    assert d.location.file == str(tmp_path / "base.yaml")
