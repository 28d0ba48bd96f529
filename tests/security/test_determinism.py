"""`archspec build --seed N` gives bit-identical initial weights across runs and processes."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.keras


def build_in_a_new_process(tmp_path, name: str, seed: int) -> list[np.ndarray]:
    import keras

    output = tmp_path / f"{name}.keras"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "archspec",
            "build",
            "resnet22",
            "--seed",
            str(seed),
            "-o",
            str(output),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONHASHSEED": str(hash(name) % 1000)},
    )
    return keras.saving.load_model(output).get_weights()


def test_same_seed_same_weights_different_seed_different_weights(tmp_path):
    first = build_in_a_new_process(tmp_path, "first", 7)
    second = build_in_a_new_process(tmp_path, "second", 7)
    assert len(first) == len(second) == 17 * 4 + 21 * 2 + 2 * 2  # BN, conv and dense weights
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)

    import archspec

    other = archspec.build("resnet22", seed=8).get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    again = archspec.build("resnet22", seed=7).get_weights()
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
