"""Read YAML and JSON specs into plain data, remembering where every key and value was written.

Everything here treats the file as hostile, and bounds the work while reading, not after:

- only regular files are read, at most `MAX_FILE_BYTES` of them;
- YAML is read as YAML 1.2's core schema (strings, numbers, booleans, null, lists and
  mappings): no Python objects, no dates, no base-60 numbers, no `yes`/`no` booleans, and no
  tag outside that schema;
- nesting is refused beyond `MAX_DEPTH`, and a document beyond `MAX_VALUES` values (counted
  as anchors, aliases and merge keys expand them) is refused as soon as the count passes it;
- an alias inside the node it names (a cycle), a duplicate key, a number of more than
  `MAX_NUMBER_LENGTH` characters and undecodable bytes are located errors.

Every failure is a located `SpecError`; a file that cannot be read is an `UnreadableError`.
The YAML events come from libyaml when PyYAML has it (as its wheels do), which scans a
megabyte in milliseconds; PyYAML's own scanner is the fallback.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from json.decoder import scanstring  # type: ignore[attr-defined]  # public in CPython, missing from typeshed
from pathlib import Path
from typing import Any

import yaml

from archspec.errors import (
    Diagnostic,
    Location,
    Origin,
    SpecError,
    UnreadableError,
    format_path,
    printable,
    shorten,
)

MAX_FILE_BYTES = 1 << 20
"""A spec is a page of text; anything larger is refused before parsing."""
MAX_DEPTH = 32
"""Specs nest four or five levels deep; deeper documents are refused, not recursed into."""
MAX_VALUES = 20_000
"""Bound on values after anchors and aliases are expanded ("billion laughs")."""
MAX_NUMBER_LENGTH = 100
"""A spec's numbers are sizes and rates: a longer numeral is refused before it is converted."""

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceMap:
    """Where each value (and each mapping key) of a document was written.

    `inherited` names the files the document extends, as their locations give them: each
    one's preset name, or None for a spec file.
    """

    values: dict[FieldPath, Location] = field(default_factory=dict)
    keys: dict[FieldPath, Location] = field(default_factory=dict)
    inherited: dict[str, str | None] = field(default_factory=dict)

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

    def without(self, replaced: set[FieldPath]) -> SourceMap:
        """A copy without the locations at or below any path of `replaced`.

        One pass over the table, whatever the number of replaced paths.
        """

        def kept(path: FieldPath) -> bool:
            return not any(path[:end] in replaced for end in range(len(path) + 1))

        return SourceMap(
            {p: at for p, at in self.values.items() if kept(p)},
            {p: at for p, at in self.keys.items() if kept(p)},
            dict(self.inherited),
        )

    def relocated(self, diagnostics: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
        """The diagnostics as the spec's own file shows them, in line order.

        A problem with a value written in a file the spec extends (a preset, a base file) is
        moved to the spec's `extends` line, with its `origin` saying where the value is: the
        spec's file is the one its author edits, and the one a pull request's annotations
        can point into. Problems without a line (the file as a whole, an override) come last.
        """
        extends_at = self.values.get(("extends",))
        moved = []
        for diagnostic in diagnostics:
            at = diagnostic.location
            if at is not None and at.file in self.inherited and extends_at is not None:
                origin = Origin(at.file, at.line, at.column, self.inherited[at.file])
                diagnostic = replace(diagnostic, location=extends_at, origin=origin)
            moved.append(diagnostic)

        def order(diagnostic: Diagnostic) -> tuple[int, int, int]:
            at = diagnostic.location
            if at is None or at.line is None:
                return (1, 0, 0)
            return (0, at.line, at.column or 0)

        return tuple(sorted(dict.fromkeys(moved), key=order))


@dataclass(frozen=True)
class Document:
    """A parsed spec file: plain Python data, where each part came from, what was read.

    `files` are the real paths of every file read to make it (the file itself, then what it
    extends): the inputs that no command may write over.
    """

    data: Any
    source: SourceMap
    file: str
    files: tuple[Path, ...] = ()
    values: int = 0
    """How many values reading it took (aliases and merges expanded), across `files`."""


def read_document(path: str | Path, *, max_values: int = MAX_VALUES) -> Document:
    """Read a YAML (`.yaml`, `.yml`) or JSON (`.json`) spec file.

    Raises `UnreadableError` when the file cannot be read (missing, not a regular file such
    as a FIFO or a device, no permission) and `SpecError` for anything it holds that is not
    a spec document.
    """
    path = Path(path)
    name = str(path)
    raw = read_regular_file(path, MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise _error(
            name,
            1,
            1,
            f"file is larger than {MAX_FILE_BYTES // 1024} KiB",
            hint="a spec is a short description of a model; is this the right file?",
            code="file-too-large",
        )
    document = parse_document(
        decode_text(raw, name),
        name,
        json_syntax=path.suffix.lower() == ".json",
        max_values=max_values,
    )
    return Document(document.data, document.source, name, (path.resolve(),), document.values)


def read_regular_file(path: Path, limit: int) -> bytes:
    """Up to `limit` bytes of a regular file; `UnreadableError` for anything else.

    The file is opened without blocking and checked after opening, so a FIFO (which would
    wait for a writer forever) or a device is refused, and nothing can swap the file between
    the check and the read.
    """
    name = str(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise _unreadable(name, exc) from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise UnreadableError(
                name,
                f"not a regular file (a {_file_kind(mode)})",
                hint=_NOT_A_FILE_HINTS.get(_file_kind(mode), _NOT_A_FILE_HINT),
                code="not-a-file",
            )
        chunks = []
        remaining = limit
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise _unreadable(name, exc) from None
    finally:
        os.close(descriptor)


def _unreadable(name: str, exc: OSError) -> UnreadableError:
    """The `UnreadableError` for an operating-system error on `name`."""
    if exc.errno == errno.ENOENT:
        return UnreadableError(name, "no such file", code="not-found")
    reason = exc.strerror or str(exc)
    return UnreadableError(name, f"cannot be read: {reason[0].lower()}{reason[1:]}")


_NOT_A_FILE_HINT = "give a spec file; archspec does not read pipes, devices or sockets"
_NOT_A_FILE_HINTS = {
    "folder": "give a spec file in it; `archspec validate FOLDER` checks every spec in a folder",
}


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "folder"),
        (stat.S_ISFIFO, "named pipe"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
    )
    return next((name for test, name in kinds if test(mode)), "special file")


_WIDE_MARKS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)


def _wide_encoding(raw: bytes) -> str | None:
    """UTF-16 or UTF-32, by a byte-order mark or by ASCII text's zero bytes; else None."""
    for mark, name in _WIDE_MARKS:
        if raw.startswith(mark):
            return name
    zeros = tuple(byte == 0 for byte in raw[:4])
    if zeros in ((False, True, True, True), (True, True, True, False)):
        return "UTF-32"
    if zeros in ((False, True, False, True), (True, False, True, False)):
        return "UTF-16"
    return None


def decode_text(raw: bytes, file: str) -> str:
    """Decode UTF-8 (with or without a byte-order mark), reporting a bad byte's position."""
    wide = _wide_encoding(raw)
    if wide is not None:  # PowerShell's `>` and Windows editors write UTF-16
        raise _error(
            file,
            1,
            1,
            f"the file is encoded as {wide}, not UTF-8",
            hint="save the file as UTF-8 (in PowerShell: Out-File -Encoding utf8)",
            code="encoding",
        )
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


def parse_document(
    text: str, file: str = "<string>", *, json_syntax: bool = False, max_values: int = MAX_VALUES
) -> Document:
    """Parse spec text. JSON syntax is parsed strictly as JSON; otherwise as YAML.

    `max_values` bounds the values the document may expand to (what is left of the bound
    when other files of an `extends` chain have used some).
    """
    if len(text) > MAX_FILE_BYTES:
        raise _error(
            file,
            1,
            1,
            f"the text is longer than {MAX_FILE_BYTES // 1024} Ki characters",
            hint="a spec is a short description of a model",
            code="file-too-large",
        )
    if json_syntax:
        return _JsonReader(text, file, max_values).read()
    return _read_yaml(text, file, max_values)


def _error(file: str, line: int, column: int, message: str, **kwargs: Any) -> SpecError:
    return _located(Location(file, line, column), message, **kwargs)


def _located(location: Location, message: str, **kwargs: Any) -> SpecError:
    return SpecError([Diagnostic(message, location=location, **kwargs)])


def _duplicate_key(key: str, first: Location, again: Location) -> SpecError:
    """A key given twice is an error, not "last one wins"."""
    return SpecError(
        [
            Diagnostic(
                f"duplicate key {_shown(key)} (first given at line {first.line})",
                location=again,
                hint="each key may appear once; remove one of them",
                code="duplicate-key",
            )
        ]
    )


def _shown(text: str) -> str:
    """A key or value quoted for a message: escaped, and cut if it is long."""
    return repr(shorten(printable(text)))


def _too_many_values(location: Location, limit: int = MAX_VALUES) -> SpecError:
    what = "the document" if limit == MAX_VALUES else "with the specs that extend it, it"
    return SpecError(
        [
            Diagnostic(
                f"{what} expands to more than {MAX_VALUES} values",
                location=location,
                hint="anchors and aliases (&a / *a) multiply; a spec needs only a few",
                code="too-large",
            )
        ]
    )


def _too_deep(location: Location) -> SpecError:
    return SpecError(
        [
            Diagnostic(
                f"nesting is deeper than {MAX_DEPTH} levels", location=location, code="too-deep"
            )
        ]
    )


# --- numbers, as YAML 1.2's core schema and JSON write them -----------------------------------

_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INFINITY = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")
_NUMBER_STARTS = frozenset("-+.0123456789")
_NULL = {"", "~", "null", "Null", "NULL"}
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def _int(text: str) -> int:
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


_LEADING_ZERO = re.compile(r"[-+]?0[0-9]+")


def _without_leading_zero(text: str) -> str:
    """Refuse `024`: YAML 1.1 readers (PyYAML's default) take it for octal, YAML 1.2 for 24."""
    if _LEADING_ZERO.fullmatch(text):
        hint = f"write {int(text, 10)}, or quote it for text: '{text}'"
        if len(text.lstrip("+-")) == 3:  # a group of thousands: `1,024`
            hint += f"; if a comma split a number (1,{text.lstrip('+-')}), leave the comma out"
        raise _BadScalar(
            f"{shorten(text)} starts with a 0, which YAML 1.1 readers take for an octal number",
            hint=hint,
            code="leading-zero",
        )
    return text


def _float(text: str) -> float:
    if _INFINITY.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    return float(text)


class _BadScalar(Exception):
    def __init__(self, message: str, hint: str | None = None, code: str = "syntax") -> None:
        self.message, self.hint, self.code = message, hint, code


def _number_length_checked(text: str) -> str:
    if len(text) > MAX_NUMBER_LENGTH:
        raise _BadScalar(
            f"a number written with {len(text):,} characters",
            hint=f"a spec's numbers are sizes and rates; none needs more than "
            f"{MAX_NUMBER_LENGTH} characters",
            code="number-too-long",
        )
    return text


_FINITE_HINT = "a spec's numbers are sizes and rates; use a finite value"


def _finite(value: float, text: str) -> float:
    if not math.isfinite(value):
        raise _BadScalar(
            f"{shorten(text)} is not a finite number", hint=_FINITE_HINT, code="not-finite"
        )
    return value


# --- YAML -------------------------------------------------------------------------------------

_EventSource = yaml.CBaseLoader if yaml.__with_libyaml__ else yaml.BaseLoader
"""A parser that only scans and parses: archspec composes and converts the events itself."""

_TAG_PREFIX = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG_PREFIX}{name}" for name in ("str", "int", "float", "bool", "null")}
_COLLECTION_TAGS = {
    yaml.MappingStartEvent: f"{_TAG_PREFIX}map",
    yaml.SequenceStartEvent: f"{_TAG_PREFIX}seq",
}
_MERGE_TAG = f"{_TAG_PREFIX}merge"
_PLAIN_TAGS_HINT = (
    "archspec reads plain YAML: text, numbers, true/false, null, lists and mappings; remove the tag"
)


