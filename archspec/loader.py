"""File -> validated `Spec`: read, resolve `extends`, validate, and explain every error.

Pydantic's errors are translated into located diagnostics a person can act on: the file,
line and column of the offending key or value, the dotted field path, what is wrong in
plain words, and a hint (the nearest valid name, the allowed values, the valid range).
"""

from __future__ import annotations

import copy
import json
import os
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from archspec.blocks import StageSpec, block_types, stage_models
from archspec.blocks.base import block_type_of
from archspec.errors import (
    Diagnostic,
    Location,
    SpecError,
    UnreadableError,
    format_path,
    shorten,
)
from archspec.io import (
    MAX_VALUES,
    Document,
    FieldPath,
    SourceMap,
    parse_document,
    read_document,
)
from archspec.spec import ONE_OR_MANY_TYPE, Spec

PRESETS_DIR = Path(__file__).parent / "presets"
MAX_EXTENDS_DEPTH = 8
SPEC_SUFFIXES = (".yaml", ".yml", ".json")
MAX_DIAGNOSTICS = 100
"""Problems reported per file; a document of thousands of wrong keys gets a note for the rest."""
PRESET_NAME = re.compile(r"[A-Za-z0-9_-]+")
"""A bare name of this form is a preset name, on the command line, in `extends` and in `load`."""


def load(
    path: str | Path,
    *,
    root: str | Path | None = None,
    overrides: Mapping[str, Any] | Sequence[Override] | None = None,
) -> Spec:
    """Read, resolve and validate a spec file or a preset name; raise a located `SpecError`.

    `root` is the folder that the spec and everything it extends must lie under (presets
    excepted); by default the spec file's own folder. A name that is not a file, folder or
    preset raises `UnreadableError` (a `SpecError`), with the nearest preset name as a hint.
    `overrides` set values on top of the file, by key: `{"head.classes": 10,
    "stages[1].depth": 4}` (see `apply_overrides`).
    """
    document = read_resolved(spec_file(path), root=root)
    return validate_document(apply_overrides(document, as_overrides(overrides)))


def loads(
    text: str,
    file: str = "<string>",
    *,
    json_syntax: bool = False,
    root: str | Path | None = None,
    overrides: Mapping[str, Any] | Sequence[Override] | None = None,
) -> Spec:
    """Validate spec text.

    `extends` paths resolve relative to `file`'s folder (by default the current folder) and
    must lie under `root` (by default that same folder). `overrides` as for `load`.
    """
    document = parse_document(text, file, json_syntax=json_syntax)
    document = resolve_extends(document, _root_for(Path(file), root))
    return validate_document(apply_overrides(document, as_overrides(overrides)))


def with_overrides(
    spec: Spec, overrides: Mapping[str, Any] | Sequence[Override] | None = None
) -> Spec:
    """`spec` with values set by key, validated again; `spec` itself when there are none.

    What the spec states stays stated (defaults stay defaults), and its values keep their
    locations, so the result's diagnostics point where the spec's did.
    """
    chosen = as_overrides(overrides)
    if not chosen:
        return spec
    data = spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
    document = Document(data, spec._source or SourceMap(), "<spec>")
    return validate_document(apply_overrides(document, chosen))


# --- overrides: values set by key, on the command line or in Python -----------------------------


@dataclass(frozen=True)
class Override:
    """One value set by key on top of a spec: `head.classes` = 10.

    `label` is how messages locate it, in place of a file's line: `--set head.classes=10` on
    the command line, `overrides['head.classes']` in Python.
    """

    key: str
    value: Any
    label: str


_KEY_PART = re.compile(r"(?:^|\.)([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d{1,4})\]|\.(\d{1,4})(?=\.|\[|$)")
NOT_OVERRIDABLE = ("extends", "$schema")


def override_path(key: str) -> FieldPath | None:
    """'stages[1].depth' (or 'stages.1.depth') -> ('stages', 1, 'depth'); None if malformed."""
    path: list[str | int] = []
    position = 0
    while position < len(key):
        match = _KEY_PART.match(key, position)
        if not match or match.end() == position or (position == 0 and key.startswith(".")):
            return None
        name, index, dotted = match.groups()
        path.append(name if name is not None else int(index or dotted))
        position = match.end()
    return tuple(path) if path and isinstance(path[0], str) else None


