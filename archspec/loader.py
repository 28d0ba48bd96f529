"""File -> validated `Spec`: read, resolve `extends`, validate, and explain every error.

Pydantic's errors are translated into located diagnostics a person can act on: the file,
line and column of the offending key or value, the dotted field path, what is wrong in
plain words, and a hint (the nearest valid name, the allowed values, the valid range).
"""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from archspec.blocks import StageSpec, block_types, stage_models
from archspec.blocks.base import block_type_of
from archspec.errors import Diagnostic, Location, SpecError, format_path
from archspec.io import Document, FieldPath, SourceMap, parse_document, read_document
from archspec.spec import Spec

PRESETS_DIR = Path(__file__).parent / "presets"
MAX_EXTENDS_DEPTH = 8
SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def load(path: str | Path) -> Spec:
    """Read, resolve and validate a spec file, a preset name, or raise a located `SpecError`."""
    return validate_document(read_resolved(_spec_path(path)))


def loads(text: str, file: str = "<string>", *, json_syntax: bool = False) -> Spec:
    """Validate spec text; `extends` paths resolve relative to the current folder."""
    return validate_document(resolve_extends(parse_document(text, file, json_syntax=json_syntax)))


def _spec_path(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists() and (preset := preset_path(str(path))) is not None:
        return _shortest(preset)
    return path


# --- presets and extends ----------------------------------------------------------------------


def preset_names() -> list[str]:
    """Names of the presets shipped with archspec."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path | None:
    """The file of a built-in preset, or None if there is no preset of that name."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        return None
    path = PRESETS_DIR / f"{name}.yaml"
    return path if path.is_file() else None


def read_resolved(path: Path) -> Document:
    """Read a spec file and merge it onto whatever it extends."""
    return resolve_extends(read_document(path))


def resolve_extends(doc: Document, chain: tuple[str, ...] = ()) -> Document:
    """Merge `doc` onto the spec its `extends:` names, recursively; keep every location."""
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("extends"), str):
        return doc
    target = data["extends"]
    where = doc.source.locate(("extends",))

    def refuse(message: str, hint: str | None = None) -> SpecError:
        return SpecError(
            [Diagnostic(message, path="extends", location=where, hint=hint, code="extends")]
        )

    base_path = _extends_path(target, doc.file)
    if base_path is None:
        close = difflib.get_close_matches(target, preset_names(), n=1)
        hint = f"did you mean '{close[0]}'?" if close else None
        raise refuse(
            f"'{target}' is neither a preset nor a spec file",
            hint or f"presets: {', '.join(preset_names())}; or give a path relative to this file",
        )
    key = str(base_path.resolve())
    if key in chain or key == str(Path(doc.file).resolve()):
        raise refuse(f"'{target}' extends itself, directly or through other specs")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise refuse(f"more than {MAX_EXTENDS_DEPTH} levels of extends")
    base = resolve_extends(read_document(base_path), (*chain, str(Path(doc.file).resolve())))
    if not isinstance(base.data, dict):
        raise refuse(f"'{target}' is not a mapping, so it cannot be extended")
    return merge_documents(base, doc)


def _extends_path(target: str, file: str) -> Path | None:
    relative = Path(file).parent / target
    if target.endswith(SPEC_SUFFIXES) and relative.is_file():
        return relative
    preset = preset_path(target)
    return _shortest(preset) if preset else None


