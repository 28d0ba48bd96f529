"""The op table: every kind of layer the IR can hold, each defined once. No framework imported.

An entry says how an op's output shape follows from its inputs, how many parameters it holds,
what it costs in multiply-accumulates, which Keras call implements it, and how reports
describe it. Lowering computes every layer's figures from here; the Keras backend and the code
generator both turn `keras_call(layer)` into a call (one constructs it, the other writes it as
source), so they cannot drift; inspect and the diagrams read `describe`. A new op is a new
entry: one with no parameters and a stock Keras layer needs only its name, its Keras class
and a description.

Counting rules (see also `archspec.cost`): parameters as Keras's count_params() counts them;
MACs of one forward pass of one sample, for convs (k*k*C_in/groups per output value) and dense
layers; everything else costs zero.

Most ops are Keras layers (`keras.layers.<cls>(...)(inputs)`); a few are `keras.ops` functions
applied to tensors (`keras.ops.add(x, 3.0)`), as keras.applications writes `x + 3.0`: they are
nodes of the functional graph that Keras does not count among a model's layers. A shape may
hold None for a size that is only known when the model runs (an input of any height and width);
shape functions pass None through, and lowering computes MACs at a nominal size.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from archspec.ir import Graph, Layer

Shape = tuple[int | None, ...]
"""An output shape without the batch axis; None where the size depends on the input's."""
Sized = tuple[int, ...]
"""A shape with every size known: MACs are counted on these (at the nominal input size)."""
Attrs = Mapping[str, Any]
Pads = tuple[tuple[int, int], tuple[int, int]]
"""Zero padding as ((top, bottom), (left, right))."""


def pad_amounts(padding: int | Pads) -> Pads:
    """ZeroPadding2D's `padding` (one number for every side, or per side) per side."""
    if isinstance(padding, int):
        return (padding, padding), (padding, padding)
    return padding


class ShapeError(ValueError):
    """The op cannot take inputs of these shapes; lowering reports it at the spec's field."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def channels_of(shape: Shape) -> int:
    """The last size of a shape: known, except after flattening a map of open size."""
    channels = shape[-1]
    if channels is None:
        raise ShapeError(
            "its number of inputs depends on the image size, which input.shape leaves open",
            hint="give input.shape a fixed height and width, or pool globally (head.pool: avg)",
        )
    return channels


# --- Keras calls as data ----------------------------------------------------------------------

ALWAYS = object()
"""A keyword's default that never matches, so the keyword is always written."""


@dataclass(frozen=True, slots=True)
class Keyword:
    """A keyword argument of a Keras call, taken from an IR attribute.

    It is left out where the attribute equals Keras's own `default` and is not bound to a
    block argument, so generated code reads like hand-written code. An `optional` keyword's
    attribute is set only on the layers that need it (an initializer, a conv's activation):
    where it is absent, the keyword is left out too.
    """

    name: str
    default: object = ALWAYS
    attr: str = ""
    optional: bool = False

    @property
    def source(self) -> str:
        """The IR attribute the value comes from."""
        return self.attr or self.name


@dataclass(frozen=True, slots=True)
class Const:
    """A literal argument of a Keras call, not taken from an attribute."""

    value: object


KerasModule = Literal["layers", "ops", "archspec"]
"""Where a Keras call's callable lives:
- 'layers': a stock layer class, `keras.layers.<cls>`;
- 'archspec': a layer class archspec defines where Keras has none (in
  `archspec.backends.keras`; generated code carries a copy of its source);
- 'ops': an operation, `keras.ops.<cls>(*inputs, *args)`. It takes no name and makes no entry in
  `model.layers` (what `x + y` on Keras tensors does)."""