def _index(mark: Any) -> int:
    """A mark's index in the text (libyaml's marks and PyYAML's both have one)."""
    return mark.index if mark is not None else 0


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG_PREFIX) if tag.startswith(_TAG_PREFIX) else tag


@dataclass(eq=False, slots=True)
class _Node:
    """A composed YAML node: a scalar (text), a sequence or a mapping (lists of nodes)."""

    kind: type[yaml.Node]
    tag: str | None
    location: Location
    text: str = ""
    plain: bool = False
    """A plain (unquoted) scalar without a tag: its type is resolved from its text."""
    items: list[_Node] = field(default_factory=list)
    """Sequence items; for a mapping, keys and values alternating."""
    span: tuple[int, int] = (0, 0)
    """Where a scalar starts and ends in the text (indexes)."""
    stray: bool = False
    """The empty value of a key that a comma split off a value in `{...}`: `{a: 1,024}`."""


_HINTS = {
    "found character '\\t' that cannot start any token": (
        "YAML does not allow tabs for indentation; indent with spaces"
    ),
    "mapping values are not allowed": (
        "a value that contains ': ' needs quotes, or a key is indented wrongly"
    ),
    "did not find expected key": (
        "check the indentation: the keys of one mapping must start in the same column, "
        "indented with spaces"
    ),
    "expected <block end>": (
        "check the indentation: the keys of one mapping must start in the same column, "
        "indented with spaces"
    ),
    "did not find expected '-' indicator": (
        "check the indentation: the items of one list must start with '-' in the same column"
    ),
    "could not find expected ':'": "a key needs ': ' after it; is a colon or a quote missing?",
    "found unexpected end of stream": "a quoted text is not closed",
    "did not find expected ',' or": "a bracket is not closed, or a comma is missing",
    "expected ',' or": "a bracket is not closed, or a comma is missing",
}


