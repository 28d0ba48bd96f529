"""Weights files are untrusted too: any bytes give a WeightsError, never a traceback."""

from __future__ import annotations

import io
import zipfile

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archspec.weights import WeightsError, read_keras_weights, read_state_dict

SUFFIXES = [".weights.h5", ".keras", ".safetensors"]


def read(path):
    return read_state_dict(path) if path.suffix == ".safetensors" else read_keras_weights(path)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=2048), suffix=st.sampled_from(SUFFIXES))
def test_any_bytes_are_a_weights_error(tmp_path, data, suffix):
    path = tmp_path / f"file{suffix}"
    path.write_bytes(data)
    with pytest.raises(WeightsError):
        read(path)


def h5_bytes(build) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as store:
        build(store)
    return buffer.getvalue()


def layer_vars(store, group: str, name: object) -> h5py.Group:
    node = store.create_group(f"{group}/vars")
    node.attrs["name"] = name
    return node


def unnumbered_entries(store) -> None:
    node = layer_vars(store, "layers/x", "x")
    node.create_dataset("weird", data=np.zeros(1))
    node.create_group("0")


def a_name_that_is_not_text(store) -> None:
    layer_vars(store, "a", 3).create_dataset("0", data=np.zeros(2))


def a_name_used_twice(store) -> None:
    for group in ("a", "b"):
        layer_vars(store, group, "twice").create_dataset("0", data=np.zeros(2))


@pytest.mark.parametrize("build", [unnumbered_entries, a_name_that_is_not_text, a_name_used_twice])
def test_odd_keras_files_load_nothing_doubtful(tmp_path, build):
    path = tmp_path / "odd.weights.h5"
    path.write_bytes(h5_bytes(build))
    assert read_keras_weights(path) == {}


def test_a_keras_archive_without_weights_is_a_weights_error(tmp_path):
    path = tmp_path / "empty.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
    with pytest.raises(WeightsError, match="not a readable Keras weights file"):
        read_keras_weights(path)
