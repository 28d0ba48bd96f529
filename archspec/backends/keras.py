"""IR -> keras.Model. The only module of archspec that imports Keras.

Stock Keras layers only, each with the IR's explicit name, and `keras.ops` functions where the
IR says (`x + 3.0` in MobileNetV3's hard sigmoid), so a saved `.keras` file loads with plain
`keras.saving.load_model` and no archspec installed.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import keras

from archspec.ir import Graph
from archspec.limits import DEFAULT_MAX_LAYERS
from archspec.ops import keras_call
from archspec.weights import LoadReport, match_layers, read_keras_weights

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
        call = keras_call(layer)
        args = [arg.value for arg in call.args]
        kwargs = {key: arg.value for key, arg in call.kwargs}
        inputs = [tensors[name] for name in layer.inputs]
        if call.module == "ops":  # a function on tensors: a node, not a layer, so no name
            tensors[layer.name] = getattr(keras.ops, call.cls)(*inputs, *args, **kwargs)
            continue
        if precision != "float32":
            kwargs["dtype"] = "float32" if layer.name == graph.output else precision
        instance = getattr(keras.layers, call.cls)(*args, name=layer.name, **kwargs)
        tensors[layer.name] = instance(inputs if len(inputs) > 1 else inputs[0])
    with recursion_headroom(graph.recursion_limit):
        return keras.Model(
            inputs=tensors[graph.input.name], outputs=tensors[graph.output], name=graph.name
        )


LOAD_RECURSION_LIMIT = 1000 + 2 * DEFAULT_MAX_LAYERS
"""Enough for any model the default layer budget admits, whatever its shape."""


def load_model(path: str | Path) -> keras.Model:
    """`keras.saving.load_model`, with the recursion headroom a deep model needs.

    Keras maps a loaded functional model recursively too, so a model deeper than about 900
    layers on its longest path loads only under a raised recursion limit. Importing this
    module also registers archspec's own layers, so files that use them load.
    """
    with recursion_headroom(LOAD_RECURSION_LIMIT):
        return keras.saving.load_model(path)


@contextlib.contextmanager
def recursion_headroom(limit: int) -> Iterator[None]:
    """Raise Python's recursion limit to at least `limit` while Keras maps a deep graph.

    Keras walks a functional model's graph recursively, one call per layer on its longest
    path, so past about 900 layers (keras.applications never goes past 566; ResNet-1001 has
    over 3,000) Python's default limit of 1,000 stops it. Building needs this, and so does
    `keras.saving.load_model` of a saved deep model (wrap the call in it); saving, running
    and training do not.
    """
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


# --- weights by layer name ---------------------------------------------------------------------


def weight_shapes(model: keras.Model) -> dict[str, list[tuple[int, ...]]]:
    """Each layer with weights: the shapes of its weights, in `get_weights()` order."""
    return {
        layer.name: [tuple(weight.shape) for weight in layer.weights]
        for layer in model.layers
        if layer.weights
    }


def assign_weights(model: keras.Model, weights: Mapping[str, Sequence[Any]]) -> None:
    """Set the weights of the named layers (each a list in `get_weights()` order)."""
    for name, arrays in weights.items():
        model.get_layer(name).set_weights(list(arrays))


def load_weights(model: keras.Model, path: str | Path) -> LoadReport:
    """Load a `.weights.h5` or `.keras` file into `model` by layer name; say what loaded.

    Every layer whose name the file has, with weights of the same shapes, gets the file's
    weights; the others keep theirs and are reported (missing, mismatched), as are the file's
    layers the model lacks (unused). A spec changed from the file's (other classes, one more
    stage, another width) so loads everything its changes left alone.
    """
    assign, report = match_layers(weight_shapes(model), read_keras_weights(path))
    assign_weights(model, assign)
    return report


# --- running: devices, distribution, timed steps ----------------------------------------------


def backend_name() -> str:
    """The Keras backend in use: 'tensorflow', 'jax' or 'torch'."""
    return keras.backend.backend()


def device_description() -> str:
    """The device models run on by default, as the backend names it."""
    backend = backend_name()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        return f"{len(gpus)} x GPU ({gpus[0].name})" if gpus else "CPU"
    if backend == "jax":
        import jax

        devices = jax.devices()
        return f"{len(devices)} x {devices[0].platform.upper()} ({devices[0].device_kind})"
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return f"{torch.cuda.device_count()} x GPU ({torch.cuda.get_device_name(0)})"
        return "CPU"
    return "unknown"


@contextlib.contextmanager
def data_parallel() -> Iterator[int]:
    """Build and compile inside this to train data-parallel on every visible device.

    TensorFlow: tf.distribute.MirroredStrategy. JAX: keras.distribution.DataParallel. Yields
    the number of replicas.
    """
    backend = backend_name()
    if backend == "tensorflow":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy()
        with strategy.scope():
            yield strategy.num_replicas_in_sync
    elif backend == "jax":
        distribution = keras.distribution.DataParallel()
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(distribution)
        try:
            yield len(distribution.device_mesh.devices.flatten())
        finally:
            keras.distribution.set_distribution(previous)
    else:
        raise NotImplementedError(f"data-parallel benchmarks are not supported on {backend}")


def compile_for_training(model: keras.Model, *, jit: bool | None) -> None:
    """SGD with momentum on sparse categorical cross-entropy (the anchors' harness).

    `jit` None keeps the backend's default (XLA on JAX, graph mode on TensorFlow).
    """
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        jit_compile="auto" if jit is None else jit,
    )


def synthetic_batch(
    model: keras.Model,
    batch_size: int,
    seed: int = 0,
    image_shape: tuple[int, ...] | None = None,
) -> tuple[Any, Any]:
    """Random images and labels, created on the device as backend tensors.

    `image_shape` is needed for a model that takes any size (the graph's nominal one).
    """
    shape = (batch_size, *(image_shape or model.input_shape[1:]))
    generator = keras.random.SeedGenerator(seed)
    images = keras.random.uniform(shape, seed=generator)
    classes = model.output_shape[-1]
    labels = keras.random.randint((batch_size,), 0, max(classes, 1), seed=generator)
    return images, labels


def timed_steps(step: Callable[[], object], count: int) -> float:
    """Seconds for `count` calls of `step`; each call returns host values, so it has finished."""
    start = time.perf_counter()
    for _ in range(count):
        step()
    return time.perf_counter() - start


def train_step(model: keras.Model, images: Any, labels: Any) -> Callable[[], object]:
    """One optimizer step on the batch."""
    return lambda: model.train_on_batch(images, labels)


def inference_step(model: keras.Model, images: Any) -> Callable[[], object]:
    """One forward pass on the batch."""
    return lambda: model.predict_on_batch(images)
