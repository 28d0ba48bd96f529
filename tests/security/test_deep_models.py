"""What validate accepts, Keras builds, saves and loads: no RecursionError at any depth."""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import SpecError
from archspec.limits import MAX_LAYER_CHAIN

DEEP = """\
name: deep
input: {{shape: [8, 8, 1]}}
stem: {{filters: 2, kernel: 1, norm: false}}
stages:
  - {{block: basic, filters: 2, depth: {depth}}}
head: {{classes: 2}}
"""


def deepest_accepted() -> int:
    """The deepest basic stage that lowering accepts: the chain limit, not another budget."""
    depth = 1
    while True:
        try:
            archspec.lower(archspec.loads(DEEP.format(depth=depth + 1), "deep.yaml"))
        except SpecError as exc:
            (d,) = exc.errors
            assert d.code == "too-deep-for-keras", d.format()  # not another budget
            return depth
        depth += 1


def test_a_chain_beyond_what_keras_can_load_is_refused_with_a_location():
    with pytest.raises(SpecError) as info:
        archspec.lower(archspec.loads(DEEP.format(depth=140), "deep.yaml"))  # 988 layers
    (d,) = info.value.errors
    assert d.path == "stages[0]"
    assert (d.location.line, d.location.column) == (5, 5)
    assert f"over the limit of {MAX_LAYER_CHAIN:,}" in d.message
    # far too deep is refused after the first blocks, by projection
    with pytest.raises(SpecError):
        archspec.lower(archspec.loads(DEEP.format(depth=10**6), "deep.yaml"))


@pytest.mark.keras
@pytest.mark.slow
def test_the_deepest_accepted_model_builds_saves_and_loads(tmp_path):
    import keras

    depth = deepest_accepted()
    graph = archspec.lower(archspec.loads(DEEP.format(depth=depth), "deep.yaml"))
    assert len(graph) > MAX_LAYER_CHAIN - 10  # one block more would cross the limit
    model = archspec.build(archspec.loads(DEEP.format(depth=depth), "deep.yaml"))
    path = tmp_path / "deep.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert len(loaded.layers) == len(model.layers) == len(graph)
