"""The op table's words and its one rule about names, where no other test looks.

What these tests pin, found by mutation testing (`make mutate`, archspec/ops.py):
- how reports describe a depthwise conv (kernel, stride, depth multiplier, bias) and the
  window pools, as inspect and the diagrams show them;
- the error when a dense layer reads a map whose size the open input shape leaves unknown
  (message and hint, located at the head);
- `define` adding an op once, refusing a second op of the same name with a message that says
  so, and leaving the table as it was;
- the shape rules of the merging ops (add, multiply's broadcast, concatenate), reshape and
  flatten, including what they say when inputs do not fit: an extension block's layers reach
  them with shapes no built-in block produces;
- `keras_call` refusing the input layer, which has no Keras layer.
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


def shape_of(op: str, *inputs: ops.Shape, **attrs: object) -> ops.Shape:
    return ops.op_of(op).shape(attrs, inputs)


def refusal(op: str, *inputs: ops.Shape, **attrs: object) -> str:
    with pytest.raises(ops.ShapeError) as caught:
        shape_of(op, *inputs, **attrs)
    return str(caught.value)


def test_add_takes_equal_shapes_only():
    assert shape_of("add", (4, 4, 8), (4, 4, 8), (4, 4, 8)) == (4, 4, 8)
    assert refusal("add", (4, 4, 8), (4, 4, 8), (2, 2, 8)) == (
        "its inputs have different shapes: (4, 4, 8) and (4, 4, 8) and (2, 2, 8)"
    )


def test_multiply_broadcasts_sizes_of_one():
    assert shape_of("multiply", (4, 4, 8), (1, 1, 8)) == (4, 4, 8)
    assert shape_of("multiply", (1, 1, 8), (4, 4, 8)) == (4, 4, 8)
    assert shape_of("multiply", (1, 1, 8), (1, 1, 8)) == (1, 1, 8)
    assert refusal("multiply", (4, 4, 8), (1, 1, 4)) == (
        "its inputs have shapes that do not broadcast: (4, 4, 8) and (1, 1, 4)"
    )
    assert refusal("multiply", (1, 1, 8), (1,)) == "its inputs have different ranks"


def test_concatenate_adds_channels_of_equal_maps():
    assert shape_of("concatenate", (4, 4, 8), (4, 4, 16)) == (4, 4, 24)
    assert refusal("concatenate", (4, 4, 8), (2, 2, 8)) == (
        "its inputs differ in more than their channels: (4, 4, 8) and (2, 2, 8)"
    )


@pytest.mark.parametrize(
    ("size", "target", "shape"),
    [
        ((4, 4, 8), (1, 1, -1), (1, 1, 128)),
        ((4, 4, 8), (2, 64), (2, 64)),
        ((None, None, 8), (1, 1, -1), (1, 1, None)),
        ((None, None, 8), (2, 4), (2, 4)),
    ],
)
def test_reshape_fills_one_open_size(size, target, shape):
    assert shape_of("reshape", size, target_shape=target) == shape


@pytest.mark.parametrize("target", [(3, -1), (2, 32), (1, 64), (-1, -1)])
def test_reshape_refuses_targets_that_do_not_hold_the_values(target):
    assert refusal("reshape", (4, 4, 8), target_shape=target) == (
        f"cannot reshape (4, 4, 8) to {target}"
    )


def test_flatten_of_an_open_map_has_an_open_size():
    assert shape_of("flatten", (None, None, 8)) == (None,)
    assert shape_of("flatten", (4, 4, 8)) == (128,)


def test_the_input_layer_has_no_keras_call():
    graph = lowered([{"block": "plain", "filters": 8}])
    with pytest.raises(ValueError, match=r"^op 'input' has no Keras layer$"):
        ops.keras_call(graph.input)
