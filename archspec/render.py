"""Turn diagnostics and graphs into text for people (rich) and for machines (JSON, GitHub)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from archspec.check import FileReport
from archspec.cost import Depth, cost_rows, format_shape, human_bytes, human_count, total_row
from archspec.diff import METRICS, PartDelta, format_metric
from archspec.errors import printable
from archspec.ir import Graph
from archspec.weights import Conversion, LoadReport

JSON_FORMAT_VERSION = 1


# --- diagnostics ------------------------------------------------------------------------------


def print_reports_text(
    console: Console, reports: Sequence[FileReport], *, strict: bool, skipped: int = 0
) -> None:
    """One line per problem, `file:line:col: path: message`, a hint under it, a summary.

    Whatever comes from a spec or a file name is escaped (`printable`), then rich markup.
    """
    for report in reports:
        for d in report.diagnostics:
            style = "red" if d.severity == "error" else "yellow"
            where = f"{d.location}: " if d.location else f"{report.file}: "
            field = f"[bold]{_text(d.path)}[/]: " if d.path else ""
            label = f"[{style}]{d.severity}[/]: "
            console.print(f"{_text(where)}{label}{field}{_text(d.text)}", soft_wrap=True)
            if d.hint:
                console.print(f"    [dim]hint:[/] {_text(d.hint)}", soft_wrap=True)
    console.print(summary_line(reports, strict=strict, skipped=skipped), soft_wrap=True)


def _text(text: str) -> str:
    """Text from a spec or a file name, safe for a terminal and for rich markup."""
    return escape(printable(text))


def summary_line(reports: Sequence[FileReport], *, strict: bool, skipped: int = 0) -> str:
    """'3 files checked: 2 valid, 1 invalid (4 errors, 1 warning)', and what was not checked."""
    checked = [r for r in reports if r.readable]
    invalid = sum(not r.ok(strict=strict) for r in checked)
    errors = sum(len(r.errors) for r in checked)
    warnings = sum(len(r.warnings) for r in checked)
    files = f"{_plural(len(checked), 'file')} checked"
    counts = f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
    line = f"{files}: {len(checked) - invalid} valid, {invalid} invalid ({counts})"
    unusable = len(reports) - len(checked)
    if unusable:
        line += f"; {_plural(unusable, 'path')} not checked (unreadable, or no spec found)"
    if skipped:
        line += f"; {_plural(skipped, 'other YAML/JSON file')} skipped (not specs)"
    return line


def _plural(count: int, noun: str) -> str:
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


def reports_github(reports: Sequence[FileReport]) -> str:
    """GitHub Actions workflow commands, so problems show on the pull request's diff."""
    lines = []
    for report in reports:
        for d in report.diagnostics:
            props = [f"file={_github_escape(d.file or report.file, prop=True)}"]
            if d.location and d.location.line is not None:
                props += [f"line={d.location.line}", f"col={d.location.column}"]
            if d.path:
                props.append(f"title={_github_escape(d.path, prop=True)}")
            message = d.text + (f" (hint: {d.hint})" if d.hint else "")
            lines.append(f"::{d.severity} {','.join(props)}::{_github_escape(message)}")
    return "\n".join(lines)


# --- graph summaries --------------------------------------------------------------------------


def summary_table(graph: Graph) -> Table:
    """The build summary: per-stage output shapes and parameters, with totals."""
    table = Table(title=f"{graph.name}: {len(graph)} layers", title_justify="left")
    table.add_column("part")
    table.add_column("layers")
    table.add_column("output", justify="right")
    table.add_column("params", justify="right")
    for row in cost_rows(graph, "stage")[1:]:
        table.add_row(row.name, escape(row.what), format_shape(row.shape), f"{row.params:,}")
    table.add_section()
    total = total_row(graph)
    non_trainable = total.params - total.trainable_params
    table.add_row(
        "total",
        f"trainable {total.trainable_params:,}, non-trainable {non_trainable:,}",
        format_shape(total.shape),
        f"{total.params:,}",
    )
    return table


