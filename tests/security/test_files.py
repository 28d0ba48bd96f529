"""Outputs are written atomically, never over an input; exit codes are as documented."""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from archspec.cli import main
from archspec.files import write_atomic
from tests.conftest import ROOT, deadline

RESNET22 = ROOT / "specs" / "resnet22.yaml"


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.py"
    target.write_text("old contents\n")

    def writer_that_dies(path):
        path.write_text("half of the new")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, writer_that_dies)
    assert target.read_text() == "old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["model.py"]


def test_atomic_text_write_replaces_whole(tmp_path):
    target = tmp_path / "out.txt"
    write_atomic(target, "first\n")
    write_atomic(target, "second\n")
    assert target.read_text() == "second\n"
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode


@pytest.mark.parametrize("command", [["build"], ["codegen"], ["graph"]])
def test_commands_refuse_to_overwrite_their_input(tmp_path, command):
    spec = tmp_path / ("spec.keras" if command == ["build"] else "spec.yaml")
    spec.write_text(RESNET22.read_text())
    result = CliRunner().invoke(main, [*command, str(spec), "-o", str(spec)])
    assert result.exit_code == 2
    assert "refusing to overwrite a file this command reads" in result.output
    assert spec.read_text() == RESNET22.read_text()


def test_output_into_a_missing_folder_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        main, ["codegen", str(RESNET22), "-o", str(tmp_path / "no" / "x.py")]
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_codegen_writes_atomically_to_a_file(tmp_path):
    output = tmp_path / "model.py"
    result = CliRunner().invoke(main, ["codegen", str(RESNET22), "-o", str(output)])
    assert result.exit_code == 0
    assert output.read_text().startswith('"""resnet22: a Keras 3 model')
    assert [p.name for p in tmp_path.iterdir()] == ["model.py"]


EXIT_CODES = [
    # (arguments, expected exit code) - the table in the README
    (["validate", "specs/resnet22.yaml"], 0),
    (["validate", "tests/invalid/typo_pool.yaml"], 1),
    (["validate", "missing.yaml"], 2),
    (["validate", "--format", "xml", "specs"], 2),
    (["inspect", "specs/resnet22.yaml"], 0),
    (["inspect", "tests/invalid/typo_pool.yaml"], 1),
    (["inspect", "missing.yaml"], 2),
    (["diff", "resnet50v2", "resnet101v2", "--fail-on-increase", "10"], 1),
    (["diff", "resnet50v2", "resnet101v2"], 0),
    (["graph", "tests/invalid/semantic_collapse.yaml"], 1),
    (["codegen", "tests/invalid/json_duplicate_key.json"], 1),
    (["build", "tests/invalid/value_zero_filters.yaml"], 1),
    (["build", "missing.yaml"], 2),
    (["nonsense"], 2),
]


