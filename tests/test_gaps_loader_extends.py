"""How `extends` chains are read, merged and kept to the spec's folder.

Each refusal is checked whole: its message, hint, code and the place it points at (the file
named on the command line, or the `extends` line that names the file). Chains are checked
at their bounds: the deepest chain allowed and one level more, a chain of exactly
`MAX_VALUES` values and one value more.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import archspec
from archspec.errors import Origin, SpecError, UnreadableError
from archspec.io import MAX_VALUES, parse_document
from archspec.loader import (
    MAX_EXTENDS_DEPTH,
    SPEC_SUFFIXES,
    preset_names,
    preset_path,
    read_resolved,
    resolve_extends,
)

OUTSIDE_HINT = (
    "a spec may read presets and files under its own folder (links are followed to where "
    "they point); give --root (or root=) a folder that holds both to allow more"
)

TINY = """\
name: tiny
input: {shape: [32, 32, 3]}
stem: {filters: 8}
stages:
  - {block: preact_basic, filters: 8}
head: {classes: 10}
"""


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A fresh working folder, so that paths in messages are short and relative."""
    monkeypatch.chdir(tmp_path)
    return Path()


def write(files: dict[str, str]) -> None:
    for name, text in files.items():
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(text)


def only(info: pytest.ExceptionInfo[SpecError]):
    (diagnostic,) = info.value.diagnostics
    return diagnostic


# --- confined to the folder ----------------------------------------------------------------


@pytest.mark.parametrize("read", [archspec.load, read_resolved])
def test_a_spec_outside_the_given_root_is_refused_naming_the_file(here, read):
    write({"inside/keep.yaml": TINY, "outside/spec.yaml": TINY})
    with pytest.raises(UnreadableError) as info:
        read(Path("outside/spec.yaml"), root="inside")
    d = only(info)
    assert d.message == "'outside/spec.yaml' is outside the folder inside"
    assert (d.hint, d.code, d.path) == (OUTSIDE_HINT, "outside-root", "")
    at = d.location
    assert (at.file, at.line, at.column) == ("outside/spec.yaml", None, None)


def test_extending_a_file_outside_the_folder_is_refused_at_the_extends_line(here):
    write({"out.yaml": TINY, "specs/child.yaml": "name: child\nextends: ../out.yaml\n"})
    with pytest.raises(SpecError) as info:
        archspec.load("specs/child.yaml")
    d = only(info)
    assert d.message == "'../out.yaml' is outside the folder specs"
    assert (d.hint, d.code, d.path) == (OUTSIDE_HINT, "outside-root", "extends")
    assert (d.location.file, d.location.line, d.location.column) == ("specs/child.yaml", 2, 10)


def test_resolve_extends_reads_under_the_document_s_folder_by_default(here):
    write({"specs/base.yaml": "name: base\nhead: {classes: 3}\n", "out.yaml": TINY})
    doc = parse_document("extends: base.yaml\nname: child\n", "specs/child.yaml")
    merged = resolve_extends(doc)
    assert merged.data == {"name": "child", "head": {"classes": 3}, "extends": "base.yaml"}
    assert merged.files == (Path("specs/base.yaml").resolve(),)
    outside = parse_document("extends: ../out.yaml\n", "specs/child.yaml")
    with pytest.raises(SpecError) as info:
        resolve_extends(outside)
    d = only(info)
    assert (d.message, d.code) == ("'../out.yaml' is outside the folder specs", "outside-root")


def test_a_base_in_a_subfolder_may_extend_anything_under_the_spec_s_folder(here):
    write(
        {
            "common.yaml": "name: common\nhead: {classes: 3}\n",
            "sub/base.yaml": "extends: ../common.yaml\nname: base\nstem: {filters: 8}\n",
            "child.yaml": "extends: sub/base.yaml\nname: child\n",
        }
    )
    document = read_resolved(Path("child.yaml"))
    assert document.data == {
        "extends": "sub/base.yaml",
        "name": "child",
        "head": {"classes": 3},
        "stem": {"filters": 8},
    }
    assert document.file == "child.yaml"
    assert document.files == tuple(
        Path(name).resolve() for name in ("child.yaml", "sub/base.yaml", "common.yaml")
    )


# --- what extends may name -----------------------------------------------------------------


@pytest.mark.parametrize("target", ["qqqq", "../qqqq", "sub/qqqq"])
def test_a_name_that_is_neither_preset_nor_spec_file_is_refused_without_reading_it(here, target):
    # Each of them exists, but without a spec suffix it is not a spec file.
    write({"specs/qqqq": TINY, "qqqq": TINY, "specs/sub/qqqq": TINY})
    write({"specs/child.yaml": f"extends: {target}\n"})
    with pytest.raises(SpecError) as info:
        archspec.load("specs/child.yaml")
    d = only(info)
    assert d.message == f"'{target}' is neither a preset nor a spec file"
    assert d.hint == (
        f"presets: {', '.join(preset_names())}; or give a path relative to this file, "
        f"ending in {', '.join(SPEC_SUFFIXES)}"
    )
    assert SPEC_SUFFIXES == (".yaml", ".yml", ".json")
    assert (d.code, d.path) == ("extends", "extends")
    assert (d.location.file, d.location.line, d.location.column) == ("specs/child.yaml", 1, 10)


