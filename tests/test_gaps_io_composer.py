"""How YAML documents are composed: anchors and aliases, merge keys, one document, the bounds.

io.py composes the parser's events into nodes itself (`_Composer`) and expands them into
plain data (`_NodeConverter`). These tests pin what a user sees: the data an anchor, an alias
or a merge key gives (and in which order its keys come), where each refusal is located and
what it says, and the bounds at exactly their values: the value count (keys are not values,
every expansion is), the nesting depth through aliases, and the depth and count of merges.
"""

from __future__ import annotations

import json

import pytest
import yaml

import archspec.io
from archspec.errors import SpecError
from archspec.io import MAX_DEPTH, MAX_VALUES, parse_document

_TOO_LARGE = "with the specs that extend it, it expands to more than 20000 values"
_TOO_LARGE_HINT = "anchors and aliases (&a / *a) multiply; a spec needs only a few"


def problem(text: str, **kwargs: object) -> tuple[object, ...]:
    with pytest.raises(SpecError) as info:
        parse_document(text, "f.yaml", **kwargs)  # type: ignore[arg-type]
    (diagnostic,) = info.value.diagnostics
    at = diagnostic.location
    assert at is not None and at.file == "f.yaml"
    return (at.line, at.column, diagnostic.code, diagnostic.message, diagnostic.hint)


@pytest.fixture(params=["libyaml", "pure"])
def parser(request, monkeypatch):
    """Each test runs with libyaml's events and with PyYAML's own parser's."""
    if request.param == "pure":
        monkeypatch.setattr(archspec.io, "_EventSource", yaml.BaseLoader)
    return request.param


@pytest.mark.parametrize(
    ("text", "data", "values"),
    [
        ("a: &x 1\nb: *x\n", {"a": 1, "b": 1}, 3),
        ("a: &x b\nc: [*x, *x]\n", {"a": "b", "c": ["b", "b"]}, 5),
        ("a: &x [1, 2]\nb: *x\n", {"a": [1, 2], "b": [1, 2]}, 7),
        ("a: &x {c: 1}\nb: [*x]\n", {"a": {"c": 1}, "b": [{"c": 1}]}, 6),
        # an anchor inside an anchored node names its own node
        ("a: &a [&b [1], *b]\nc: *b\n", {"a": [[1], [1]], "c": [1]}, 8),
        # a name given again names the later node from there on
        ("a: &x 1\nb: &x 2\nc: *x\n", {"a": 1, "b": 2, "c": 2}, 4),
        ("a: &x [1]\nb: [&x [2], *x]\nc: *x\n", {"a": [1], "b": [[2], [2]], "c": [2]}, 10),
        # a document of one value, or of nothing after its start
        ("--- 5\n", 5, 1),
        ("---\n", None, 1),
        ("a: 1\n...\n", {"a": 1}, 2),
    ],
)
def test_anchors_and_aliases_repeat_the_node_they_name(text, data, values, parser):
    document = parse_document(text, "f.yaml")
    assert (document.data, document.values) == (data, values)


def test_an_alias_is_located_where_its_anchor_was_written(parser):
    document = parse_document("a: &x [1]\nb:\n  c: *x\n", "f.yaml")
    at = document.source.values
    assert (at[("b", "c")].line, at[("b", "c")].column) == (1, 4)
    assert (at[("b", "c", 0)].line, at[("b", "c", 0)].column) == (1, 8)
    key = document.source.keys[("b", "c")]
    assert (key.line, key.column) == (3, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: *missing\n",
            (1, 4, "syntax", "found undefined alias 'missing'",
             "define the anchor (&name) before using the alias (*name)"),
        ),
        (
            "a: [1, *later]\nb: &later 2\n",
            (1, 8, "syntax", "found undefined alias 'later'",
             "define the anchor (&name) before using the alias (*name)"),
        ),
        (
            "a: &a [*a]\n",
            (1, 8, "alias-cycle",
             "the alias *a is inside the node &a names, which would make it endless",
             "an alias may only repeat a node that is complete before it"),
        ),
        (
            "x: 1\nlist: &outer\n  - 1\n  - inner: &inner [2]\n    again: *outer\n",
            (5, 12, "alias-cycle",
             "the alias *outer is inside the node &outer names, which would make it endless",
             "an alias may only repeat a node that is complete before it"),
        ),
        (
            "a: &a {b: &b [*a]}\n",
            (1, 15, "alias-cycle",
             "the alias *a is inside the node &a names, which would make it endless",
             "an alias may only repeat a node that is complete before it"),
        ),
        (
            "a: &a {<<: *a}\n",
            (1, 12, "alias-cycle",
             "the alias *a is inside the node &a names, which would make it endless",
             "an alias may only repeat a node that is complete before it"),
        ),
        (
            "a: 1\n---\nb: 2\n",
            (2, 1, "syntax",
             "expected a single document in the stream: but found another document",
             "a spec file holds one document; remove the '---' line and what follows"),
        ),
        (
            "a: 1\n...\n--- [2]\n",
            (3, 1, "syntax",
             "expected a single document in the stream: but found another document",
             "a spec file holds one document; remove the '---' line and what follows"),
        ),
        ("", (1, 1, "empty", "the file is empty", None)),
        ("# only a comment\n\n", (1, 1, "empty", "the file is empty", None)),
    ],
)  # fmt: skip
def test_each_composing_error_has_its_place_message_code_and_hint(text, expected, parser):
    assert problem(text) == expected


