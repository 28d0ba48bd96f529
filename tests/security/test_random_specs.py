"""Random valid specs over every knob: the IR is what Keras builds, and so is the generated code."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

import archspec
from archspec.backends.keras import build_model
from archspec.backends.python import generate
from archspec.errors import SpecError
from tests.strategies import small_specs
from tests.test_codegen import RUFF_CHECK, generated_module
from tests.test_keras_backend import assert_keras_layers_match_the_ir, layer_sequence

pytestmark = pytest.mark.keras


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(small_specs())
@pytest.mark.filterwarnings("ignore:You are using a softmax over axis")  # classes: 1, warned too
def test_ir_keras_and_generated_code_agree(tmp_path_factory, data):
    import keras

    try:
        graph = archspec.lower(archspec.Spec.model_validate(data))
    except SpecError:
        assume(False)
    keras.backend.clear_session()
    model = build_model(graph)
    assert_keras_layers_match_the_ir(graph, model)

    source = generate(graph)
    path = tmp_path_factory.mktemp("generated") / "model.py"
    path.write_text(source)
    for command in (RUFF_CHECK, ["format", "--isolated", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, str(path)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
    generated = generated_module(source, graph.name).build_model()
    assert layer_sequence(generated) == layer_sequence(model)
    weights = [
        np.random.default_rng(0).normal(0, 0.1, w.shape).astype("float32") for w in model.weights
    ]
    model.set_weights(weights)
    generated.set_weights(weights)
    shape = (2, *graph.input.sized_shape)  # an input of any size runs at its nominal size
    images = np.random.default_rng(1).uniform(0, 1, shape).astype("float32")
    np.testing.assert_array_equal(
        generated.predict_on_batch(images), model.predict_on_batch(images)
    )