@dataclass(frozen=True, slots=True)
class KerasCall:
    """`keras.layers.<cls>(*args, **keywords)`: args name IR attributes or are `Const`s.

    `module` says where the callable lives (`KerasModule`): a `keras.ops` function is applied
    to the layer's inputs first, `keras.ops.<cls>(*inputs, *args, **keywords)`.
    """

    cls: str
    args: tuple[str | Const, ...] = ()
    keywords: tuple[Keyword, ...] = ()
    module: KerasModule = "layers"


@dataclass(frozen=True, slots=True)
class CallArg:
    """One argument of a resolved call: its value, and the IR attribute it comes from."""

    value: object
    attr: str | None = None


@dataclass(frozen=True, slots=True)
class LayerCall:
    """A Keras call resolved for one IR layer: `keras.<module>.<cls>(*args, **kwargs)`."""

    cls: str
    args: tuple[CallArg, ...] = ()
    kwargs: tuple[tuple[str, CallArg], ...] = ()
    module: KerasModule = "layers"


# --- the op entry -------------------------------------------------------------------------------


def _same_shape(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    return inputs[0]


def _no_params(attrs: Attrs, inputs: Sequence[Shape], output: Shape) -> tuple[int, int]:
    return 0, 0


def _no_macs(attrs: Attrs, inputs: Sequence[Sized], output: Sized) -> int:
    return 0


@dataclass(frozen=True)
class Op:
    """One kind of layer: its semantics (shape, parameters, MACs), its Keras call, its words."""

    name: str
    keras: KerasCall | Callable[[Attrs], KerasCall] | None
    """The Keras call, or a function of the attributes that picks one; None for the input."""
    describe: Callable[[Attrs], str]
    """A short description for reports: 'conv 3x3/2 64', 'BN'."""
    shape: Callable[[Attrs, Sequence[Shape]], Shape] = _same_shape
    params: Callable[[Attrs, Sequence[Shape], Shape], tuple[int, int]] = _no_params
    """(all parameters, trainable parameters)."""
    macs: Callable[[Attrs, Sequence[Sized], Sized], int] = _no_macs
    """Multiply-accumulates, from the shapes at the nominal input size."""
    window: tuple[str, str, str] | None = None
    """For sliding-window ops: the attributes holding (size, strides, padding); lowering
    checks that the window fits the image before the shape is computed."""
    merges: bool = False
    """Whether the op combines several tensors (add, multiply, concatenate)."""
    symbol: str = ""
    """How diagrams draw a merging op ('+'); others are described."""
    summarized: bool = True
    """Whether summaries of several layers name it; padding is part of the window after it."""
    identity_at_inference: bool | Callable[[Attrs], bool] = False
    """Whether the op passes its input through unchanged at inference (dropout, drop path), or
    a function of the attributes that says so; inference builds leave such layers out."""
    fold_axes: int = 0
    """For an op linear per output channel whose Keras kernel ends in axes that index output
    channels (1 for Conv2D's (..., out); 2 for DepthwiseConv2D's (..., in, multiplier)): a
    BatchNormalization after it folds into its kernel and bias. 0: none folds in."""

    def call(self, attrs: Attrs) -> KerasCall | None:
        """The Keras call template for these attributes."""
        return self.keras(attrs) if callable(self.keras) else self.keras

    def is_identity_at_inference(self, attrs: Attrs) -> bool:
        """Whether a layer of this op with these attributes is the identity at inference."""
        flag = self.identity_at_inference
        return flag(attrs) if callable(flag) else flag

    def is_layer(self, attrs: Attrs) -> bool:
        """Whether Keras counts it among a model's layers (the input does; keras.ops do not)."""
        call = self.call(attrs)
        return call is None or call.module != "ops"


OPS: dict[str, Op] = {}
"""Op name -> its definition; `define` adds to it."""


def define(op: Op) -> Op:
    """Add an op to the table (each name once)."""
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} is defined twice")
    OPS[op.name] = op
    return op


def op_of(name: str) -> Op:
    """The definition of an op, by name."""
    return OPS[name]


# --- shape and cost helpers ---------------------------------------------------------------------


