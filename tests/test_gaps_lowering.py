"""The walk and the graph builder, where the mutation campaign found them unchecked (TESTING.md).

Each test pins a behaviour that a planted bug changed without any other test noticing: where a
stem pool's diagnostics point, keras.applications' `correct_pad` on maps of mixed parity, the
hint of a collapsing 'valid' window, one warning per place, and PyTorch-style pools.
"""

from __future__ import annotations

import dataclasses

import pytest

import archspec
from archspec.errors import SpecError
from archspec.graph_builder import correct_pad
from archspec.limits import Limits


def network(**sections: object) -> archspec.Spec:
    """A small network (one basic stage) with `sections` replacing or adding sections."""
    spec: dict[str, object] = {
        "name": "gaps",
        "input": {"shape": [32, 32, 3]},
        "stem": {"filters": 8},
        "stages": [{"block": "basic", "filters": 8, "stride": 1, "depth": 1}],
        "head": {"classes": 3},
    }
    spec.update(sections)
    return archspec.Spec.model_validate(spec)


def layers(spec: archspec.Spec) -> dict[str, archspec.Layer]:
    return {layer.name: layer for layer in archspec.lower(spec).layers}


def test_correct_pad_takes_each_axis_parity_from_its_own_size():
    # An odd height pads symmetrically, an even width one zero fewer at the left.
    assert correct_pad((15, 16, 3), 3) == ((1, 1), (0, 1))
    assert correct_pad((16, 15, 3), 5) == ((1, 2), (2, 2))
    # An unknown width counts as even (as an unknown height does for both axes).
    assert correct_pad((15, None, 3), 3) == ((1, 1), (0, 1))
    assert correct_pad((None, 15, 3), 3) == ((0, 1), (0, 1))


def test_a_stem_pool_diagnostic_points_at_the_stem_pool():
    # 30 -> 15 after the strided stem conv; the pool's stride 2 does not divide 15.
    stem = {"filters": 8, "stride": 2, "pool": {"size": 3, "stride": 2}}
    analysis = archspec.analyze(network(input={"shape": [30, 30, 3]}, stem=stem))
    warnings = [d for d in analysis.diagnostics if d.code == "uneven-stride"]
    assert [d.path for d in warnings] == ["stem.pool"]
    assert "stem_pool rounds it up" in warnings[0].message


def test_one_warning_per_place_and_code_each_with_its_hint():
    # An uneven stride in the stem conv and again in the stem pool: two places, two warnings.
    stem = {"filters": 8, "stride": 2, "pool": {"size": 3, "stride": 2}}
    analysis = archspec.analyze(network(input={"shape": [29, 29, 3]}, stem=stem))
    warnings = [d for d in analysis.diagnostics if d.severity == "warning"]
    assert [(d.path, d.code) for d in warnings] == [
        ("stem.stride", "uneven-stride"),
        ("stem.pool", "uneven-stride"),
    ]
    for warning in warnings:
        assert warning.hint == "sizes that divide evenly keep every pixel and both branches aligned"


def test_a_valid_window_larger_than_the_map_says_keras_would_fail():
    # 2x2 -> 1x1 after the stem conv; the explicitly padded pool is 'valid' in Keras.
    stem = {"filters": 8, "stride": 2, "pool": {"size": 3, "stride": 2}}
    spec = network(input={"shape": [2, 2, 3]}, stem=stem, conv={"padding": "explicit"})
    (error,) = archspec.analyze(spec).errors
    assert error.code == "collapse" and error.path == "stem.pool"
    assert error.hint is not None
    assert error.hint.startswith("Keras would fail to build it: the window is larger than the map")


def pool_layers(padding: str, kind: str, size: int, stride: int) -> list[tuple[str, str, dict]]:
    stem = {"filters": 8, "pool": {"kind": kind, "size": size, "stride": stride}}
    graph = archspec.lower(network(stem=stem, conv={"padding": padding}))
    return [
        (layer.name, layer.op, dict(layer.attrs))
        for layer in graph.layers
        if layer.name.startswith("stem_pool")
    ]