def as_overrides(overrides: Mapping[str, Any] | Sequence[Override] | None) -> list[Override]:
    """Python's `{"head.classes": 10}` as overrides located `overrides['head.classes']`."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        chosen = []
        for key, value in overrides.items():
            label = f"overrides[{str(key)!r}]"
            chosen.append(Override(str(key), _plain(value, Location(label), str(key)), label))
        return chosen
    return list(overrides)


def _plain(value: Any, where: Location, key: str) -> Any:
    """A Python value as YAML or JSON data would give it: tuples become lists.

    A set is refused: it has no order, and validation would take it for a list in whatever
    order it happens to iterate (`{224, 3}` as a shape).
    """
    if isinstance(value, set | frozenset):
        raise _refuse_override(
            where,
            f"{_quoted_value(value)} is a set, which has no order",
            key,
            hint="give the values as a list or a tuple, in the order they belong",
        )
    if isinstance(value, tuple | list):
        return [_plain(item, where, key) for item in value]
    if isinstance(value, Mapping):
        return {name: _plain(item, where, key) for name, item in value.items()}
    return value


def apply_overrides(document: Document, overrides: Sequence[Override]) -> Document:
    """Set each override's value at its key, in order; mappings on the way are created.

    A key names a path of mapping keys and list positions (`stages[1].depth`); its value
    replaces what is there, as a value in a file that extends this one would (a mapping is
    not merged into the one it replaces). Every value an override sets is located at the
    override's label, so validation errors name the override, not a line of a file. A key
    that is malformed, that runs through a value that is not a mapping or a list, or that
    names a list position past the list's end is an error located there too.
    """
    if not overrides:
        return document
    data = copy.deepcopy(document.data)
    source = document.source.without(set())
    for override in overrides:
        where = Location(override.label)
        path = override_path(override.key)
        if path is None:
            raise _refuse_override(
                where,
                f"{_quoted_value(override.key)} is not a key",
                hint="write keys separated by dots, list positions in brackets: stages[1].depth",
            )
        shown = format_path(path)
        if path[0] in NOT_OVERRIDABLE:
            raise _refuse_override(where, f"'{path[0]}' cannot be overridden", shown)
        if not isinstance(data, dict):
            raise _refuse_override(where, "the spec is not a mapping", shown)
        node: Any = data
        created: list[FieldPath] = []  # mappings the key runs through that the spec lacks
        for depth, part in enumerate(path[:-1]):
            here = format_path(path[: depth + 1])
            child = path[depth + 1]
            if isinstance(part, int):
                node = node[part]
            elif part not in node:
                node[part] = {} if isinstance(child, str) else []
                node = node[part]
                created.append(path[: depth + 1])
            else:
                node = node[part]
            if isinstance(child, int) and not (isinstance(node, list) and child < len(node)):
                items = f"a list of {len(node)}" if isinstance(node, list) else _kind(node)
                hint = None
                if isinstance(node, list) and child == len(node):
                    hint = (
                        "a key changes an item that exists; to add one, set the whole list: "
                        f"{here}=[...]"
                    )
                raise _refuse_override(
                    where, f"{here} has no item {child}: it is {items}", shown, hint=hint
                )
            if isinstance(child, str) and not isinstance(node, dict):
                raise _refuse_override(
                    where, f"{here} is {_kind(node)}, not a mapping of keys", shown
                )
        # A copy: a later override may write inside this value, and the caller's Override
        # (reused by the next spec a command reads) must keep what it says.
        node[path[-1]] = copy.deepcopy(override.value)
        # Locating the path locates everything in its value: nothing below it is left, so a
        # nested value's nearest located ancestor is the path itself.
        source = source.without({path})
        for located in (*created, path):  # so `head.foo` of `head.foo.bar=1` is the option's
            source.values[located] = where
            source.keys[located] = where
    return replace(document, data=data, source=source)


def _refuse_override(
    where: Location, message: str, path: str = "", *, hint: str | None = None
) -> SpecError:
    return SpecError([Diagnostic(message, path, where, hint=hint, code="override")])


# --- presets, names and the folders a spec may read -------------------------------------------


def preset_names() -> list[str]:
    """Names of the presets shipped with archspec."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path | None:
    """The file of a built-in preset, or None if there is no preset of that name."""
    if not PRESET_NAME.fullmatch(name):
        return None
    path = PRESETS_DIR / f"{name}.yaml"
    return path if path.is_file() else None


