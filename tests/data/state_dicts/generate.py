"""Write the state-dict keys and shapes of the PyTorch models the presets equal (test data).

Run where torchvision and timm import: `python tests/data/state_dicts/generate.py`. The name
maps of `archspec.weights` are then tested against these lists on every machine, PyTorch or
not; the tests that run the PyTorch models themselves read the same table (PEERS).
"""

from __future__ import annotations

import json
from pathlib import Path

PEERS = {
    "tv_resnet18": ("torchvision", "resnet18"),
    "tv_resnet34": ("torchvision", "resnet34"),
    "tv_resnet50": ("torchvision", "resnet50"),
    "tv_resnet101": ("torchvision", "resnet101"),
    "tv_resnet152": ("torchvision", "resnet152"),
    "tv_resnext50_32x4d": ("torchvision", "resnext50_32x4d"),
    "tv_wide_resnet50_2": ("torchvision", "wide_resnet50_2"),
    "resnet50d": ("timm", "resnet50d"),
    "seresnet50": ("timm", "seresnet50"),
    "resnetv2_50_timm": ("timm", "resnetv2_50"),
}
"""archspec preset -> (library, model name): the PyTorch model each preset equals."""

FOLDER = Path(__file__).resolve().parent


def create(source: str, model: str):
    """The PyTorch model, randomly initialised (no weights are downloaded)."""
    if source == "torchvision":
        import torchvision

        return getattr(torchvision.models, model)(weights=None)
    import timm

    return timm.create_model(model, pretrained=False)


def main() -> None:
    import timm
    import torch
    import torchvision

    versions = {"torch": torch.__version__, "torchvision": torchvision.__version__}
    versions["timm"] = timm.__version__
    for preset, (source, model) in PEERS.items():
        network = create(source, model)
        keys = {key: list(value.shape) for key, value in network.state_dict().items()}
        trainable = sum(p.numel() for p in network.parameters() if p.requires_grad)
        lines = [f"  {json.dumps(key)}: {json.dumps(shape)}" for key, shape in keys.items()]
        header = {"source": source, "model": model, "trainable": trainable, "versions": versions}
        text = json.dumps(header)[:-1] + ', "keys": {\n' + ",\n".join(lines) + "\n}}\n"
        json.loads(text)
        (FOLDER / f"{preset}.json").write_text(text)
        print(f"{preset}: {source} {model}, {len(keys)} tensors, {trainable:,} trainable")


if __name__ == "__main__":
    main()