def test_an_alias_after_its_anchors_node_is_complete_is_no_cycle(parser):
    text = "a: &a [1, &b [2]]\nb: [*b, *a]\nc: &c {d: *b}\n"
    assert parse_document(text, "f.yaml").data == {
        "a": [1, [2]],
        "b": [[2], [1, [2]]],
        "c": {"d": [2]},
    }


# --- the value count: values, not keys; every expansion counts ---------------------------


@pytest.mark.parametrize(
    ("text", "bound", "where"),
    [
        # ten values in a list: the root and five items fit in six, the sixth item does not
        ("[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n", 6, (1, 17)),
        ("- 0\n- 1\n- 2\n- 3\n- 4\n- 5\n- 6\n", 4, (4, 3)),
        # in a mapping only the values count: k0..k3 and the root make five, k4's value is over
        ("{k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5}\n", 5, (1, 34)),
        # collections count as values, and their keys do not
        ("k0: [a, b]\nk1: {c: d, e: f}\nk2: [g]\n", 5, (2, 9)),
        ("k0: [a, b]\nk1: {c: d, e: f}\nk2: [g]\n", 6, (2, 15)),
        # an alias counts every value it repeats, located where they were written
        ("a: &a [[[1]]]\nb: *a\n", 8, (1, 10)),
    ],
)
def test_a_document_is_refused_at_the_first_value_beyond_its_bound(text, bound, where, parser):
    assert problem(text, max_values=bound) == (*where, "too-large", _TOO_LARGE, _TOO_LARGE_HINT)
    document = parse_document(text, "f.yaml", max_values=bound + 20)
    assert document.values > bound


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n", 11),
        ("{k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5}\n", 7),
        ("k0: [a, b]\nk1: {c: d, e: f}\nk2: [g]\n", 9),
        ("a: &a [[[1]]]\nb: *a\n", 9),
        ("a: &a {x: 1}\nb: {<<: *a, y: 2}\n", 6),
    ],
)
def test_a_document_of_exactly_its_bound_is_read(text, values, parser):
    assert parse_document(text, "f.yaml", max_values=values).values == values
    assert problem(text, max_values=values - 1)[2] == "too-large"


@pytest.mark.parametrize("keys", [False, True])
def test_the_parser_is_stopped_at_the_bound_not_at_the_end_of_the_text(keys, yaml_events):
    """A long flat list or mapping: refused after the bound's events, not after all of them."""
    items = ", ".join(f"k{i}: {i}" if keys else str(i) for i in range(5000))
    text = "{" + items + "}\n" if keys else "[" + items + "]\n"
    assert problem(text, max_values=10)[2] == "too-large"
    # stream and document start, the root (the first value), then items up to the eleventh
    # value (each but the root with its key, in a mapping)
    assert yaml_events[0] == (3 + 2 * 10 if keys else 3 + 10)


# --- depth, through aliases ----------------------------------------------------------------


def test_a_value_inside_the_deepest_collection_is_one_level_too_deep(parser):
    deepest = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_document(deepest, "f.yaml").values == MAX_DEPTH
    with_value = "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH
    message = f"nesting is deeper than {MAX_DEPTH} levels"
    assert problem(with_value) == (1, MAX_DEPTH + 1, "too-deep", message, None)


def test_aliases_nest_to_the_depth_limit_and_no_deeper(parser):
    message = f"nesting is deeper than {MAX_DEPTH} levels"
    # the root mapping and b's list are two levels: an alias to 30 nested lists fills the rest
    inner = "[" * 30 + "]" * 30
    document = parse_document(f"a: &a {inner}\nb: [*a]\n", "f.yaml")
    assert document.data["b"] == [document.data["a"]]
    deeper = f"a: &a [{inner}]\nb: [*a]\n"
    assert problem(deeper) == (1, 37, "too-deep", message, None)


