"""A user's review of reading errors: each names its field, says all it means, and fits its case.

Found by trying what people write by mistake: a number that is not finite (`dropout: .inf`,
`1e999`), a European decimal or a thousands separator inside `{...}` (`dropout: 0,5`,
`filters: 1,024`), a tuple (`shape: (64, 64, 3)`), a control character, a folder where a spec
file goes, a truncated JSON string.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from archspec.cli import main
from archspec.errors import SpecError
from archspec.io import parse_document
from tests.conftest import BASIC_SPEC

FINITE_HINT = "    hint: a spec's numbers are sizes and rates; use a finite value"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def validate(tmp_path, monkeypatch, name: str, text: str) -> tuple[int, list[str]]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(text)
    result = run("validate", name)
    return result.exit_code, result.output.splitlines()


# --- a number that is not finite names its field, in YAML and JSON alike ---------------------


@pytest.mark.parametrize("spelling", [".inf", "-.Inf", ".nan", "1e999", "-1e400"])
def test_a_non_finite_yaml_number_names_its_field(tmp_path, monkeypatch, spelling):
    text = BASIC_SPEC.replace("head: {classes: 4}", f"head: {{classes: 4, dropout: {spelling}}}")
    code, lines = validate(tmp_path, monkeypatch, "s.yaml", text)
    assert code == 1
    assert lines[:2] == [
        f"s.yaml:6:29: error: head.dropout: {spelling} is not a finite number",
        FINITE_HINT,
    ]


@pytest.mark.parametrize("spelling", ["1e999", "-1e400", "1E+309"])
def test_a_json_number_too_large_reads_as_in_yaml(tmp_path, monkeypatch, spelling):
    data = {
        "name": "r",
        "input": {"shape": [64, 64, 3]},
        "stem": {"filters": 16},
        "stages": [{"block": "basic", "filters": 16}],
        "head": {"classes": 4, "dropout": 0},
    }
    text = json.dumps(data).replace('"dropout": 0', f'"dropout": {spelling}')
    column = text.index(spelling) + 1
    code, lines = validate(tmp_path, monkeypatch, "s.json", text)
    assert code == 1
    assert lines[:2] == [
        f"s.json:1:{column}: error: head.dropout: {spelling} is not a finite number",
        FINITE_HINT,
    ]


keys = st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(
    path=st.lists(st.one_of(keys, st.integers(0, 2)), min_size=1, max_size=4).filter(
        lambda parts: isinstance(parts[0], str)
    ),
    spelling=st.sampled_from([".inf", "-.inf", ".NaN", "1e999", "-9e9999"]),
    json_syntax=st.booleans(),
)
def test_every_non_finite_number_is_located_at_its_field(path, spelling, json_syntax):
    """Wherever it is nested, the diagnostic's path is the field's (lists padded with 0s)."""
    if json_syntax and not spelling[-1].isdigit():
        return  # JSON has no .inf: that is a syntax error of its own
    value: object = "X"
    shown = ""
    for part in reversed(path):
        value = [0] * part + [value] if isinstance(part, int) else {part: value}
    for part in path:
        shown += f"[{part}]" if isinstance(part, int) else (f".{part}" if shown else part)
    text = json.dumps(value).replace('"X"', spelling)
    with pytest.raises(SpecError) as info:
        parse_document(text, "f", json_syntax=json_syntax)
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.path, diagnostic.message, diagnostic.code) == (
        shown,
        f"{spelling} is not a finite number",
        "not-finite",
    )
    assert diagnostic.location is not None
    assert diagnostic.location.column == text.index(spelling) + 1


def test_a_tagged_value_that_does_not_fit_its_tag_names_its_field():
    with pytest.raises(SpecError) as info:
        parse_document("head:\n  classes: !!int four\n", "f")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.format() == (
        "f:2:12: error: head.classes: 'four' is not a whole number, as its tag !!int says\n"
        "    hint: write a whole number, or remove the tag"
    )


def test_set_says_a_non_finite_value_is_not_finite_not_that_it_is_not_yaml():
    result = run("inspect", "resnet22", "--set", "head.dropout=.nan")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "Error: Invalid value for '--set': 'head.dropout=.nan': .nan is not a finite number"
    )


# --- a comma inside {...} ends the value: the hint says so instead of "quote it" ------------


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("{block: basic, filters: 1,024}", "024"),
        ("{block: basic, filters: 16, se: {ratio: 0,25}}", "25"),
    ],
)
def test_a_number_with_a_comma_in_a_flow_mapping_gets_the_comma_hint(
    tmp_path, monkeypatch, written, key
):
    text = BASIC_SPEC.replace("{block: basic, filters: 16}", written)
    column = len("  - ") + written.index(f",{key}") + 2
    code, lines = validate(tmp_path, monkeypatch, "s.yaml", text)
    assert code == 1
    path = "stages[0]" if "se" not in written else "stages[0].se"
    assert lines[:2] == [
        f"s.yaml:5:{column}: error: {path}: key '{key}' is read as int, not a name",
        f"    hint: in {{...}} a comma ends a value, so '{key}' became a key of its own; write "
        "numbers without commas (1024, 0.5) and lists in brackets ([64, 64, 3])",
    ]


def test_a_tuple_for_the_input_shape_gets_the_comma_hint(tmp_path, monkeypatch):
    text = BASIC_SPEC.replace("{shape: [64, 64, 3]}", "{shape: (64, 64, 3)}")
    code, lines = validate(tmp_path, monkeypatch, "s.yaml", text)
    assert code == 1
    assert lines[:2] == [
        "s.yaml:2:21: error: input: key '64' is read as int, not a name",
        "    hint: in {...} a comma ends a value, so '64' became a key of its own; write "
        "numbers without commas (1024, 0.5) and lists in brackets ([64, 64, 3])",
    ]


@pytest.mark.parametrize(
    "text", ["head: {1: 2}\n", "head:\n  1: 2\n", "head: {1: }\n", "head: {1 : }\n", "head: {1}\n"]
)
def test_a_numeric_key_written_as_a_key_is_still_told_to_quote_it(text):
    """Only a key after a comma and without ':' is a stray comma's; `1: 2` is meant as a key."""
    with pytest.raises(SpecError) as info:
        parse_document(text, "f")
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.path, diagnostic.message, diagnostic.hint) == (
        "head",
        "key '1' is read as int, not a name",
        'quote it: "1"',
    )


