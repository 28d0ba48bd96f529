"""PyTorch weights for archspec models, without a framework: name maps, layouts, reading files.

A name map says, for every layer of an archspec graph that holds weights, which tensors of a
PyTorch state dict its Keras weights come from, in Keras's `get_weights()` order, and in which
layout. It is derived from the IR's layer names (`stage2_block1_conv2`, `stem_bn`), so it covers
every spec of a family's layout, not one preset:

- `torchvision`: torchvision's ResNets (`conv1`, `bn1`, `layer1.0.conv1`, `layer1.0.downsample.0`,
  `fc`), which ResNeXt and wide ResNets share;
- `timm`: timm's ResNets (torchvision's names, plus the deep stem `conv1.0`/`conv1.1`/...,
  average-pool shortcuts `downsample.1`/`.2` and squeeze-and-excitation `se.fc1`/`se.fc2`) and
  its pre-activation ResNetV2 (`stem.conv`, `stages.0.blocks.0.norm1`, `head.fc`).

Reading a state dict needs no PyTorch for `.safetensors` files (the `safetensors` package reads
them into numpy); a `.pth` file is read with `torch.load(weights_only=True)`, where PyTorch is
installed. Writing the Keras weights is the Keras backend's job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from archspec.ir import Graph, Layer
from archspec.ops import channels_of

if TYPE_CHECKING:
    import numpy as np

Source = Literal["torchvision", "timm"]
SOURCES: tuple[Source, ...] = ("torchvision", "timm")
Layout = Literal["conv", "dense", "conv_as_dense", "vector"]
"""How a PyTorch tensor becomes a Keras weight: a conv kernel (out, in, k, k) -> (k, k, in, out);
a linear weight (out, in) -> (in, out); a 1x1 conv used as a classifier (out, in, 1, 1) ->
(in, out); a vector (bias, BN statistics) as it is."""

SKIPPED_KEYS = re.compile(r"(^|\.)num_batches_tracked$")
"""Buffers of PyTorch's BatchNorm that no Keras weight holds (a step counter)."""

BN_KEYS = ("weight", "bias", "running_mean", "running_var")
"""PyTorch's BatchNorm tensors, in the order of Keras's gamma, beta, moving mean, variance."""


class WeightsError(ValueError):
    """A weights file cannot be read, or does not fit the model."""


@dataclass(frozen=True)
class Tensor:
    """One PyTorch tensor that one Keras weight comes from."""

    key: str
    layout: Layout


@dataclass(frozen=True)
class LayerMap:
    """The PyTorch tensors of one Keras layer's weights, in `get_weights()` order."""

    layer: str
    tensors: tuple[Tensor, ...]


# --- the shapes of Keras weights, from the IR -----------------------------------------------------


