"""Every output path is written atomically: an interrupted write leaves the old file, whole.

The interruption is real, not a mock: the writing process runs under a file-size limit
(RLIMIT_FSIZE), so the operating system refuses the write part-way through, whatever code
does the writing. A writer that writes the target directly has truncated it by then and
leaves half a file; an atomic writer only ever loses its temporary file, which it removes.
This holds for text, bytes and callable content of `archspec.files.write_atomic`, and for
the -o of every command that writes: build, codegen, graph, schema and weights import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from archspec.cli import main
from archspec.files import write_atomic
from tests.conftest import ROOT

LIMIT = 1024
"""Bytes any one file of the child process may grow to; every output here is larger."""
OLD = "old contents, which must survive\n"
RESNET22 = str(ROOT / "specs" / "resnet22.yaml")

# Runs in a child process: the limit applies to the whole process and cannot be lifted again.
CHILD = r"""
import resource, signal, sys
from pathlib import Path

# Past the limit, write() fails with EFBIG instead of the process being killed by SIGXFSZ.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
kind, target, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
big = "archspec é→ " * 2000  # 28,000 bytes of UTF-8
contents = {
    "text": big,
    "bytes": big.encode("utf-8"),
    "callable": lambda path: Path(path).write_text(big, encoding="utf-8"),
}
from archspec.cli import main
from archspec.files import write_atomic

resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
if kind == "cli":
    main(sys.argv[4:])
try:
    write_atomic(target, contents[kind])
except Exception as exc:  # OSError, or archspec's own error naming the path
    print("failed:", exc)
    sys.exit(3)
"""


def run_limited(kind: str, target: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(target), str(LIMIT), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def old_file(target: Path) -> Path:
    """Write OLD at `target`, through write_atomic in this process.

    Writing it here rather than with write_text makes every test below a test of
    write_atomic for `make mutate`, whose test selection only sees calls made in-process.
    """
    write_atomic(target, OLD)
    return target


def assert_old_file_alone(target: Path) -> None:
    assert target.read_text() == OLD, "the old file was overwritten by a partial write"
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name], "temporary left"


# --- write_atomic itself -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["text", "bytes", "callable"])
def test_an_interrupted_write_keeps_the_old_file(tmp_path, kind):
    target = old_file(tmp_path / "out.txt")
    result = run_limited(kind, target)
    assert result.returncode == 3, result.stderr
    assert "File too large" in result.stdout  # the write failed, and said why
    assert_old_file_alone(target)


@pytest.mark.parametrize("kind", ["text", "bytes", "callable"])
def test_the_limited_child_writes_when_nothing_interrupts_it(tmp_path, kind):
    """Control for the test above: the same child, under a limit its content fits in."""
    target = old_file(tmp_path / "out.txt")
    result = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(target), str(1 << 20)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8") == "archspec é→ " * 2000
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.parametrize(
    "content",
    ["héllo → wörld\n", b"\x00\xffbinary\n", lambda path: path.write_bytes(b"from a writer")],
    ids=["text", "bytes", "callable"],
)
def test_a_write_replaces_the_whole_file_with_the_usual_mode(tmp_path, content):
    target = tmp_path / "out.bin"
    target.write_bytes(b"x" * 10_000)  # longer than any new content: nothing of it may remain
    write_atomic(target, content)
    expected = {str: lambda c: c.encode("utf-8"), bytes: lambda c: c}.get(
        type(content), lambda c: b"from a writer"
    )(content)
    assert target.read_bytes() == expected
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_writer_gets_a_hidden_path_beside_the_target_with_its_suffix(tmp_path):
    """Beside it, so the final rename stays on one file system and is atomic; with its suffix,
    because writers such as keras.Model.save choose the format by the suffix."""
    seen: list[Path] = []

    def writer(path: Path) -> None:
        seen.append(path)
        path.write_text("new")

    write_atomic(tmp_path / "model.keras", writer)
    (path,) = seen
    assert path.parent == tmp_path
    assert path.name.startswith(".model.keras.") and path.suffix == ".keras"
    assert (tmp_path / "model.keras").read_text() == "new"


def test_a_writer_that_removes_its_file_and_fails_raises_its_own_error(tmp_path):
    """Cleaning up after a failed writer must not replace the writer's error with another."""
    target = old_file(tmp_path / "out.txt")

    def writer(path: Path) -> None:
        path.unlink()
        raise ValueError("the writer's own error")

    with pytest.raises(ValueError, match="the writer's own error"):
        write_atomic(target, writer)
    assert_old_file_alone(target)


# --- every command that writes -----------------------------------------------------------------

COMMANDS = {
    "schema": ["schema"],
    "codegen": ["codegen", RESNET22],
    "graph-mermaid": ["graph", RESNET22],
    "graph-dot": ["graph", RESNET22, "--format", "dot"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_an_interrupted_command_output_keeps_the_old_file(tmp_path, name):
    target = tmp_path / "out.txt"
    # Control: uninterrupted, the command writes more than the limit allows, and no temporary.
    result = CliRunner().invoke(main, [*COMMANDS[name], "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > LIMIT
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]

    old_file(target)
    result = run_limited("cli", target, *COMMANDS[name], "-o", str(target))
    assert result.returncode == 2, result.stderr  # an I/O problem, as the README says
    assert "Traceback" not in result.stderr
    assert "File too large" in result.stderr
    assert_old_file_alone(target)


@pytest.mark.keras
def test_an_interrupted_build_keeps_the_old_model_file(tmp_path):
    target = old_file(tmp_path / "model.keras")
    result = run_limited("cli", target, "build", RESNET22, "-o", str(target))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "Keras model 'resnet22'" in result.stdout  # it got as far as saving
    assert_old_file_alone(target)


@pytest.mark.keras
def test_an_interrupted_weights_import_keeps_the_old_weights_file(tmp_path):
    """`weights import -o`: a torchvision resnet18 state dict of the right keys and shapes."""
    from safetensors.numpy import save_file

    listing = json.loads((ROOT / "tests" / "data" / "state_dicts" / "tv_resnet18.json").read_text())
    state = {key: np.zeros(shape, np.float32) for key, shape in listing["keys"].items()}
    save_file(state, str(tmp_path / "resnet18.safetensors"))
    folder = tmp_path / "out"
    folder.mkdir()
    target = old_file(folder / "resnet18.weights.h5")
    source = str(tmp_path / "resnet18.safetensors")
    arguments = ["weights", "import", "--from", "torchvision", source, "tv_resnet18"]
    result = run_limited("cli", target, *arguments, "-o", str(target))
    assert "converted" in result.stdout  # it got as far as writing
    assert f"error: {target}: cannot write:" in result.stderr
    assert "File too large" in result.stderr
    assert_old_file_alone(target)