def spec_file(argument: str | Path) -> Path:
    """The file that a command-line argument or `load()` names.

    A bare preset name (`resnet50v2`: no folder, no suffix) always means the preset, even
    where a file or folder of that name exists (write `./resnet50v2` for that); anything
    else is a path.
    """
    text = str(argument)
    if not text:
        raise UnreadableError("''", "an empty name names no spec file", code="not-found")
    preset = preset_path(text)
    return _shortest(preset) if preset else Path(argument)


STDIN_HINT = "archspec reads specs from files, not from standard input: save the spec to a file"


def not_found_hint(argument: str) -> str | None:
    """For a name that is no file, folder or preset: the closest preset name, if any."""
    if argument == "-":
        return STDIN_HINT
    path = Path(argument)
    if len(path.parts) > 1:
        return None
    stem = path.stem if path.suffix.lower() in SPEC_SUFFIXES else path.name
    close = closest(stem, preset_names())
    return f"did you mean the preset '{close}'?" if close else None


def read_resolved(path: Path, *, root: str | Path | None = None) -> Document:
    """Read a spec file and merge it onto whatever it extends.

    Raises `UnreadableError` when the file cannot be read or lies outside `root`.
    """
    path = Path(path)
    base = _root_for(path, root)
    _confine(path, base, str(path))
    try:
        document = read_document(path)
    except UnreadableError as exc:
        if exc.diagnostics[0].code == "not-found":
            name, hint = str(path), not_found_hint(str(path))
            message = "no such file or preset" if hint and hint != STDIN_HINT else "no such file"
            if preset_path(name) is not None:  # `./resnet22`, which pathlib shortened
                name, message = f".{os.sep}{name}", "no such file"
                hint = f"for the preset, write {path} without './'"
            raise UnreadableError(name, message, hint=hint, code="not-found") from None
        raise
    return resolve_extends(document, base)


def _root_for(path: Path, root: str | Path | None) -> Path:
    """The real folder a spec at `path` may read under.

    That is `root` when given, else the spec's own folder (for a preset, the presets' folder).
    """
    return Path(root).resolve() if root is not None else path.parent.resolve()


def _confine(path: Path, root: Path, shown: str, where: Location | None = None) -> None:
    """Refuse a file whose real path (symbolic links followed) is not under `root`."""
    real = path.resolve()
    if real.is_relative_to(root) or real.is_relative_to(PRESETS_DIR.resolve()):
        return
    message = f"{_quoted_value(shown)} is outside the folder {_shortest(root)}"
    hint = (
        "a spec may read presets and files under its own folder (links are followed to "
        "where they point); give --root (or root=) a folder that holds both to allow more"
    )
    if where is None:
        raise UnreadableError(shown, message, hint=hint, code="outside-root")
    raise SpecError(
        [Diagnostic(message, path="extends", location=where, hint=hint, code="outside-root")]
    )


