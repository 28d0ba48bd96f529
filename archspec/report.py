"""Reports of `archspec validate`: text for people, JSON for tools, GitHub annotations.

No rich here: validating is what CI runs most, and rich's import would be a fifth of its
start-up; the text report is styled with click, which drops the styles where the output is
not a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from archspec.errors import printable

if TYPE_CHECKING:
    from archspec.check import FileReport

JSON_FORMAT_VERSION = 1


def reports_text(reports: Sequence[FileReport], *, strict: bool, skipped: int = 0) -> str:
    """One line per problem, `file:line:col: path: message`, a hint under it, a summary.

    Whatever comes from a spec or a file name is escaped (`printable`).
    """
    lines = []
    for report in reports:
        for d in report.diagnostics:
            where = f"{d.location}: " if d.location else f"{report.file}: "
            field = click.style(printable(d.path), bold=True) + ": " if d.path else ""
            label = click.style(d.severity, fg="red" if d.severity == "error" else "yellow")
            lines.append(f"{printable(where)}{label}: {field}{printable(d.text)}")
            if d.hint:
                lines.append(f"    {click.style('hint:', dim=True)} {printable(d.hint)}")
    lines.append(summary_line(reports, strict=strict, skipped=skipped))
    return "\n".join(lines)


def summary_line(reports: Sequence[FileReport], *, strict: bool, skipped: int = 0) -> str:
    """'3 files checked: 2 valid, 1 invalid (4 errors, 1 warning)', and what was not checked."""
    checked = [r for r in reports if r.readable]
    invalid = sum(not r.ok(strict=strict) for r in checked)
    errors = sum(len(r.errors) for r in checked)
    warnings = sum(len(r.warnings) for r in checked)
    files = f"{plural(len(checked), 'file')} checked"
    counts = f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"
    line = f"{files}: {len(checked) - invalid} valid, {invalid} invalid ({counts})"
    unusable = len(reports) - len(checked)
    if unusable:
        line += f"; {plural(unusable, 'path')} not checked (unreadable, or no spec found)"
    if skipped:
        line += f"; {plural(skipped, 'other YAML/JSON file')} skipped (not specs)"
    return line


def plural(count: int, noun: str) -> str:
    """`1 file`, `2 files`; of a phrase, the last word takes the s."""
    if count == 1:
        return f"{count} {noun}"
    words = noun.split(" ")
    return f"{count} {' '.join([*words[:-1], words[-1] + 's'])}"


def reports_json(
    reports: Sequence[FileReport], *, strict: bool, skipped: Sequence[Path] = ()
) -> str:
    """The documented, stable JSON shape of `archspec validate --format json`."""
    checked = [r for r in reports if r.readable]
    document = {
        "version": JSON_FORMAT_VERSION,
        "valid": all(r.ok(strict=strict) and r.readable for r in reports),
        "files": [
            {
                "file": r.file,
                "valid": r.ok(strict=strict) and r.readable,
                "readable": r.readable,
                "diagnostics": [d.as_dict() for d in r.diagnostics],
            }
            for r in reports
        ],
        "skipped": [str(path) for path in skipped],
        "summary": {
            "files": len(checked),
            "invalid": sum(not r.ok(strict=strict) for r in checked),
            "errors": sum(len(r.errors) for r in checked),
            "warnings": sum(len(r.warnings) for r in checked),
            "not_checked": len(reports) - len(checked),
            "skipped": len(skipped),
        },
    }
    return json.dumps(document, indent=2)


def _github_escape(text: str, *, prop: bool = False) -> str:
    """A workflow command's data (or, with `prop`, a property), unable to end the command."""
    text = printable(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def reports_github(reports: Sequence[FileReport], *, strict: bool = False) -> str:
    """GitHub Actions workflow commands, so problems show on the pull request's diff.

    Under `strict` a warning fails the check, so it is annotated as the error it then is.
    """
    lines = []
    for report in reports:
        for d in report.diagnostics:
            props = [f"file={_github_escape(d.file or report.file, prop=True)}"]
            if d.location and d.location.line is not None:
                props += [f"line={d.location.line}", f"col={d.location.column}"]
            if d.path:
                props.append(f"title={_github_escape(d.path, prop=True)}")
            message = d.text + (f" (hint: {d.hint})" if d.hint else "")
            severity = "error" if strict else d.severity
            lines.append(f"::{severity} {','.join(props)}::{_github_escape(message)}")
    return "\n".join(lines)
