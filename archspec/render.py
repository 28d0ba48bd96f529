"""Turn graphs, specs and results into text for people (rich tables that fit the terminal).

Validation reports are `archspec.report`'s, which imports no rich.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, JustifyMethod, RenderResult
from rich.table import Table
from rich.text import Text

from archspec.cost import (
    CostRow,
    Depth,
    cost_rows,
    format_shape,
    human_bytes,
    human_count,
    nominal_note,
    total_row,
)
from archspec.errors import printable
from archspec.ir import Graph
from archspec.report import plural

if TYPE_CHECKING:
    from archspec.bench import BenchResult
    from archspec.diff import PartDelta
    from archspec.spec import Spec
    from archspec.weights import Conversion, LoadReport

# --- specs ------------------------------------------------------------------------------------


def resolved_data(spec: Spec) -> dict[str, Any]:
    """The data of `archspec show`: every default written out, but not a default null.

    A null that is the field's default is left out (a per-block setting written as null would
    be refused rather than inherited); a null that says something (`stem: null`) stays.
    """
    data = spec.model_dump(mode="json", by_alias=True, exclude={"extends", "schema_uri"})
    _drop_default_nulls(spec, data)
    return data


def resolved_spec(
    spec: Spec, output_format: str, leave_out: Iterable[tuple[str | int, ...]] = ()
) -> str:
    """`archspec show`: a spec with `extends` applied and every default written out.

    The result is a complete spec of its own (no `extends`, no `$schema`): reading it back
    gives the same spec. `leave_out` are settings not to write (defaults that, written, would
    be reported as having no effect). Lists of numbers stay on one line in YAML, as people
    write them.
    """
    data = resolved_data(spec)
    for path in leave_out:
        owner: Any = data
        for part in path[:-1]:
            owner = owner[part]
        del owner[path[-1]]
    if output_format == "json":
        return json.dumps(data, indent=2) + "\n"
    return yaml.dump(data, Dumper=_SpecDumper, sort_keys=False, allow_unicode=True, width=100)


def _drop_default_nulls(value: object, data: object) -> None:
    """Remove from `data`, the JSON dump of `value`, every null that is its field's default."""
    if isinstance(value, BaseModel) and isinstance(data, dict):
        for name, field in type(value).model_fields.items():
            key = field.alias or name
            if key not in data:
                continue
            if data[key] is None and not field.is_required() and field.default is None:
                del data[key]
            else:
                _drop_default_nulls(getattr(value, name), data[key])
    elif isinstance(value, tuple | list) and isinstance(data, list):
        for item, dumped in zip(value, data, strict=True):
            _drop_default_nulls(item, dumped)


class _SpecDumper(yaml.SafeDumper):
    """YAML with lists of scalars in flow style (`shape: [224, 224, 3]`)."""