def resolve_extends(
    doc: Document, root: Path | None = None, chain: tuple[str, ...] = (), used: int = 0
) -> Document:
    """Merge `doc` onto the spec its `extends:` names, recursively; keep every location.

    Every file read must lie under `root` (by default the folder of `doc`'s file), except
    presets; the result's `files` lists every file read. The files of the chain share one
    bound on values (`MAX_VALUES`): `used` is what the files that extend `doc` took.
    """
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("extends"), str):
        return doc
    root = root if root is not None else _root_for(Path(doc.file), None)
    target = data["extends"]
    where = doc.source.locate(("extends",))
    shown = _quoted_value(target)

    def refuse(message: str, hint: str | None = None, code: str = "extends") -> SpecError:
        return SpecError(
            [Diagnostic(message, path="extends", location=where, hint=hint, code=code)]
        )

    is_preset = preset_path(target) is not None
    is_path = not is_preset and target.endswith(SPEC_SUFFIXES)
    base_path = _extends_path(target, doc.file)
    if is_path:
        _confine(base_path, root, target, where)  # before looking: nothing outside is probed
    if is_path and not _may_exist(base_path):
        close = closest(Path(target).stem, preset_names())
        raise refuse(
            f"{shown} cannot be read: no such file",
            f"did you mean the preset '{close}'?"
            if close and "/" not in target
            else f"a path in extends is relative to the folder of the file that names it; "
            f"there is no {base_path}",
            code="not-found",
        )
    if not is_preset and not is_path:
        close = closest(target, preset_names())
        hint = f"did you mean '{close}'?" if close else None
        raise refuse(
            f"{shown} is neither a preset nor a spec file",
            hint
            or f"presets: {', '.join(preset_names())}; or give a path relative to this file, "
            f"ending in {', '.join(SPEC_SUFFIXES)}",
        )
    key = str(base_path.resolve())
    if key in chain or key == str(Path(doc.file).resolve()):
        loop = [*chain, str(Path(doc.file).resolve()), key]
        hint = None  # a file that extends itself needs no map
        if len(loop) > 2:
            hint = "the chain: " + " -> ".join(str(_shortest(Path(name))) for name in loop)
        raise refuse(f"{shown} extends itself, directly or through other specs", hint)
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise refuse(f"more than {MAX_EXTENDS_DEPTH} levels of extends")
    try:
        base_document = read_document(base_path, max_values=MAX_VALUES - used - doc.values)
    except UnreadableError as exc:
        reason = exc.diagnostics[0].message.removeprefix("cannot be read: ")
        raise refuse(f"{shown} cannot be read: {reason}", code="unreadable") from None
    base_root = PRESETS_DIR.resolve() if is_preset else root
    here = (*chain, str(Path(doc.file).resolve()))
    base = resolve_extends(base_document, base_root, here, used + doc.values)
    if not isinstance(base.data, dict):
        raise refuse(f"{shown} is not a mapping, so it cannot be extended")
    merged = merge_documents(base, doc)
    merged.source.inherited[base.file] = target if is_preset else None
    return merged


def _may_exist(path: Path) -> bool:
    """Whether `path` exists, or cannot be looked at (reading it then says why)."""
    try:
        return path.exists()
    except OSError:  # a name too long, a loop of links, ...
        return True


def _extends_path(target: str, file: str) -> Path:
    """A preset name is the preset; anything else is a path from `file`'s folder."""
    preset = preset_path(target)
    if preset:
        return _shortest(preset)
    return Path(os.path.normpath(Path(file).parent / target))


