"""Read YAML and JSON specs into plain data, remembering where every key and value was written.

Everything here treats the file as hostile: safe YAML only (no Python tags), a size limit,
a nesting limit, a bound on how far anchors and aliases may expand, duplicate keys refused,
and undecodable bytes reported with their position. Every failure is a located `SpecError`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]  # public in CPython, missing from typeshed
from pathlib import Path
from typing import Any

import yaml

from archspec.errors import Diagnostic, Location, SpecError

MAX_FILE_BYTES = 1 << 20
"""A spec is a page of text; anything larger is refused before parsing."""
MAX_DEPTH = 32
"""Specs nest four or five levels deep; deeper documents are refused, not recursed into."""
MAX_VALUES = 20_000
"""Bound on values after anchors and aliases are expanded ("billion laughs")."""

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceMap:
    """Where each value (and each mapping key) of a document was written."""

    values: dict[FieldPath, Location] = field(default_factory=dict)
    keys: dict[FieldPath, Location] = field(default_factory=dict)

    def locate(self, path: FieldPath, *, key: bool = False) -> Location | None:
        """The location of `path`, or of its nearest written ancestor.

        With `key=True`, prefer the position of the mapping key over its value, which is
        where an editor should point for an unknown or misspelt key.
        """
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if key and prefix in self.keys:
                return self.keys[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return None

    def forget(self, prefix: FieldPath) -> None:
        """Drop every recorded location at or below `prefix` (its value is being replaced)."""
        n = len(prefix)
        for table in (self.values, self.keys):
            for path in [p for p in table if p[:n] == prefix]:
                del table[path]


@dataclass(frozen=True)
class Document:
    """A parsed spec file: plain Python data plus where each part came from."""

    data: Any
    source: SourceMap
    file: str


def read_document(path: str | Path) -> Document:
    """Read a YAML (`.yaml`, `.yml`) or JSON (`.json`) spec file.

    Raises `SpecError` for anything unreadable, and `OSError` when the file cannot be opened.
    """
    path = Path(path)
    name = str(path)
    with path.open("rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise _error(
            name,
            1,
            1,
            f"file is larger than {MAX_FILE_BYTES // 1024} KiB",
            hint="a spec is a short description of a model; is this the right file?",
            code="file-too-large",
        )
    return parse_document(decode_text(raw, name), name, json_syntax=path.suffix.lower() == ".json")


def decode_text(raw: bytes, file: str) -> str:
    """Decode UTF-8 (with or without a byte-order mark), reporting a bad byte's position."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _error(
            file,
            line,
            column,
            f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not valid UTF-8",
            hint="save the file as UTF-8",
            code="encoding",
        ) from None


def parse_document(text: str, file: str = "<string>", *, json_syntax: bool = False) -> Document:
    """Parse spec text. JSON syntax is parsed strictly as JSON; otherwise as YAML."""
    if json_syntax:
        return _JsonReader(text, file).read()
    return _read_yaml(text, file)


def _error(file: str, line: int, column: int, message: str, **kwargs: Any) -> SpecError:
    return SpecError([Diagnostic(message, location=Location(file, line, column), **kwargs)])


def _duplicate_key(key: str, first: Location, again: Location) -> SpecError:
    """A key given twice is an error, not "last one wins"."""
    return SpecError(
        [
            Diagnostic(
                f"duplicate key {key!r} (first given at line {first.line})",
                location=again,
                hint="each key may appear once; remove one of them",
                code="duplicate-key",
            )
        ]
    )


# --- YAML -------------------------------------------------------------------------------------


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a nesting limit on its (recursive) composer.

    It also reads YAML 1.2 floats: PyYAML follows YAML 1.1, where `1e-5` (no dot) is a string.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_BoundedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        self.mark = mark


_YAML_HINTS = {
    "found character '\\t' that cannot start any token": (
        "YAML does not allow tabs for indentation; indent with spaces"
    ),
    "mapping values are not allowed here": (
        "a value that contains ': ' needs quotes, or a key is indented wrongly"
    ),
    "found undefined alias": "define the anchor (&name) before using the alias (*name)",
    "could not determine a constructor for the tag": (
        "archspec reads plain YAML only; remove the tag"
    ),
}


