"""What changed between two specs, and what the change does to the network's cost."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from archspec.cost import CostRow, cost_rows, format_shape, human_bytes, human_count, total_row
from archspec.errors import format_path
from archspec.ir import Graph
from archspec.spec import Spec

ChangeKind = Literal["changed", "added", "removed"]
METRICS = ("params", "macs", "activation_bytes")


@dataclass(frozen=True)
class Change:
    """One setting that differs: its field path, and its value before and after."""

    path: str
    kind: ChangeKind
    before: Any = None
    after: Any = None

    def describe(self) -> str:
        """'stages[1].depth: 2 -> 4', 'stages[4]: added (...)'."""
        if self.kind == "added":
            return f"{self.path}: added {_value(self.after)}"
        if self.kind == "removed":
            return f"{self.path}: removed (was {_value(self.before)})"
        return f"{self.path}: {_value(self.before)} -> {_value(self.after)}"


def _value(value: Any) -> str:
    if isinstance(value, dict):
        # An added or removed section lists what it sets: unset options (None, []) are noise.
        shown = {k: v for k, v in value.items() if v is not None and v != []}
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in shown.items()) + "}"
    return json.dumps(value) if isinstance(value, str | list) else str(value)


def spec_changes(a: Spec, b: Spec) -> list[Change]:
    """Every setting in which `b` differs from `a` (defaults included), in document order."""
    exclude = {"schema_uri", "extends", "description"}
    left = a.model_dump(mode="json", exclude=exclude)
    right = b.model_dump(mode="json", exclude=exclude)
    changes: list[Change] = []

    def walk(x: Any, y: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(x, dict) and isinstance(y, dict):
            for key in [*x, *(k for k in y if k not in x)]:
                if key not in y:
                    changes.append(Change(format_path((*path, key)), "removed", before=x[key]))
                elif key not in x:
                    changes.append(Change(format_path((*path, key)), "added", after=y[key]))
                else:
                    walk(x[key], y[key], (*path, key))
        elif _list_of_mappings(x) and _list_of_mappings(y):
            for i in range(max(len(x), len(y))):
                if i >= len(y):
                    changes.append(Change(format_path((*path, i)), "removed", before=x[i]))
                elif i >= len(x):
                    changes.append(Change(format_path((*path, i)), "added", after=y[i]))
                else:
                    walk(x[i], y[i], (*path, i))
        elif x != y:
            changes.append(Change(format_path(path), "changed", x, y))

    walk(left, right, ())
    return changes


def _list_of_mappings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


@dataclass(frozen=True)
class PartDelta:
    """One part (stem, a stage, the head, the total) in both networks."""

    part: str
    before: CostRow | None
    after: CostRow | None

    def delta(self, metric: str) -> int:
        """The change, after minus before; a missing part counts as zero."""
        return (getattr(self.after, metric) if self.after else 0) - (
            getattr(self.before, metric) if self.before else 0
        )

    def percent(self, metric: str) -> float | None:
        """The change in percent of `before`; None when there was nothing before."""
        base = getattr(self.before, metric) if self.before else 0
        return None if base == 0 else 100.0 * self.delta(metric) / base


def cost_deltas(a: Graph, b: Graph) -> list[PartDelta]:
    """Per part, matched by name (stem, stage1.., head), then the total."""
    left = {row.name: row for row in cost_rows(a, "stage")[1:]}
    right = {row.name: row for row in cost_rows(b, "stage")[1:]}
    # Stages are numbered from 1 in both, so `a`'s then `b`'s extra ones are in number order;
    # only a stem or head that `a` lacks is out of place, and the sort is stable.
    names = [*left, *(name for name in right if name not in left)]
    order = {"stem": 0, "head": 2}
    names.sort(key=lambda name: order.get(name, 1))
    deltas = [PartDelta(name, left.get(name), right.get(name)) for name in names]
    deltas.append(PartDelta("total", total_row(a), total_row(b)))
    return deltas


def increase_over(deltas: list[PartDelta], percent: float) -> list[str]:
    """The totals (params, MACs) that grew by more than `percent` percent."""
    total = deltas[-1]
    grown = []
    for metric, label in (("params", "parameters"), ("macs", "MACs")):
        change = total.percent(metric)
        if change is not None and change > percent:
            grown.append(f"{label} grew by {change:.1f}% (limit {percent:g}%)")
    return grown


def _signed(value: int, human: Any) -> str:
    return ("+" if value > 0 else "-" if value < 0 else "±") + human(abs(value))


def _percent(value: float | None) -> str:
    return "new" if value is None else f"{value:+.1f}%"


def format_metric(delta: PartDelta, metric: str) -> tuple[str, str, str]:
    """(before, after, 'signed change (percent)') for a metric, in human units."""
    human = (
        human_bytes
        if metric == "activation_bytes"
        else _grouped
        if metric == "params"
        else human_count
    )
    before = human(getattr(delta.before, metric)) if delta.before else "-"
    after = human(getattr(delta.after, metric)) if delta.after else "-"
    change = f"{_signed(delta.delta(metric), human)} ({_percent(delta.percent(metric))})"
    return before, after, change


def _grouped(value: int) -> str:
    return f"{value:,}"


def _shape(row: CostRow | None) -> str:
    return format_shape(row.shape) if row else "-"


def diff_markdown(a: Spec, b: Spec, changes: list[Change], deltas: list[PartDelta]) -> str:
    """A table ready to paste into a pull-request comment."""
    lines = [f"### archspec diff: `{a.name}` → `{b.name}`", ""]
    if changes:
        lines += ["**Spec changes**", ""]
        lines += [f"- `{c.path}`: {c.describe().split(': ', 1)[1]}" for c in changes]
        lines.append("")
    else:
        lines += ["No setting differs.", ""]
    lines += [
        "| part | params | Δ params | MACs | Δ MACs | activations | Δ activations | output |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for delta in deltas:
        cells = []
        for metric in METRICS:
            _, after, change = format_metric(delta, metric)
            cells += [after, change]
        name = f"**{delta.part}**" if delta.part == "total" else delta.part
        shapes = (
            _shape(delta.before)
            if _shape(delta.before) == _shape(delta.after)
            else (f"{_shape(delta.before)} → {_shape(delta.after)}")
        )
        lines.append(f"| {name} | {' | '.join(cells)} | {shapes} |")
    return "\n".join(lines) + "\n"


def diff_json(a: Spec, b: Spec, changes: list[Change], deltas: list[PartDelta]) -> dict[str, Any]:
    """The documented JSON shape of `archspec diff --format json`."""

    def row(value: CostRow | None) -> dict[str, Any] | None:
        if value is None:
            return None
        return {"output_shape": list(value.shape), **{m: getattr(value, m) for m in METRICS}}

    return {
        "before": a.name,
        "after": b.name,
        "changes": [
            {"path": c.path, "kind": c.kind, "before": c.before, "after": c.after} for c in changes
        ],
        "parts": [
            {
                "part": d.part,
                "before": row(d.before),
                "after": row(d.after),
                "delta": {m: d.delta(m) for m in METRICS},
                "percent": {m: d.percent(m) for m in METRICS},
            }
            for d in deltas
        ],
    }