def _shortest(path: Path) -> Path:
    """The path relative to the working folder when it lies below it, for shorter messages."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


UNITED_LISTS: frozenset[FieldPath] = frozenset({("warnings", "ignore")})
"""Lists that `extends` unites instead of replacing: a spec silences warnings on top of what
its base silences (a team's base file can silence a code for every spec built on it)."""


def merge_documents(base: Document, override: Document) -> Document:
    """Deep-merge `override` onto `base`: mappings merge key by key, anything else replaces.

    The lists of `UNITED_LISTS` are the exception: the override's items, then the base's
    that it does not repeat. Each value keeps the location of the file it came from; `files`
    lists both documents'.
    """
    replaced: set[FieldPath] = set()
    appended: dict[FieldPath, list[Location | None]] = {}

    def merge(a: Any, b: Any, path: FieldPath) -> Any:
        if isinstance(a, dict) and isinstance(b, dict):
            return {**a, **{k: merge(a[k], v, (*path, k)) if k in a else v for k, v in b.items()}}
        replaced.add(path)  # the base's locations under it no longer apply
        if path in UNITED_LISTS and isinstance(a, list) and isinstance(b, list):
            kept = [(i, item) for i, item in enumerate(a) if item not in b]
            unmoved: list[Location | None] = [None] * len(b)  # the override's keep theirs
            appended[path] = unmoved + [base.source.values.get((*path, i)) for i, _ in kept]
            return [*b, *(item for _, item in kept)]
        return b

    data = merge(base.data, override.data, ())
    source = base.source.without(replaced)
    source.values.update(override.source.values)
    source.keys.update(override.source.keys)
    for path, locations in appended.items():
        for index, at in enumerate(locations):
            if at is not None:  # the base's items, after the override's
                source.values[(*path, index)] = at
    files = (*override.files, *base.files)
    return Document(data, source, override.file, files, override.values + base.values)


# --- validation -------------------------------------------------------------------------------


def validate_document(doc: Document) -> Spec:
    """Validate parsed data against the spec models; raise every problem at once."""
    if not isinstance(doc.data, dict):
        raise SpecError(
            [
                Diagnostic(
                    f"a spec must be a mapping of keys (name, input, stem, stages, head), "
                    f"not {_kind(doc.data)}",
                    location=doc.source.locate(()) or Location(doc.file, 1, 1),
                    code="type",
                )
            ]
        )
    try:
        spec = Spec.model_validate(doc.data)
    except ValidationError as exc:
        raise SpecError(doc.source.relocated(explain(exc, doc.data, doc.source))) from None
    spec._source = doc.source
    return spec


def explain(exc: ValidationError, data: Any, source: SourceMap) -> list[Diagnostic]:
    """Translate pydantic's errors into located, actionable diagnostics, in file order.

    At most `MAX_DIAGNOSTICS` are listed; a last one, about the file as a whole, counts the rest.
    """
    errors = exc.errors(include_url=False)
    locs = [tuple(e["loc"]) for e in errors]
    unknown: dict[tuple[Any, ...], list[str]] = {loc[:-1]: [] for loc in locs}
    for error, loc in zip(errors, locs, strict=True):
        if error["type"] == "extra_forbidden":
            unknown[loc[:-1]].append(str(loc[-1]))
    diagnostics: list[Diagnostic] = []
    untold: list[Diagnostic] = []
    for index, (error, loc) in enumerate(zip(errors, locs, strict=True)):
        if _repeated(error, loc, locs, unknown):
            continue
        if len(diagnostics) == MAX_DIAGNOSTICS:
            rest = zip(errors[index:], locs[index:], strict=True)
            count = sum(not _repeated(e, at, locs, unknown) for e, at in rest)
            whole = source.locate(())  # the file as a whole, which is listed after every line
            untold.append(
                Diagnostic(
                    f"{count:,} more problems in this file are not shown",
                    location=whole and Location(whole.file),
                    hint=f"only the first {MAX_DIAGNOSTICS} are reported; fix those first",
                    code="too-many-problems",
                )
            )
            break
        diagnostics.append(_explain_one(error, loc, data, source))
    shown = sorted(
        dict.fromkeys(diagnostics),
        key=lambda d: (
            (d.file or "", d.location.line or 0, d.location.column or 0) if d.location else ("",)
        ),
    )
    return [*shown, *untold]  # the count of what is not shown comes last


def _repeated(
    error: Any, loc: tuple[Any, ...], locs: list[tuple[Any, ...]], unknown: dict[Any, list[str]]
) -> bool:
    """Whether `error` repeats a problem that another of the errors reports better."""
    # A container's length is reported again when its items fail; keep the items' errors.
    if error["type"] in ("too_short", "too_long") and any(
        other[: len(loc)] == loc and len(other) > len(loc) for other in locs
    ):
        return True
    # A misspelt key is reported once, as unknown, not also as the key it misses.
    return error["type"] == "missing" and bool(
        closest(str(loc[-1]), unknown.get(loc[:-1], [])[:MAX_DIAGNOSTICS])
    )


def _explain_one(error: Any, loc: tuple[Any, ...], data: Any, source: SourceMap) -> Diagnostic:
    kind = error["type"]
    path, value = _walk(data, loc)
    field = str(loc[-1]) if loc else ""
    hint = None
    at_key = False
    if kind == "missing" and isinstance(loc[-1], int):  # a fixed-length list that is short
        owner = _model_at(loc[:-2])
        info = _field(owner, str(loc[-2])) if owner else None
        message = f"too few items: nothing at position {loc[-1]} (counting from 0)"
        hint = info.description if info and info.description else None
    elif kind == "missing":
        model = _model_at(loc[:-1])
        message = f"missing required key '{field}'"
        path = (*path, field)
        info = model.model_fields.get(field) if model else None
        hint = info.description if info and info.description else None
    elif kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = _field_names(model) if model else []
        message = f"unknown key {_quoted_value(field)}"
        # In a union of models the key's model is unknown: no (empty) list of keys to offer.
        hint = _did_you_mean(field, allowed, "allowed keys") if allowed else None
        at_key = True
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = _quoted(error["ctx"].get("expected_tags", "")) or list(block_types())
        discriminator = error["ctx"]["discriminator"].strip("'")
        path = (*path, discriminator)
        if kind == "union_tag_invalid":
            message = f"unknown {discriminator} type {_quoted_value(error['ctx']['tag'])}"
            hint = _did_you_mean(str(error["ctx"]["tag"]), tags, "block types")
        else:
            message = f"missing '{discriminator}': every stage names its block type"
            hint = f"block types: {', '.join(tags)}"
    elif kind == "literal_error":
        choices = _quoted(error["ctx"]["expected"])
        message = f"{_quoted_value(value)} is not one of {', '.join(map(repr, choices))}"
        hint = _did_you_mean(str(value), choices, "allowed values")
    else:
        message, hint = _describe(kind, error, value)
        hint = hint or _beginner_hint(kind, error, value, loc)
        if hint is None and kind in ("tuple_type", "list_type", "too_long", "too_short"):
            hint = _list_hint(loc, value)
    location = source.locate(path, key=at_key)
    return Diagnostic(message, path=format_path(path), location=location, hint=hint, code=kind)


def _describe(kind: str, error: Any, value: Any) -> tuple[str, str | None]:
    ctx = error.get("ctx", {})
    if isinstance(value, dict | list):
        got = f"got {_kind(value)}"
    elif value is None:
        got = "got null"
    elif isinstance(value, bool):
        got = f"got {_kind(value)} {json.dumps(value)}"  # as YAML and JSON spell them
    else:
        got = f"got {_kind(value)} {_quoted_value(value)}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("greater than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx[key]}, {got}", None
    if kind == "int_type" or kind == "int_from_float":
        hint = "remove the quotes" if isinstance(value, str) and value.strip().isdigit() else None
        return f"expected a whole number, {got}", hint
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, {got}", None
    if kind == "bool_type":
        return f"expected true or false, {got}", None
    if kind in ("string_type",):
        return f"expected text, {got}", None
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        return f"expected a mapping (key: value), {got}", None
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, {got}", None
    if kind == ONE_OR_MANY_TYPE:
        return f"expected a whole number or a list of them, {got}", None
    if kind == "string_pattern_mismatch":
        return (
            f"{_quoted_value(value)} is not a valid name",
            "start with a letter; use only letters, digits, '_' and '-'",
        )
    if kind == "too_short":
        least = ctx["min_length"]
        return f"needs at least {least} item{'s' * (least != 1)}, got {ctx['actual_length']}", None
    if kind == "too_long":
        return f"allows at most {ctx['max_length']} items, got {ctx['actual_length']}", None
    if kind == "string_too_long":
        return f"is longer than {ctx['max_length']} characters", None
    if kind == "value_error":
        return str(ctx.get("error", error["msg"])), None
    message = error["msg"]
    return message[0].lower() + message[1:], None