# --- merge keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data"),
    [
        # merged keys come first, in their source's order, then the keys written here
        ("b: {<<: {y: 1, x: 2}, a: 0}\n", {"b": {"y": 1, "x": 2, "a": 0}}),
        ("b: {a: 0, <<: {y: 1, x: 2}}\n", {"b": {"y": 1, "x": 2, "a": 0}}),
        ("b: {<<: {y: 1, x: 2}, y: 0}\n", {"b": {"x": 2, "y": 0}}),
        # of several sources the first that has a key gives it; merges apply inside sources
        (
            "a: &a {x: 1}\nc: &c {x: 2, w: 3}\nb: {<<: [*a, *c]}\n",
            {"a": {"x": 1}, "c": {"x": 2, "w": 3}, "b": {"x": 1, "w": 3}},
        ),
        (
            "a: &a {x: 1}\nc: &c {x: 2, w: 3}\nb: {<<: *a, <<: *c}\n",
            {"a": {"x": 1}, "c": {"x": 2, "w": 3}, "b": {"x": 1, "w": 3}},
        ),
        (
            "a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {z: 0, <<: *b}\n",
            {"a": {"x": 1}, "b": {"x": 1, "y": 2}, "c": {"x": 1, "y": 2, "z": 0}},
        ),
        # the standard tag makes any key a merge key; a quoted or tagged '<<' is a name
        ("a: &a {x: 1}\nb:\n  !!merge <<: *a\n", {"a": {"x": 1}, "b": {"x": 1}}),
        ("a: &a {x: 1}\nb:\n  !!merge other: *a\n", {"a": {"x": 1}, "b": {"x": 1}}),
        ("'<<': 1\n", {"<<": 1}),
        ('"<<": {x: 1}\n', {"<<": {"x": 1}}),
        ("!!str <<: 1\n", {"<<": 1}),
        # an empty list merges nothing
        ("b: {<<: []}\n", {"b": {}}),
        ("b: {<<: [], c: 1}\n", {"b": {"c": 1}}),
    ],
)
def test_merge_keys_give_defaults_in_order(text, data, parser):
    document = parse_document(text, "f.yaml")
    assert document.data == data
    assert json.dumps(document.data) == json.dumps(data)  # the same keys in the same order


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: &a {x: 1, x: 2}\nb: {<<: *a}\n",
            (1, 14, "duplicate-key", "duplicate key 'x' (first given at line 1)",
             "each key may appear once; remove one of them"),
        ),
        (
            "a:\n  x\nb: 1\na: 2\n",  # the line of the first key, not of its value
            (4, 1, "duplicate-key", "duplicate key 'a' (first given at line 1)",
             "each key may appear once; remove one of them"),
        ),
        (
            "b:\n  <<: {x: 1}\n  y: 2\n  y: 3\n",
            (4, 3, "duplicate-key", "duplicate key 'y' (first given at line 3)",
             "each key may appear once; remove one of them"),
        ),
        (
            "a:\n  <<: [{b: 1}, [2]]\n",
            (2, 7, "syntax", "a merge key (<<) takes a mapping, or a list of mappings",
             "write `<<: *anchor` where `&anchor` names a mapping"),
        ),
        (
            "a:\n  <<: ~\n",
            (2, 7, "syntax", "a merge key (<<) takes a mapping, or a list of mappings",
             "write `<<: *anchor` where `&anchor` names a mapping"),
        ),
        (
            "a:\n  !!merge x: y\n",
            (2, 14, "syntax", "a merge key (<<) takes a mapping, or a list of mappings",
             "write `<<: *anchor` where `&anchor` names a mapping"),
        ),
        (
            "a:\n  <<: {1: x}\n",
            (2, 8, "key", "key '1' is read as int, not a name", 'quote it: "1"'),
        ),
    ],
)  # fmt: skip
def test_a_bad_merge_is_located_in_what_it_merges(text, expected, parser):
    assert problem(text) == expected


def _merge_chain(merges: int) -> str:
    """`merges` mappings, each merging the one before, the first one plain."""
    lines = ["m0: &m0 {x: 1}"]
    lines += [f"m{i}: &m{i} {{<<: *m{i - 1}}}" for i in range(1, merges + 1)]
    return "\n".join(lines) + "\n"


def test_merge_keys_nest_to_the_depth_limit_and_no_deeper(parser):
    document = parse_document(_merge_chain(MAX_DEPTH), "f.yaml")
    assert document.data[f"m{MAX_DEPTH}"] == {"x": 1}
    message = f"merge keys nest deeper than {MAX_DEPTH} levels"
    # the last mapping merges 32 others in a chain: the 33rd merge is m1's, on line 2
    assert problem(_merge_chain(MAX_DEPTH + 1)) == (2, 5, "too-deep", message, None)