# --- whole sentences, fitting hints -----------------------------------------------------------


@pytest.mark.parametrize(("char", "column"), [("\x01", 4), ("\x7f", 4), ("\ufffe", 4)])
def test_a_character_yaml_refuses_gets_a_whole_sentence(char, column):
    with pytest.raises(SpecError) as info:
        parse_document(f"a: {char}\n", "f")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.format() == (
        f"f:1:{column}: error: character U+{ord(char):04X} is not allowed in YAML\n"
        "    hint: remove it; YAML allows only printable text, tabs and newlines"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": "x', "not valid JSON: Unterminated string"),
        ('{"a": "\x01"}', "not valid JSON: Invalid control character"),
    ],
)
def test_json_decoder_messages_do_not_end_in_a_dangling_at(text, message):
    with pytest.raises(SpecError) as info:
        parse_document(text, "f", json_syntax=True)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.message == message


@pytest.mark.parametrize("command", ["inspect", "show", "codegen", "graph", "build"])
def test_a_folder_given_as_a_spec_says_what_to_do_with_a_folder(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    result = run(command, "models")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "models: error: not a regular file (a folder)",
        "    hint: give a spec file in it; `archspec validate FOLDER` checks every spec in a "
        "folder",
    ]


# --- a spec saved as UTF-16 or UTF-32 (PowerShell's `>`, Windows editors) ---------------------