@pytest.mark.parametrize(
    ("arguments", "code"), EXIT_CODES, ids=lambda v: " ".join(v) if isinstance(v, list) else str(v)
)
def test_exit_codes(arguments, code, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output


# --- outputs never replace what the command reads, nor anything that is not a plain file ------

CHILD = "extends: base.yaml\nname: child\n"
GRANDCHILD = "extends: child.yaml\nname: grandchild\n"


@pytest.fixture
def chain(tmp_path):
    """grandchild.yaml extends child.yaml, which extends base.yaml."""
    (tmp_path / "base.yaml").write_text(RESNET22.read_text())
    (tmp_path / "child.yaml").write_text(CHILD)
    (tmp_path / "grandchild.yaml").write_text(GRANDCHILD)
    return tmp_path


@pytest.mark.parametrize("target", ["base.yaml", "child.yaml", "grandchild.yaml"])
@pytest.mark.parametrize("command", ["codegen", "graph"])
def test_no_file_of_the_extends_chain_is_overwritten(chain, target, command):
    before = {p.name: p.read_text() for p in chain.iterdir()}
    result = CliRunner().invoke(
        main, [command, str(chain / "grandchild.yaml"), "-o", str(chain / target)]
    )
    assert result.exit_code == 2, result.output
    assert "refusing to overwrite a file this command reads" in result.output
    assert {p.name: p.read_text() for p in chain.iterdir()} == before


def test_a_link_to_an_input_is_an_input(chain):
    (chain / "link.py").symlink_to(chain / "base.yaml")
    result = CliRunner().invoke(
        main, ["codegen", str(chain / "child.yaml"), "-o", str(chain / "link.py")]
    )
    assert result.exit_code == 2
    assert (chain / "base.yaml").read_text() == RESNET22.read_text()


def test_presets_are_never_written(tmp_path):
    from archspec.loader import preset_path

    preset = preset_path("resnet50v2")
    before = preset.read_text()
    for spec in ("resnet50v2", "resnet22"):  # one the command reads, one it does not
        result = CliRunner().invoke(main, ["codegen", spec, "-o", str(preset)])
        assert result.exit_code == 2
    assert preset.read_text() == before


@pytest.mark.parametrize("name", ["fifo", "/dev/null", "folder"])
def test_outputs_that_are_not_regular_files_are_refused(tmp_path, name):
    if name == "fifo":
        target = tmp_path / "fifo.py"
        os.mkfifo(target)
    elif name == "folder":
        target = tmp_path / "out"
        target.mkdir()
    else:
        target = Path(name)
    with deadline(5):
        result = CliRunner().invoke(main, ["codegen", str(RESNET22), "-o", str(target)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert target.exists() and not target.is_file()


def test_read_only_and_empty_outputs_are_refused(tmp_path):
    target = tmp_path / "model.py"
    target.write_text("keep me\n")
    target.chmod(0o444)
    result = CliRunner().invoke(main, ["codegen", str(RESNET22), "-o", str(target)])
    assert result.exit_code == 2
    assert "refusing to replace a read-only file" in result.output
    assert target.read_text() == "keep me\n"
    result = CliRunner().invoke(main, ["codegen", str(RESNET22), "-o", ""])
    assert result.exit_code == 2
    assert "Invalid value for '-o' / '--output': the output path is empty" in result.output


# --- write failures: the path, exit 2, nothing left behind -----------------------------------


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EFBIG, "File too large"),
        PermissionError(errno.EACCES, "Permission denied"),
    ],
    ids=["disk-full", "too-large", "permission"],
)
@pytest.mark.parametrize("stage", ["create", "write"])
def test_write_failures_name_the_path_and_exit_2(tmp_path, monkeypatch, error, stage):
    target = tmp_path / "model.py"

    def fail(*args, **kwargs):
        raise error

    if stage == "create":
        monkeypatch.setattr(tempfile, "mkstemp", fail)
    else:
        monkeypatch.setattr(os, "fsync", fail)
    result = CliRunner().invoke(main, ["codegen", str(RESNET22), "-o", str(target)])
    assert result.exit_code == 2, result.output
    assert result.output == f"error: {target}: cannot write: {error.strerror}\n"
    assert list(tmp_path.iterdir()) == []


def run_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "archspec", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


def test_a_file_size_limit_is_a_write_error_not_a_crash(tmp_path):
    target = tmp_path / "model.py"

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    result = run_cli("codegen", "resnet22", "-o", str(target), preexec_fn=small_files)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"error: {target}: cannot write: File too large\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_standard_output_is_exit_2():
    with Path("/dev/full").open("w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "archspec", "inspect", "resnet22"],
            cwd=ROOT,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr == "error: standard output: No space left on device\n"


def test_a_closed_standard_output_is_exit_2():
    result = subprocess.run(
        [sys.executable, "-m", "archspec", "inspect", "resnet22"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.close(1),
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: standard output: Bad file descriptor")


@pytest.mark.parametrize("arguments", [["inspect", "resnet152v2", "--depth", "layer"], ["schema"]])
def test_a_reader_that_goes_away_is_exit_2_without_a_traceback(arguments):
    read, write = os.pipe()
    os.close(read)  # like `| head` that has already exited
    try:
        result = subprocess.run(
            [sys.executable, "-m", "archspec", *arguments],
            cwd=ROOT,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write)
    assert result.returncode == 2
    assert result.stderr == "error: standard output: Broken pipe\n"


# --- temporary files of killed writers do not accumulate -------------------------------------


def test_stale_temporaries_of_killed_writers_are_removed(tmp_path):
    target = tmp_path / "model.py"
    dead_pid = 2**22 + 7  # above Linux's largest process id: no such process
    stale = tmp_path / f".model.py.{dead_pid}-abc123.py"
    fresh = tmp_path / f".model.py.{dead_pid}-def456.py"  # its writer may just have started
    alive = tmp_path / f".model.py.{os.getpid()}-ghi789.py"
    other = tmp_path / ".notes.txt.123-abc.txt"
    for path in (stale, fresh, alive, other):
        path.write_text("partial")
    old = time.time() - 3600
    for path in (stale, alive, other):
        os.utime(path, (old, old))
    write_atomic(target, "new\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["model.py", fresh.name, alive.name, other.name]
    )
