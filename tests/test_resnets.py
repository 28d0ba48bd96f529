"""Every ResNet preset against code nobody here wrote: keras.applications, torchvision, timm.

keras.applications is always there: its ResNet50/101/152 are compared layer for layer and value
for value. The PyTorch models are compared where torchvision and timm import (they run in a
process of their own, `tests/torch_peers.py`); their state dicts' keys and shapes are kept as
test data (`tests/data/state_dicts/`), so the name maps that move their weights are tested on
every machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import archspec
from archspec.cli import main
from archspec.weights import WeightsError, check_keys, name_map, read_state_dict
from tests.conftest import ROOT
from tests.data.state_dicts.generate import PEERS
from tests.test_keras_backend import layer_sequence

STATE_DICTS = ROOT / "tests" / "data" / "state_dicts"

# --- keras.applications ResNet50/101/152 ---------------------------------------------------------

KERAS_PEERS = {
    "resnet50": ("ResNet50", 25_636_712, 177, 224),
    "resnet101": ("ResNet101", 44_707_176, 347, 64),
    "resnet152": ("ResNet152", 60_419_944, 517, 64),
}
"""preset -> (keras.applications model, parameters, layers, the input size compared at).

The deeper two are compared at 64x64 (both models built at that size): the layers and
parameters do not depend on it, and every stage still sees an even size."""


@pytest.mark.keras
@pytest.mark.parametrize(
    "name",
    [
        "resnet50",
        "resnet101",
        pytest.param("resnet152", marks=pytest.mark.slow),
    ],
)
def test_v1_presets_equal_keras_applications(name, built_models):
    import keras

    from archspec.backends.keras import build_model

    application, params, layers, size = KERAS_PEERS[name]
    peer = getattr(keras.applications, application)(weights=None, input_shape=(size, size, 3))
    if size == 224:
        model = built_models(name)
    else:
        model = build_model(archspec.lower(archspec.load(name), input_size=(size, size)))
    assert model.count_params() == peer.count_params() == params
    assert archspec.lower(archspec.load(name)).params == params
    assert len(model.layers) == layers
    assert layer_sequence(model) == layer_sequence(peer)
    model.set_weights(peer.get_weights())
    images = np.random.default_rng(1).uniform(-1, 1, (2, size, size, 3)).astype("float32")
    np.testing.assert_array_equal(model.predict_on_batch(images), peer.predict_on_batch(images))


# --- torchvision and timm: parameters and name maps, everywhere -----------------------------------

TRAINABLE = {
    "tv_resnet18": 11_689_512,
    "tv_resnet34": 21_797_672,
    "tv_resnet50": 25_557_032,
    "tv_resnet101": 44_549_160,
    "tv_resnet152": 60_192_808,
    "tv_resnext50_32x4d": 25_028_904,
    "tv_wide_resnet50_2": 68_883_240,
    "resnet50d": 25_576_264,
    "seresnet50": 28_088_024,
    "resnetv2_50_timm": 25_549_352,
}
"""The PyTorch models' parameter counts (ANCHORS.md; the state-dict files record them too)."""


def state_dict_shapes(preset: str) -> tuple[str, dict[str, tuple[int, ...]], int]:
    """(source, key -> shape, trainable parameters) of the preset's PyTorch peer."""
    data = json.loads((STATE_DICTS / f"{preset}.json").read_text())
    return data["source"], {k: tuple(v) for k, v in data["keys"].items()}, data["trainable"]


def test_every_pytorch_peer_has_a_preset_and_its_state_dict_keys():
    assert set(PEERS) == set(TRAINABLE)
    assert {path.stem for path in STATE_DICTS.glob("*.json")} == set(PEERS)
    assert set(PEERS) <= set(archspec.preset_names())


@pytest.mark.parametrize("preset", list(PEERS))
def test_trainable_parameters_equal_the_pytorch_models(preset):
    graph = archspec.lower(archspec.load(preset))
    _, _, trainable = state_dict_shapes(preset)
    assert graph.trainable_params == trainable == TRAINABLE[preset]


@pytest.mark.parametrize("preset", list(PEERS))
def test_the_name_map_reads_every_tensor_of_the_peers_state_dict(preset):
    source, shapes, _ = state_dict_shapes(preset)
    missing, mismatched, unused = check_keys(archspec.lower(archspec.load(preset)), source, shapes)
    assert (missing, mismatched, unused) == ((), (), ())
    keys = [
        t.key for m in name_map(archspec.lower(archspec.load(preset)), source) for t in m.tensors
    ]
    assert len(keys) == len(set(keys))  # no tensor feeds two weights