_SIZES = re.compile(r"\s*(\d+)(?:\s*[xX×,]\s*(\d+))+\s*")
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")
_PERCENT = re.compile(r"\s*([-+]?\d+(?:\.\d+)?)\s*%\s*")
_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}


def _beginner_hint(kind: str, error: Any, value: Any, loc: tuple[Any, ...] = ()) -> str | None:
    """Hints for what people new to YAML or to these fields write most often."""
    lists = ("tuple_type", "list_type", ONE_OR_MANY_TYPE)
    separated = isinstance(value, str) and _THOUSANDS.fullmatch(value)
    if kind in lists and isinstance(value, str) and _SIZES.fullmatch(value):
        numbers = re.findall(r"\d+", value)
        # `filters: 1,024` (a number or a list) is a number with a separator: 024 is no width
        zero_led = any(number.startswith("0") for number in numbers[1:])
        if not (kind == ONE_OR_MANY_TYPE and separated and zero_led):
            return f"write a list: [{', '.join(numbers)}]"
    bound = error.get("ctx", {}).get("le", error.get("ctx", {}).get("lt"))
    if (
        kind in ("less_than", "less_than_equal")
        and bound == 1
        and isinstance(value, int | float)
        and 1 < value <= 100
    ):
        if [part for part in loc if isinstance(part, str)][-2:] == ["se", "ratio"]:
            return (
                "ratio is the share of the channels the squeeze keeps, not a reduction: "
                f"a reduction of {value:g} is ratio: {1 / value:.4g}"
            )
        return f"this is a fraction, not a percentage: {value:g}% is {value / 100:g}"
    if not isinstance(value, str):
        return None
    if kind == "bool_type" and value.lower() in _YAML11_BOOLS:
        return "write true or false (YAML 1.2, which archspec reads, takes yes/no/on/off as text)"
    numeric = ("int_type", "float_type", *lists)
    if kind in numeric and re.fullmatch(r"[-+]?\d+(_\d+)+(\.\d+)?", value):
        return f"write the number without separators: {value.replace('_', '')}"
    if kind in numeric and separated:
        return f"write the number without separators: {value.replace(',', '')}"
    if kind == "float_type" and _DECIMAL_COMMA.fullmatch(value):
        return f"write a decimal point: {value.replace(',', '.')}"
    percent = _PERCENT.fullmatch(value)
    if kind == "float_type" and percent:
        number = float(percent.group(1))
        return f"write a fraction, without '%': {number:g}% is {number / 100:g}"
    if kind in numeric and re.fullmatch(r"\d+(:[0-5]?\d)+", value):
        return "YAML 1.2 has no base-60 numbers; write the number itself"
    return None