def _represent_list(dumper: yaml.SafeDumper, data: list[object]) -> yaml.SequenceNode:
    """A list of scalars on one line; any other list in block style."""
    flow = all(not isinstance(item, dict | list) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_SpecDumper.add_representer(list, _represent_list)


# --- tables that fit the terminal -----------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of a table: names and numbers are never cut; `wrap` text may wrap at spaces."""

    header: str
    justify: JustifyMethod = "left"
    wrap: bool = False


@dataclass(frozen=True)
class Row:
    """One row: its cells, a style for the whole row, and whether a rule comes before it."""

    cells: tuple[Text, ...]
    style: str | None = None
    section: bool = False


@dataclass(frozen=True)
class Layout:
    """One way to lay a table out: its columns and rows."""

    columns: Sequence[Column]
    rows: Sequence[Row]

    OVERHEAD_PER_COLUMN = 3
    """rich's box: a space each side of a cell and a rule after it (and one more at the left)."""

    def _extents(self) -> list[tuple[int, int]]:
        """(narrowest, natural) width of each column: what no wrapping can split, one line."""
        extents = []
        for index, column in enumerate(self.columns):
            texts = [Text(column.header), *(row.cells[index] for row in self.rows)]
            lines = [line for text in texts for line in text.plain.splitlines()]
            natural = max((cell_len(line) for line in lines), default=0)
            parts = [part for line in lines for part in _unbreakable(line)]
            narrowest = max((cell_len(part) for part in parts), default=0)
            extents.append((narrowest if column.wrap else natural, natural))
        return extents

    def width(self) -> int:
        """The narrowest width at which no name or number is cut."""
        overhead = self.OVERHEAD_PER_COLUMN * len(self.columns) + 1
        return overhead + sum(narrowest for narrowest, _ in self._extents())

    def table(self, width: int) -> Table:
        """The layout as a rich table at most `width` wide, or as wide as its contents.

        Narrower than its contents, each column that may wrap gets its narrowest width plus
        a share of the room left, in proportion to what it lacks of its natural width, so
        that rich never narrows a column below a word (rich would cut it).
        """
        extents = self._extents()
        overhead = self.OVERHEAD_PER_COLUMN * len(self.columns) + 1
        room = width - overhead - sum(narrowest for narrowest, _ in extents)
        lacking = sum(natural - narrowest for narrowest, natural in extents)
        fixed = overhead + sum(natural for _, natural in extents) > width
        table = Table()
        for (narrowest, natural), column in zip(extents, self.columns, strict=True):
            share = (natural - narrowest) * room // lacking if lacking else 0
            table.add_column(
                column.header,
                justify=column.justify,
                no_wrap=not column.wrap,
                width=narrowest + share if fixed else None,
            )
        for row in self.rows:
            if row.section:
                table.add_section()
            table.add_row(*row.cells, style=row.style)
        return table

    def records(self, width: int) -> Iterator[Text]:
        """Each row as a block of lines that always fits, wrapped here so none ends in a space.

        The first cell's first line is the heading, the rest of that cell is indented under
        it, then comes one `header: value` line per other cell (one per line of a stacked
        cell whose header names each line, as in "MACs / activations").
        """
        for number, row in enumerate(self.rows):
            if row.section and number:
                yield Text("")
            style = row.style or ""
            heading, *details = row.cells[0].plain.splitlines() or [""]
            yield Text(heading.strip(), style=style)
            if details:
                yield from _wrapped(" ".join(" ".join(details).split()), width, "  ", "  ", style)
            for column, cell in zip(self.columns[1:], row.cells[1:], strict=True):
                headers = column.header.split(" / ")
                lines = cell.plain.splitlines()
                fields = (
                    zip(headers, lines, strict=True)
                    if len(headers) == len(lines) > 1
                    else [(column.header, cell.plain)]
                )
                for header, text in fields:
                    value = " ".join(text.split())
                    if value:
                        yield from _wrapped(f"{header}: {value}", width, "  ", "    ", style)


def _wrapped(text: str, width: int, first: str, indent: str, style: str) -> Iterator[Text]:
    """`text` wrapped between words at `width`, never inside one.

    Its first line is indented by `first`, the others by `indent`.
    """
    for line in textwrap.wrap(
        text,
        width,
        initial_indent=first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ):
        yield Text(line, style=style)


def _unbreakable(line: str) -> list[str]:
    """What wrapping cannot split: the first word with its indentation, each other word."""
    words = line.split()
    if not words:
        return []
    indent = line[: len(line) - len(line.lstrip())]
    return [indent + words[0], *words[1:]]


class Fitted:
    """A titled table in the first of its layouts that fits the width it is printed at.

    At the full width every column is shown; narrower, the layouts that follow stack cells
    (a delta under its value, a description under its name); when none fits, each row
    becomes a block of `header: value` lines. No layout cuts a name or a number, and no
    line is padded with trailing spaces (the title is not centred over the table).
    """

    def __init__(self, title: str, layouts: Sequence[Layout]) -> None:
        self.title = title
        self.layouts = tuple(layouts)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """The title, then the first layout that fits `options.max_width`."""
        if self.title:
            yield Text(self.title)
        for layout in self.layouts:
            if layout.width() <= options.max_width:
                yield layout.table(options.max_width)
                return
        yield from self.layouts[-1].records(options.max_width)


def _cell(text: str, style: str = "") -> Text:
    """A cell's text, shown as it is: never read as markup; control characters escaped."""
    return Text(printable(text), style=style)


def _cost_cells(row: CostRow) -> tuple[Text, ...]:
    return (
        _cell(format_shape(row.shape)),
        _cell(f"{row.params:,}"),
        _cell(human_count(row.macs)),
        _cell(human_bytes(row.activation_bytes)),
    )


# --- graph summaries --------------------------------------------------------------------------


def summary_table(graph: Graph) -> Fitted:
    """The build summary: per-stage output shapes and parameters, with totals."""
    rows = [
        (row.name, row.what, format_shape(row.shape), f"{row.params:,}", False)
        for row in cost_rows(graph, "stage")[1:]
    ]
    total = total_row(graph)
    non_trainable = total.params - total.trainable_params
    rows.append(
        (
            "total",
            f"trainable {total.trainable_params:,}, non-trainable {non_trainable:,}",
            format_shape(total.shape),
            f"{total.params:,}",
            True,
        )
    )
    numbers = (Column("output", "right"), Column("params", "right"))
    full = Layout(
        (Column("part"), Column("layers", wrap=True), *numbers),
        tuple(Row(tuple(map(_cell, cells)), section=section) for *cells, section in rows),
    )
    stacked = Layout(
        (Column("part / layers", wrap=True), *numbers),
        tuple(
            Row((_stacked(name, what), _cell(shape), _cell(params)), section=section)
            for name, what, shape, params, section in rows
        ),
    )
    return Fitted(f"{graph.name}: {graph.layer_count} layers", [full, stacked])


def _stacked(name: str, what: str) -> Text:
    """A name with its description on the lines under it, dimmed."""
    text = _cell(name)
    if what:
        text.append("\n")
        text.append_text(_cell(what, "dim"))
    return text


def inspect_table(graph: Graph, depth: Depth) -> Fitted:
    """`archspec inspect`: shapes, parameters, MACs and activation memory, per part."""
    total = total_row(graph)
    what = f"{total.trainable_params:,} trainable + {total.params - total.trainable_params:,} not"
    parts = [
        (row, "  " * row.level + row.name, row.what, "dim" if row.level == 2 else None, False)
        for row in cost_rows(graph, depth)
    ]
    parts.append((total, "total", what, "bold", True))
    side, under, narrow = [], [], []
    for row, name, text, style, section in parts:
        shape, params, macs, memory = _cost_cells(row)
        side.append(Row((_cell(name), _cell(text), shape, params, macs, memory), style, section))
        name_text = _stacked(name, " " * (len(name) - len(name.lstrip())) + text)
        under.append(Row((name_text, shape, params, macs, memory), style, section))
        paired = Text.assemble(macs, "\n", memory)
        narrow.append(Row((name_text, shape, params, paired), style, section))
    output, parameters = Column("output", "right"), Column("params", "right")
    costs = (Column("MACs", "right"), Column("activations", "right"))
    layouts = [
        Layout((Column("part"), Column("layers", wrap=True), output, parameters, *costs), side),
        Layout((Column("part / layers", wrap=True), output, parameters, *costs), under),
        Layout(
            (
                Column("part / layers", wrap=True),
                output,
                parameters,
                Column("MACs / activations", "right", wrap=True),
            ),
            narrow,
        ),
    ]
    return Fitted(f"{graph.name}: {graph.layer_count} layers", layouts)


def cost_footnote(graph: Graph) -> str:
    """Which figure is which, said plainly."""
    total = total_row(graph)
    note = nominal_note(graph)
    return (note + " " if note else "") + (
        f"MACs: {total.macs:,} multiply-accumulates per sample (conv and dense layers). "
        f"FLOPs = 2 x MACs = {total.flops:,}. Activations: float32 outputs of every layer "
        "for one sample. Parameters as Keras counts them (BN moving statistics are the "
        "non-trainable ones)."
    )


def diff_table(title: str, deltas: Sequence[PartDelta]) -> Fitted:
    """`archspec diff`: per part, each metric after the change and its signed delta.

    Narrower, each delta stands under its value, its percentage under it.
    """
    from archspec.diff import METRICS, format_metric

    side: list[Row] = []
    under: list[Row] = []
    for delta in deltas:
        paired: list[Text] = []
        stacked: list[Text] = []
        for metric in METRICS:
            _, value, change = format_metric(delta, metric)
            grown = delta.delta(metric)
            color = "red" if grown > 0 else "green" if grown < 0 else ""
            paired += [_cell(value), _cell(change, color)]
            signed, _, percent = change.partition(" (")
            cell = _cell(value)
            cell.append(f"\n{signed}\n({percent}", color)
            stacked.append(cell)
        before = format_shape(delta.before.shape) if delta.before else "-"
        after = format_shape(delta.after.shape) if delta.after else "-"
        shape = after if before == after else f"{before} -> {after}"
        style = "bold" if delta.part == "total" else None
        section = delta.part == "total"
        side.append(Row((_cell(delta.part), *paired, _cell(shape)), style, section))
        shape_lines = _cell(shape.replace(" -> ", "\n-> "))
        under.append(Row((_cell(delta.part), *stacked, shape_lines), style, section))
    columns = [Column("part")]
    for label in ("params", "MACs", "activations"):
        columns += [Column(label, "right"), Column(f"Δ {label}", "right")]
    narrow = (
        Column("part"),
        *(Column(label, "right") for label in ("params, Δ", "MACs, Δ", "activations, Δ")),
        Column("output", "right"),
    )
    return Fitted(
        title,
        [
            Layout((*columns, Column("output", "right")), tuple(side)),
            Layout(narrow, tuple(under)),
        ],
    )


def presets_table(rows: Sequence[tuple[str, str, int, int, int, str]]) -> Fitted:
    """`archspec presets`: name, input, layers, parameters, GMACs and what each one is."""
    cells = [
        Row(
            (
                _cell(name),
                _cell(shape),
                _cell(f"{layers:,}"),
                _cell(f"{params:,}"),
                _cell(f"{macs / 1e9:.2f}"),
                _cell(what),
            )
        )
        for name, shape, layers, params, macs, what in rows
    ]
    numbers = (
        Column("input"),
        Column("layers", "right"),
        Column("params", "right"),
        Column("GMACs", "right"),
    )
    full = Layout((Column("preset"), *numbers, Column("what it is", wrap=True)), tuple(cells))
    stacked = Layout(
        (Column("preset / what it is", wrap=True), *numbers),
        tuple(
            Row((_stacked(row[0], row[-1]), *cells[i].cells[1:-1])) for i, row in enumerate(rows)
        ),
    )
    return Fitted("", [full, stacked])


def bench_table(result: BenchResult) -> Fitted:
    """`archspec bench`: images per second per phase, with the spread over repeats."""
    rows = tuple(
        Row(
            (
                _cell(phase.phase),
                _cell(f"{phase.median:,.1f}"),
                _cell(f"±{100 * phase.spread:.1f}%"),
                _cell(f"{phase.milliseconds_per_step:.1f}"),
            )
        )
        for phase in result.phases
    )
    columns = (
        Column("phase"),
        Column("images/s", "right"),
        Column("spread", "right"),
        Column("ms/step", "right"),
    )
    return Fitted("", [Layout(columns, rows)])


# --- weights ------------------------------------------------------------------------------------


def load_report_table(report: LoadReport) -> Fitted:
    """Weights loaded by layer name: a line for the loaded layers, one per layer that was not."""
    values = sum(count for _, count in report.loaded)
    rows = [
        Row(
            (
                _cell("loaded"),
                _cell(plural(len(report.loaded), "layer")),
                _cell(f"{values:,} values"),
                _cell(""),
            )
        )
    ]
    rows += [
        Row((_cell("missing", "yellow"), _cell(name), _cell(""), _cell("no layer of this name")))
        for name in report.missing
    ]
    rows += [
        Row((_cell("mismatched", "red"), _cell(name), _cell(model), _cell(file)))
        for name, model, file in report.mismatched
    ]
    rows += [
        Row((_cell("unused"), _cell(name), _cell("no layer of this name"), _cell("")))
        for name in report.unused
    ]
    columns = (Column(""), Column("layer"), Column("model", wrap=True), Column("file", wrap=True))
    return Fitted("weights by layer name", [Layout(columns, tuple(rows))])


def conversion_table(conversion: Conversion, source: str) -> Fitted:
    """A PyTorch state dict read for a spec: layers converted, then every key that did not fit."""
    rows = [
        Row(
            (
                _cell("converted"),
                _cell(plural(len(conversion.weights), "layer")),
                _cell(""),
                _cell(""),
            )
        )
    ]
    rows += [
        Row((_cell("missing", "yellow"), _cell(key), _cell(""), _cell("no such key")))
        for key in conversion.missing
    ]
    for mismatch in conversion.mismatched:
        model, found = ("x".join(map(str, shape)) for shape in (mismatch.expected, mismatch.found))
        rows.append(
            Row((_cell("mismatched", "red"), _cell(mismatch.key), _cell(model), _cell(found)))
        )
    rows += [
        Row((_cell("unused"), _cell(key), _cell("no layer reads it"), _cell("")))
        for key in conversion.unused
    ]
    columns = (Column(""), Column("key"), Column("model", wrap=True), Column("file", wrap=True))
    return Fitted(f"{source} state dict", [Layout(columns, tuple(rows))])
