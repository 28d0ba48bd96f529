"""IR -> keras.Model. The only module of archspec that imports Keras.

Stock Keras layers wherever Keras has one, each with the IR's explicit name, and `keras.ops`
functions where the IR says (`x + 3.0` in MobileNetV3's hard sigmoid), so a saved `.keras`
file loads with plain `keras.saving.load_model`. Where Keras has none (ConvNeXt's
layer scale and stochastic depth), the layer classes are defined here, registered as
serializable under the package name 'archspec': a model that uses them loads once this
module is imported (`import archspec.backends.keras`). The code generator copies their source
into generated modules, which therefore stay self-contained.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import keras
import numpy as np

from archspec.inference import InferencePlan
from archspec.ir import Graph, Layer
from archspec.limits import DEFAULT_MAX_LAYERS
from archspec.ops import keras_call, op_of
from archspec.weights import LoadReport, match_layers, read_keras_weights

Precision = Literal["float32", "mixed_float16", "mixed_bfloat16"]


# --- layers Keras does not have -------------------------------------------------------------
# The code generator copies these classes into generated modules, so they keep to what
# generated code keeps to: lines of at most 88 characters, a docstring on every method,
# in the imperative mood (pydocstyle).
# Mutation testing leaves them alone: Keras reads a layer's __init__ signature, which mutmut's
# wrapper hides, and the code generator reads their source text (TESTING.md).
# pragma: no mutate start


@keras.saving.register_keras_serializable(package="archspec")
class LayerScale(keras.layers.Layer):
    """Multiplies each channel by a learned factor (CaiT's layer scale).

    keras.applications' ConvNeXt defines the same layer, with the same arguments and one
    weight of shape (projection_dim,), so weights move between the two with set_weights.
    """

    def __init__(self, init_values: float, projection_dim: int, **kwargs: Any) -> None:
        """Make `projection_dim` factors, each starting at `init_values`."""
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape: Any) -> None:
        """Create the factors, one per channel."""
        self.gamma = self.add_weight(
            shape=(self.projection_dim,),
            name="gamma",  # unnamed, Keras would number it anew in every model
            initializer=keras.initializers.Constant(self.init_values),
            trainable=True,
        )

    def call(self, x: Any) -> Any:
        """Scale the channels."""
        return x * self.gamma

    def get_config(self) -> dict[str, Any]:
        """Return the constructor's arguments, for saving."""
        config: dict[str, Any] = super().get_config()
        config["init_values"] = self.init_values
        config["projection_dim"] = self.projection_dim
        return config


@keras.saving.register_keras_serializable(package="archspec")
class StochasticDepth(keras.layers.Layer):
    """Drop path (Huang et al. 2016): in training, drops whole samples of its input.

    A sample is dropped at `drop_path_rate` and a kept one scaled by 1 / (1 - rate); at
    inference the layer is the identity. keras.applications' ConvNeXt defines the same
    layer, with the same argument, but draws unseeded random numbers, which JAX refuses
    in training; this one draws from a seed generator of its own, as Keras's Dropout
    does (its state is no weight: get_weights() is the same).
    """

    def __init__(self, drop_path_rate: float, seed: int | None = None, **kwargs: Any):
        """Drop samples at `drop_path_rate`, in training; `seed` fixes the draws."""
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x: Any, training: bool | None = None) -> Any:
        """Drop or keep each sample, in training only."""
        if not training:
            return x
        keep = 1 - self.drop_path_rate
        shape = (keras.ops.shape(x)[0],) + (1,) * (len(x.shape) - 1)
        draw = keras.random.uniform(shape, 0, 1, seed=self.seed_generator)
        return (x / keep) * keras.ops.floor(keep + draw)

    def get_config(self) -> dict[str, Any]:
        """Return the constructor's arguments, for saving."""
        config: dict[str, Any] = super().get_config()
        config["drop_path_rate"] = self.drop_path_rate
        config["seed"] = self.seed
        return config


ARCHSPEC_LAYERS: dict[str, type[keras.layers.Layer]] = {
    "LayerScale": LayerScale,
    "StochasticDepth": StochasticDepth,
}
"""The layer classes of the 'archspec' namespace of `archspec.ops.KerasCall`, by name."""