def _read_yaml(text: str, file: str, max_values: int) -> Document:
    root = _Composer(text, file, max_values).compose()
    if root is None:
        raise _error(file, 1, 1, "the file is empty", code="empty")
    source = SourceMap()
    converter = _NodeConverter(file, source, max_values)
    data = converter.convert(root, (), 1)
    return Document(data, source, file, values=converter.count)


class _Composer:
    """YAML events -> a tree of `_Node`s, without recursion and within the bounds.

    An anchor names its node only once the node is complete, so an alias inside the node it
    names (`a: &a [*a]`) is refused instead of making a cycle.
    """

    def __init__(self, text: str, file: str, max_values: int, source: Any = None) -> None:
        self.text = text
        self.file = file
        self.max_values = max_values
        self.source = source  # the parser class; None: `_EventSource` as it is when composing

    def location(self, mark: yaml.Mark) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def compose(self) -> _Node | None:
        source = self.source or _EventSource
        try:
            parser = source(self.text)
        except yaml.reader.ReaderError as exc:  # PyYAML's reader checks the text up front
            raise self.reader_error(exc, byte_offsets=False) from None
        except UnicodeEncodeError as exc:  # libyaml takes UTF-8: an unpaired surrogate
            raise self.surrogate(exc.start) from None
        try:
            return self.events(parser)
        except yaml.reader.ReaderError as exc:
            raise self.reader_error(exc, byte_offsets=source is not yaml.BaseLoader) from None
        except yaml.MarkedYAMLError as exc:
            raise self.syntax_error(exc) from None
        except yaml.YAMLError as exc:  # errors without a mark (rare)
            raise _error(self.file, 1, 1, f"not valid YAML: {exc}", code="syntax") from None
        finally:
            parser.dispose()

    def events(self, parser: Any) -> _Node | None:
        parser.get_event()  # stream start
        if parser.check_event(yaml.StreamEndEvent):
            return None
        parser.get_event()  # document start
        anchors: dict[str, _Node] = {}
        open_anchors: list[str | None] = []
        stack: list[_Node] = []
        count = 0
        root: _Node | None = None
        while root is None:
            event = parser.get_event()
            at = self.location(event.start_mark)
            if isinstance(event, yaml.AliasEvent):
                name = event.anchor or ""
                if name in open_anchors:
                    raise _located(
                        at,
                        f"the alias *{printable(name)} is inside the node "
                        f"&{printable(name)} names, which would make it endless",
                        hint="an alias may only repeat a node that is complete before it",
                        code="alias-cycle",
                    )
                if name not in anchors:
                    raise _located(
                        at,
                        f"found undefined alias {_shown(name)}",
                        hint="define the anchor (&name) before using the alias (*name)",
                        code="syntax",
                    )
                node = anchors[name]
            elif isinstance(event, yaml.ScalarEvent):
                count += not self.is_key(stack)
                node = _Node(yaml.ScalarNode, event.tag, at, event.value, plain=event.implicit[0])
                node.span = (_index(event.start_mark), _index(event.end_mark))
                if event.value == "" and self.is_value(stack):
                    node.stray = self.is_stray(stack[-1].items[-1], node)
                if event.anchor is not None:
                    anchors[event.anchor] = node
            elif isinstance(event, yaml.CollectionStartEvent):
                count += not self.is_key(stack)
                if len(stack) >= MAX_DEPTH:
                    raise _too_deep(at)
                kind = (
                    yaml.MappingNode
                    if isinstance(event, yaml.MappingStartEvent)
                    else yaml.SequenceNode
                )
                tag = event.tag
                if tag not in (None, "!", _COLLECTION_TAGS[type(event)]):
                    raise _located(
                        at,
                        f"the tag {_shown(_short_tag(tag))} is not allowed",
                        hint=_PLAIN_TAGS_HINT,
                        code="tag",
                    )
                stack.append(_Node(kind, tag, at))
                open_anchors.append(event.anchor)
                node = None
            else:  # the end of a sequence or mapping
                node = stack.pop()
                anchor = open_anchors.pop()
                if anchor is not None:
                    anchors[anchor] = node
            if count > self.max_values:
                raise _too_many_values(at, self.max_values)
            if node is not None:
                if stack:
                    stack[-1].items.append(node)
                else:
                    root = node
        parser.get_event()  # document end
        if not parser.check_event(yaml.StreamEndEvent):
            event = parser.get_event()
            at = self.location(event.start_mark)
            raise _located(
                at,
                "expected a single document in the stream: but found another document",
                hint="a spec file holds one document; remove the '---' line and what follows",
                code="syntax",
            )
        return root

    def is_stray(self, key: _Node, value: _Node) -> bool:
        """Whether `key` follows a comma and has no ':' before its empty `value`."""
        (start, end), here = key.span, value.span[0]
        if ":" in self.text[end:here]:
            return False
        before = start - 1  # the text between tokens is read once in all: linear time
        while before >= 0 and self.text[before] in " \t\r\n":
            before -= 1
        return before >= 0 and self.text[before] == ","

    @staticmethod
    def is_value(stack: list[_Node]) -> bool:
        """Whether the next node is a mapping value."""
        return bool(stack) and stack[-1].kind is yaml.MappingNode and len(stack[-1].items) % 2 == 1

    def too_deep_as_pyyaml_finds_it(self) -> SpecError | None:
        """The first level beyond `MAX_DEPTH`, located by composing with PyYAML's own parser.

        libyaml scans a flow collection ahead of the events it gives, and stops at its own
        limit of 1,000 levels before the composer sees the level beyond MAX_DEPTH: its mark
        is where it stopped, not where the nesting became too deep. PyYAML's parser does not
        scan that far ahead, and the composer stops it at that level (in milliseconds).
        """
        try:
            _Composer(self.text, self.file, self.max_values, yaml.BaseLoader).compose()
        except SpecError as exc:
            if [diagnostic.code for diagnostic in exc.diagnostics] == ["too-deep"]:
                return exc
        return None

    @staticmethod
    def is_key(stack: list[_Node]) -> bool:
        """Whether the next node is a mapping key (keys are not counted as values)."""
        return bool(stack) and stack[-1].kind is yaml.MappingNode and len(stack[-1].items) % 2 == 0

    def reader_error(self, exc: yaml.reader.ReaderError, *, byte_offsets: bool) -> SpecError:
        """A character YAML does not allow (libyaml counts its position in UTF-8 bytes)."""
        position = exc.position
        if byte_offsets:
            position = len(
                self.text.encode("utf-8", "surrogatepass")[:position].decode("utf-8", "ignore")
            )
        line = self.text.count("\n", 0, position) + 1
        column = position - (self.text.rfind("\n", 0, position) + 1) + 1
        return _error(
            self.file,
            line,
            column,
            f"character U+{exc.character:04X} is not allowed in YAML",
            hint="remove it; YAML allows only printable text, tabs and newlines",
            code="syntax",
        )

    def surrogate(self, position: int) -> SpecError:
        line = self.text.count("\n", 0, position) + 1
        column = position - (self.text.rfind("\n", 0, position) + 1) + 1
        return _error(
            self.file,
            line,
            column,
            f"character U+{ord(self.text[position]):04X} (half of a surrogate pair) is not text",
            code="encoding",
        )

    def syntax_error(self, exc: yaml.MarkedYAMLError) -> SpecError:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or "not valid YAML").strip()
        if problem.startswith("exceeded maximum nesting depth") and mark:  # libyaml's own limit
            return self.too_deep_as_pyyaml_finds_it() or _too_deep(self.location(mark))
        if mark is not None and problem == "found character that cannot start any token":
            # libyaml leaves the character out; PyYAML's message, and hint, name it
            index = mark.index
            if 0 <= index < len(self.text):
                problem = f"found character {self.text[index]!r} that cannot start any token"
        message = problem
        if exc.context:
            message = f"{exc.context.strip()}: {problem}"
        hint = next((h for key, h in _HINTS.items() if problem.startswith(key)), None)
        if hint and hint.startswith("check the indentation") and exc.context_mark and mark:
            start, here = exc.context_mark, mark
            # a block sequence, in libyaml's words and in PyYAML's (whose problem names no '-')
            what = "items" if "block collection" in (exc.context or "") else "keys"
            hint = (
                f"check the indentation: the {what} of the "
                f"{'list' if what == 'items' else 'mapping'} that starts at line "
                f"{start.line + 1} are in column {start.column + 1}, but line {here.line + 1} "
                f"starts in column {here.column + 1}; indent with spaces so that they line up"
            )
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return _error(self.file, line, column, printable(message), hint=hint, code="syntax")


