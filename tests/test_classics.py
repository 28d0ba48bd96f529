"""The classic families (VGG, DenseNet, MobileNet, ConvNeXt) and the mechanisms they need."""

from __future__ import annotations

import pytest

import archspec

# --- padding styles -------------------------------------------------------------------------


def small_spec(**override) -> archspec.Spec:
    data = {
        "name": "small",
        "input": {"shape": [15, 16, 3]},
        "stem": {"filters": 8, "kernel": 3, "stride": 2},
        "stages": [{"block": "basic", "filters": 8}],
        "head": {"classes": 3},
    }
    return archspec.Spec.model_validate({**data, **override})


@pytest.mark.parametrize(
    ("kernel", "stride", "pads"),
    [(3, 2, ((0, 1), (0, 1))), (5, 2, ((1, 2), (1, 2))), (7, 2, ((2, 3), (2, 3))), (3, 4, None)],
)
def test_strided_bottom_right_pads_what_same_pads_for_a_size_the_stride_divides(
    kernel, stride, pads
):
    spec = small_spec(
        stem={"filters": 8, "kernel": kernel, "stride": stride},
        conv={"padding": "strided_bottom_right"},
    )
    graph = archspec.lower(spec)
    conv = graph["stem_conv"]
    assert conv.attrs["padding"] == "valid"
    if pads is None:  # a kernel no larger than its stride needs no padding
        assert conv.inputs == ("input",)
    else:
        assert graph[conv.inputs[0]].attrs["padding"] == pads
    # The same pads at any size, as keras.applications' MobileNet pads: 15 rows give 7 at
    # stride 2, where 'same' would give 8.
    total = sum(pads[0]) if pads else 0
    assert conv.shape[:2] == tuple((size + total - kernel) // stride + 1 for size in (15, 16))
    if stride == 2:
        assert conv.shape[:2] == (7, 8)
    # Unstrided convs stay 'same'.
    assert {layer.attrs["padding"] for layer in graph if layer.op == "conv2d"} - {"valid"} == {
        "same"
    }