def _read_yaml(text: str, file: str) -> Document:
    try:
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character YAML does not allow
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise _error(
            file,
            line,
            column,
            f"character U+{exc.character:04X} is not allowed in YAML",
            hint="remove the control character; only printable text, tabs and newlines are",
            code="syntax",
        ) from None
    try:
        try:
            root = loader.get_single_node()
        except _TooDeep as exc:
            raise _error(
                file,
                exc.mark.line + 1,
                exc.mark.column + 1,
                f"nesting is deeper than {MAX_DEPTH} levels",
                code="too-deep",
            ) from None
        except yaml.MarkedYAMLError as exc:
            raise _yaml_error(exc, file) from None
        except yaml.YAMLError as exc:  # errors without a mark (rare: reader errors)
            raise _error(file, 1, 1, f"not valid YAML: {exc}", code="syntax") from None
        if root is None:
            raise _error(file, 1, 1, "the file is empty", code="empty")
        source = SourceMap()
        data = _NodeConverter(loader, file, source).convert(root, ())
        return Document(data, source, file)
    finally:
        loader.dispose()


def _yaml_error(exc: yaml.MarkedYAMLError, file: str) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    problem = (exc.problem or "not valid YAML").strip()
    message = problem
    if exc.context:
        message = f"{exc.context.strip()}: {problem}"
    hint = next((h for key, h in _YAML_HINTS.items() if problem.startswith(key)), None)
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return _error(file, line, column, message, hint=hint, code="syntax")


_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_COLLECTION_TAGS: dict[type[yaml.Node], str] = {
    yaml.MappingNode: "tag:yaml.org,2002:map",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
}