# pragma: no mutate end
# --- building -----------------------------------------------------------------------------------


def build_model(
    graph: Graph, *, precision: Precision = "float32", seed: int | None = None
) -> keras.Model:
    """Build the Keras functional model of a lowered graph.

    With a mixed precision, every layer computes in half precision except the classifier,
    whose output (a softmax, usually) stays float32 for numeric stability. A `seed` makes the
    initial weights reproducible: layers are created in the IR's fixed order, each drawing
    from Keras's seeded global generator. A sequential group becomes a `keras.Sequential`
    of its layers, named after the group.
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    tensors: dict[str, Any] = {}
    group: list[Layer] = []

    def close_group() -> None:
        members = [make_layer(layer, graph, precision) for layer in group]
        sequential = keras.Sequential(members, name=group[0].group)
        tensors[group[-1].name] = sequential(tensors[group[0].inputs[0]])
        group.clear()

    for layer in graph.layers:
        if group and layer.group != group[0].group:
            close_group()
        if layer.op == "input":
            tensors[layer.name] = keras.Input(shape=layer.shape, name=layer.name)
        elif layer.group is not None:
            group.append(layer)
        else:
            tensors[layer.name] = apply(layer, graph, precision, tensors)
    if group:
        close_group()
    with recursion_headroom(graph.recursion_limit):
        return keras.Model(
            inputs=tensors[graph.input.name], outputs=tensors[graph.output], name=graph.name
        )


def make_layer(layer: Layer, graph: Graph, precision: Precision) -> keras.layers.Layer:
    """The Keras layer of an IR layer, named as the IR names it."""
    call = keras_call(layer)
    kwargs = {key: arg.value for key, arg in call.kwargs}
    if precision != "float32":
        kwargs["dtype"] = "float32" if layer.name == graph.output else precision
    if call.module == "archspec":
        layer_class = ARCHSPEC_LAYERS[call.cls]
    else:
        layer_class = getattr(keras.layers, call.cls)
    return layer_class(*(arg.value for arg in call.args), name=layer.name, **kwargs)


def apply(layer: Layer, graph: Graph, precision: Precision, tensors: dict[str, Any]) -> Any:
    """The output of an IR layer (not in a group), its inputs taken from `tensors`."""
    inputs: Sequence[Any] = [tensors[name] for name in layer.inputs]
    call = keras_call(layer)
    if call.module == "ops":  # a function on tensors: a node, not a layer, so no name
        operation = getattr(keras.ops, call.cls)
        kwargs = {key: arg.value for key, arg in call.kwargs}
        return operation(*inputs, *(arg.value for arg in call.args), **kwargs)
    instance = make_layer(layer, graph, precision)
    return instance(inputs if len(inputs) > 1 else inputs[0])


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


# --- inference: folding BatchNormalization into the conv before it ---------------------------


def folded_weights(conv: keras.layers.Layer, norm: keras.layers.Layer, axes: int) -> list[Any]:
    """The kernel and bias of `conv` followed by `norm` (at inference) as one layer.

    `axes` trailing axes of the kernel index the output channels (the op table's
    `fold_axes`). Computed in float64, rounded to float32 once.
    """
    if norm.axis not in (-1, len(norm.input.shape) - 1):
        raise ValueError(f"{norm.name}: only a BatchNormalization over channels folds in")
    kernel = keras.ops.convert_to_numpy(conv.kernel).astype(np.float64)
    channels = int(np.prod(kernel.shape[-axes:]))
    bias = (
        keras.ops.convert_to_numpy(conv.bias).astype(np.float64)
        if conv.use_bias
        else np.zeros(channels)
    )

    def value(variable: Any, default: float) -> Any:
        if variable is None:  # scale=False or center=False
            return np.full(channels, default)
        return keras.ops.convert_to_numpy(variable).astype(np.float64)

    gamma, beta = value(norm.gamma, 1.0), value(norm.beta, 0.0)
    mean, variance = value(norm.moving_mean, 0.0), value(norm.moving_variance, 1.0)
    scale = gamma / np.sqrt(variance + norm.epsilon)
    new_kernel = kernel * scale.reshape(kernel.shape[-axes:])
    new_bias = (bias - mean) * scale + beta
    return [new_kernel.astype(np.float32), new_bias.astype(np.float32)]


def fold_model(
    model: keras.Model, plan: InferencePlan, *, precision: Precision = "float32"
) -> keras.Model:
    """The inference model of `plan`, its weights computed from `model` (the training model).

    `model` is `plan.training` built (its weights trained or loaded, or initial); the result
    computes the same outputs as `model` in inference mode, within float32 rounding. Every
    other layer's weights are copied by name.
    """
    inference = build_model(plan.graph, precision=precision)
    norm_of = {fold.conv: fold.norm for fold in plan.folds}
    for target in inference.layers:
        if not target.weights:
            continue
        source = model.get_layer(target.name)
        if target.name in norm_of:
            axes = op_of(plan.graph[target.name].op).fold_axes
            norm = model.get_layer(norm_of[target.name])
            target.set_weights(folded_weights(source, norm, axes))
        else:
            target.set_weights(source.get_weights())
    return inference


# --- export: through Keras's own exporters ----------------------------------------------------

ExportFormat = Literal["savedmodel", "onnx", "tflite"]
KERAS_EXPORT_FORMATS: dict[str, str] = {"savedmodel": "tf_saved_model", "tflite": "litert"}
"""archspec's format names -> `keras.Model.export`'s (TFLite's converter ships with
TensorFlow); ONNX goes through tf2onnx (see `_export_onnx`)."""


def export_model(model: keras.Model, path: str | Path, export_format: ExportFormat) -> None:
    """Write the model's forward pass (in inference mode) to `path` in a serving format.

    A SavedModel is a folder; ONNX and TFLite are files (Keras's TFLite export wants the
    name to end in .tflite). Every format takes any batch size. The model must compute in
    float32 (ONNX asks for it), and the backend must be TensorFlow, which every format here
    converts from.
    """
    if backend_name() != "tensorflow":
        raise NotImplementedError(
            f"export runs on the TensorFlow backend, not {backend_name()} (unset KERAS_BACKEND)"
        )
    with _quiet_converters():
        if export_format == "onnx":
            _export_onnx(model, Path(path))
        else:
            # The model's own input as the signature: any batch size, no call needed first.
            model.export(
                str(path),
                format=KERAS_EXPORT_FORMATS[export_format],
                verbose=False,
                input_signature=[model.inputs[0]],
            )


def _export_onnx(model: keras.Model, path: Path) -> None:
    """ONNX through tf2onnx, from the model's inference function with every weight frozen.

    Keras's own ONNX export hands tf2onnx the traced function as it is, and tf2onnx then
    makes every tensor the function captures that is not a variable into a graph input:
    the mean and variance a Normalization layer holds (keras.applications' EfficientNetB0
    exported by Keras has three inputs, two of which nothing feeds). Freezing first turns
    weights and such tensors alike into constants; the file's graph is named after the model,
    its input is `input`, its output `output`.
    """
    import tensorflow as tf
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    given = model.inputs[0]
    spec = tf.TensorSpec(given.shape, given.dtype, name="input")
    function = tf.function(lambda images: model(images, training=False))
    frozen = convert_variables_to_constants_v2(function.get_concrete_function(spec))
    (images,), (scores,) = frozen.inputs, frozen.outputs
    proto, _ = tf2onnx.convert.from_graph_def(
        frozen.graph.as_graph_def(),
        name=model.name,
        input_names=[images.name],
        output_names=[scores.name],
        tensors_to_rename={images.name: "input", scores.name: "output"},
    )
    proto.graph.name = model.name  # tf2onnx names every graph "tf2onnx"
    path.write_bytes(proto.SerializeToString())


@contextlib.contextmanager
def _quiet_converters() -> Iterator[None]:
    """Keep tf2onnx's and TensorFlow's INFO and WARNING logs off the terminal while exporting."""
    import logging

    loggers = [logging.getLogger(name) for name in ("tf2onnx", "tensorflow", "absl")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


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