def test_torch_max_pools_keep_pytorch_windows_only_where_strided():
    assert pool_layers("torch", "max", 3, 2) == [
        ("stem_pool_window", "max_pool", {"size": 3, "strides": 1, "padding": "same"}),
        ("stem_pool", "max_pool", {"size": 1, "strides": 2, "padding": "valid"}),
    ]
    # Unstrided, or a 1x1 window: one pool, as Keras's 'same' (or 'valid') already is PyTorch's.
    assert pool_layers("torch", "max", 3, 1) == [
        ("stem_pool", "max_pool", {"size": 3, "strides": 1, "padding": "same"}),
    ]
    assert pool_layers("torch", "max", 1, 2) == [
        ("stem_pool", "max_pool", {"size": 1, "strides": 2, "padding": "valid"}),
    ]


def test_torch_average_pools_pad_explicitly_and_others_do_not():
    # PyTorch's average pool counts the padded zeros: explicit padding, then 'valid'.
    assert pool_layers("torch", "avg", 3, 2) == [
        ("stem_pool_pad", "zero_pad", {"padding": 1}),
        ("stem_pool", "avg_pool", {"size": 3, "strides": 2, "padding": "valid"}),
    ]
    assert pool_layers("torch", "avg", 3, 1) == [
        ("stem_pool_pad", "zero_pad", {"padding": 1}),
        ("stem_pool", "avg_pool", {"size": 3, "strides": 1, "padding": "valid"}),
    ]
    assert pool_layers("same", "avg", 3, 2) == [
        ("stem_pool", "avg_pool", {"size": 3, "strides": 2, "padding": "same"}),
    ]


def test_an_even_pool_in_symmetric_padding_is_refused_with_a_way_out():
    stem = {"filters": 8, "pool": {"size": 2, "stride": 2, "padding": "torch"}}
    (error,) = archspec.analyze(network(stem=stem)).errors
    assert (error.code, error.path) == ("even-window", "stem.pool.size")
    assert error.hint == "use an odd pool size, or padding: same"


def test_stem_convs_are_numbered_only_in_a_deep_stem():
    deep = layers(network(stem={"filters": [8, 8], "stride": 2}))
    assert [name for name in deep if name.startswith("stem")] == [
        *("stem_conv1", "stem_bn1", "stem_relu1", "stem_conv2", "stem_bn2", "stem_relu2"),
    ]
    assert deep["stem_conv1"].attrs["strides"] == 2 and deep["stem_conv2"].attrs["strides"] == 1
    single = layers(network())
    assert [name for name in single if name.startswith("stem")] == [
        *("stem_conv", "stem_bn", "stem_relu")
    ]


def test_a_stem_diagnostic_points_at_the_stride_of_a_strided_conv_else_at_its_filters():
    limits = archspec.Limits(max_params=100)
    unstrided = network(stem={"filters": 8, "stride": 1})
    (error,) = archspec.analyze(unstrided, limits=limits).errors
    assert (error.code, error.path) == ("too-many-params", "stem.filters")
    # 30 -> 10: a stride of 3 that does not divide 32 warns at the stride.
    strided = network(input={"shape": [32, 32, 3]}, stem={"filters": 8, "kernel": 3, "stride": 3})
    warnings = [d for d in archspec.analyze(strided).diagnostics if d.code == "uneven-stride"]
    assert [d.path for d in warnings] == ["stem.stride"]


def test_an_even_kernel_in_a_deep_stem_says_so():
    (error,) = archspec.analyze(network(stem={"filters": [8, 8], "kernel": 4})).errors
    assert error.code == "even-kernel"
    assert error.message == "an even kernel of 4 needs asymmetric padding in a deep stem"


def test_only_relu_and_relu6_take_the_relu_layer_class():
    spec = network(activation="swish", keras={"relu_layer": "ReLU"})
    acts = [layer.attrs for layer in archspec.lower(spec).layers if layer.op == "activation"]
    assert acts and all(a["layer"] == "Activation" and a["function"] == "swish" for a in acts)
    relu6 = network(activation="relu6", keras={"relu_layer": "ReLU"})
    acts = [layer.attrs for layer in archspec.lower(relu6).layers if layer.op == "activation"]
    assert acts and all(a["layer"] == "ReLU" for a in acts)


