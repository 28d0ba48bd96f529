"""Random specs that lower give an IR Keras accepts: checked on the IR alone, many examples.

Keras refuses some layers only when it builds them (a grouped conv whose groups do not divide
its channels); the keras-marked test of random specs finds such a case in 25 examples, this
one looks at hundreds without building anything.
"""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings

import archspec
from archspec.errors import SpecError
from tests.strategies import small_specs


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(small_specs())
def test_every_layer_of_a_lowered_spec_is_one_keras_can_build(data):
    try:
        graph = archspec.lower(archspec.Spec.model_validate(data))
    except SpecError:
        assume(False)
    for layer in graph:
        assert all(size is None or size >= 1 for size in layer.shape), layer.name
        if layer.op == "conv2d":
            groups = layer.attrs["groups"]
            channels_in = graph[layer.inputs[0]].shape[-1]
            assert layer.attrs["filters"] % groups == 0, layer.name
            assert channels_in % groups == 0, layer.name


def test_a_block_overriding_groups_gets_a_width_its_groups_divide():
    """Found by the random specs: width 6 x 0.5 = 3 served the stage's groups=1, not the
    block's groups=2; the stage's scaled width now suits every block's settings."""
    text = """
name: grouped_override
input: {shape: [8, 8, 1]}
stem: {filters: 4, kernel: 1}
stages:
  - {block: preact_bottleneck, filters: 6, expansion: 1, blocks: [{groups: 2}]}
head: {classes: 2}
width_multiplier: 0.5
"""
    graph = archspec.lower(archspec.loads(text))
    conv = graph["stage1_block1_conv2"]
    assert (conv.attrs["groups"], conv.attrs["filters"]) == (2, 4)
