"""`extends` merges mappings key by key at every depth and replaces lists, through any chain.

The expected specs are written out in full (or, in the property test, merged by a ten-line
reference), never taken from archspec's own merge. Errors in merged values must still point
at the file and line that wrote them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archspec
from archspec.errors import SpecError

BASE = """\
name: base
input: {shape: [32, 32, 3]}
stem: {filters: [8, 8], kernel: 3, stride: 1, norm: true, pool: {kind: avg, size: 3, stride: 2}}
stages:
  - {block: preact_basic, filters: 8, stride: 1, depth: 2}
  - {block: preact_basic, filters: 16, stride: 2}
head: {classes: 5, dense: [32, 16], dropout: 0.1}
residual:
  stride_at: last
  shortcut: {kind: avgpool_conv, when: shape_change, downsample: maxpool, source: preact,
             order: shortcut_first}
conv:
  padding: explicit
  bias: {stem: false, block: false, block_out: true, shortcut: false}
norm: {epsilon: 1.0e-5, momentum: 0.9}
keras: {relu_layer: Activation}
"""

CHILD = """\
extends: base.yaml
name: child
stem: {pool: {size: 5}}
residual: {shortcut: {order: main_first}}
conv: {bias: {block: true}}
norm: {momentum: 0.8}
head: {dense: [64]}
"""

GRANDCHILD = """\
extends: child.yaml
name: grandchild
stem: {filters: 16}
residual: {shortcut: {kind: conv}}
conv: {bias: {stem: true}}
stages: [{block: preact_bottleneck, filters: 4, groups: 2}]
"""


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text)


def dump(spec: archspec.Spec) -> dict:
    return spec.model_dump(mode="json", exclude={"extends"})


def expected(**changes) -> dict:
    """BASE as a dict, with `changes` written out in full (no merging here)."""
    data = yaml.safe_load(BASE)
    data.update(changes)
    return dump(archspec.Spec.model_validate(data))


def test_depth_two_and_three_merge_key_by_key(tmp_path):
    write(tmp_path, {"base.yaml": BASE, "child.yaml": CHILD})
    spec = archspec.load(tmp_path / "child.yaml")
    assert dump(spec) == expected(
        name="child",
        stem={"filters": [8, 8], "kernel": 3, "stride": 1, "norm": True,
              "pool": {"kind": "avg", "size": 5, "stride": 2}},
        head={"classes": 5, "dense": [64], "dropout": 0.1},
        residual={"stride_at": "last",
                  "shortcut": {"kind": "avgpool_conv", "when": "shape_change",
                               "downsample": "maxpool", "source": "preact",
                               "order": "main_first"}},
        conv={"padding": "explicit",
              "bias": {"stem": False, "block": True, "block_out": True, "shortcut": False}},
        norm={"epsilon": 1e-5, "momentum": 0.8},
    )  # fmt: skip
    assert spec.extends == "base.yaml"


def test_a_chain_of_extends_merges_every_level(tmp_path):
    write(tmp_path, {"base.yaml": BASE, "child.yaml": CHILD, "grandchild.yaml": GRANDCHILD})
    spec = archspec.load(tmp_path / "grandchild.yaml")
    assert dump(spec) == expected(
        name="grandchild",
        stem={"filters": [16], "kernel": 3, "stride": 1, "norm": True,
              "pool": {"kind": "avg", "size": 5, "stride": 2}},
        stages=[{"block": "preact_bottleneck", "filters": 4, "groups": 2}],
        head={"classes": 5, "dense": [64], "dropout": 0.1},
        residual={"stride_at": "last",
                  "shortcut": {"kind": "conv", "when": "shape_change", "downsample": "maxpool",
                               "source": "preact", "order": "main_first"}},
        conv={"padding": "explicit",
              "bias": {"stem": True, "block": True, "block_out": True, "shortcut": False}},
        norm={"epsilon": 1e-5, "momentum": 0.8},
    )  # fmt: skip
    assert spec.extends == "child.yaml"


def test_lists_replace_whole_and_null_replaces_a_mapping(tmp_path):
    write(
        tmp_path,
        {
            "base.yaml": BASE,
            "short.yaml": "extends: base.yaml\nname: short\nstages: [{block: basic, filters: 4}]\n"
            "head: {dense: []}\nstem: {pool: null}\n",
        },
    )
    spec = archspec.load(tmp_path / "short.yaml")
    # Not merged item by item: the base's first stage had depth 2 and a second stage.
    assert [(s.block, s.filters, s.depth) for s in spec.stages] == [("basic", 4, 1)]
    assert spec.head.dense == ()
    assert spec.stem.pool is None
    assert spec.stem.filters == (8, 8)


def test_extending_a_preset_keeps_its_nested_settings(tmp_path):
    (tmp_path / "mine.yaml").write_text(
        "extends: resnet50v2\nname: mine\nresidual: {shortcut: {order: main_first}}\n"
        "conv: {bias: {block: true}}\n"
    )
    spec = archspec.load(tmp_path / "mine.yaml")
    preset = archspec.load("resnet50v2")
    assert spec.residual.shortcut.order == "main_first"
    assert spec.residual.shortcut.model_copy(update={"order": "shortcut_first"}) == (
        preset.residual.shortcut
    )
    assert spec.residual.stride_at == preset.residual.stride_at == "last"
    assert spec.conv.bias.block is True
    assert spec.conv.bias.model_copy(update={"block": False}) == preset.conv.bias
    assert spec.conv.padding == "explicit"


# --- where errors in merged documents point -------------------------------------------------


def line_of(text: str, needle: str) -> int:
    return next(i for i, row in enumerate(text.splitlines(), 1) if needle in row)


def only_error(path: Path) -> object:
    try:
        archspec.load(path)
    except SpecError as exc:
        (error,) = exc.errors
        return error
    raise AssertionError("the spec was accepted")


def test_an_error_in_a_deep_override_points_at_the_child(tmp_path):
    child = CHILD.replace("order: main_first", "order: sideways")
    write(tmp_path, {"base.yaml": BASE, "child.yaml": child})
    error = only_error(tmp_path / "child.yaml")
    assert error.path == "residual.shortcut.order"
    assert error.location.file == str(tmp_path / "child.yaml")
    assert error.location.line == line_of(child, "sideways")


def test_an_error_in_a_kept_base_value_points_at_the_base(tmp_path):
    # The child overrides a sibling of the bad value at depth 3: the bad value survives the
    # merge, and so does its location in the base file, as the error's origin; the error
    # itself stands at the child's `extends` line, in the file being checked (issue 16).
    base = BASE.replace("shortcut: false}", 'shortcut: "no"}')
    write(tmp_path, {"base.yaml": base, "child.yaml": CHILD})
    error = only_error(tmp_path / "child.yaml")
    assert error.path == "conv.bias.shortcut"
    assert error.origin.file == str(tmp_path / "base.yaml")
    assert error.origin.line == line_of(base, '"no"')
    assert error.location.file == str(tmp_path / "child.yaml")
    assert error.location.line == line_of(CHILD, "extends:")


def test_a_replaced_list_forgets_the_base_locations(tmp_path):
    child = "extends: base.yaml\nname: child\nstages:\n  - {filters: 8}\n"
    write(tmp_path, {"base.yaml": BASE, "child.yaml": child})
    error = only_error(tmp_path / "child.yaml")
    assert error.path == "stages[0].block"
    assert (error.location.file, error.location.line) == (str(tmp_path / "child.yaml"), 4)


# --- property: any overrides at any depth, through a chain ----------------------------------

LEAVES = {
    ("residual", "stride_at"): st.sampled_from(["first", "last"]),
    ("residual", "shortcut", "kind"): st.sampled_from(["conv", "avgpool_conv", "identity"]),
    ("residual", "shortcut", "when"): st.sampled_from(["first_block", "shape_change"]),
    ("residual", "shortcut", "downsample"): st.sampled_from(["projection", "maxpool"]),
    ("residual", "shortcut", "source"): st.sampled_from(["input", "preact"]),
    ("residual", "shortcut", "order"): st.sampled_from(["main_first", "shortcut_first"]),
    ("conv", "padding"): st.sampled_from(["same", "explicit"]),
    ("conv", "bias", "stem"): st.booleans(),
    ("conv", "bias", "block"): st.booleans(),
    ("conv", "bias", "block_out"): st.booleans(),
    ("conv", "bias", "shortcut"): st.booleans(),
    ("norm", "epsilon"): st.sampled_from([1e-3, 1e-5, 0.5]),
    ("norm", "momentum"): st.sampled_from([0.0, 0.9, 0.99]),
    ("keras", "relu_layer"): st.sampled_from(["ReLU", "Activation"]),
    ("stem", "filters"): st.sampled_from([8, [4, 8], [4, 4, 8]]),
    ("stem", "norm"): st.booleans(),
    ("stem", "pool"): st.sampled_from([None, {"kind": "avg"}, {"size": 5, "stride": 1}]),
    ("stem", "pool", "size"): st.sampled_from([1, 3]),
    ("head", "dense"): st.sampled_from([[], [16], [32, 8]]),
    ("head", "classes"): st.integers(1, 9),
    ("stages",): st.sampled_from(
        [
            [{"block": "basic", "filters": 8}],
            [{"block": "preact_bottleneck", "filters": 4, "depth": 2},
             {"block": "basic", "filters": 8}],
        ]
    ),
}  # fmt: skip
REQUIRED = {
    "input": {"shape": [32, 32, 3]},
    "stem": {"filters": 8},
    "stages": [{"block": "preact_basic", "filters": 8}],
    "head": {"classes": 3},
}


def nested(leaves: dict[tuple, object]) -> dict:
    """{("a", "b"): 1} -> {"a": {"b": 1}}; a later, deeper leaf wins over a shallower one."""
    out: dict = {}
    for path, value in sorted(leaves.items(), key=lambda item: len(item[0])):
        node = out
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[path[-1]] = value
    return out


def reference_merge(base: object, override: object) -> object:
    """The documented rule: mappings merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: reference_merge(base.get(k), v) for k, v in override.items()}}
    return override


overrides = st.dictionaries(st.sampled_from(list(LEAVES)), st.none(), max_size=8).flatmap(
    lambda chosen: st.fixed_dictionaries({path: LEAVES[path] for path in chosen})
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers=st.lists(overrides, min_size=2, max_size=4))
def test_any_chain_of_overrides_merges_like_the_reference(layers):
    documents = [reference_merge(REQUIRED, nested(layers[0]))]
    documents += [nested(leaves) for leaves in layers[1:]]
    merged: object = {}
    with tempfile.TemporaryDirectory() as folder:
        for number, document in enumerate(documents):
            data = {"name": f"spec{number}", **document}
            if number:
                data["extends"] = f"spec{number - 1}.yaml"
            (Path(folder) / f"spec{number}.yaml").write_text(yaml.safe_dump(data))
            merged = reference_merge(merged, data)
        # Every leaf value above is valid, so both sides validate: no vacuous None == None.
        got = dump(archspec.load(Path(folder) / f"spec{len(documents) - 1}.yaml"))
    assert got == dump(archspec.Spec.model_validate(merged))
