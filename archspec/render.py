"""Turn diagnostics and graphs into text for people (rich) and for machines (JSON, GitHub)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from archspec.check import FileReport
from archspec.ir import Graph

JSON_FORMAT_VERSION = 1


def format_shape(shape: Sequence[int]) -> str:
    """(56, 56, 256) -> '56x56x256'."""
    return "x".join(str(size) for size in shape)


# --- diagnostics ------------------------------------------------------------------------------


def print_reports_text(console: Console, reports: Sequence[FileReport], *, strict: bool) -> None:
    """One line per problem, `file:line:col: path: message`, a hint under it, a summary."""
    for report in reports:
        for d in report.diagnostics:
            style = "red" if d.severity == "error" else "yellow"
            where = f"{d.location}: " if d.location else f"{report.file}: "
            field = f"[bold]{escape(d.path)}[/]: " if d.path else ""
            label = f"[{style}]{d.severity}[/]: "
            console.print(f"{escape(where)}{label}{field}{escape(d.message)}", soft_wrap=True)
            if d.hint:
                console.print(f"    [dim]hint:[/] {escape(d.hint)}", soft_wrap=True)
    console.print(summary_line(reports, strict=strict), soft_wrap=True)


def summary_line(reports: Sequence[FileReport], *, strict: bool) -> str:
    """'3 files checked: 2 valid, 1 invalid (4 errors, 1 warning)'."""
    invalid = sum(not r.ok(strict=strict) for r in reports)
    errors = sum(len(r.errors) for r in reports)
    warnings = sum(len(r.warnings) for r in reports)
    files = f"{_plural(len(reports), 'file')} checked"
    counts = f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
    return f"{files}: {len(reports) - invalid} valid, {invalid} invalid ({counts})"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def reports_json(reports: Sequence[FileReport], *, strict: bool) -> str:
    """The documented, stable JSON shape of `archspec validate --format json`."""
    document = {
        "version": JSON_FORMAT_VERSION,
        "valid": all(r.ok(strict=strict) for r in reports),
        "files": [
            {
                "file": r.file,
                "valid": r.ok(strict=strict),
                "diagnostics": [d.as_dict() for d in r.diagnostics],
            }
            for r in reports
        ],
        "summary": {
            "files": len(reports),
            "invalid": sum(not r.ok(strict=strict) for r in reports),
            "errors": sum(len(r.errors) for r in reports),
            "warnings": sum(len(r.warnings) for r in reports),
        },
    }
    return json.dumps(document, indent=2)


def _github_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def reports_github(reports: Sequence[FileReport]) -> str:
    """GitHub Actions workflow commands, so problems show on the pull request's diff."""
    lines = []
    for report in reports:
        for d in report.diagnostics:
            props = [f"file={_github_escape(d.file or report.file, prop=True)}"]
            if d.location:
                props += [f"line={d.location.line}", f"col={d.location.column}"]
            if d.path:
                props.append(f"title={_github_escape(d.path, prop=True)}")
            message = d.message + (f" (hint: {d.hint})" if d.hint else "")
            lines.append(f"::{d.severity} {','.join(props)}::{_github_escape(message)}")
    return "\n".join(lines)


# --- graph summaries --------------------------------------------------------------------------


def stage_rows(graph: Graph) -> list[tuple[str, str, str, int]]:
    """(part, what, output shape, params) for the stem, each stage and the head."""
    rows = []
    stem = graph.scope_layers("stem")
    rows.append(("stem", _stem_text(stem), format_shape(stem[-1].shape), _params(stem)))
    for stage in graph.stages:
        layers = graph.scope_layers(stage.name)
        what = f"{stage.block} x{stage.depth}, {stage.filters} filters, stride {stage.stride}"
        rows.append((stage.name, what, format_shape(layers[-1].shape), _params(layers)))
    head = graph.scope_layers("head")
    what = " -> ".join(layer.op for layer in head)
    rows.append(("head", what, format_shape(head[-1].shape), _params(head)))
    return rows


def _params(layers: Sequence[object]) -> int:
    return sum(layer.params for layer in layers)  # type: ignore[attr-defined]


def _stem_text(layers: Sequence[object]) -> str:
    convs = [layer for layer in layers if layer.op == "conv2d"]  # type: ignore[attr-defined]
    return " + ".join(
        f"conv {c.attrs['kernel']}x{c.attrs['kernel']}/{c.attrs['strides']} {c.attrs['filters']}"  # type: ignore[attr-defined]
        for c in convs
    )


def summary_table(graph: Graph) -> Table:
    """A per-stage table: output shapes and parameters, with totals."""
    table = Table(title=f"{graph.name}: {len(graph)} layers", title_justify="left")
    table.add_column("part")
    table.add_column("layers")
    table.add_column("output", justify="right")
    table.add_column("params", justify="right")
    for part, what, shape, params in stage_rows(graph):
        table.add_row(part, escape(what), shape, f"{params:,}")
    table.add_section()
    non_trainable = graph.params - graph.trainable_params
    table.add_row(
        "total",
        f"trainable {graph.trainable_params:,}, non-trainable {non_trainable:,}",
        format_shape(graph[graph.output].shape),
        f"{graph.params:,}",
    )
    return table
