"""One error type for everything wrong with a spec, each problem pinned to a place in a file."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


def printable(text: str) -> str:
    """`text` with every character that is not printable written as a visible escape.

    Not printable (Python's `str.isprintable`): controls such as ESC, BEL, CR and newline,
    DEL, invisible format characters (bidirectional overrides, zero-width and tag
    characters), line and paragraph separators, unpaired surrogates, unassigned code points.
    Messages echo a spec's keys and values and its file's name; escaping them wherever
    messages are rendered means no spec can move the cursor, ring the bell, clear a
    reviewer's screen, hide text or forge a GitHub workflow command (a newline, then
    `::error ...`), and one diagnostic stays one line.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    if named:
        return named
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def shorten(text: str, limit: int = 80) -> str:
    """`text` cut to about `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 20]}... ({len(text):,} characters)"


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a source file; line and column count from 1.

    Both are None when the problem concerns the file as a whole (it is missing, say).
    """

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a value came from when it was written in a file the spec extends.

    `file` is the path the file was read from; `preset` names it when it is a built-in preset
    (a file inside the installed package, which messages name by the preset instead).
    """

    file: str
    line: int | None
    column: int | None
    preset: str | None = None

    def __str__(self) -> str:
        name = f"the preset {self.preset}" if self.preset else self.file
        return name if self.line is None else f"{name}, line {self.line}"

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of a diagnostic's `origin`."""
        return {"file": self.file, "line": self.line, "column": self.column, "preset": self.preset}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a spec.

    `path` is the dotted field path (`stages[1].filters`), empty for the whole document.
    `location` is None only when the problem has no place in a file (a spec built in Python).
    A problem with a value that the spec inherits through `extends` is located at the spec's
    own `extends` line, and `origin` says where the value was written. `code` is stable for
    warnings (`archspec.warning_codes`): what `--ignore` and `warnings.ignore` name.
    """

    message: str
    path: str = ""
    location: Location | None = None
    hint: str | None = None
    severity: Severity = "error"
    code: str = "invalid"
    origin: Origin | None = None

    @property
    def file(self) -> str | None:
        """The file the problem is in, if any."""
        return self.location.file if self.location else None

    @property
    def text(self) -> str:
        """The message with where an inherited value was written and, for a warning, its code."""
        text = self.message
        if self.origin is not None:
            text += f" (set in {self.origin})"
        if self.severity == "warning":
            text += f" [{self.code}]"
        return text

    def format(self) -> str:
        """Render as `file:line:col: severity: path: message` on one line, and a hint under it.

        Everything that can come from a spec or a file name is passed through `printable`.
        """
        where = f"{printable(str(self.location))}: " if self.location else ""
        field = f"{printable(self.path)}: " if self.path else ""
        text = f"{where}{self.severity}: {field}{printable(self.text)}"
        if self.hint:
            text += f"\n    hint: {printable(self.hint)}"
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
            "origin": self.origin.as_dict() if self.origin else None,
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


class UnreadableError(SpecError):
    """A spec that cannot be read at all.

    No such file or preset, not a regular file, no permission, outside the folders archspec
    may read. The command line exits 2 for these (an I/O problem), and 1 for every other
    `SpecError` (an invalid spec).
    """

    def __init__(
        self, file: str, message: str, *, hint: str | None = None, code: str = "unreadable"
    ) -> None:
        super().__init__([Diagnostic(message, location=Location(file), hint=hint, code=code)])


def format_path(parts: Iterable[str | int]) -> str:
    """Turn ('stages', 1, 'filters') into 'stages[1].filters'.

    A key longer than any real one (a hostile spec's) is cut, so one message stays one line.
    """
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            part = shorten(part, 64)
            text += f".{part}" if text else part
    return text
