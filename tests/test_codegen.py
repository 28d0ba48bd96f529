"""Generated source: golden text, ruff-clean, deterministic, safe, and the same model as build."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import types

import numpy as np
import pytest

import archspec
from archspec.backends.python import call_lines, docstring_text
from tests.conftest import BUILT_SPECS, ROOT, SPECS
from tests.test_keras_backend import layer_sequence, outputs, randomize_weights


def generated_module(source: str, name: str) -> types.ModuleType:
    module = types.ModuleType(f"generated_{name}")
    exec(compile(source, f"<generated {name}>", "exec"), module.__dict__)
    return module


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.stem)
def test_generated_source_matches_its_golden_file(spec_path, golden):
    golden(f"codegen/{spec_path.stem}.py", archspec.codegen(spec_path))


RUFF_CHECK = [
    "check",
    "--isolated",
    "--select",
    "E,F,W,I,B,UP,SIM,RUF,PTH,D",
    "--ignore",
    "D203,D213,RUF001,RUF002,RUF003",
]
"""This project's own rules, pydocstyle included, so generated code can join such a project
(which, like this one, means the characters it writes: no ambiguous-character rules)."""


def test_generated_source_passes_ruff_as_generated(tmp_path):
    for spec_path in SPECS:
        (tmp_path / f"{spec_path.stem}.py").write_text(archspec.codegen(spec_path))
    ruff = [sys.executable, "-m", "ruff"]
    for command in (RUFF_CHECK, ["format", "--isolated", "--check", "--diff"]):
        result = subprocess.run(
            [*ruff, *command, str(tmp_path)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_generation_is_deterministic_across_processes():
    code = "import archspec, sys; sys.stdout.write(archspec.codegen('specs/resnet50v2.yaml'))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert outputs == {archspec.codegen(ROOT / "specs" / "resnet50v2.yaml")}


def test_readme_states_the_generated_signatures():
    readme = (ROOT / "README.md").read_text()
    source = archspec.codegen(ROOT / "specs" / "resnet22.yaml")
    stated = {s.strip("`") for s in re.findall(r"`(\w+\([^`]*\))`", readme) if "_block(" in s}
    stated |= {s for s in re.findall(r"`(build_model\([^`]*\))`", readme)}
    assert stated, "the README states no generated signature"
    for signature in stated:
        assert f"def {signature}:" in source, signature


def test_a_single_form_of_a_block_type_is_a_single_function():
    """A stride-1 first stage does not give a near-copy of the strided projection block.

    (With PyTorch's padding, resnetv2_50_timm's strided 3x3 convs are padded explicitly and its
    unstrided first stage's are not: two forms, two functions. preact_resnet164 pads 'same'.)
    """
    spec = archspec.load(ROOT / "specs" / "preact_resnet164.yaml")
    source = archspec.codegen(spec)
    functions = [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
    assert functions == [
        "preact_bottleneck_conv_block", "preact_bottleneck_identity_block", "build_model"
    ]  # fmt: skip
    assert 'stride=1, name="stage1_block1"' in source


def test_generated_module_imports_only_keras():
    tree = ast.parse(archspec.codegen(ROOT / "specs" / "resnet50v2.yaml"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"keras"}


def test_one_function_per_kind_of_block_and_a_comment_per_stage():
    source = archspec.codegen(ROOT / "specs" / "resnet22.yaml")
    tree = ast.parse(source)
    functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert functions == ["preact_basic_conv_block", "preact_basic_identity_block", "build_model"]
    assert "    # stage2: preact_basic x2, 32 filters, stride 2\n" in source
    assert ast.get_docstring(tree).startswith("resnet22: a Keras 3 model")
    assert 'name="stage2_block1"' in source


def test_docstring_text_cannot_end_the_literal_and_needs_no_escape():
    assert docstring_text('a """ b \\ c "quoted"') == 'a "\'" b <U+005C> c "quoted"'
    assert docstring_text("\x00\u2028\x1b[31m") == "<U+0000><U+2028><U+001B>[31m"


def test_call_lines_layout():
    assert call_lines("", "f", ["a", "b"], "(x)") == ["f(a, b)(x)"]
    long_args = [f"argument_number_{i}" for i in range(8)]
    exploded = call_lines("    ", "x = layers.Conv2D", long_args, "(x)")
    assert exploded[0] == "    x = layers.Conv2D("
    assert exploded[-1] == "    )(x)"
    assert all(line.endswith(",") for line in exploded[1:-1])
    hugged = call_lines("    ", "x = block", long_args[:4])
    assert hugged == ["    x = block(", "        " + ", ".join(long_args[:4]), "    )"]


# --- semantic equivalence: the generated module builds the same model ----------------------


RUN_BUDGET = 512 << 20
"""Activation bytes per image above which the models run at SMALL_SIZE: a Keras model keeps
every layer's output while it runs, and EfficientNet-B7 at 600x600 makes 3.9 GiB of them."""
SMALL_SIZE = (96, 96)


@pytest.mark.keras
@pytest.mark.parametrize("spec_path", BUILT_SPECS)
def test_generated_model_equals_the_built_model(spec_path, built_models):
    from archspec.backends.keras import build_model
    from archspec.backends.python import generate

    graph = archspec.lower(archspec.load(spec_path))
    if graph.activation_bytes <= RUN_BUDGET:
        built = built_models(spec_path.stem)
    else:  # the same lowering and code generator, on the network at a smaller size
        graph = archspec.lower(archspec.load(spec_path), input_size=SMALL_SIZE)
        built = build_model(graph)
    generated = generated_module(generate(graph), spec_path.stem).build_model()
    assert layer_sequence(generated) == layer_sequence(built)
    assert [layer.name for layer in generated.layers] == [layer.name for layer in built.layers]
    assert [w.shape for w in generated.weights] == [w.shape for w in built.weights]
    assert [w.path for w in generated.weights] == [w.path for w in built.weights]
    randomize_weights(built, seed=3)
    generated.set_weights(built.weights)  # as get_weights() orders them, without a copy
    # A model of any input size runs at its nominal size.
    shape = (2, *graph.input.sized_shape)
    images = np.random.default_rng(3).uniform(0, 1, shape).astype("float32")
    np.testing.assert_array_equal(outputs(generated, images), outputs(built, images))


@pytest.mark.keras
def test_generated_resnet22_equals_the_hand_written_reference(reference_resnet22):
    source = archspec.codegen(ROOT / "specs" / "resnet22.yaml")
    generated = generated_module(source, "resnet22").build_model()
    assert layer_sequence(generated) == layer_sequence(reference_resnet22)


@pytest.mark.keras
def test_generated_build_model_takes_another_input_size_and_class_count(built_models):
    source = archspec.codegen(ROOT / "specs" / "resnet22.yaml")
    module = generated_module(source, "resnet22_resized")
    model = module.build_model(input_shape=(64, 64, 1), classes=7)
    assert model.input_shape == (None, 64, 64, 1) and model.output_shape == (None, 7)
    assert model.get_layer("classifier").units == 7
    default = module.build_model()
    assert layer_sequence(default) == layer_sequence(built_models("resnet22"))