HARD_SIGMOID_UNUSED = """\
name: gaps
input: {shape: [32, 32, 3]}
stem: {filters: 8}
stages:
  - {block: basic, filters: 8, stride: 1, depth: 1}
head: {classes: 3}
keras:
  hard_sigmoid: ReLU6
"""


def test_a_setting_for_an_unused_function_warns_at_its_key_and_only_then():
    analysis = archspec.analyze(archspec.loads(HARD_SIGMOID_UNUSED, "spec.yaml"))
    (warning,) = [d for d in analysis.diagnostics if d.code == "unused"]
    assert warning.path == "keras.hard_sigmoid"
    assert warning.location is not None
    assert (warning.location.line, warning.location.column) == (8, 3)  # the key, not the value
    used = HARD_SIGMOID_UNUSED.replace(
        "head: {classes: 3}", "head: {classes: 3}\nactivation: hard_sigmoid"
    )
    analysis = archspec.analyze(archspec.loads(used, "spec.yaml"))
    assert not [d for d in analysis.diagnostics if d.code == "unused"]


def test_a_head_dense_layer_diagnostic_points_at_that_layer():
    # An open input size and a flattening head: the first dense layer cannot know its inputs.
    spec = network(
        input={"shape": [None, None, 3]}, head={"classes": 3, "pool": "flatten", "dense": [16, 8]}
    )
    (error,) = archspec.analyze(spec).errors
    assert (error.code, error.path) == ("shape-mismatch", "head.dense[0]")


def test_a_head_conv_scaled_up_only_keeps_its_width_at_multiplier_one():
    def head_conv_filters(scale: str) -> int:
        conv = {"filters": 1001, "scale": scale}
        rounding = {"divisor": 8}
        spec = network(
            width_multiplier=1.0, width_rounding=rounding, head={"classes": 3, "conv": conv}
        )
        return int(layers(spec)["head_conv"].attrs["filters"])

    assert head_conv_filters("up") == 1001
    assert head_conv_filters("always") == 1000  # rounded to the divisor, as any scaled width


def budget_error(spec: archspec.Spec, **limits: int) -> tuple[str, str]:
    (error,) = archspec.analyze(spec, limits=archspec.Limits(**limits)).errors
    return error.code, error.path


def test_a_budget_exceeded_by_the_input_points_at_the_last_input_setting_lowered():
    assert budget_error(network(), max_layers=0) == ("too-many-layers", "input.shape")
    rescaled = network(input={"shape": [32, 32, 3], "rescale": {"scale": 0.5}})
    assert budget_error(rescaled, max_layers=1) == ("too-many-layers", "input.rescale")
    normalized = {"shape": [32, 32, 3], "rescale": {"scale": 0.5}, "normalize": {}}
    assert budget_error(network(input=normalized), max_layers=2) == (
        "too-many-layers",
        "input.normalize",
    )


def test_normalization_values_are_checked_per_key_with_a_hint():
    wrong = {"shape": [32, 32, 3], "normalize": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5]}}
    (error,) = archspec.analyze(network(input=wrong)).errors
    assert (error.code, error.path) == ("channel-mismatch", "input.normalize.std")
    assert error.hint == "give one value per input channel"
    for given, missing in (({"mean": [0.5] * 3}, "std"), ({"std": [0.5] * 3}, "mean")):
        spec = network(input={"shape": [32, 32, 3], "normalize": given})
        (error,) = archspec.analyze(spec).errors
        assert (error.code, error.path) == ("contradiction", "input.normalize")
        assert f"'{missing}' is missing" in error.message
        assert error.hint == "give both, or neither to make them weights (set by adapt())"


def test_an_open_input_size_takes_each_axis_from_the_nominal_size():
    spec = network(input={"shape": [None, None, 3], "nominal_size": [64, 32]})
    graph = archspec.lower(spec)
    assert graph.layers[0].attrs["shape"] == (None, None, 3)
    assert graph.layers[0].nominal == (64, 32, 3)


def test_layers_outside_blocks_are_their_own_local_names_in_the_main_branch():
    graph = archspec.lower(network())
    first = graph.layers[0]
    assert (first.name, first.op, dict(first.attrs)) == ("input", "input", {"shape": (32, 32, 3)})
    conv = layers(network())["stem_conv"]
    assert (conv.local, conv.branch, conv.block) == ("stem_conv", "main", None)
    # A fixed input size: no layer needs a second, nominal shape.
    assert all(layer.nominal is None for layer in graph.layers)


