"""One error type for everything wrong with a spec, each problem pinned to a place in a file."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a source file; line and column count from 1."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a spec.

    `path` is the dotted field path (`stages[1].filters`), empty for the whole document.
    `location` is None only when the problem has no place in a file (a spec built in Python).
    """

    message: str
    path: str = ""
    location: Location | None = None
    hint: str | None = None
    severity: Severity = "error"
    code: str = "invalid"

    @property
    def file(self) -> str | None:
        """The file the problem is in, if any."""
        return self.location.file if self.location else None

    def format(self) -> str:
        """Render as `file:line:col: path: message (hint)` on one or two lines."""
        where = f"{self.location}: " if self.location else ""
        field = f"{self.path}: " if self.path else ""
        label = "" if self.severity == "error" else f"{self.severity}: "
        text = f"{where}{label}{field}{self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def as_dict(self) -> dict[str, object]:
        """The stable JSON shape documented in the README."""
        return {
            "file": self.file,
            "line": self.location.line if self.location else None,
            "column": self.location.column if self.location else None,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
            "severity": self.severity,
            "code": self.code,
        }


class Diagnosed:
    """Something that holds diagnostics, split by severity."""

    diagnostics: Sequence[Diagnostic]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The diagnostics of severity error."""
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """The diagnostics of severity warning."""
        return tuple(d for d in self.diagnostics if d.severity == "warning")


class SpecError(Exception, Diagnosed):
    """A spec is unreadable or invalid. Carries every diagnostic found, not only the first."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        if not self.diagnostics:
            raise ValueError("SpecError needs at least one diagnostic")
        super().__init__("\n".join(d.format() for d in self.diagnostics))


def format_path(parts: Iterable[str | int]) -> str:
    """Turn ('stages', 1, 'filters') into 'stages[1].filters'."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