@pytest.mark.parametrize(
    ("encoding", "name"),
    [
        ("utf-16", "UTF-16"),
        ("utf-16-le", "UTF-16"),
        ("utf-16-be", "UTF-16"),
        ("utf-32", "UTF-32"),
        ("utf-32-le", "UTF-32"),
        ("utf-32-be", "UTF-32"),
    ],
)
def test_a_spec_in_a_wide_encoding_is_named_as_such(tmp_path, monkeypatch, encoding, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_bytes(BASIC_SPEC.encode(encoding))
    for command in ("validate", "inspect"):
        result = run(command, "s.yaml")
        assert result.exit_code == 1
        assert result.output.splitlines()[:2] == [
            f"s.yaml:1:1: error: the file is encoded as {name}, not UTF-8",
            "    hint: save the file as UTF-8 (in PowerShell: Out-File -Encoding utf8)",
        ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x00\x01\x02", "character U+0000 is not allowed in YAML"),
        (b"a: \xff\n", "byte 0xff at offset 3 is not valid UTF-8"),
        (b"\xef\xbb\xbfa: \x00", "character U+0000 is not allowed in YAML"),
    ],
)
def test_other_bad_bytes_keep_their_own_messages(tmp_path, monkeypatch, raw, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_bytes(raw)
    result = run("validate", "s.yaml")
    assert result.exit_code == 1
    assert message in result.output.splitlines()[0]


# --- a number with a leading zero: octal to YAML 1.1, decimal to YAML 1.2 ---------------------


@pytest.mark.parametrize(
    ("written", "path", "hint"),
    [
        (
            "{classes: 4, dense: [1,024]}",
            "head.dense[1]",
            "write 24, or quote it for text: '024'; if a comma split a number (1,024), leave "
            "the comma out",
        ),
        (
            "{classes: 010}",
            "head.classes",
            "write 10, or quote it for text: '010'; if a comma split a number (1,010), leave "
            "the comma out",
        ),
        ("{classes: 04}", "head.classes", "write 4, or quote it for text: '04'"),
        ("{classes: -07}", "head.classes", "write -7, or quote it for text: '-07'"),
    ],
)
def test_a_number_with_a_leading_zero_is_refused_where_it_is(
    tmp_path, monkeypatch, written, path, hint
):
    text = BASIC_SPEC.replace("head: {classes: 4}", f"head: {written}")
    code, lines = validate(tmp_path, monkeypatch, "s.yaml", text)
    number = written.split(",")[-1].rstrip("]}") if "dense" in written else written[10:-1]
    column = len("head: ") + written.index(number) + 1
    assert code == 1
    assert lines[:2] == [
        f"s.yaml:6:{column}: error: {path}: {number} starts with a 0, which YAML 1.1 readers "
        "take for an octal number",
        f"    hint: {hint}",
    ]


@pytest.mark.parametrize("text", ["a: 0\n", "a: -0\n", "a: 0.5\n", "a: 0x1F\n", "a: !!int 024\n",
                                  "a: '024'\n", "a: 100\n"])  # fmt: skip
def test_numbers_without_a_leading_zero_read_as_before(text):
    parse_document(text, "f")


# --- what people write in JSON that JSON does not allow ----------------------------------------


@pytest.mark.parametrize(
    ("text", "column", "path", "message", "hint"),
    [
        ('{"name": "x", // a comment\n}', 15, "", "expected a quoted key",
         "JSON has no comments; remove it, or write the spec in YAML, which has # comments"),
        ('{"name": "x", # a comment\n}', 15, "", "expected a quoted key",
         "JSON has no comments; remove it, or write the spec in YAML, which has # comments"),
        ("{'name': 'x'}", 2, "", "expected a quoted key",
         'JSON quotes keys and text with double quotes: "name"'),
        ('{"head": {classes: 4}}', 11, "head", "expected a quoted key",
         'quote the key: "classes"'),
        ('{"head": {"classes": 4 "dropout": 0}}', 24, "head", "expected ',' or '}'",
         "is a comma missing before this, or a bracket not closed?"),
        ('{"input": {"shape": [64 64, 3]}}', 25, "input.shape", "expected ',' or ']'",
         "is a comma missing before this, or a bracket not closed?"),
    ],
)  # fmt: skip
def test_json_mistakes_get_hints(text, column, path, message, hint):
    with pytest.raises(SpecError) as info:
        parse_document(text, "f.json", json_syntax=True)
    (d,) = info.value.diagnostics
    assert d.location is not None
    assert (d.location.column, d.path, d.message, d.hint) == (column, path, message, hint)
