"""IR -> keras.Model. The only module of archspec that imports Keras.

Stock Keras layers only, each with the IR's explicit name, so a saved `.keras` file loads with
plain `keras.saving.load_model` and no archspec installed.
"""

from __future__ import annotations

from typing import Literal

import keras

from archspec.backends.calls import layer_call
from archspec.ir import Graph

Precision = Literal["float32", "mixed_float16", "mixed_bfloat16"]


def build_model(
    graph: Graph, *, precision: Precision = "float32", seed: int | None = None
) -> keras.Model:
    """Build the Keras functional model of a lowered graph.

    With a mixed precision, every layer computes in half precision except the classifier,
    whose output (a softmax, usually) stays float32 for numeric stability. A `seed` makes the
    initial weights reproducible: layers are created in the IR's fixed order, each drawing
    from Keras's seeded global generator.
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    tensors: dict[str, keras.KerasTensor] = {}
    for layer in graph.layers:
        if layer.op == "input":
            tensors[layer.name] = keras.Input(shape=layer.shape, name=layer.name)
            continue
        call = layer_call(layer)
        kwargs = {key: arg.value for key, arg in call.kwargs}
        if precision != "float32":
            kwargs["dtype"] = "float32" if layer.name == graph.output else precision
        instance = getattr(keras.layers, call.cls)(
            *(arg.value for arg in call.args), name=layer.name, **kwargs
        )
        inputs = [tensors[name] for name in layer.inputs]
        tensors[layer.name] = instance(inputs if len(inputs) > 1 else inputs[0])
    return keras.Model(
        inputs=tensors[graph.input.name], outputs=tensors[graph.output], name=graph.name
    )