def test_merged_pairs_count_against_the_bound(parser):
    # 6 values before b's keys are merged; b merges a's three pairs three times (9)
    text = "a: &a {x: 1, y: 2, z: 3}\nb: {<<: [*a, *a, *a], x: 0}\n"
    assert parse_document(text, "f.yaml", max_values=9).data["b"] == {"y": 2, "z": 3, "x": 0}
    assert problem(text, max_values=8) == (1, 4, "too-large", _TOO_LARGE, _TOO_LARGE_HINT)
    # the text itself has 8 values: beyond the bound, it is refused as it is read
    assert problem(text, max_values=7) == (2, 26, "too-large", _TOO_LARGE, _TOO_LARGE_HINT)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # the 33rd '[' is the 33rd level
        ("[" * 2000 + "]" * 2000, (1, MAX_DEPTH + 1)),
        # the root mapping is the first level: the 32nd '[' (from column 4) is the 33rd
        ("a: " + "[" * 1001, (1, 4 + MAX_DEPTH - 1)),
        # and b's list the second: the 31st '[' (from column 5) is the 33rd
        ("a:\n  - " + "[" * 5000 + "]" * 5000 + "\n", (2, 5 + MAX_DEPTH - 2)),
        # mappings and lists, two levels in each '{c: [' (the 16th's '[' is the 33rd level)
        ("a: 1\nb: " + "{c: [" * 600, (2, 4 + 5 * 15 + 4)),
    ],
)
def test_a_flow_collection_too_deep_is_located_at_its_first_level_too_many(text, where, parser):
    """libyaml scans a flow collection ahead and stops at its own limit of 1,000 levels, before
    the composer sees the level beyond MAX_DEPTH: the problem is where that level starts, as
    PyYAML's own parser finds it, not where libyaml stopped."""
    message = f"nesting is deeper than {MAX_DEPTH} levels"
    assert problem(text) == (*where, "too-deep", message, None)


_DEFAULT_TOO_LARGE = "the document expands to more than 20000 values"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # written out: the composer stops at the 20,001st value (the root is the first)
        ("[" + "0, " * MAX_VALUES + "0]\n", (1, 2 + 3 * (MAX_VALUES - 1))),
        # merged: 3,000 pairs merged three times in each of three mappings is 27,000
        (
            "a: &a {" + ", ".join(f"k{i}: 0" for i in range(3000)) + "}\n"
            + "".join(f"b{j}: {{<<: [*a, *a, *a]}}\n" for j in range(3)),
            (1, 4),
        ),
        # expanded through aliases: the converter counts every repeated value; 15,005 before
        # b's third list, which is the 15,006th: its item 4,994 is the 20,001st, located
        # where a's item 4,994 was written
        ("a: &a [" + ", ".join(["0"] * 5000) + "]\nb: [*a, *a, *a, *a]\n", (1, 8 + 3 * 4994)),
    ],
)  # fmt: skip
def test_a_document_beyond_the_default_bound_is_refused_as_the_document(text, where):
    """Alone (no `extends` chain sharing the bound), the message speaks of the document."""
    assert problem(text) == (*where, "too-large", _DEFAULT_TOO_LARGE, _TOO_LARGE_HINT)


def test_text_is_refused_beyond_the_size_of_a_file_and_read_up_to_it():
    limit = archspec.io.MAX_FILE_BYTES
    assert parse_document("a: 1\n" + "#" * (limit - 5)).data == {"a": 1}
    with pytest.raises(SpecError) as info:
        parse_document("a: 1\n" + "#" * (limit - 4), json_syntax=True)
    (diagnostic,) = info.value.diagnostics
    at = diagnostic.location
    assert (at.file, at.line, at.column, diagnostic.code) == ("<string>", 1, 1, "file-too-large")
    assert (diagnostic.message, diagnostic.hint) == (
        "the text is longer than 1024 Ki characters",
        "a spec is a short description of a model",
    )


@pytest.mark.parametrize("json_syntax", [False, True])
def test_text_without_a_file_name_is_labelled_string(json_syntax):
    with pytest.raises(SpecError) as info:
        parse_document("", json_syntax=json_syntax)
    assert [d.location.file for d in info.value.diagnostics] == ["<string>"]


def test_a_collection_written_as_a_key_is_not_counted_as_a_value(parser):
    """It is a key (refused as one once read), so only what it holds counts against the bound."""
    text = "? [1, 2]\n: a\n"
    assert problem(text) == (1, 3, "key", "a mapping key must be a plain name", None)
    # the root is the one value allowed: the key's list is not a value, its first item is
    assert problem(text, max_values=1) == (1, 4, "too-large", _TOO_LARGE, _TOO_LARGE_HINT)
