"""Validate spec files for review and CI: every error of every file, located, never a traceback."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from archspec.errors import Diagnosed, Diagnostic, SpecError
from archspec.limits import Limits
from archspec.loader import SPEC_SUFFIXES, load
from archspec.lower import analyze


@dataclass(frozen=True)
class FileReport(Diagnosed):
    """What checking one file found."""

    file: str
    diagnostics: tuple[Diagnostic, ...]

    def ok(self, *, strict: bool = False) -> bool:
        """Valid: no errors (and, when strict, no warnings)."""
        return not self.errors and not (strict and self.warnings)


class UnreadableError(Exception):
    """A path names no file, or a file cannot be read (exit code 2, not 1)."""


def check_file(path: str | Path, limits: Limits | None = None) -> FileReport:
    """Validate one spec file: syntax, schema, then the semantic checks of lowering."""
    try:
        spec = load(path)
    except SpecError as exc:
        return FileReport(str(path), exc.diagnostics)
    except OSError as exc:
        raise UnreadableError(f"{path}: {exc.strerror or exc}") from None
    return FileReport(str(path), analyze(spec, limits=limits).diagnostics)


def expand_paths(arguments: Iterable[str]) -> list[Path]:
    """Files, folders (searched recursively for spec files) and glob patterns -> spec files."""
    found: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())
            )
        elif any(char in argument for char in "*?["):
            # glob.glob, unlike Path.glob, takes absolute patterns as users type them.
            matches = sorted(glob.glob(argument, recursive=True))  # noqa: PTH207
            if not matches:
                raise UnreadableError(f"{argument}: no file matches this pattern")
            found.extend(Path(m) for m in matches)
        elif path.is_file():
            found.append(path)
        else:
            raise UnreadableError(f"{argument}: no such file or folder")
    return list(dict.fromkeys(found))
