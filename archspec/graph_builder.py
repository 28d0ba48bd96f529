"""Accumulating the IR: layers whose figures come from the op table, and located diagnostics.

`GraphBuilder` appends layers in creation order, computing each one's shape, parameters and
MACs from `archspec.ops`, and records every error and warning at the spec field being lowered.
It also applies the spec's network-wide conventions to the common layers (padding style, BN
settings, the ReLU class), so stems, heads and blocks get them the same way.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Iterator, Mapping
from typing import Any, cast

from archspec.errors import Diagnosed, Diagnostic, Severity, format_path
from archspec.io import FieldPath, SourceMap
from archspec.ir import Binding, Block, Layer, StageInfo, frozen_mapping
from archspec.ops import Pads, Shape, ShapeError, Sized, op_of, window_output
from archspec.spec import Spec
from archspec.warning_codes import WARNING_CODES


def correct_pad(shape: Shape, kernel: int) -> Pads:
    """keras.applications' `imagenet_utils.correct_pad`: ((top, bottom), (left, right)).

    Before a strided 'valid' window: kernel // 2 zeros on each side, one fewer at the top
    (left) where the height (width) is even. Like Keras, an unknown height counts as even for
    both axes.
    """
    height, width = shape[:2]
    adjust = (1, 1) if height is None else (1 - height % 2, 1 - (width or 0) % 2)
    half = kernel // 2
    return (half - adjust[0], half), (half - adjust[1], half)


def _suffixed(meta: Mapping[str, Any], suffix: str) -> dict[str, Any]:
    """Block fields of a layer that is part of another: its local name gets `suffix`."""
    return {**meta, "local": f"{meta['local']}_{suffix}"} if meta.get("local") else dict(meta)


class Stop(Exception):
    """Lowering cannot go on; the reason is already in the diagnostics."""


def _collapse_hint(padding: str, extent: int, stride: int) -> str:
    """Why a collapsing stride is refused, and what to change."""
    if padding == "same":
        why = (
            f"with 'same' padding Keras would not fail: it rounds {extent}/{stride} up to "
            f"{math.ceil(extent / stride)}, so the stride does nothing and later layers see a "
            "map of almost no pixels; archspec refuses that instead of building it silently"
        )
    else:
        why = "Keras would fail to build it: the window is larger than the map"
    return f"{why}. Use a larger input, or fewer or smaller strides before this layer"


class GraphBuilder(Diagnosed):
    """Accumulates layers, computing each one's shape, parameters and MACs as it is added."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.source: SourceMap | None = spec._source
        self.layers: list[Layer] = []
        self.shapes: dict[str, Shape] = {}
        self.sized: dict[str, Sized] = {}
        """Each layer's shape with every size known (at the nominal input size)."""
        self.variable = False
        """Whether the input's height or width is left open (None)."""
        self.functions: set[str] = set()
        """The activation functions used so far (for the checks of settings that need one)."""
        self.blocks: list[Block] = []
        self.stages: list[StageInfo] = []
        self.diagnostics: list[Diagnostic] = []
        self.params = 0
        self.activation_values = 0
        self.scope = "stem"
        self.path: FieldPath = ()
        self.group: str | None = None
        """The sequential group layers are added to now (see `sequential`)."""
        self.grouped: set[str] = set()
        """Layers inside a closed group but not its last: nothing else may read them."""

    # --- diagnostics ----------------------------------------------------------------------

    def report(
        self,
        path: FieldPath,
        message: str,
        *,
        hint: str | None = None,
        severity: Severity = "error",
        code: str = "semantic",
        key: bool = False,
    ) -> None:
        """Record a diagnostic located at `path` in the spec's file.

        A warning's code must be one of `WARNING_CODES`: it is what users silence it by.
        """
        if severity == "warning" and code not in WARNING_CODES:
            raise ValueError(f"warning code {code!r} is not in archspec.warning_codes")
        location = self.source.locate(path, key=key) if self.source else None
        self.diagnostics.append(
            Diagnostic(
                message,
                path=format_path(path),
                location=location,
                hint=hint,
                severity=severity,
                code=code,
            )
        )

    def fail(self, path: FieldPath, message: str, *, hint: str, code: str) -> Stop:
        """Record an error that stops lowering; raise what this returns."""
        self.report(path, message, hint=hint, code=code)
        return Stop()

    def warn_once(self, message: str, *, hint: str, code: str) -> None:
        """A warning at the current path, unless that path already has one of this code."""
        path = format_path(self.path)
        if not any(d.code == code and d.path == path for d in self.diagnostics):
            self.report(self.path, message, hint=hint, severity="warning", code=code)

    def totals(self) -> tuple[int, int, int]:
        """(parameters, activation values, layers) so far."""
        return self.params, self.activation_values, len(self.layers)

    # --- layers ---------------------------------------------------------------------------

    def add(
        self,
        name: str,
        op: str,
        inputs: tuple[str, ...],
        attrs: Mapping[str, Any],
        *,
        unpadded: str | None = None,
        block: str | None = None,
        local: str = "",
        branch: str = "main",
        bindings: Mapping[str, Binding] | None = None,
    ) -> str:
        """Append a layer; its shape, parameters and MACs come from the op table.

        `unpadded` names the layer before explicit padding of a window op's input: the
        window's fit is judged on that image, not on the padded one. Where shapes hold None
        (an input of any size), the same is worked out at the nominal size too, for the MACs.
        """
        definition = op_of(op)
        if self.grouped.intersection(inputs):
            raise AssertionError(f"{name} reads a layer inside a sequential group")
        input_shapes = [self.shapes[source] for source in inputs]
        sized_inputs = [self.sized[source] for source in inputs]
        if definition.window is not None:
            size, strides, padding = (attrs[key] for key in definition.window)
            extent = self.sized[unpadded or inputs[0]]
            self.check_window(name, sized_inputs[0], extent, size, strides, padding)
        try:
            shape = definition.shape(attrs, input_shapes)
            sized = cast(Sized, definition.shape(attrs, sized_inputs) if self.variable else shape)
            params, trainable = definition.params(attrs, input_shapes, shape)
        except ShapeError as exc:
            raise self.fail(
                self.path,
                f"{name}: {exc}",
                hint=exc.hint or "use 'same' padding or sizes the strides divide evenly",
                code="shape-mismatch",
            ) from None
        layer = Layer(
            name=name,
            op=op,
            inputs=inputs,
            attrs=frozen_mapping(attrs),
            shape=shape,
            params=params,
            trainable_params=trainable,
            macs=definition.macs(attrs, sized_inputs, sized),
            scope=self.scope,
            block=block,
            local=local or name,
            branch=branch,
            bindings=frozen_mapping(bindings),
            nominal=sized if sized != shape else None,
            is_layer=definition.is_layer(attrs),
            group=self.group,
        )
        return self.append(layer, sized)

    def input(self, name: str, shape: Shape, nominal: Sized) -> str:
        """The input layer; `nominal` is its shape at the nominal size where `shape` has None."""
        self.variable = None in shape
        layer = Layer(
            name=name,
            op="input",
            inputs=(),
            attrs=frozen_mapping({"shape": shape}),
            shape=shape,
            params=0,
            trainable_params=0,
            macs=0,
            scope=self.scope,
            nominal=nominal if self.variable else None,
        )
        return self.append(layer, nominal)

    def append(self, layer: Layer, sized: Sized) -> str:
        """Record a layer and its shape with every size known."""
        self.layers.append(layer)
        self.shapes[layer.name] = layer.shape
        self.sized[layer.name] = sized
        self.params += layer.params
        self.activation_values += layer.activation_values
        return layer.name

    def check_window(
        self,
        name: str,
        shape: tuple[int, ...],
        unpadded: tuple[int, ...],
        size: int,
        stride: int,
        padding: str,
    ) -> None:
        """Stop if a window op would shrink the image below 1; warn if a stride is uneven.

        'same' rounds up, so Keras would silently keep a 1x1 map at 1x1 under any stride: that
        is reported as the collapse it is, and a stride that does not divide the size evenly
        is a warning. Both are judged on the `unpadded` size, before any explicit padding.
        """
        for axis, padded, extent in zip(("height", "width"), shape[:2], unpadded[:2], strict=True):
            window = padded if padding == "same" else padded - size + 1
            if window < 1 or (stride > 1 and extent < stride):
                raise self.fail(
                    self.path,
                    f"{name}: the {axis} is {extent} here, too small for a {size}x{size} window "
                    f"with stride {stride}",
                    hint=_collapse_hint(padding, extent, stride),
                    code="collapse",
                )
            if stride > 1 and extent % stride:
                # Padding before a 'valid' window can make it round up, as 'same' does.
                out = window_output(padded, size, stride, padding) or 0
                self.warn_once(
                    f"the {axis} {extent} is not divisible by the stride {stride}; "
                    f"{name} rounds it {'up' if out * stride > extent else 'down'}",
                    hint="sizes that divide evenly keep every pixel and both branches aligned",
                    code="uneven-stride",
                )

    @contextlib.contextmanager
    def sequential(self, group: str) -> Iterator[None]:
        """Layers added in this context form the sequential group `group` (`Layer.group`).

        Each must read the one before it, and nothing after the group may read any but its
        last: a backend wraps them as one module (keras.Sequential) with one input and output.
        """
        if group in self.shapes or any(layer.group == group for layer in self.layers):
            raise AssertionError(f"the group name {group!r} is taken")
        first = len(self.layers)
        self.group = group
        try:
            yield
        finally:
            self.group = None
        members = self.layers[first:]
        for before, layer in itertools.pairwise(members):
            if layer.inputs != (before.name,):
                raise AssertionError(f"{layer.name} does not read {before.name} in {group}")
        self.grouped.update(layer.name for layer in members[:-1])

    # --- common layers in the spec's conventions ------------------------------------------

    def window_input(
        self,
        x: str,
        size: int,
        stride: int,
        pad_name: str,
        pad_meta: Mapping[str, Any] | None,
        style: str | None = None,
    ) -> tuple[str, str, str | None]:
        """The input of a conv or pool in a padding style: (input, Keras padding, unpadded).

        `style` is the spec's `conv.padding` unless given:
        - 'same' leaves the input as it is: Keras's 'same', which on a strided window pads
          bottom and right first (only bottom and right on an even size with stride 2);
        - 'explicit' pads size // 2 zeros on every side first (a layer named `pad_name`), then
          the window is 'valid': symmetric, as keras.applications' ResNets pad;
        - 'torch' is PyTorch's symmetric (size - 1) // 2 on every side. An unstrided window is
          'same' (Keras pads an odd window symmetrically then, and the layer count stays
          down); a strided one is padded like 'explicit';
        - 'correct_pad' pads only strided windows, by keras.applications' `correct_pad`
          (MobileNets, EfficientNet): one zero fewer at the top and left when the size is even
          or unknown; unstrided windows are 'same'.
        - 'strided_bottom_right' leaves unstrided windows 'same'; before a strided one it pads
          the zeros 'same' would add to a size the stride divides, size - stride in all, the
          larger half at the bottom and right, then the window is 'valid': keras.applications'
          MobileNet, ((0, 1), (0, 1)) before a 3x3/2 depthwise conv, whatever the size.
        A 1x1 window pads nothing in any style. `unpadded` is the layer before the padding, if
        any, for the window's checks.
        """
        style = style or self.spec.conv.padding
        if style == "correct_pad" and stride > 1 and size > 1:
            pads = correct_pad(self.shapes[x], size)
            return self.zero_pad(pad_name, x, pads, **(pad_meta or {})), "valid", x
        if style == "strided_bottom_right":
            if stride == 1:
                return x, "same", None
            total = max(size - stride, 0)
            if total == 0:
                return x, "valid", None
            pads = ((total // 2, total - total // 2),) * 2
            return self.zero_pad(pad_name, x, pads, **(pad_meta or {})), "valid", x
        if style in ("same", "correct_pad") or (style == "torch" and stride == 1 and size > 1):
            return x, "same", None
        if size == 1:
            return x, "valid", None
        return self.zero_pad(pad_name, x, size // 2, **(pad_meta or {})), "valid", x

    def zero_pad(self, name: str, x: str, pad: int | Pads, **meta: Any) -> str:
        """ZeroPadding2D: `pad` zeros on every side, or ((top, bottom), (left, right))."""
        return self.add(name, "zero_pad", (x,), {"padding": pad}, **meta)

    def conv(
        self,
        name: str,
        x: str,
        filters: int,
        kernel: int,
        stride: int,
        *,
        bias: bool,
        groups: int = 1,
        activation: str = "linear",
        kernel_initializer: str | None = None,
        style: str | None = None,
        pad_meta: Mapping[str, Any] | None = None,
        **meta: Any,
    ) -> str:
        """Conv2D in a padding style (the spec's `conv.padding` unless given).

        A pad layer is named like the conv, 'pad' for 'conv'. `activation` (other than
        'linear') and `kernel_initializer` become attributes only where given, so every other
        conv's attributes, and its generated call, stay as they were.

        An even kernel is only taken where it needs no padding, a kernel no larger than its
        stride (ConvNeXt's 4x4/4 patchify stem, 2x2/2 downsampling): it is 'valid' in every
        style. A larger one would pad asymmetrically; the spec's checks refuse it earlier.
        """
        if kernel % 2 == 0:
            if kernel > stride:
                raise AssertionError(f"{name}: an even kernel larger than its stride")
            x, padding, unpadded = x, "valid", None
        else:
            head, _, tail = name.rpartition("conv")
            pad_name = f"{head}pad{tail}"
            x, padding, unpadded = self.window_input(x, kernel, stride, pad_name, pad_meta, style)
        attrs: dict[str, Any] = {
            "filters": filters,
            "kernel": kernel,
            "strides": stride,
            "padding": padding,
            "use_bias": bias,
            "groups": groups,
        }
        if activation != "linear":
            attrs["activation"] = activation
        if kernel_initializer is not None:
            attrs["kernel_initializer"] = kernel_initializer
        return self.add(name, "conv2d", (x,), attrs, unpadded=unpadded, **meta)

    def depthwise_conv(
        self,
        name: str,
        x: str,
        kernel: int,
        stride: int,
        *,
        bias: bool,
        depth_multiplier: int = 1,
        pad_meta: Mapping[str, Any] | None = None,
        **meta: Any,
    ) -> str:
        """DepthwiseConv2D (one filter per channel) in the spec's padding style, like `conv`."""
        head, _, tail = name.rpartition("conv")
        x, padding, unpadded = self.window_input(x, kernel, stride, f"{head}pad{tail}", pad_meta)
        attrs = {
            "kernel": kernel,
            "strides": stride,
            "padding": padding,
            "depth_multiplier": depth_multiplier,
            "use_bias": bias,
        }
        return self.add(name, "depthwise_conv2d", (x,), attrs, unpadded=unpadded, **meta)

    def norm(self, name: str, x: str, *, zero_init: bool = False, **meta: Any) -> str:
        """The spec's normalization: BatchNormalization, or LayerNormalization over channels.

        `zero_init` starts the scale at zero (an initializer attribute, shown in the code).
        """
        norm = self.spec.norm
        initial = {"gamma_initializer": "zeros"} if zero_init else {}
        if norm.kind == "layer":
            attrs = {"epsilon": norm.epsilon, **initial}
            return self.add(name, "layer_norm", (x,), attrs, **meta)
        attrs = {"epsilon": norm.epsilon, "momentum": norm.momentum, **initial}
        return self.add(name, "batch_norm", (x,), attrs, **meta)

    def sum(self, name: str, inputs: tuple[str, ...], **meta: Any) -> str:
        """The element-wise sum of `inputs`, an Add layer or the + operator (`keras.add_layer`)."""
        return self.add(name, "add", inputs, {"layer": self.spec.keras.add_layer}, **meta)

    def activation(self, name: str, x: str, function: str, **meta: Any) -> str:
        """An activation layer; ReLU (and ReLU6) in the layer class the spec asks for.

        hard_sigmoid in the form `keras.hard_sigmoid` asks for: one layer, or three nodes.
        """
        self.functions.add(function)
        if function == "hard_sigmoid" and self.spec.keras.hard_sigmoid == "ReLU6":
            # keras.applications MobileNetV3: ReLU(6.0)(x + 3.0) * (1.0 / 6.0).
            x = self.add(
                f"{name}_shift", "add_scalar", (x,), {"value": 3.0}, **_suffixed(meta, "shift")
            )
            relu6 = {"function": "relu6", "layer": "ReLU"}
            x = self.add(f"{name}_relu6", "activation", (x,), relu6, **_suffixed(meta, "relu6"))
            return self.add(name, "multiply_scalar", (x,), {"value": 1.0 / 6.0}, **meta)
        relu = function in ("relu", "relu6")
        layer = self.spec.keras.relu_layer if relu else "Activation"
        return self.add(name, "activation", (x,), {"function": function, "layer": layer}, **meta)

    def act(self, name: str, x: str, **meta: Any) -> str:
        """The network's activation (`activation` of the spec)."""
        return self.activation(name, x, self.spec.activation, **meta)

    def pool(
        self,
        name: str,
        x: str,
        kind: str,
        size: int,
        stride: int,
        style: str | None = None,
        **meta: Any,
    ) -> str:
        """MaxPooling2D or AveragePooling2D in a padding style (as `window_input`).

        'torch' follows PyTorch's pools. Its average pool counts padded zeros (PyTorch's
        count_include_pad), so it always pads explicitly; Keras's 'same' would not count them.
        Its max pool pads with -inf, so a padded value never wins: a strided one is a stride-1
        'same' pool named `<name>_window` (Keras ignores padded positions there, and pads an
        odd window symmetrically) followed by MaxPooling2D(1, stride), which keeps every
        stride-th window: PyTorch's windows exactly, whatever the input's sign. (ZeroPadding2D
        then a 'valid' pool, the 'explicit' style, equals it only on inputs that are never
        negative, such as a ReLU's output.)
        """
        style = style or self.spec.conv.padding
        if style == "torch" and kind == "max" and stride > 1 and size > 1:
            window = {"size": size, "strides": 1, "padding": "same"}
            x = self.add(f"{name}_window", "max_pool", (x,), window, **meta)
            size = 1
        elif style == "torch" and kind == "avg":
            style = "explicit"
        x, padding, unpadded = self.window_input(x, size, stride, f"{name}_pad", meta, style)
        attrs = {"size": size, "strides": stride, "padding": padding}
        return self.add(name, f"{kind}_pool", (x,), attrs, unpadded=unpadded, **meta)

    def dense(self, name: str, x: str, units: int, activation: str, **meta: Any) -> str:
        """Dense on the last axis."""
        return self.add(name, "dense", (x,), {"units": units, "activation": activation}, **meta)

    def global_pool(self, name: str, x: str, kind: str, *, keepdims: bool = False) -> str:
        """Global average or max pooling; `keepdims` keeps a 1x1 map."""
        return self.add(name, f"global_{kind}_pool", (x,), {"keepdims": keepdims})
