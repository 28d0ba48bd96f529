"""Validate spec files for review and CI: every error of every file, located, never a traceback.

What gets checked: a file named on the command line always; in a folder (searched
recursively) or among a glob's matches, each `.yaml`, `.yml` or `.json` file that is a spec.
A file is a spec when it names archspec's schema (`$schema: ...archspec.schema.json`, the
modeline editors read) or when its top level is a mapping of spec keys (at least one of
`extends`, `input`, `stem`, `stages`, `head`, and more spec keys than other keys; for a file
that cannot be parsed, the keys that start its lines). Hidden
files and folders (`.github/`, `.pre-commit-config.yaml`) and whatever matches an
`--exclude` pattern are skipped. Every argument gets a report: a path that names nothing, a
folder without specs or a glob that matches none is a problem, not a silent success.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from archspec.errors import Diagnosed, Diagnostic, Location, SpecError, UnreadableError
from archspec.io import MAX_FILE_BYTES, decode_text, parse_document, read_regular_file
from archspec.limits import Limits
from archspec.loader import (
    SPEC_SUFFIXES,
    Override,
    apply_overrides,
    not_found_hint,
    preset_path,
    read_resolved,
    spec_file,
    validate_document,
)
from archspec.lower import analyze
from archspec.spec import Spec


@dataclass(frozen=True)
class FileReport(Diagnosed):
    """What checking one file (or one argument that named no file) found."""

    file: str
    diagnostics: tuple[Diagnostic, ...]
    readable: bool = True
    """False when the path could not be read or named nothing to check (exit code 2)."""
    bases: tuple[Path, ...] = ()
    """The real paths of the files the spec extends, directly or through others."""

    def ok(self, *, strict: bool = False) -> bool:
        """Valid: no errors (and, when strict, no warnings)."""
        return not self.errors and not (strict and self.warnings)


@dataclass(frozen=True)
class Selection:
    """The files that the arguments name, in order, and the problems of those that name none."""

    items: tuple[Path | FileReport, ...]
    """A file to check, or the report of an argument that could not be used."""
    skipped: tuple[Path, ...]
    """YAML and JSON files found in folders or by globs that are not specs."""


def check_file(
    path: str | Path,
    limits: Limits | None = None,
    *,
    root: str | Path | None = None,
    overrides: Sequence[Override] = (),
    ignore: Collection[str] = (),
) -> FileReport:
    """Validate one spec file: syntax, schema, then the semantic checks of lowering.

    `overrides` are set on top of the file; warnings of the codes in `ignore` are left out.
    """
    bases: tuple[Path, ...] = ()
    try:
        document = read_resolved(spec_file(path), root=root)
        bases = document.files[1:]
        spec = validate_document(apply_overrides(document, overrides))
    except UnreadableError as exc:
        return FileReport(str(path), exc.diagnostics, readable=False)
    except SpecError as exc:
        return FileReport(str(path), exc.diagnostics, bases=bases)
    diagnostics = analyze(spec, limits=limits, ignore=ignore).diagnostics
    return FileReport(str(path), diagnostics, bases=bases)


def without_repeats(reports: Sequence[FileReport]) -> list[FileReport]:
    """The reports, less the inherited warnings that the report of a base gives too.

    A warning about a value that a spec inherits is located at the spec's `extends` line.
    When the same run checks a file the spec extends and reports the same warning there (as
    its own, or as inherited in turn), the spec's report leaves it out: a base's warning is
    shown once, in the base.
    """
    given: dict[Path | None, set[tuple[object, ...]]] = {}
    for report in reports:
        given.setdefault(_real(report.file), set()).update(map(_warning_key, report.warnings))

    def repeated(report: FileReport, d: Diagnostic) -> bool:
        if d.origin is None or d.severity != "warning":
            return False
        key = _warning_key(d)
        return any(key in given.get(base, ()) for base in report.bases)

    return [
        replace(report, diagnostics=tuple(d for d in report.diagnostics if not repeated(report, d)))
        for report in reports
    ]


def _warning_key(d: Diagnostic) -> tuple[object, ...]:
    """A warning by where its value is written (not where it is reported), and what it says."""
    where = d.origin or d.location
    if where is None:
        return (None, d.code, d.path, d.message)
    return (_real(where.file), where.line, where.column, d.code, d.path, d.message)


def _real(file: str) -> Path | None:
    try:
        return Path(file).resolve()
    except (OSError, RuntimeError):  # a loop of links, a name too long
        return None


def select_files(
    arguments: Iterable[str], *, exclude: Sequence[str] = (), root: str | Path | None = None
) -> Selection:
    """Files, folders (searched recursively), glob patterns and preset names -> spec files."""
    items: list[Path | FileReport] = []
    skipped: list[Path] = []
    for argument in arguments:
        try:
            items.extend(_select(argument, exclude, root, skipped))
        except OSError as exc:  # a name too long, a folder that cannot be listed, ...
            reason = exc.strerror or str(exc)
            items.append(_problem(argument, f"cannot be read: {reason}", "unreadable"))
    unique = list(dict.fromkeys(items))
    return Selection(tuple(unique), tuple(dict.fromkeys(skipped)))


def _select(
    argument: str, exclude: Sequence[str], root: str | Path | None, skipped: list[Path]
) -> list[Path | FileReport]:
    """What one argument names: spec files, or the report of why it names none."""
    path = Path(argument)
    if not argument:
        return [_problem("''", "an empty argument names no file or folder", "not-found")]
    if preset_path(argument) is not None:
        return [spec_file(argument)]
    if path.is_dir():
        return [*_search(path, exclude, root, skipped)] or [_no_specs(argument, "in this folder")]
    if path.exists() or path.is_symlink():
        return [path]  # a file named on the command line is always checked
    if not glob.has_magic(argument):
        hint = not_found_hint(argument)
        return [_problem(argument, "no such file, folder or preset", "not-found", hint)]
    # glob.glob, unlike Path.glob, takes absolute patterns as users type them.
    matches = sorted(glob.glob(argument, recursive=True))  # noqa: PTH207
    if not matches:
        return [_problem(argument, "no file matches this pattern", "not-found")]
    found: list[Path | FileReport] = []
    for match in map(Path, matches):
        if match.is_dir():
            found.extend(_search(match, exclude, root, skipped))
        elif not _excluded(match, Path(), exclude):
            found.extend(_specs_among([match], root, skipped))
    return found or [_no_specs(argument, "among the files this pattern matches")]


def _problem(file: str, message: str, code: str, hint: str | None = None) -> FileReport:
    diagnostic = Diagnostic(message, location=Location(file), hint=hint, code=code)
    return FileReport(file, (diagnostic,), readable=False)


def _no_specs(argument: str, where: str) -> FileReport:
    return _problem(
        argument,
        f"no spec files {where}",
        "no-specs",
        hint="a spec file names archspec's $schema or has spec keys (stages, stem, head, "
        "extends) at its top level; name a file to check it regardless",
    )


def _excluded(path: Path, top: Path, patterns: Sequence[str]) -> bool:
    """Whether `path` (relative to the searched folder `top`) matches an --exclude pattern.

    A pattern matches the relative path (`experiments/*.yaml`) or any one name in it
    (`drafts`, `*_old.yaml`).
    """
    try:
        relative = path.relative_to(top).as_posix()
    except ValueError:
        relative = path.as_posix()
    names = relative.split("/")
    return any(
        fnmatch.fnmatchcase(relative, pattern)
        or any(fnmatch.fnmatchcase(n, pattern) for n in names)
        for pattern in patterns
    )


def _search(
    top: Path, exclude: Sequence[str], root: str | Path | None, skipped: list[Path]
) -> list[Path]:
    """The spec files below `top`: hidden and excluded names are not entered or read."""
    candidates: list[Path] = []
    for folder, folders, files in os.walk(top):
        here = Path(folder)
        folders[:] = sorted(
            name
            for name in folders
            if not name.startswith(".") and not _excluded(here / name, top, exclude)
        )
        for name in sorted(files):
            path = here / name
            if (
                name.startswith(".")
                or path.suffix.lower() not in SPEC_SUFFIXES
                or _excluded(path, top, exclude)
            ):
                continue
            candidates.append(path)
    return _specs_among(candidates, root, skipped)


def _specs_among(
    candidates: Iterable[Path], root: str | Path | None, skipped: list[Path]
) -> list[Path]:
    """The candidates that are specs; others go to `skipped`.

    A file that cannot be read or lies outside the folders a spec may read is kept, so that
    checking it reports why; its contents are not looked at here.
    """
    specs = []
    for path in candidates:
        if _is_spec(path, root):
            specs.append(path)
        else:
            skipped.append(path)
    return specs


_SCHEMA_LINE = re.compile(r"""\$schema["']?\s*[:=]\s*["']?[^\s"']*archspec\.schema\.json""")
_STRUCTURE_KEYS = {"extends", "input", "stem", "stages", "head"}
_SPEC_KEYS = {info.alias or name for name, info in Spec.model_fields.items()}


def _is_spec(path: Path, root: str | Path | None) -> bool:
    """Whether a file found in a folder is a spec (see the module's docstring)."""
    folder = Path(root).resolve() if root is not None else path.parent.resolve()
    if not path.resolve().is_relative_to(folder):
        return True  # refused with a located reason when checked; never read here
    try:
        raw = read_regular_file(path, MAX_FILE_BYTES + 1)
    except UnreadableError:
        return True  # reported when checked
    if _SCHEMA_LINE.search(raw[:4096].decode("utf-8", "replace")):
        return True
    if len(raw) > MAX_FILE_BYTES:
        return False
    json_syntax = path.suffix.lower() == ".json"
    try:
        text = decode_text(raw, str(path))
        data = parse_document(text, str(path), json_syntax=json_syntax).data
    except SpecError:
        # A spec with a mistake in its YAML or JSON is still a spec: checking it says where.
        # (ASCII keys of a file saved as UTF-16 or UTF-32 read once their zero bytes go)
        return _looks_like_spec(raw.replace(b"\x00", b"").decode("utf-8", "replace"), json_syntax)
    if not isinstance(data, dict):
        return False
    return _spec_keys(set(data))


_TOP_LEVEL_KEY = re.compile(r"""^["']?([A-Za-z_$][\w$-]*)["']?[ \t]*:(?:\s|$)""", re.MULTILINE)
_QUOTED_KEY = re.compile(r'"([^"\n]*)"\s*:')


def _spec_keys(keys: set[str]) -> bool:
    """A spec's top level: a structure key, and more spec keys than other keys."""
    return bool(keys & _STRUCTURE_KEYS) and 2 * len(keys & _SPEC_KEYS) > len(keys)


def _looks_like_spec(text: str, json_syntax: bool) -> bool:
    """Whether a file that cannot be parsed reads as a spec: by its keys, found in its text.

    YAML's top-level keys start their lines; a JSON file's level is unknown, so it needs two
    structure keys (`"stages"` and `"head"`, say) among its keys.
    """
    if json_syntax:
        return len(set(_QUOTED_KEY.findall(text)) & _STRUCTURE_KEYS) >= 2
    return _spec_keys(set(_TOP_LEVEL_KEY.findall(text)))
