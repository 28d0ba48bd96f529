"""The PyTorch models the torchvision and timm presets equal, run in a process of their own.

`python -m tests.torch_peers OUT SIZE PRESET...` writes, for each preset, the peer model's
state dict as OUT/PRESET.safetensors (BN statistics and affine parameters randomised, so that
every tensor matters) and OUT/PRESET.npz with random images of SIZE x SIZE and the model's
logits for them in eval mode. It runs apart from the tests because PyTorch and TensorFlow
cannot always share a process (importing PyTorch's CUDA build before TensorFlow crashes it),
and it exits with UNAVAILABLE, saying why, where torchvision or timm do not import.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.data.state_dicts.generate import PEERS, create

UNAVAILABLE = 3


def randomise_norms(network: object, seed: int) -> None:
    """Random BN statistics and affine parameters (a fresh model has mean 0, variance 1)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in network.modules():  # type: ignore[attr-defined]
            if isinstance(module, torch.nn.BatchNorm2d):
                size = module.num_features
                module.running_mean.copy_(torch.randn(size, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(size, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(size, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(size, generator=generator) * 0.1)


def main(out: Path, size: int, presets: list[str]) -> None:
    try:
        import timm  # noqa: F401  (imports torchvision too)
        import torch
        from safetensors.torch import save_file
    except Exception as exc:  # an ImportError, or torchvision's missing operators
        print(f"{type(exc).__name__}: {exc}")
        sys.exit(UNAVAILABLE)
    import numpy as np

    for index, preset in enumerate(presets):
        torch.manual_seed(index)
        network = create(*PEERS[preset]).eval()
        randomise_norms(network, index)
        state = {key: value.contiguous() for key, value in network.state_dict().items()}
        save_file(state, out / f"{preset}.safetensors")
        images = np.random.default_rng(index).normal(0, 1, (2, size, size, 3)).astype("float32")
        with torch.no_grad():
            logits = network(torch.from_numpy(images.transpose(0, 3, 1, 2).copy())).numpy()
        np.savez(out / f"{preset}.npz", images=images, logits=logits)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:])