def window_output(extent: int | None, kernel: int, stride: int, padding: str) -> int | None:
    """Output length of a sliding window along one axis ('same' rounds up, 'valid' down)."""
    if extent is None:
        return None
    if padding == "same":
        return math.ceil(extent / stride)
    return (extent - kernel) // stride + 1


def _window_shape(attrs: Attrs, inputs: Sequence[Shape], size_attr: str, channels: int) -> Shape:
    h, w = inputs[0][:2]
    size, stride, padding = attrs[size_attr], attrs["strides"], attrs["padding"]
    return (
        window_output(h, size, stride, padding),
        window_output(w, size, stride, padding),
        channels,
    )


def _conv_shape(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    return _window_shape(attrs, inputs, "kernel", attrs["filters"])


def _depthwise_shape(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    channels = channels_of(inputs[0]) * attrs["depth_multiplier"]
    return _window_shape(attrs, inputs, "kernel", channels)


def _pool_shape(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    return _window_shape(attrs, inputs, "size", channels_of(inputs[0]))


def _conv_params(attrs: Attrs, inputs: Sequence[Shape], output: Shape) -> tuple[int, int]:
    k, c_in, filters = attrs["kernel"], channels_of(inputs[0]), attrs["filters"]
    count = k * k * (c_in // attrs["groups"]) * filters + (filters if attrs["use_bias"] else 0)
    return count, count


def _conv_macs(attrs: Attrs, inputs: Sequence[Sized], output: Sized) -> int:
    h, w, filters = output
    return h * w * filters * attrs["kernel"] ** 2 * (inputs[0][-1] // attrs["groups"])


def _conv_text(attrs: Attrs) -> str:
    text = f"conv {attrs['kernel']}x{attrs['kernel']}"
    text += f"/{attrs['strides']}" if attrs["strides"] != 1 else ""
    text += f" {attrs['filters']}"
    text += f" g{attrs['groups']}" if attrs["groups"] != 1 else ""
    text += f" {attrs['activation']}" if "activation" in attrs else ""
    return text + ("" if attrs["use_bias"] else " (no bias)")


def _depthwise_params(attrs: Attrs, inputs: Sequence[Shape], output: Shape) -> tuple[int, int]:
    channels = channels_of(output)
    count = attrs["kernel"] ** 2 * channels + (channels if attrs["use_bias"] else 0)
    return count, count


def _depthwise_macs(attrs: Attrs, inputs: Sequence[Sized], output: Sized) -> int:
    h, w, channels = output
    return h * w * channels * attrs["kernel"] ** 2


def _depthwise_text(attrs: Attrs) -> str:
    text = f"depthwise {attrs['kernel']}x{attrs['kernel']}"
    text += f"/{attrs['strides']}" if attrs["strides"] != 1 else ""
    text += f" x{attrs['depth_multiplier']}" if attrs["depth_multiplier"] != 1 else ""
    return text + ("" if attrs["use_bias"] else " (no bias)")


def _layer_norm_params(attrs: Attrs, inputs: Sequence[Shape], output: Shape) -> tuple[int, int]:
    return 2 * channels_of(inputs[0]), 2 * channels_of(inputs[0])  # gamma, beta


def _batch_norm_params(attrs: Attrs, inputs: Sequence[Shape], output: Shape) -> tuple[int, int]:
    channels = channels_of(inputs[0])
    return 4 * channels, 2 * channels  # gamma, beta; moving mean and variance


def _dense_params(attrs: Attrs, inputs: Sequence[Shape], output: Shape) -> tuple[int, int]:
    count = channels_of(inputs[0]) * attrs["units"] + attrs["units"]
    return count, count


def _normalization_params(attrs: Attrs, inputs: Sequence[Shape], output: Shape) -> tuple[int, int]:
    # Without a given mean and variance they are weights (to `adapt`), with a sample count.
    channels = channels_of(inputs[0])
    return (0, 0) if attrs["mean"] is not None else (2 * channels + 1, 0)


def _dense_macs(attrs: Attrs, inputs: Sequence[Sized], output: Sized) -> int:
    # Dense acts on the last axis: once per position of a feature map (ConvNeXt's pointwise
    # convs are Dense layers), once for a vector.
    return math.prod(output[:-1]) * inputs[0][-1] * attrs["units"]


def _broadcast_shape(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    # Multiply scales a map by per-channel factors (1x1xC), or two equal maps.
    out: list[int | None] = []
    for sizes in zip(*inputs, strict=False):
        known = set(sizes) - {1}
        if len(known) > 1:
            shown = " and ".join(str(shape) for shape in inputs)
            raise ShapeError(f"its inputs have shapes that do not broadcast: {shown}")
        out.append(known.pop() if known else 1)
    if len({len(shape) for shape in inputs}) > 1:
        raise ShapeError("its inputs have different ranks")
    return tuple(out)


def _concatenated_shape(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    if len({shape[:-1] for shape in inputs}) > 1:
        shown = " and ".join(str(shape) for shape in inputs)
        raise ShapeError(f"its inputs differ in more than their channels: {shown}")
    return (*inputs[0][:-1], sum(channels_of(shape) for shape in inputs))


def _padded_shape(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    (top, bottom), (left, right) = pad_amounts(attrs["padding"])
    h, w, c = inputs[0]
    return (
        None if h is None else h + top + bottom,
        None if w is None else w + left + right,
        c,
    )


def _merged_shape(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    if len(set(inputs)) > 1:
        shown = " and ".join(str(shape) for shape in inputs)
        raise ShapeError(f"its inputs have different shapes: {shown}")
    return inputs[0]


_POOL_KEYWORDS = (Keyword("strides"), Keyword("padding", "valid"))
"""A window pool's keywords: Keras pools default strides to the pool size, so strides are
always written."""


def _pool_text(kind: str, attrs: Attrs) -> str:
    return f"{kind} pool {attrs['size']}x{attrs['size']}/{attrs['strides']}"


def _flat_size(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    sizes = inputs[0]
    return (None if None in sizes else math.prod(size for size in sizes if size is not None),)


def _reshaped(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    # One size may be -1: whatever the input's other values fill (Keras's Reshape rule).
    target = tuple(attrs["target_shape"])
    if None in inputs[0]:  # the size is known only when the model runs, and so is the -1
        return tuple(None if n == -1 else n for n in target)
    size = math.prod(n for n in inputs[0] if n is not None)
    known = math.prod(n for n in target if n != -1)
    fits = size % known == 0 if -1 in target else size == known
    if target.count(-1) > 1 or not fits:
        raise ShapeError(f"cannot reshape {inputs[0]} to {target}")
    return tuple(size // known if n == -1 else n for n in target)


def _global_pool_text(kind: str, attrs: Attrs) -> str:
    return f"global {kind} pool"


def _pooled_shape(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    return (1, 1, inputs[0][-1]) if attrs["keepdims"] else (inputs[0][-1],)


# --- the table ----------------------------------------------------------------------------------

define(Op("input", None, lambda a: "input", shape=lambda a, inputs: tuple(a["shape"])))
define(
    Op(
        "conv2d",
        KerasCall(
            "Conv2D",
            ("filters", "kernel"),
            (
                Keyword("strides", 1),
                Keyword("padding", "valid"),
                Keyword("use_bias", True),
                Keyword("groups", 1),
                Keyword("activation", "linear", optional=True),
                Keyword("kernel_initializer", "glorot_uniform", optional=True),
            ),
        ),
        _conv_text,
        shape=_conv_shape,
        params=_conv_params,
        macs=_conv_macs,
        window=("kernel", "strides", "padding"),
        fold_axes=1,
    )
)
define(
    Op(
        "depthwise_conv2d",
        KerasCall(
            "DepthwiseConv2D",
            ("kernel",),
            (
                Keyword("strides", 1),
                Keyword("padding", "valid"),
                Keyword("depth_multiplier", 1),
                Keyword("use_bias", True),
            ),
        ),
        _depthwise_text,
        shape=_depthwise_shape,
        params=_depthwise_params,
        macs=_depthwise_macs,
        window=("kernel", "strides", "padding"),
        fold_axes=2,
    )
)
define(
    Op(
        "layer_norm",
        KerasCall(
            "LayerNormalization",
            (),
            (Keyword("epsilon", 1e-3), Keyword("gamma_initializer", "ones", optional=True)),
        ),
        lambda a: "LN",
        params=_layer_norm_params,
    )
)
define(
    Op(
        "layer_scale",
        KerasCall("LayerScale", ("init_values", "projection_dim"), module="archspec"),
        lambda a: "layer scale",
        params=lambda a, inputs, output: (channels_of(inputs[0]),) * 2,  # one per channel
    )
)
define(
    Op(
        "stochastic_depth",
        KerasCall("StochasticDepth", ("rate",), module="archspec"),
        lambda a: f"drop path {a['rate']}",
    )
)
define(
    Op(
        "batch_norm",
        KerasCall(
            "BatchNormalization",
            (),
            (
                Keyword("momentum", 0.99),
                Keyword("epsilon", 1e-3),
                Keyword("gamma_initializer", "ones", optional=True),
            ),
        ),
        lambda a: "BN",
        params=_batch_norm_params,
    )
)
ACTIVATION_NAMES = {"relu": "ReLU", "relu6": "ReLU6"}
"""How descriptions name activations, where not by their Keras name."""


def _activation_call(attrs: Attrs) -> KerasCall:
    if attrs["layer"] == "ReLU" and attrs["function"] in ("relu", "relu6"):
        return KerasCall("ReLU", (Const(6.0),) if attrs["function"] == "relu6" else ())
    return KerasCall("Activation", ("function",))


def _activation_text(attrs: Attrs) -> str:
    function: str = attrs["function"]
    return ACTIVATION_NAMES.get(function, function)


define(
    Op(
        "activation",
        _activation_call,
        _activation_text,
        identity_at_inference=lambda a: a["function"] == "linear",
    )
)


def _add_call(attrs: Attrs) -> KerasCall:
    if attrs["layer"] == "operator":
        return KerasCall("add", module="ops")
    return KerasCall("Add")


define(Op("add", _add_call, lambda a: "add", shape=_merged_shape, merges=True, symbol="+"))
define(
    Op(
        "multiply",
        KerasCall("Multiply"),
        lambda a: "multiply",
        shape=_broadcast_shape,
        merges=True,
        symbol="×",
    )
)
define(
    Op(
        "concatenate",
        KerasCall("Concatenate"),
        lambda a: "concatenate",
        shape=_concatenated_shape,
        merges=True,
        symbol="concat",
    )
)
define(
    Op(
        "zero_pad",
        KerasCall("ZeroPadding2D", ("padding",)),
        lambda a: f"zero pad {a['padding']}",
        summarized=False,
        shape=_padded_shape,
    )
)
for _kind in ("max", "avg"):
    define(
        Op(
            f"{_kind}_pool",
            KerasCall(
                "MaxPooling2D" if _kind == "max" else "AveragePooling2D", ("size",), _POOL_KEYWORDS
            ),
            functools.partial(_pool_text, _kind),
            shape=_pool_shape,
            window=("size", "strides", "padding"),
        )
    )
    define(
        Op(
            f"global_{_kind}_pool",
            KerasCall(
                f"Global{'Max' if _kind == 'max' else 'Average'}Pooling2D",
                (),
                (Keyword("keepdims", False),),
            ),
            functools.partial(_global_pool_text, _kind),
            shape=_pooled_shape,
        )
    )
define(Op("flatten", KerasCall("Flatten"), lambda a: "flatten", shape=_flat_size))
define(
    Op(
        "dense",
        KerasCall("Dense", ("units",), (Keyword("activation", "linear"),)),
        lambda a: (
            f"dense {a['units']}" + (f" {a['activation']}" if a["activation"] != "linear" else "")
        ),
        shape=lambda a, inputs: (*inputs[0][:-1], a["units"]),
        params=_dense_params,
        macs=_dense_macs,
    )
)
define(
    Op(
        "dropout",
        KerasCall("Dropout", ("rate",), (Keyword("noise_shape", None),)),
        lambda a: f"dropout {a['rate']}" + (" per sample" if a["noise_shape"] else ""),
        identity_at_inference=True,
    )
)
define(
    Op(
        "reshape",
        KerasCall("Reshape", ("target_shape",)),
        lambda a: "reshape",
        shape=_reshaped,
    )
)

define(
    Op(
        "rescaling",
        KerasCall("Rescaling", ("scale",), (Keyword("offset", 0.0),)),
        lambda a: f"x {a['scale']:.4g}" + (f" {a['offset']:+g}" if a["offset"] else ""),
    )
)
define(
    Op(
        "normalization",
        KerasCall("Normalization", (), (Keyword("mean", None), Keyword("variance", None))),
        lambda a: "normalize" if a["mean"] is not None else "normalize (adaptable)",
        params=_normalization_params,
    )
)
# keras.applications' hard sigmoid, `ReLU(6.0)(x + 3.0) * (1.0 / 6.0)`: tensor arithmetic.
define(Op("add_scalar", KerasCall("add", ("value",), module="ops"), lambda a: f"+ {a['value']:g}"))
define(
    Op(
        "multiply_scalar",
        KerasCall("multiply", ("value",), module="ops"),
        lambda a: f"x {a['value']:.4g}",
    )
)


# --- reading the table --------------------------------------------------------------------------


def keras_call(layer: Layer, written: Collection[str] = ()) -> LayerCall:
    """The Keras call for an IR layer (not the input, which is `keras.Input`).

    A keyword equal to Keras's default is left out unless its attribute is bound to a block
    argument or named in `written`.
    """
    template = op_of(layer.op).call(layer.attrs)
    if template is None:
        raise ValueError(f"op {layer.op!r} has no Keras layer")
    attrs = layer.attrs

    def argument(item: str | Const) -> CallArg:
        return CallArg(item.value) if isinstance(item, Const) else CallArg(attrs[item], item)

    present = [k for k in template.keywords if not (k.optional and k.source not in attrs)]
    kwargs = tuple(
        (keyword.name, CallArg(attrs[keyword.source], keyword.source))
        for keyword in present
        if keyword.default is ALWAYS
        or attrs[keyword.source] != keyword.default
        or keyword.source in layer.bindings
        or keyword.source in written
    )
    args = tuple(argument(item) for item in template.args)
    return LayerCall(template.cls, args, kwargs, template.module)


def keras_layers(graph: Graph) -> list[tuple[str, tuple[Layer, ...]]]:
    """The entries of the Keras model's `model.layers`, in order: (name, the IR layers in it).

    A sequential group is one entry, named after the group; a layer that Keras computes as
    an operation (`keras.ops`) is none; every other layer is an entry of its own.
    """
    entries: list[tuple[str, tuple[Layer, ...]]] = []
    for layer in graph:
        if layer.group is not None:
            if entries and entries[-1][0] == layer.group:
                entries[-1] = (layer.group, (*entries[-1][1], layer))
            else:
                entries.append((layer.group, (layer,)))
        elif layer.is_layer:
            entries.append((layer.name, (layer,)))
    return entries


def describe_layer(layer: Layer) -> str:
    """A short description of a layer: 'conv 3x3/2 64 (no bias)', 'BN', 'ReLU'."""
    return op_of(layer.op).describe(layer.attrs)
