"""IR layer -> the Keras layer call that implements it, as data. No framework imported.

Both backends read this one table: the Keras backend calls `keras.layers.<cls>(...)` with the
values, the Python backend writes the same call as source. Arguments equal to Keras's own
defaults are left out (unless a block argument is bound to them), so generated code reads
like hand-written code and both backends construct identical layers.
"""

from __future__ import annotations

from dataclasses import dataclass

from archspec.ir import Layer


@dataclass(frozen=True, slots=True)
class CallArg:
    """One argument of a layer call: its value, and the IR attribute it comes from."""

    value: object
    attr: str | None = None


@dataclass(frozen=True, slots=True)
class LayerCall:
    """`keras.layers.<cls>(*args, **kwargs, name=...)`."""

    cls: str
    args: tuple[CallArg, ...] = ()
    kwargs: tuple[tuple[str, CallArg], ...] = ()


def layer_call(layer: Layer) -> LayerCall:
    """The Keras layer call for an IR layer (not the input, which is `keras.Input`)."""
    a = layer.attrs
    op = layer.op

    def attr(name: str) -> CallArg:
        return CallArg(a[name], name)

    def optional(keyword: str, name: str, default: object) -> tuple[tuple[str, CallArg], ...]:
        if a[name] == default and name not in layer.bindings:
            return ()
        return ((keyword, attr(name)),)

    if op == "conv2d":
        return LayerCall(
            "Conv2D",
            (attr("filters"), attr("kernel")),
            optional("strides", "strides", 1)
            + optional("padding", "padding", "valid")
            + optional("use_bias", "use_bias", True)
            + optional("groups", "groups", 1),
        )
    if op == "batch_norm":
        return LayerCall(
            "BatchNormalization",
            (),
            optional("momentum", "momentum", 0.99) + optional("epsilon", "epsilon", 1e-3),
        )
    if op == "relu":
        if a["layer"] == "Activation":
            return LayerCall("Activation", (CallArg("relu"),))
        return LayerCall("ReLU")
    if op in ("max_pool", "avg_pool"):
        cls = "MaxPooling2D" if op == "max_pool" else "AveragePooling2D"
        # Keras pools default strides to the pool size, so strides are always written.
        return LayerCall(
            cls,
            (attr("size"),),
            (("strides", attr("strides")), *optional("padding", "padding", "valid")),
        )
    if op == "zero_pad":
        return LayerCall("ZeroPadding2D", (attr("padding"),))
    if op == "dense":
        return LayerCall("Dense", (attr("units"),), optional("activation", "activation", "linear"))
    if op == "dropout":
        return LayerCall("Dropout", (attr("rate"),))
    simple = {
        "add": "Add",
        "flatten": "Flatten",
        "global_avg_pool": "GlobalAveragePooling2D",
        "global_max_pool": "GlobalMaxPooling2D",
    }
    if op in simple:
        return LayerCall(simple[op])
    raise ValueError(f"no Keras layer for op {op!r}")