def inspect_table(graph: Graph, depth: Depth) -> Table:
    """`archspec inspect`: shapes, parameters, MACs and activation memory, per part."""
    table = Table(title=f"{graph.name}: {len(graph)} layers", title_justify="left")
    for column, justify in (
        ("part", "left"),
        ("layers", "left"),
        ("output", "right"),
        ("params", "right"),
        ("MACs", "right"),
        ("activations", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in cost_rows(graph, depth):
        style = "dim" if row.level == 2 else None
        table.add_row(
            "  " * row.level + row.name,
            escape(row.what),
            format_shape(row.shape),
            f"{row.params:,}",
            human_count(row.macs),
            human_bytes(row.activation_bytes),
            style=style,
        )
    total = total_row(graph)
    table.add_section()
    table.add_row(
        "total",
        f"{total.trainable_params:,} trainable + {total.params - total.trainable_params:,} not",
        format_shape(total.shape),
        f"{total.params:,}",
        human_count(total.macs),
        human_bytes(total.activation_bytes),
        style="bold",
    )
    return table


def cost_footnote(graph: Graph) -> str:
    """Which figure is which, said plainly."""
    total = total_row(graph)
    return (
        f"MACs: {total.macs:,} multiply-accumulates per sample (conv and dense layers). "
        f"FLOPs = 2 x MACs = {total.flops:,}. Activations: float32 outputs of every layer "
        "for one sample. Parameters as Keras counts them (BN moving statistics are the "
        "non-trainable ones)."
    )


def diff_table(title: str, deltas: Sequence[PartDelta]) -> Table:
    """`archspec diff`: per part, each metric after the change and its signed delta."""
    table = Table(title=title, title_justify="left")
    table.add_column("part")
    for label in ("params", "MACs", "activations"):
        table.add_column(label, justify="right")
        table.add_column(f"Δ {label}", justify="right")
    table.add_column("output", justify="right")
    for delta in deltas:
        if delta.part == "total":
            table.add_section()
        cells = []
        for metric in METRICS:
            _, after, change = format_metric(delta, metric)
            style = "red" if delta.delta(metric) > 0 else "green" if delta.delta(metric) < 0 else ""
            cells += [after, f"[{style}]{escape(change)}[/]" if style else escape(change)]
        before = format_shape(delta.before.shape) if delta.before else "-"
        after = format_shape(delta.after.shape) if delta.after else "-"
        cells.append(after if before == after else f"{before} -> {after}")
        table.add_row(delta.part, *cells, style="bold" if delta.part == "total" else None)
    return table


# --- weights ------------------------------------------------------------------------------------


def load_report_table(report: LoadReport) -> Table:
    """Weights loaded by layer name: a line for the loaded layers, one per layer that was not."""
    values = sum(count for _, count in report.loaded)
    table = Table(title="weights by layer name", title_justify="left")
    for column in ("", "layer", "model", "file"):
        table.add_column(column)
    table.add_row("loaded", _plural(len(report.loaded), "layer"), f"{values:,} values", "")
    for name in report.missing:
        table.add_row("[yellow]missing[/]", escape(name), "", "no layer of this name")
    for name, model, file in report.mismatched:
        table.add_row("[red]mismatched[/]", escape(name), model, escape(file))
    for name in report.unused:
        table.add_row("unused", escape(name), "no layer of this name", "")
    return table


def conversion_table(conversion: Conversion, source: str) -> Table:
    """A PyTorch state dict read for a spec: layers converted, then every key that did not fit."""
    table = Table(title=f"{source} state dict", title_justify="left")
    for column in ("", "key", "model", "file"):
        table.add_column(column)
    table.add_row("converted", _plural(len(conversion.weights), "layer"), "", "")
    for key in conversion.missing:
        table.add_row("[yellow]missing[/]", escape(key), "", "no such key")
    for mismatch in conversion.mismatched:
        model, found = ("x".join(map(str, shape)) for shape in (mismatch.expected, mismatch.found))
        table.add_row("[red]mismatched[/]", escape(mismatch.key), model, found)
    for key in conversion.unused:
        table.add_row("unused", escape(key), "no layer reads it", "")
    return table