def test_what_does_not_fit_is_reported_key_by_key():
    source, shapes, _ = state_dict_shapes("tv_resnet50")
    ten_classes = archspec.loads("extends: tv_resnet50\nname: ten\nhead: {classes: 10}\n")
    missing, mismatched, unused = check_keys(archspec.lower(ten_classes), source, shapes)
    assert missing == unused == ()
    assert [(m.key, m.expected, m.found) for m in mismatched] == [
        ("fc.weight", (10, 2048), (1000, 2048)),
        ("fc.bias", (10,), (1000,)),
    ]
    # torchvision's resnet50 into a spec without its last stage: stage 4's keys are unused.
    three = archspec.loads(
        "extends: tv_resnet50\nname: three\nstages:\n"
        "  - {block: bottleneck, filters: 64, depth: 3, stride: 1}\n"
        "  - {block: bottleneck, filters: 128, depth: 4, stride: 2}\n"
        "  - {block: bottleneck, filters: 256, depth: 6, stride: 2}\n"
    )
    missing, mismatched, unused = check_keys(archspec.lower(three), source, shapes)
    assert {key.split(".")[0] for key in unused} == {"layer4"}
    assert [m.key for m in mismatched] == ["fc.weight"]
    # The timm map reads the SE convs of seresnet50; torchvision has none.
    with pytest.raises(WeightsError, match="no tensors for stage1_block1_se_reduce"):
        name_map(archspec.lower(archspec.load("seresnet50")), "torchvision")
    with pytest.raises(WeightsError, match="no pre-activation"):
        name_map(archspec.lower(archspec.load("resnetv2_50_timm")), "torchvision")


def test_safetensors_are_read_without_pytorch(tmp_path):
    code = (
        "import sys, numpy as np\n"
        "from safetensors.numpy import save_file\n"
        "from archspec.weights import read_state_dict\n"
        f"path = {str(tmp_path / 'x.safetensors')!r}\n"
        "save_file({'fc.weight': np.ones((3, 2), np.float32)}, path)\n"
        "state = read_state_dict(path)\n"
        "assert state['fc.weight'].shape == (3, 2)\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    (tmp_path / "bad.safetensors").write_bytes(b"\xff" * 64)
    with pytest.raises(WeightsError, match="not a readable safetensors file"):
        read_state_dict(tmp_path / "bad.safetensors")


def test_pth_files_are_read_with_pytorch(tmp_path):
    torch = pytest.importorskip("torch", reason="reading .pth files needs PyTorch (make torch)")
    torch.save({"fc.weight": torch.ones(3, 2), "n": torch.tensor(1)}, tmp_path / "x.pth")
    state = read_state_dict(tmp_path / "x.pth")
    assert state["fc.weight"].shape == (3, 2) and state["fc.weight"].dtype == np.float32
    torch.save({"model": "not tensors"}, tmp_path / "y.pth")
    with pytest.raises(WeightsError):
        read_state_dict(tmp_path / "y.pth")


# --- torchvision and timm: the same function, where they import ---------------------------------

TORCH_SIZE = 64
"""The size the PyTorch models are compared at: even at every stage (Keras's 'same' would
pad a stride-2 window only at the bottom and right there; PyTorch pads both sides)."""
ODD_SIZE = 57
"""And an odd size at every stage, for two of them (57 -> 29 -> 15 -> 8 -> 4 -> 2)."""
SLOW_PEERS = {"tv_resnet101", "tv_resnet152", "tv_wide_resnet50_2"}


def run_torch_peers(out: Path, size: int, presets: list[str]) -> Path:
    from tests.torch_peers import UNAVAILABLE

    command = [sys.executable, "-m", "tests.torch_peers", str(out), str(size), *presets]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode == UNAVAILABLE:
        pytest.skip(f"torchvision and timm do not import here ({result.stdout.strip()})")
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="session")
def torch_peers(tmp_path_factory) -> Path:
    """State dicts and logits of every PyTorch peer, made once per session."""
    return run_torch_peers(tmp_path_factory.mktemp("torch_peers"), TORCH_SIZE, list(PEERS))