def keras_weight_shapes(graph: Graph, layer: Layer) -> tuple[tuple[int, ...], ...]:
    """The shapes of a layer's Keras weights in `get_weights()` order (convs, BN, dense)."""
    channels_in = channels_of(graph[layer.inputs[0]].shape) if layer.inputs else 0
    channels_out = channels_of(layer.shape)
    if layer.op == "conv2d":
        kernel, groups = _whole(layer.attrs["kernel"]), _whole(layer.attrs["groups"])
        kernel_shape = (kernel, kernel, channels_in // groups, channels_out)
        return (kernel_shape, (channels_out,)) if layer.attrs["use_bias"] else (kernel_shape,)
    if layer.op == "batch_norm":
        return ((channels_out,),) * 4
    if layer.op == "dense":
        return ((channels_in, channels_out), (channels_out,))
    if layer.params:
        raise WeightsError(f"{layer.name}: no PyTorch layout for a {layer.op} layer")
    return ()


def _whole(value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(f"expected a whole number, got {value!r}")
    return value


def torch_shape(keras_shape: tuple[int, ...], layout: Layout) -> tuple[int, ...]:
    """The shape the PyTorch tensor has for a Keras weight of `keras_shape`."""
    if layout == "conv":
        kh, kw, fan_in, out = keras_shape
        return (out, fan_in, kh, kw)
    if layout == "dense":
        return (keras_shape[1], keras_shape[0])
    if layout == "conv_as_dense":
        return (keras_shape[1], keras_shape[0], 1, 1)
    return keras_shape


def to_keras(array: np.ndarray, layout: Layout) -> np.ndarray:
    """A PyTorch tensor (as a numpy array) in Keras's layout, as float32."""
    import numpy as np

    if layout == "conv":
        array = array.transpose(2, 3, 1, 0)
    elif layout == "dense":
        array = array.T
    elif layout == "conv_as_dense":
        array = array[:, :, 0, 0].T
    return np.ascontiguousarray(array, dtype=np.float32)


# --- name maps ----------------------------------------------------------------------------------

BLOCK_LAYER = re.compile(r"^stage(\d+)_block(\d+)_(.+)$")


@dataclass
class _Names:
    """PyTorch module paths for the layers of one graph, in one source's conventions."""

    graph: Graph
    source: Source
    variants: dict[str, str] = field(init=False)
    preactivation: bool = field(init=False)
    stem_convs: int = field(init=False)

    def __post_init__(self) -> None:
        self.variants = {block.name: block.variant for block in self.graph.blocks}
        self.preactivation = any(layer.local == "preact_bn" for layer in self.graph)
        self.stem_convs = sum(
            1 for layer in self.graph.scope_layers("stem") if layer.op == "conv2d"
        )
        if self.preactivation and self.source == "torchvision":
            raise WeightsError(
                "torchvision has no pre-activation ResNets; --from timm maps timm's ResNetV2"
            )

    def module(self, layer: Layer) -> str | None:
        """The PyTorch module path of a layer with weights; None if the source has none."""
        match = BLOCK_LAYER.match(layer.name)
        if match:
            stage, block, local = int(match[1]), int(match[2]), match[3]
            return self.block_module(stage, block, local, layer.name)
        if self.preactivation:
            return {"stem_conv": "stem.conv", "head_bn": "norm", "classifier": "head.fc"}.get(
                layer.name
            )
        if layer.name == "classifier":
            return "fc"
        return self.stem_module(layer.name)

    def stem_module(self, name: str) -> str | None:
        if self.stem_convs == 1:
            return {"stem_conv": "conv1", "stem_bn": "bn1"}.get(name)
        # timm's deep stem: conv1 = Sequential(conv, bn, act, conv, bn, act, conv); then bn1.
        match = re.fullmatch(r"stem_(conv|bn)(\d+)", name)
        if self.source != "timm" or not match:
            return None
        index = int(match[2]) - 1
        if match[1] == "bn" and index == self.stem_convs - 1:
            return "bn1"
        return f"conv1.{3 * index + (1 if match[1] == 'bn' else 0)}"

    def block_module(self, stage: int, block: int, local: str, name: str) -> str | None:
        if self.preactivation:
            prefix = f"stages.{stage - 1}.blocks.{block - 1}"
            renamed = {"preact_bn": "norm1", "shortcut_conv": "downsample.conv"}
            match = re.fullmatch(r"(conv|bn)(\d+)", local)
            if match and match[1] == "bn":
                return f"{prefix}.norm{int(match[2]) + 1}"
            return f"{prefix}.{renamed.get(local, local)}"
        prefix = f"layer{stage}.{block - 1}"
        if local.startswith("shortcut_"):
            # torchvision: downsample = Sequential(conv, bn); timm's ResNet-D shortcut:
            # Sequential(pool or Identity, conv, bn).
            first = 1 if self.variants[name.removesuffix(f"_{local}")] == "avgpool_conv" else 0
            index = first + (0 if local == "shortcut_conv" else 1)
            return f"{prefix}.downsample.{index}"
        if local in ("se_reduce", "se_expand"):
            fc = 1 if local == "se_reduce" else 2
            return f"{prefix}.se.fc{fc}" if self.source == "timm" else None
        return f"{prefix}.{local}"


def name_map(graph: Graph, source: Source) -> tuple[LayerMap, ...]:
    """For every layer of `graph` with weights, the PyTorch tensors they come from.

    Raises `WeightsError` naming the layers the source's conventions have no tensor for.
    """
    names = _Names(graph, source)
    maps: list[LayerMap] = []
    unmapped: list[str] = []
    for layer in graph:
        shapes = keras_weight_shapes(graph, layer)
        if not shapes:
            continue
        module = names.module(layer)
        if module is None:
            unmapped.append(layer.name)
            continue
        maps.append(LayerMap(layer.name, _tensors(layer, module)))
    if unmapped:
        shown = ", ".join(unmapped[:5]) + (", ..." if len(unmapped) > 5 else "")
        raise WeightsError(f"{source}'s models have no tensors for {shown}")
    return tuple(maps)


def _tensors(layer: Layer, module: str) -> tuple[Tensor, ...]:
    if layer.op == "batch_norm":
        return tuple(Tensor(f"{module}.{key}", "vector") for key in BN_KEYS)
    if layer.op == "dense":
        # timm's ResNetV2 classifies with a 1x1 conv.
        layout: Layout = "conv_as_dense" if module == "head.fc" else "dense"
        return (Tensor(f"{module}.weight", layout), Tensor(f"{module}.bias", "vector"))
    kernel = Tensor(f"{module}.weight", "conv")
    return (kernel, Tensor(f"{module}.bias", "vector")) if layer.attrs["use_bias"] else (kernel,)


# --- converting a state dict ----------------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    """A tensor whose shape differs from what the Keras weight needs."""

    key: str
    expected: tuple[int, ...]
    found: tuple[int, ...]


@dataclass(frozen=True)
class Conversion:
    """A state dict in Keras's terms: per layer its weights, and what did not fit."""

    weights: Mapping[str, list[np.ndarray]]
    missing: tuple[str, ...]
    """Keys the model needs that the state dict lacks."""
    mismatched: tuple[Mismatch, ...]
    unused: tuple[str, ...]
    """Keys of the state dict that no layer reads (buffers such as num_batches_tracked aside)."""

    @property
    def complete(self) -> bool:
        """Whether every layer's weights were found with the right shapes, and nothing is left."""
        return not (self.missing or self.mismatched or self.unused)


def check_keys(
    graph: Graph, source: Source, shapes: Mapping[str, tuple[int, ...]]
) -> tuple[tuple[str, ...], tuple[Mismatch, ...], tuple[str, ...]]:
    """(missing, mismatched, unused) keys of a state dict given as key -> shape, for `graph`."""
    missing: list[str] = []
    mismatched: list[Mismatch] = []
    used: set[str] = set()
    for layer_map in name_map(graph, source):
        layer = graph[layer_map.layer]
        for tensor, keras_shape in zip(
            layer_map.tensors, keras_weight_shapes(graph, layer), strict=True
        ):
            expected = torch_shape(keras_shape, tensor.layout)
            if tensor.key not in shapes:
                missing.append(tensor.key)
            elif tuple(shapes[tensor.key]) != expected:
                mismatched.append(Mismatch(tensor.key, expected, tuple(shapes[tensor.key])))
            used.add(tensor.key)
    unused = tuple(k for k in shapes if k not in used and not SKIPPED_KEYS.search(k))
    return tuple(missing), tuple(mismatched), unused


def convert(graph: Graph, source: Source, state: Mapping[str, np.ndarray]) -> Conversion:
    """The Keras weights of `graph`'s layers from a PyTorch state dict (numpy arrays).

    A layer whose tensors are all present with the right shapes gets its weights; the others
    are left out and reported.
    """
    missing, mismatched, unused = check_keys(
        graph, source, {key: tuple(value.shape) for key, value in state.items()}
    )
    bad = set(missing) | {m.key for m in mismatched}
    weights = {
        layer_map.layer: [to_keras(state[t.key], t.layout) for t in layer_map.tensors]
        for layer_map in name_map(graph, source)
        if not bad & {t.key for t in layer_map.tensors}
    }
    return Conversion(weights, missing, mismatched, unused)


# --- reading files --------------------------------------------------------------------------------


def read_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """A PyTorch state dict as numpy arrays: `.safetensors` (no PyTorch needed) or `.pth`/`.pt`.

    Raises `WeightsError` for a file that is not a state dict of tensors.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        return _read_safetensors(path)
    if path.suffix in (".pth", ".pt", ".bin"):
        return _read_torch(path)
    raise WeightsError(f"{path}: a state dict is a .safetensors or a .pth file")


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    try:
        from safetensors import SafetensorError
        from safetensors.numpy import load_file
    except ImportError as exc:
        raise WeightsError(
            "reading .safetensors files needs the safetensors package: pip install safetensors"
        ) from exc
    try:
        return dict(load_file(path))
    except (SafetensorError, TypeError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from None


def _read_torch(path: Path) -> dict[str, np.ndarray]:
    try:
        import torch
    except ImportError as exc:
        raise WeightsError(
            f"{path}: reading .pth files needs PyTorch; convert it to .safetensors, or "
            "pip install torch"
        ) from exc
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a file that is not a state dict
        raise WeightsError(f"{path}: not a readable PyTorch file ({exc})") from None
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]  # a training checkpoint
    if not isinstance(state, Mapping) or not all(
        isinstance(value, torch.Tensor) for value in state.values()
    ):
        raise WeightsError(f"{path}: not a state dict of tensors")
    return {str(key): value.detach().float().numpy() for key, value in state.items()}


# --- Keras weights files, by layer name -----------------------------------------------------------

KERAS_WEIGHTS_SUFFIXES = (".weights.h5", ".keras")


def read_keras_weights(path: str | Path) -> dict[str, list[np.ndarray]]:
    """Every layer's weights in a Keras 3 `.weights.h5` or `.keras` file, by layer name.

    Keras files its layers' weights by class and creation order (`layers/conv2d_3/vars/0`) and
    records each layer's name beside them; that name is what this reads them by. Nothing in
    the file is deserialized but arrays. Raises `WeightsError` for any other file.
    """
    import zipfile

    import h5py

    path = Path(path)
    if not path.name.endswith(KERAS_WEIGHTS_SUFFIXES):
        raise WeightsError(f"{path}: Keras weights are a .weights.h5 or a .keras file")
    try:
        if path.suffix == ".keras":
            with (
                zipfile.ZipFile(path) as archive,
                archive.open("model.weights.h5") as member,
                h5py.File(member, "r") as store,
            ):
                return _layer_weights(store)
        with h5py.File(path, "r") as store:
            return _layer_weights(store)
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
        raise WeightsError(f"{path}: not a readable Keras weights file ({exc})") from None


def _layer_weights(store: object) -> dict[str, list[np.ndarray]]:
    import h5py

    found: dict[str, list[np.ndarray]] = {}
    repeated: set[str] = set()

    def visit(name: str, node: object) -> None:
        if not (isinstance(node, h5py.Group) and name.rsplit("/", 1)[-1] == "vars"):
            return
        layer = node.attrs.get("name")
        numbered = [key for key in node if key.isdigit() and isinstance(node[key], h5py.Dataset)]
        arrays = [node[key][()] for key in sorted(numbered, key=int)]
        if isinstance(layer, str) and arrays:
            if layer in found:
                repeated.add(layer)
            found[layer] = arrays

    store.visititems(visit)  # type: ignore[attr-defined]
    for layer in repeated:  # a name used twice (in nested models) says nothing certain
        del found[layer]
    return found


@dataclass(frozen=True)
class LoadReport:
    """What loading weights by layer name did: loaded, missing, mismatched and unused layers."""

    loaded: tuple[tuple[str, int], ...]
    """(layer, number of values) for each layer that got the file's weights."""
    missing: tuple[str, ...]
    """Layers of the model with weights that the file has no layer of that name for."""
    mismatched: tuple[tuple[str, str, str], ...]
    """(layer, the model's shapes, the file's shapes) where a name matched but shapes did not."""
    unused: tuple[str, ...]
    """Layers of the file that the model has no layer of that name (with weights) for."""

    @property
    def complete(self) -> bool:
        """Whether every layer of the model with weights was loaded."""
        return not (self.missing or self.mismatched)


def match_layers(
    model_shapes: Mapping[str, list[tuple[int, ...]]], file: Mapping[str, list[np.ndarray]]
) -> tuple[dict[str, list[np.ndarray]], LoadReport]:
    """Pair a model's layers (name -> weight shapes) with a file's: what to set, and the report.

    A layer is loaded when the file has a layer of its name whose weights have its shapes, all
    of them, in order; a layer is never loaded in part.
    """
    assign: dict[str, list[np.ndarray]] = {}
    loaded, missing, mismatched = [], [], []
    for name, shapes in model_shapes.items():
        if name not in file:
            missing.append(name)
            continue
        found = [tuple(array.shape) for array in file[name]]
        if found != [tuple(shape) for shape in shapes]:
            mismatched.append((name, _shapes_text(shapes), _shapes_text(found)))
            continue
        assign[name] = file[name]
        loaded.append((name, sum(array.size for array in file[name])))
    unused = tuple(name for name in file if name not in model_shapes)
    report = LoadReport(tuple(loaded), tuple(missing), tuple(mismatched), unused)
    return assign, report


def _shapes_text(shapes: list[tuple[int, ...]]) -> str:
    return ", ".join("x".join(map(str, shape)) or "scalar" for shape in shapes)