def test_text_extending_its_own_file_is_refused_without_reading_the_file(here):
    write({"a.yaml": "name: on-disk\n"})
    with pytest.raises(SpecError) as info:
        archspec.loads("name: text\nextends: a.yaml\n", "a.yaml")
    d = only(info)
    assert d.message == "'a.yaml' extends itself, directly or through other specs"
    assert (d.hint, d.code, d.path) == (None, "extends", "extends")
    assert (d.location.file, d.location.line, d.location.column) == ("a.yaml", 2, 10)


def test_a_base_that_is_not_a_mapping_is_refused(here):
    write({"base.yaml": "- 1\n- 2\n", "child.yaml": "extends: base.yaml\nname: child\n"})
    with pytest.raises(SpecError) as info:
        archspec.load("child.yaml")
    d = only(info)
    assert d.message == "'base.yaml' is not a mapping, so it cannot be extended"
    assert (d.hint, d.code, d.path) == (None, "extends", "extends")
    assert (d.location.file, d.location.line, d.location.column) == ("child.yaml", 1, 10)


def test_presets_extend_only_presets_so_their_own_folder_is_their_root():
    # A preset's base is read under the presets' folder whatever the spec's root is; that
    # matters only for a preset extending a path, which no shipped preset does.
    for name in preset_names():
        target = read_resolved(preset_path(name)).data.get("extends")
        assert target is None or preset_path(target) is not None, name


def chain(links: int) -> None:
    """f0.yaml extends f1.yaml ... extends f{links}.yaml, which is the tiny spec."""
    files = {f"f{k}.yaml": f"extends: f{k + 1}.yaml\nname: f{k}\n" for k in range(links)}
    files[f"f{links}.yaml"] = TINY
    write(files)


def test_the_deepest_chain_allowed_loads_and_one_level_more_is_refused(here):
    assert MAX_EXTENDS_DEPTH == 8
    chain(MAX_EXTENDS_DEPTH)
    assert archspec.load("f0.yaml").name == "f0"
    chain(MAX_EXTENDS_DEPTH + 1)
    with pytest.raises(SpecError) as info:
        archspec.load("f0.yaml")
    d = only(info)
    assert d.message == "more than 8 levels of extends"
    assert (d.hint, d.code, d.path) == (None, "extends", "extends")
    # The file that would take the chain past the bound is the one refused.
    assert (d.location.file, d.location.line, d.location.column) == ("f8.yaml", 1, 10)


# --- one bound on values for the whole chain -------------------------------------------------

TOO_MANY = "with the specs that extend it, it expands to more than 20000 values"


def padded(items: int) -> str:
    """A base of 2 + `items` values: the root, the list and its items."""
    return "pad: [" + ", ".join(["0"] * items) + "]\n"


def test_a_chain_of_exactly_max_values_is_read_and_one_value_more_is_not(here):
    # child.yaml has 2 values (the root and extends' value), base.yaml 2 + n.
    write({"child.yaml": "extends: base.yaml\n", "base.yaml": padded(MAX_VALUES - 4)})
    document = read_resolved(Path("child.yaml"))
    assert document.values == MAX_VALUES
    assert len(document.data["pad"]) == MAX_VALUES - 4
    write({"base.yaml": padded(MAX_VALUES - 3)})
    with pytest.raises(SpecError) as info:
        read_resolved(Path("child.yaml"))
    d = only(info)
    assert (d.message, d.code, d.location.file, d.location.line) == (
        TOO_MANY,
        "too-large",
        "base.yaml",
        1,
    )


def test_every_file_of_a_three_level_chain_counts_against_one_bound(here):
    # 2 + 2 + (2 + n) values.
    write(
        {
            "top.yaml": "extends: child.yaml\n",
            "child.yaml": "extends: base.yaml\n",
            "base.yaml": padded(MAX_VALUES - 6),
        }
    )
    document = read_resolved(Path("top.yaml"))
    assert (document.file, document.values) == ("top.yaml", MAX_VALUES)
    write({"base.yaml": padded(MAX_VALUES - 5)})
    with pytest.raises(SpecError) as info:
        read_resolved(Path("top.yaml"))
    d = only(info)
    assert (d.message, d.code, d.location.file) == (TOO_MANY, "too-large", "base.yaml")


# --- merged locations -----------------------------------------------------------------------


def test_a_base_s_silenced_code_kept_after_the_child_s_is_located_in_the_base(here):
    write(
        {
            "base.yaml": TINY + "warnings:\n  ignore: [unused, no-such-code]\n",
            "child.yaml": "extends: base.yaml\nname: child\nwarnings: {ignore: [uneven-stride]}\n",
        }
    )
    with pytest.raises(SpecError) as info:
        archspec.load("child.yaml")
    d = only(info)
    # The merged list is [uneven-stride, unused, no-such-code]: the child's, then the base's.
    assert d.path == "warnings.ignore[2]"
    assert (d.location.file, d.location.line, d.location.column) == ("child.yaml", 1, 10)
    assert d.origin == Origin("base.yaml", 8, 20, None)