class _NodeConverter:
    """Turns composed nodes into plain data, recording locations and bounding expansion.

    Aliases are expanded, so the value count and the nesting depth are checked again here:
    a chain of aliases can nest deeper, and repeat more, than the text shows.
    """

    def __init__(self, file: str, source: SourceMap, max_values: int) -> None:
        self.file = file
        self.source = source
        self.max_values = max_values
        self.count = 0
        self.merged = 0

    def error(
        self,
        node: _Node,
        message: str,
        *,
        hint: str | None = None,
        code: str,
        path: FieldPath = (),
    ) -> SpecError:
        return SpecError(
            [Diagnostic(message, format_path(path), location=node.location, hint=hint, code=code)]
        )

    def convert(self, node: _Node, path: FieldPath, depth: int) -> Any:
        self.count += 1
        if self.count > self.max_values:
            raise _too_many_values(node.location, self.max_values)
        if depth > MAX_DEPTH:
            raise _too_deep(node.location)
        self.source.values[path] = node.location
        if node.kind is yaml.SequenceNode:
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.items)]
        if node.kind is yaml.MappingNode:
            result: dict[str, Any] = {}
            for key, (key_node, value_node) in self.pairs(node, 0, path).items():
                where = (*path, key)
                self.source.keys[where] = key_node.location
                result[key] = self.convert(value_node, where, depth + 1)
            return result
        try:
            return self.scalar(node)
        except _BadScalar as exc:
            raise self.error(node, exc.message, hint=exc.hint, code=exc.code, path=path) from None

    def scalar(self, node: _Node) -> Any:
        """A scalar's value by YAML 1.2's core schema, or by its explicit standard tag."""
        text, tag = node.text, node.tag
        if node.plain and tag is None:
            if text in _NULL:
                return None
            if text in _BOOL:
                return _BOOL[text]
            if text[0] not in _NUMBER_STARTS:
                return text
            if _INT.fullmatch(text):
                return _int(_without_leading_zero(_number_length_checked(text)))
            if _FLOAT.fullmatch(text) or _INFINITY.fullmatch(text) or _NAN.fullmatch(text):
                return _finite(_float(_number_length_checked(text)), text)
            return text
        if tag in (None, "!", f"{_TAG_PREFIX}str"):
            return text
        if tag not in _SCALAR_TAGS:
            raise _BadScalar(
                f"the tag {_shown(_short_tag(tag))} is not allowed", _PLAIN_TAGS_HINT, "tag"
            )
        kind = tag.removeprefix(_TAG_PREFIX)
        if kind == "null" and text in _NULL:
            return None
        if kind == "bool" and text in _BOOL:
            return _BOOL[text]
        if kind == "int" and _INT.fullmatch(text):
            return _int(_number_length_checked(text))
        is_float = _FLOAT.fullmatch(text) or _INFINITY.fullmatch(text) or _NAN.fullmatch(text)
        if kind == "float" and (is_float or _INT.fullmatch(text)):
            if _INT.fullmatch(text):
                return float(_int(_number_length_checked(text)))
            return _finite(_float(_number_length_checked(text)), text)
        expected = {
            "null": "null",
            "bool": "true or false",
            "int": "a whole number",
            "float": "a number",
        }[kind]
        raise _BadScalar(
            f"{_shown(text)} is not {expected}, as its tag !!{kind} says",
            hint=f"write {expected}, or remove the tag",
        )

    def key(self, node: _Node, value: _Node, path: FieldPath) -> str:
        """A mapping key's name; its `value` tells a stray comma's key from a numeric key."""
        if node.kind is not yaml.ScalarNode:
            raise self.error(node, "a mapping key must be a plain name", code="key", path=path)
        try:
            key = self.scalar(node)
        except _BadScalar as exc:
            if not value.stray:
                raise self.error(
                    node, exc.message, hint=exc.hint, code=exc.code, path=path
                ) from None
            key = 0  # `024` of `{filters: 1,024}`: a number that a comma split off
        if not isinstance(key, str):
            hint = f'quote it: "{printable(node.text)}"'
            if value.stray:  # `{filters: 1,024}`: the comma started a key
                hint = (
                    f"in {{...}} a comma ends a value, so {_shown(node.text)} became a key of "
                    "its own; write numbers without commas (1024, 0.5) and lists in brackets "
                    "([64, 64, 3])"
                )
            raise self.error(
                node,
                f"key {_shown(node.text)} is read as {type(key).__name__}, not a name",
                hint=hint,
                code="key",
                path=path,
            )
        return key

    def pairs(self, node: _Node, merges: int, path: FieldPath) -> dict[str, tuple[_Node, _Node]]:
        """A mapping's keys with their key and value nodes, merge keys (`<<: *base`) applied.

        Merged pairs are defaults: a key written in the mapping overrides them, and of several
        merged mappings the first that has a key wins; a key written twice is an error. Every
        merged pair counts against `MAX_VALUES`, so merging cannot multiply work unbounded.
        """
        written: dict[str, tuple[_Node, _Node]] = {}
        sources: list[_Node] = []
        items = node.items
        for key_node, value_node in zip(items[::2], items[1::2], strict=True):
            is_merge = key_node.kind is yaml.ScalarNode and (
                key_node.tag == _MERGE_TAG
                or (key_node.plain and key_node.tag is None and key_node.text == "<<")
            )
            if is_merge:
                sources.extend(self.merge_sources(value_node))
                continue
            key = self.key(key_node, value_node, path)
            if key in written:
                raise _duplicate_key(key, written[key][0].location, key_node.location)
            written[key] = (key_node, value_node)
        if not sources:
            return written
        if merges >= MAX_DEPTH:
            raise self.error(
                node, f"merge keys nest deeper than {MAX_DEPTH} levels", code="too-deep"
            )
        merged: dict[str, tuple[_Node, _Node]] = {}
        for source in sources:
            for key, pair in self.pairs(source, merges + 1, path).items():
                self.merged += 1
                if self.merged > self.max_values:
                    raise _too_many_values(source.location, self.max_values)
                merged.setdefault(key, pair)
        for key in written:
            merged.pop(key, None)
        return {**merged, **written}

    def merge_sources(self, node: _Node) -> list[_Node]:
        if node.kind is yaml.MappingNode:
            return [node]
        if node.kind is yaml.SequenceNode and all(
            item.kind is yaml.MappingNode for item in node.items
        ):
            return node.items
        raise self.error(
            node,
            "a merge key (<<) takes a mapping, or a list of mappings",
            hint="write `<<: *anchor` where `&anchor` names a mapping",
            code="syntax",
        )


