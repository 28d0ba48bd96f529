"""What validate accepts, Keras builds, saves and loads: no RecursionError at any depth."""

from __future__ import annotations

import pytest

import archspec
from archspec.errors import SpecError

DEEP = """\
name: deep
input: {{shape: [8, 8, 1]}}
stem: {{filters: 2, kernel: 1, norm: false}}
stages:
  - {{block: basic, filters: 2, depth: {depth}}}
head: {{classes: 2}}
"""


def test_depth_is_bounded_by_the_layer_budget_with_a_location():
    limits = archspec.Limits(max_layers=500)
    with pytest.raises(SpecError) as info:
        archspec.lower(archspec.loads(DEEP.format(depth=140), "deep.yaml"), limits=limits)
    (d,) = info.value.errors
    assert d.code == "too-many-layers"
    assert (d.path, d.location.line, d.location.column) == ("stages[0]", 5, 5)
    # a chain far longer than Python's recursion limit is no reason to refuse a spec
    assert archspec.lower(archspec.loads(DEEP.format(depth=1000), "deep.yaml")).depth > 7000


@pytest.mark.keras
@pytest.mark.slow
def test_a_model_deeper_than_pythons_recursion_limit_builds_saves_and_loads(tmp_path):
    spec = archspec.loads(DEEP.format(depth=150), "deep.yaml")  # 1,058 layers in one chain
    graph = archspec.lower(spec)
    assert graph.depth > 1000  # past what Keras can map under Python's default limit
    model = archspec.build(spec)
    path = tmp_path / "deep.keras"
    model.save(path)
    loaded = archspec.load_model(path)
    assert len(loaded.layers) == len(model.layers) == len(graph)