def _shortest(path: Path) -> Path:
    """The path relative to the working folder when it lies below it, for shorter messages."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def merge_documents(base: Document, override: Document) -> Document:
    """Deep-merge `override` onto `base`: mappings merge key by key, anything else replaces.

    Each value keeps the location of the file it came from.
    """
    source = SourceMap(dict(base.source.values), dict(base.source.keys))

    def merge(a: Any, b: Any, path: FieldPath) -> Any:
        if isinstance(a, dict) and isinstance(b, dict):
            return {**a, **{k: merge(a[k], v, (*path, k)) if k in a else v for k, v in b.items()}}
        source.forget(path)  # replaced: the base's locations under it no longer apply
        return b

    data = merge(base.data, override.data, ())
    source.values.update(override.source.values)
    source.keys.update(override.source.keys)
    return Document(data, source, override.file)


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
        raise SpecError(explain(exc, doc.data, doc.source)) from None
    spec._source = doc.source
    return spec


def explain(exc: ValidationError, data: Any, source: SourceMap) -> list[Diagnostic]:
    """Translate pydantic's errors into located, actionable diagnostics, in file order."""
    errors = exc.errors(include_url=False)
    locs = [tuple(e["loc"]) for e in errors]
    unknown: dict[tuple[Any, ...], list[str]] = {loc[:-1]: [] for loc in locs}
    for error, loc in zip(errors, locs, strict=True):
        if error["type"] == "extra_forbidden":
            unknown[loc[:-1]].append(str(loc[-1]))
    diagnostics = []
    for error, loc in zip(errors, locs, strict=True):
        # A container's length is reported again when its items fail; keep the items' errors.
        if error["type"] in ("too_short", "too_long") and any(
            other[: len(loc)] == loc and len(other) > len(loc) for other in locs
        ):
            continue
        # A misspelt key is reported once, as unknown, not also as the key it misses.
        if error["type"] == "missing" and difflib.get_close_matches(
            str(loc[-1]), unknown.get(loc[:-1], []), n=1, cutoff=0.6
        ):
            continue
        diagnostics.append(_explain_one(error, loc, data, source))
    return sorted(
        dict.fromkeys(diagnostics),
        key=lambda d: (d.file or "", d.location.line, d.location.column) if d.location else ("",),
    )


def _explain_one(error: Any, loc: tuple[Any, ...], data: Any, source: SourceMap) -> Diagnostic:
    kind = error["type"]
    path, found, value = _walk(data, loc)
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
        message = f"unknown key '{field}'"
        hint = _did_you_mean(field, allowed, "allowed keys")
        at_key = True
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = _quoted(error["ctx"].get("expected_tags", "")) or list(block_types())
        discriminator = error["ctx"]["discriminator"].strip("'")
        path = (*path, discriminator)
        if kind == "union_tag_invalid":
            message = f"unknown {discriminator} type {error['ctx']['tag']!r}"
            hint = _did_you_mean(str(error["ctx"]["tag"]), tags, "block types")
        else:
            message = f"missing '{discriminator}': every stage names its block type"
            hint = f"block types: {', '.join(tags)}"
    elif kind == "literal_error":
        choices = _quoted(error["ctx"]["expected"])
        message = f"{value!r} is not one of {', '.join(map(repr, choices))}"
        hint = _did_you_mean(str(value), choices, "allowed values")
    else:
        message, hint = _describe(kind, error, value)
    location = source.locate(path, key=at_key) if found or at_key else source.locate(path)
    return Diagnostic(message, path=format_path(path), location=location, hint=hint, code=kind)


def _describe(kind: str, error: Any, value: Any) -> tuple[str, str | None]:
    ctx = error.get("ctx", {})
    if isinstance(value, dict | list):
        got = f"got {_kind(value)}"
    elif isinstance(value, bool) or value is None:
        got = f"got {_kind(value)} {json.dumps(value)}"  # as YAML and JSON spell them
    else:
        got = f"got {_kind(value)} {value!r}"
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
    if kind == "string_pattern_mismatch":
        return (
            f"{value!r} is not a valid name",
            "start with a letter; use only letters, digits, '_' and '-'",
        )
    if kind == "too_short":
        return f"needs at least {ctx['min_length']} item(s), got {ctx['actual_length']}", None
    if kind == "too_long":
        return f"allows at most {ctx['max_length']} items, got {ctx['actual_length']}", None
    if kind == "string_too_long":
        return f"is longer than {ctx['max_length']} characters", None
    if kind == "value_error":
        return str(ctx.get("error", error["msg"])), None
    message = error["msg"]
    return message[0].lower() + message[1:], None


def _walk(data: Any, loc: tuple[Any, ...]) -> tuple[FieldPath, bool, Any]:
    """Follow an error's loc through the data, skipping union tags pydantic inserts.

    Returns the path in the document, whether it was found in full, and the value there.
    """
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        in_mapping = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
            node = node[part]
        elif i < len(loc) - 1:
            continue  # a tag such as 'preact_basic' or 'function-after[...]'
        else:
            return tuple(path), False, None
        path.append(part)
    return tuple(path), True, node


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
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    listing = f"{what}: {', '.join(choices)}"
    return f"did you mean '{close[0]}'? ({listing})" if close else listing


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