# --- JSON -------------------------------------------------------------------------------------


class _JsonReader:
    """A JSON reader that records positions; the standard library scans strings and numbers.

    Positions are turned into lines and columns incrementally (values are read in order), so
    a megabyte of whitespace or numbers costs one pass, not one pass per value.
    """

    _WHITESPACE = re.compile(r"[ \t\n\r]*")

    def __init__(self, text: str, file: str, max_values: int) -> None:
        self.text = text
        self.file = file
        self.max_values = max_values
        self.source = SourceMap()
        self.count = 0
        self.decoder = json.JSONDecoder(
            parse_constant=_reject_constant,
            parse_int=lambda text: int(_number_length_checked(text)),
            parse_float=lambda text: float(_number_length_checked(text)),
        )
        self.line, self.line_start, self.scanned = 1, 0, 0  # where location() has got to

    def read(self) -> Document:
        pos = self.skip(0)
        if pos == len(self.text):
            raise self.error(pos, "the file is empty", code="empty")
        try:
            data, pos = self.value(pos, (), 0)
        except json.JSONDecodeError as exc:
            raise self.error(exc.pos, f"not valid JSON: {_json_problem(exc)}") from None
        pos = self.skip(pos)
        if pos != len(self.text):
            raise self.error(pos, "unexpected text after the JSON document")
        return Document(data, self.source, self.file, values=self.count)

    def location(self, pos: int) -> Location:
        if pos < self.scanned:  # an earlier position: count from the start
            line = self.text.count("\n", 0, pos) + 1
            return Location(self.file, line, pos - (self.text.rfind("\n", 0, pos) + 1) + 1)
        last = self.text.rfind("\n", self.scanned, pos)
        if last != -1:
            self.line += self.text.count("\n", self.scanned, last + 1)
            self.line_start = last + 1
        self.scanned = pos
        return Location(self.file, self.line, pos - self.line_start + 1)

    def error(
        self,
        pos: int,
        message: str,
        *,
        code: str = "syntax",
        hint: str | None = None,
        path: FieldPath = (),
    ) -> SpecError:
        location = self.location(pos)
        return SpecError(
            [Diagnostic(message, format_path(path), location=location, code=code, hint=hint)]
        )

    def trailing_comma(self, pos: int) -> SpecError:
        return self.error(
            pos,
            f"a comma before '{self.text[pos]}'",
            hint="JSON allows no comma after the last item",
        )

    def skip(self, pos: int) -> int:
        return self._WHITESPACE.match(self.text, pos).end()  # type: ignore[union-attr]

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
        if self.count > self.max_values:
            raise _too_many_values(self.location(pos), self.max_values)
        self.source.values[path] = self.location(pos)
        char = self.text[pos : pos + 1]
        if char == "{":
            return self.object(pos + 1, path, depth)
        if char == "[":
            return self.array(pos + 1, path, depth)
        try:
            value, end = self.decoder.raw_decode(self.text, pos)
        except json.JSONDecodeError as exc:
            raise self.error(exc.pos, f"not valid JSON: {_json_problem(exc)}", path=path) from None
        except _NonStandardConstant as exc:
            raise self.error(pos, f"{exc.name} is not allowed in JSON", path=path) from None
        except _BadScalar as exc:
            raise self.error(pos, exc.message, hint=exc.hint, code=exc.code, path=path) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(
                pos,
                f"{shorten(self.text[pos:end])} is not a finite number",
                hint=_FINITE_HINT,
                code="not-finite",
                path=path,
            )
        if isinstance(value, str):
            self.check_text(value, pos)
        return value, end

    def check_text(self, value: str, pos: int) -> None:
        """Refuse an escaped unpaired surrogate (a JSON escape of U+D800 alone): not text."""
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise self.error(
                    pos,
                    f"the text holds U+{ord(value[exc.start]):04X}, half of a surrogate pair",
                    code="encoding",
                ) from None

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
                raise self.error(
                    pos, "expected a quoted key", hint=_json_key_hint(self.text, pos), path=path
                )
            key, end = scanstring(self.text, pos + 1)
            self.check_text(key, pos)
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
                raise self.error(pos, "expected ',' or '}'", hint=_JSON_COMMA_HINT, path=path)
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
                raise self.error(pos, "expected ',' or ']'", hint=_JSON_COMMA_HINT, path=path)
            pos += 1


_JSON_COMMA_HINT = "is a comma missing before this, or a bracket not closed?"


def _json_key_hint(text: str, pos: int) -> str | None:
    """What people write where JSON wants a key in double quotes."""
    char = text[pos : pos + 1]
    if char == "/" or char == "#":
        return "JSON has no comments; remove it, or write the spec in YAML, which has # comments"
    if char == "'":
        return 'JSON quotes keys and text with double quotes: "name"'
    if char.isalpha() or char == "_":
        word = re.match(r"[\w$-]+", text[pos : pos + 80])
        return f'quote the key: "{word.group() if word else char}"'
    return None


def _json_problem(exc: json.JSONDecodeError) -> str:
    """The decoder's problem without its dangling "at" (the location says where)."""
    return re.sub(r"( starting)? at$", "", exc.msg)


class _NonStandardConstant(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def _reject_constant(name: str) -> Any:
    raise _NonStandardConstant(name)