def imported_model(state_dicts: Path, preset: str, size: int, tmp_path: Path):
    """`archspec weights import` of the peer's state dict, loaded into the preset's model."""
    from archspec.backends.keras import build_model, load_weights

    weights = tmp_path / f"{preset}.weights.h5"
    source = PEERS[preset][0]
    state = state_dicts / f"{preset}.safetensors"
    arguments = ["weights", "import", "--from", source, str(state), preset, "-o", str(weights)]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    assert "converted" in result.output and f"wrote {weights}" in result.output
    model = build_model(archspec.lower(archspec.load(preset), input_size=(size, size)))
    report = load_weights(model, weights)
    assert report.complete and not report.unused
    return model


def assert_same_function(model, reference: Path) -> None:
    data = np.load(reference)
    logits = data["logits"]
    difference = np.abs(model.predict_on_batch(data["images"]) - logits).max()
    assert difference / np.abs(logits).max() < 1e-4


@pytest.mark.keras
@pytest.mark.parametrize(
    "preset",
    [pytest.param(p, marks=pytest.mark.slow) if p in SLOW_PEERS else p for p in PEERS],
)
def test_the_keras_model_computes_the_pytorch_models_function(preset, torch_peers, tmp_path):
    model = imported_model(torch_peers, preset, TORCH_SIZE, tmp_path)
    assert_same_function(model, torch_peers / f"{preset}.npz")


@pytest.mark.keras
def test_the_pytorch_function_at_odd_sizes(tmp_path_factory, tmp_path):
    presets = ["tv_resnet18", "resnetv2_50_timm"]
    peers = run_torch_peers(tmp_path_factory.mktemp("odd"), ODD_SIZE, presets)
    for preset in presets:
        assert_same_function(
            imported_model(peers, preset, ODD_SIZE, tmp_path), peers / f"{preset}.npz"
        )


@pytest.mark.keras
def test_keras_same_padding_would_not_compute_timms_resnetv2(torch_peers, tmp_path):
    """The reason for `padding: torch`: with Keras's 'same', timm's weights compute else."""
    from archspec.backends.keras import build_model, load_weights

    imported_model(torch_peers, "resnetv2_50_timm", TORCH_SIZE, tmp_path)
    same = archspec.loads("extends: resnetv2_50_timm\nname: same\nconv: {padding: same}\n")
    model = build_model(archspec.lower(same, input_size=(TORCH_SIZE, TORCH_SIZE)))
    assert load_weights(model, tmp_path / "resnetv2_50_timm.weights.h5").complete
    data = np.load(torch_peers / "resnetv2_50_timm.npz")
    difference = np.abs(model.predict_on_batch(data["images"]) - data["logits"]).max()
    assert difference / np.abs(data["logits"]).max() > 1e-2


# --- He et al. 2016's CIFAR networks --------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "millions"), [("preact_resnet164", 1.7), ("preact_resnet1001", 10.2)]
)
def test_preact_resnets_have_the_papers_sizes(preset, millions):
    """The paper's table counts the conv and classifier weights (1.7 M and 10.2 M)."""
    graph = archspec.lower(archspec.load(preset))
    weights = sum(layer.params for layer in graph if layer.op in ("conv2d", "dense"))
    assert round(weights / 1e6, 1) == millions
    assert abs(graph.trainable_params / 1e6 - millions) / millions < 0.02


@pytest.mark.keras
@pytest.mark.slow
def test_preact_resnet1001_builds_past_pythons_recursion_limit(built_models):
    graph = archspec.lower(archspec.load("preact_resnet1001"))
    assert graph.depth > 3000
    limit = sys.getrecursionlimit()
    model = built_models("preact_resnet1001")
    assert sys.getrecursionlimit() == limit  # raised only while Keras maps the graph
    assert len(model.layers) == len(graph) == 3339
    assert model.count_params() == graph.params
    assert "sys.setrecursionlimit(max(sys.getrecursionlimit(), " in archspec.codegen(graph.name)


# --- the README's preset table ----------------------------------------------------------------


def test_the_readme_lists_every_preset_with_its_figures():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| preset | parameters | MACs | equals | tested by |") :]
    table = table[: table.index("\n\n")]
    rows = {}
    for line in table.splitlines()[2:]:
        name, params, macs, peer, tested = (cell.strip() for cell in line.strip("|").split("|"))
        rows[name.strip("`")] = (params, macs, peer, tested)
    assert sorted(rows) == archspec.preset_names()
    for name, (params, macs, peer, tested) in rows.items():
        graph = archspec.lower(archspec.load(name))
        assert (params, macs) == (f"{graph.params:,}", f"{graph.macs / 1e9:.2f} G"), name
        assert peer and tested, name