class _NodeConverter:
    """Turns composed YAML nodes into plain data, recording marks and bounding expansion."""

    def __init__(self, loader: _BoundedLoader, file: str, source: SourceMap) -> None:
        self.loader = loader
        self.file = file
        self.source = source
        self.count = 0

    def location(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def error(
        self, node: yaml.Node, message: str, *, hint: str | None = None, code: str = "syntax"
    ) -> SpecError:
        return SpecError([Diagnostic(message, location=self.location(node), hint=hint, code=code)])

    def convert(self, node: yaml.Node, path: FieldPath) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise self.error(
                node,
                f"the document expands to more than {MAX_VALUES} values",
                hint="anchors and aliases (&a / *a) multiply; a spec needs only a few",
                code="too-large",
            )
        self.source.values[path] = self.location(node)
        plain_tag = _PLAIN_COLLECTION_TAGS.get(type(node))
        if plain_tag is not None and node.tag != plain_tag:
            raise self.error(
                node,
                f"could not determine a constructor for the tag {node.tag!r}",
                hint=_YAML_HINTS["could not determine a constructor for the tag"],
            )
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
            value = self.loader.construct_object(node)
        except yaml.MarkedYAMLError as exc:
            raise _yaml_error(exc, self.file) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(
                node,
                f"{node.value} is not a finite number",
                hint="a spec's numbers are sizes and rates; use a finite value",
            )
        return value

    def mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[str, Any]:
        # YAML merge keys (<<: *anchor): PyYAML puts the merged pairs first. They are
        # defaults: a later merged pair or any pair written here overrides them silently,
        # while a key written twice here is an error.
        written = sum(1 for key_node, _ in node.value if key_node.tag != _MERGE_TAG)
        self.loader.flatten_mapping(node)
        merged = len(node.value) - written
        result: dict[str, Any] = {}
        written_here: set[FieldPath] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(key_node, "a mapping key must be a plain name", code="key")
            key = self.loader.construct_object(key_node)
            if not isinstance(key, str):
                raise self.error(
                    key_node,
                    f"key {key_node.value!r} is read as {type(key).__name__}, not a name",
                    hint=f'quote it: "{key_node.value}"',
                    code="key",
                )
            where = (*path, key)
            if key in result:
                if index >= merged and where in written_here:
                    raise _duplicate_key(key, self.source.keys[where], self.location(key_node))
                self.source.forget(where)
            if index >= merged:
                written_here.add(where)
            self.source.keys[where] = self.location(key_node)
            result[key] = self.convert(value_node, where)
        return result


# --- JSON -------------------------------------------------------------------------------------


class _JsonReader:
    """A JSON reader that records positions; the standard library scans strings and numbers."""

    _decoder = json.JSONDecoder(parse_constant=lambda name: _reject_constant(name))
    _WHITESPACE = " \t\n\r"

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.source = SourceMap()
        self.count = 0

    def read(self) -> Document:
        pos = self.skip(0)
        if pos == len(self.text):
            raise self.error(pos, "the file is empty", code="empty")
        try:
            data, pos = self.value(pos, (), 0)
        except json.JSONDecodeError as exc:
            raise self.error(exc.pos, f"not valid JSON: {exc.msg}") from None
        pos = self.skip(pos)
        if pos != len(self.text):
            raise self.error(pos, "unexpected text after the JSON document")
        return Document(data, self.source, self.file)

    def location(self, pos: int) -> Location:
        line = self.text.count("\n", 0, pos) + 1
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return Location(self.file, line, column)

    def error(
        self, pos: int, message: str, *, code: str = "syntax", hint: str | None = None
    ) -> SpecError:
        return SpecError([Diagnostic(message, location=self.location(pos), code=code, hint=hint)])

    def trailing_comma(self, pos: int) -> SpecError:
        return self.error(
            pos,
            f"a comma before '{self.text[pos]}'",
            hint="JSON allows no comma after the last item",
        )

    def skip(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos] in self._WHITESPACE:
            pos += 1
        return pos

    def expect(self, pos: int, char: str) -> int:
        pos = self.skip(pos)
        if pos >= len(self.text) or self.text[pos] != char:
            raise self.error(pos, f"expected {char!r}")
        return pos + 1

    def value(self, pos: int, path: FieldPath, depth: int) -> tuple[Any, int]:
        pos = self.skip(pos)
        self.count += 1
        if depth >= MAX_DEPTH:  # the root is depth 0 here, 1 in the YAML composer
            raise self.error(pos, f"nesting is deeper than {MAX_DEPTH} levels", code="too-deep")
        if self.count > MAX_VALUES:
            raise self.error(
                pos, f"the document has more than {MAX_VALUES} values", code="too-large"
            )
        self.source.values[path] = self.location(pos)
        char = self.text[pos : pos + 1]
        if char == "{":
            return self.object(pos + 1, path, depth)
        if char == "[":
            return self.array(pos + 1, path, depth)
        try:
            value, end = self._decoder.raw_decode(self.text, pos)
        except json.JSONDecodeError as exc:
            raise self.error(exc.pos, f"not valid JSON: {exc.msg}") from None
        except _NonStandardConstant as exc:
            raise self.error(pos, f"{exc.name} is not allowed in JSON") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(pos, f"{self.text[pos:end]} is too large to be a finite number")
        return value, end

    def object(self, pos: int, path: FieldPath, depth: int) -> tuple[dict[str, Any], int]:
        result: dict[str, Any] = {}
        pos = self.skip(pos)
        if self.text[pos : pos + 1] == "}":
            return result, pos + 1
        while True:
            pos = self.skip(pos)
            if result and self.text[pos : pos + 1] == "}":
                raise self.trailing_comma(pos)
            if self.text[pos : pos + 1] != '"':
                raise self.error(pos, "expected a quoted key")
            key, end = scanstring(self.text, pos + 1)
            if key in result:
                raise _duplicate_key(key, self.source.keys[(*path, key)], self.location(pos))
            self.source.keys[(*path, key)] = self.location(pos)
            pos = self.expect(end, ":")
            result[key], pos = self.value(pos, (*path, key), depth + 1)
            pos = self.skip(pos)
            char = self.text[pos : pos + 1]
            if char == "}":
                return result, pos + 1
            if char != ",":
                raise self.error(pos, "expected ',' or '}'")
            pos += 1

    def array(self, pos: int, path: FieldPath, depth: int) -> tuple[list[Any], int]:
        result: list[Any] = []
        pos = self.skip(pos)
        if self.text[pos : pos + 1] == "]":
            return result, pos + 1
        while True:
            if result and self.text[self.skip(pos) : self.skip(pos) + 1] == "]":
                raise self.trailing_comma(self.skip(pos))
            item, pos = self.value(pos, (*path, len(result)), depth + 1)
            result.append(item)
            pos = self.skip(pos)
            char = self.text[pos : pos + 1]
            if char == "]":
                return result, pos + 1
            if char != ",":
                raise self.error(pos, "expected ',' or ']'")
            pos += 1


class _NonStandardConstant(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def _reject_constant(name: str) -> Any:
    raise _NonStandardConstant(name)