def _list_hint(loc: tuple[Any, ...], value: Any) -> str | None:
    """For a list field given something else: the list to write, or what the list holds."""
    owner = _model_at(loc[:-1]) if loc and isinstance(loc[-1], str) else None
    if owner is None or loc[-1] not in _field_names(owner):
        return None
    info = _field(owner, loc[-1])
    items = typing.get_args(info.annotation)
    if items[-1:] == (Ellipsis,):  # any number of items
        if isinstance(value, dict):
            return (
                "a list is needed even for one item: put it in brackets, [{...}], or start "
                "its line with '- '"
            )
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            return f"write a list: [{value}]"
    return str(info.description) if info.description else None


def _walk(data: Any, loc: tuple[Any, ...]) -> tuple[FieldPath, Any]:
    """Follow an error's loc through the data, skipping the parts the data does not have.

    pydantic's locs hold union tags ('preact_basic', 'function-after[...]') and the item
    numbers of a value it turned into a tuple first (`stem.filters: -1` fails at
    ('stem', 'filters', 0)); a missing key ends its loc. Returns the path in the document and
    the value at its end, which is the value that failed.
    """
    path: list[str | int] = []
    node = data
    for part in loc:
        in_mapping = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
            node = node[part]
            path.append(part)
    return tuple(path), node


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types inside Annotated/Optional/Union; a stage is any block type's."""
    if annotation is StageSpec:
        return list(stage_models())
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg)]
    return [annotation]


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The spec model class that validates the value at `loc` (tags select union members)."""
    candidates: list[Any] = [Spec]
    for part in loc:
        models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if isinstance(part, int):
            candidates = [
                item
                for c in candidates
                if typing.get_origin(c) in (tuple, list)
                for item in _unwrap(typing.get_args(c)[0])
            ]
            continue
        tagged = [m for m in models if issubclass(m, StageSpec) and block_type_of(m) == part]
        if tagged:
            candidates = tagged
            continue
        owners = [m for m in models if part in _field_names(m)]
        if not owners:
            return None
        info = _field(owners[0], part)
        candidates = _unwrap(info.annotation)
    models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
    return models[0] if len(models) == 1 else None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    raise KeyError(key)


def _did_you_mean(word: str, choices: list[str], what: str) -> str:
    close = closest(word, choices)
    listing = f"{what}: {', '.join(choices)}"
    return f"did you mean '{close}'? ({listing})" if close else listing


MAX_SUGGESTED_LENGTH = 64
"""Names, keys, block types and presets are short; a longer word is no misspelling of one."""


def closest(word: str, choices: list[str]) -> str | None:
    """The choice `word` most likely misspells, if any.

    difflib's cost grows with the words' lengths, so words longer than any name are not
    compared: a megabyte key gets no suggestion instead of seconds of searching.
    """
    if len(word) > MAX_SUGGESTED_LENGTH:
        return None
    short = [choice for choice in choices if len(choice) <= MAX_SUGGESTED_LENGTH]
    import difflib  # only a misspelt key needs it; valid specs are checked without it

    # `ReLU`, `Relu`, `GELU`: the case alone differs, which difflib weighs as a misspelling
    lowered = {choice.lower(): choice for choice in reversed(short)}
    if word.lower() in lowered:
        return lowered[word.lower()]
    close = difflib.get_close_matches(word, short, n=1, cutoff=0.6)
    if close:
        return close[0]
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def _quoted_value(value: Any) -> str:
    """A value as a message quotes it: repr (which escapes control characters), cut if long."""
    return repr(shorten(value)) if isinstance(value, str) else repr(value)


def _quoted(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)


def _kind(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "text",
        bool: "a boolean",
        int: "a whole number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)
