"""YAML is read safely: no code runs, expansion and nesting are bounded, bytes are checked."""

from __future__ import annotations

import sys

import pytest

import archspec
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
