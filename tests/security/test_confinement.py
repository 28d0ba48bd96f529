"""A spec reads presets and files under its own folder (or --root), nothing else, and never
waits on a pipe: `extends` cannot reach the rest of the machine or echo it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import archspec
from archspec.cli import main
from archspec.errors import SpecError, UnreadableError
from tests.conftest import ROOT, deadline

SECRET = "TOKEN_s3cr3t_value"
RESNET22 = (ROOT / "specs" / "resnet22.yaml").read_text()


@pytest.fixture
def tree(tmp_path):
    """repo/specs/ holds the specs; outside/ holds a file no spec may read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(f"{SECRET}: 1\nname: x\n")
    specs = tmp_path / "repo" / "specs"
    (specs / "sub").mkdir(parents=True)
    (specs / "base.yaml").write_text(RESNET22)
    return tmp_path


def refused(spec: Path, **kwargs) -> SpecError:
    with pytest.raises(SpecError) as info:
        archspec.load(spec, **kwargs)
    assert SECRET not in str(info.value)
    return info.value


@pytest.mark.parametrize(
    "target",
    [
        "{outside}/secret.yaml",  # absolute
        "../../outside/secret.yaml",  # climbing out
        "../../../../../../../../../../etc/hostname.yaml",
        "sub/../../../outside/secret.yaml",
    ],
)
def test_extends_cannot_leave_the_spec_folder(tree, target):
    spec = tree / "repo" / "specs" / "evil.yaml"
    spec.write_text(f"extends: {target.format(outside=tree / 'outside')}\nname: evil\n")
    (d,) = refused(spec).diagnostics
    assert d.code == "outside-root"
    assert (d.path, d.location.line, d.location.column) == ("extends", 1, 10)
    assert "is outside the folder" in d.message


def test_a_link_inside_the_tree_that_points_out_is_refused(tree):
    specs = tree / "repo" / "specs"
    (specs / "innocent.yaml").symlink_to(tree / "outside" / "secret.yaml")
    (specs / "sub" / "linked").symlink_to(tree / "outside", target_is_directory=True)
    for target in ("innocent.yaml", "sub/linked/secret.yaml"):
        (specs / "evil.yaml").write_text(f"extends: {target}\nname: evil\n")
        assert refused(specs / "evil.yaml").diagnostics[0].code == "outside-root"
    # named directly, a link out of its own folder is refused too
    error = refused(specs / "innocent.yaml")
    assert isinstance(error, UnreadableError)


def test_a_wider_root_allows_what_it_holds_and_only_that(tree):
    repo = tree / "repo"
    (repo / "shared.yaml").write_text(RESNET22)
    child = repo / "specs" / "sub" / "child.yaml"
    child.write_text("extends: ../../shared.yaml\nname: child\n")
    assert refused(child).diagnostics[0].code == "outside-root"
    assert archspec.load(child, root=repo).name == "child"
    result = CliRunner().invoke(main, ["validate", "--root", str(repo), str(child)])
    assert result.exit_code == 0, result.output
    (repo / "specs" / "evil.yaml").write_text("extends: ../../outside/secret.yaml\nname: e\n")
    refused(repo / "specs" / "evil.yaml", root=repo)


def test_presets_are_read_from_anywhere(tree):
    spec = tree / "repo" / "specs" / "sub" / "mine.yaml"
    spec.write_text("extends: resnet101v2\nname: mine\n")  # which extends resnet50v2
    assert archspec.load(spec).name == "mine"


def test_nothing_outside_is_looked_at_whether_it_exists_or_not(tree):
    """The same answer for a file that exists and one that does not: nothing to probe."""
    spec = tree / "repo" / "specs" / "probe.yaml"
    messages = []
    for target in ("../../outside/secret.yaml", "../../outside/missing.yaml"):
        spec.write_text(f"extends: {target}\nname: probe\n")
        messages.append(refused(spec).diagnostics[0].code)
    assert messages == ["outside-root", "outside-root"]


@pytest.mark.parametrize("command", ["validate", "inspect", "codegen", "graph", "build", "diff"])
def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path, command):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    arguments = [command, str(fifo)] + ([str(fifo)] if command == "diff" else [])
    with deadline(5):
        result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2, result.output
    assert "not a regular file (a named pipe)" in result.output


def test_a_fifo_that_a_spec_extends_is_refused(tmp_path):
    os.mkfifo(tmp_path / "base.yaml")
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nname: child\n")
    with deadline(5):
        (d,) = refused(tmp_path / "child.yaml").diagnostics
    assert (d.path, d.location.line) == ("extends", 1)
    assert "cannot be read: not a regular file (a named pipe)" in d.message


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused(device):
    if not Path(device).exists():
        pytest.skip(f"no {device}")
    error = refused(Path(device))
    assert isinstance(error, UnreadableError)
    assert "not a regular file (a character device)" in error.diagnostics[0].message


def test_names_too_long_for_the_file_system_are_reported_not_raised(tmp_path):
    long = "a" * 5000
    result = CliRunner().invoke(main, ["validate", f"{long}.yaml", f"{long}/*.yaml", "resnet22"])
    assert result.exit_code == 2, result.output
    assert result.output.count("cannot be read: File name too long") == 2
    assert "1 file checked: 1 valid" in result.output
    (tmp_path / "long.yaml").write_text(f"extends: {long}.yaml\nname: x\n")
    (d,) = refused(tmp_path / "long.yaml").diagnostics
    assert (d.path, d.code) == ("extends", "unreadable")
    assert d.message.endswith("(5,005 characters)' cannot be read: file name too long")
    result = CliRunner().invoke(main, ["codegen", "resnet22", "-o", str(tmp_path / f"{long}.py")])
    assert result.exit_code == 2
    assert result.output.endswith(".py: cannot write: File name too long\n")
