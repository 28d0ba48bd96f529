"""The op table's words and its one rule about names, where no other test looks.

What these tests pin, found by mutation testing (`make mutate`, archspec/ops.py):
- how reports describe a depthwise conv (kernel, stride, depth multiplier, bias) and the
  window pools, as inspect and the diagrams show them;
- the error when a dense layer reads a map whose size the open input shape leaves unknown
  (message and hint, located at the head);
- `define` adding an op once, refusing a second op of the same name with a message that says
  so, and leaving the table as it was.
All IR-only (no Keras build).
"""

from __future__ import annotations

import pytest

import archspec
from archspec import ops
from archspec.errors import SpecError


def lowered(stages: list[dict], **sections: object) -> archspec.Graph:
    spec = {
        "name": "ops",
        "input": {"shape": [16, 16, 3]},
        "stem": {"filters": 8},
        "stages": stages,
        "head": {"classes": 3},
        **sections,
    }
    return archspec.lower(archspec.Spec.model_validate(spec))


def descriptions(graph: archspec.Graph, op: str) -> list[str]:
    return [ops.describe_layer(layer) for layer in graph if layer.op == op]


@pytest.mark.parametrize(
    ("bias", "expected"),
    [
        (False, ["depthwise 3x3/2 x2 (no bias)", "depthwise 5x5 (no bias)"]),
        (True, ["depthwise 3x3/2 x2", "depthwise 5x5"]),
    ],
)
def test_depthwise_convs_are_described_by_kernel_stride_multiplier_and_bias(bias, expected):
    stages = [
        {"block": "depthwise_separable", "filters": 8, "stride": 2, "depth_multiplier": 2},
        {"block": "depthwise_separable", "filters": 8, "kernel": 5},
    ]
    graph = lowered(stages, conv={"bias": {"block": bias}})
    assert descriptions(graph, "depthwise_conv2d") == expected


def test_pools_are_described_by_kind_window_and_stride():
    graph = lowered(
        [{"block": "plain", "filters": 8, "stride": 2, "pool": "max"}],
        stem={"filters": 8, "pool": {"kind": "avg"}},
        head={"classes": 3, "pool": "max"},
    )
    words = [ops.describe_layer(layer) for layer in graph if "pool" in layer.op]
    assert words == ["avg pool 3x3/2", "max pool 2x2/2", "global max pool"]


def test_a_dense_layer_on_a_map_of_open_size_is_refused_with_a_way_out():
    with pytest.raises(SpecError) as caught:
        lowered(
            [{"block": "plain", "filters": 8}],
            input={"shape": [None, None, 3]},
            head={"classes": 3, "pool": "flatten"},
        )
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == (
        "classifier: its number of inputs depends on the image size, which input.shape leaves open"
    )
    assert diagnostic.hint == (
        "give input.shape a fixed height and width, or pool globally (head.pool: avg)"
    )


def test_define_adds_an_op_once_and_refuses_a_second_of_the_same_name(monkeypatch):
    monkeypatch.setattr(ops, "OPS", dict(ops.OPS))
    new = ops.Op("halve", ops.KerasCall("Rescaling", (ops.Const(0.5),)), lambda a: "halve")
    assert ops.define(new) is new
    assert ops.op_of("halve") is new
    before = dict(ops.OPS)
    twin = ops.Op("conv2d", None, lambda a: "twin")
    with pytest.raises(ValueError, match=r"^op 'conv2d' is defined twice$"):
        ops.define(twin)
    assert before == ops.OPS