def test_a_failed_analysis_has_no_graph():
    analysis = archspec.analyze(
        network(input={"shape": [2, 2, 3]}, stem={"filters": 8, "stride": 4})
    )
    assert analysis.errors and analysis.graph is None


def test_a_window_too_small_names_its_axis():
    (error,) = archspec.analyze(
        network(input={"shape": [32, 1, 3]}, stem={"filters": 8, "stride": 2})
    ).errors
    assert error.code == "collapse"
    assert "the width is 1 here" in error.message


def test_more_block_settings_than_blocks_is_refused_with_a_depth_to_give():
    stage = {"block": "basic", "filters": 8, "stride": 1, "depth": 1, "blocks": [{}, {}]}
    (error,) = archspec.analyze(network(stages=[stage])).errors
    assert (error.code, error.path) == ("too-many-blocks", "stages[0].blocks")
    assert error.hint == "give depth: 2, or leave depth out"


def test_correct_pad_pads_only_strided_windows_larger_than_one():
    stem = {"filters": 8, "kernel": 1, "stride": 2, "pool": {"size": 2, "stride": 2}}
    got = layers(network(stem=stem, conv={"padding": "correct_pad"}))
    assert "stem_pad" not in got and got["stem_conv"].attrs["padding"] == "same"
    # A 2x2/2 pool is padded: keras.applications' correct_pad gives ((0, 1), (0, 1)) at 16.
    assert got["stem_pool_pad"].attrs["padding"] == ((0, 1), (0, 1))
    assert got["stem_pool"].attrs["padding"] == "valid"


def test_a_blocks_own_problem_keeps_its_hint_and_code():
    stage = {"block": "bottleneck", "filters": 32, "depth": 2, "blocks": [{}, {"groups": 5}]}
    (error,) = archspec.analyze(network(stages=[stage])).errors
    assert (error.code, error.path) == ("groups", "stages[0].blocks[1].groups")
    assert error.hint == "use a divisor of 32, such as 4"


@pytest.mark.parametrize("spec_name", ["resnet22", "mobilenetv3_small", "densenet121"])
def test_every_budget_holds_at_exactly_the_models_figures_and_fails_one_below(spec_name):
    """The budgets count exactly what the IR holds: a limit equal to the model's figure
    passes, one unit less is a located error of that budget's code (an activation count that
    started at one value, 4 bytes, would fail the first)."""
    spec = archspec.load(spec_name)
    graph = archspec.lower(spec)
    exact = Limits(
        max_params=graph.params,
        max_activation_bytes=graph.activation_bytes,
        max_layers=len(graph),
    )
    assert archspec.lower(spec, limits=exact).params == graph.params
    for field, code in (
        ("max_params", "too-many-params"),
        ("max_activation_bytes", "too-much-memory"),
        ("max_layers", "too-many-layers"),
    ):
        below = dataclasses.replace(exact, **{field: getattr(exact, field) - 1})
        with pytest.raises(SpecError) as raised:
            archspec.lower(spec, limits=below)
        assert [d.code for d in raised.value.diagnostics] == [code], field


def test_a_residual_whose_paths_disagree_names_both_shapes_and_a_way_out():
    # 'strided_bottom_right' pads a strided 3x3 conv with one zero row and column, which
    # suits even maps only: 15 -> 7 on the main path, 15 -> 8 through the 1x1 projection.
    stages = [{"block": "basic", "filters": 8, "stride": 2, "depth": 1}]
    spec = network(
        input={"shape": [30, 30, 3]},
        stem={"filters": 8, "stride": 2},
        conv={"padding": "strided_bottom_right"},
        stages=stages,
    )
    analysis = archspec.analyze(spec)
    [error] = [d for d in analysis.diagnostics if d.severity == "error"]
    assert (error.path, error.code) == ("stages[0]", "shape-mismatch")
    assert "the main path gives (7, 7, 8) but the shortcut gives (8, 8, 8)" in error.message
    assert error.hint == "use 'same' padding or sizes the strides divide evenly"
