"""Folder outputs, refused outputs and left-over temporaries, where the mutation campaign found
them unchecked (TESTING.md).

`archspec export --format savedmodel` writes a folder through `write_directory_atomic`, after
`check_folder_output` has refused what it must not replace; the only other tests of these build
a Keras model and export it, and say little about the folder's mode, its temporary names, a
failing writer or a failing rename. Writes also remove the temporaries of earlier writers whose
process is gone, and must never signal a process that is still there. These tests call the
functions with plain writers (no Keras), and pin the exact messages a user reads.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from archspec import files
from archspec.cli import main
from archspec.files import (
    OutputError,
    check_folder_output,
    remove_stale_temporaries,
    write_directory_atomic,
)
from tests.conftest import ROOT

MARKER = "saved_model.pb"


def earlier_export(path: Path, text: str = "old") -> Path:
    """A folder as an earlier export left it: the marker and one file."""
    path.mkdir()
    (path / MARKER).write_text(text)
    return path


def fill(text: str):
    """A writer that fills the folder it is given like an export."""

    def writer(folder: Path) -> None:
        (folder / MARKER).write_text(text)

    return writer


def refusal(output: Path, inputs=(), protected=()) -> str:
    with pytest.raises(OutputError) as info:
        check_folder_output(output, inputs, MARKER, protected=protected)
    return str(info.value)


def test_an_output_error_says_the_path_and_the_reason():
    error = OutputError(Path("out/model"), "refusing to replace a read-only file")
    assert (error.path, error.reason) == ("out/model", "refusing to replace a read-only file")
    assert str(error) == "out/model: refusing to replace a read-only file"


# --- check_folder_output: what a folder output must not replace ------------------------------


def test_an_empty_folder_output_is_refused_before_anything_is_read(tmp_path):
    # Path() is what `-o .` gives (the command line refuses `-o ""` itself).
    assert refusal(Path()) == ".: refusing to replace the current folder: name a new folder"
    spec = tmp_path / "spec.yaml"
    spec.write_text((ROOT / "specs" / "resnet22.yaml").read_text())
    result = CliRunner().invoke(main, ["export", str(spec), "--format", "savedmodel", "-o", "."])
    assert result.exit_code == 2, result.output
    assert result.output == "error: .: refusing to replace the current folder: name a new folder\n"


@pytest.mark.parametrize(
    "command",
    [
        ["schema"],
        ["codegen", "resnet22"],
        ["graph", "resnet22"],
    ],  # build's and export's -o want a name with their format's suffix, and say so first
    ids=lambda command: "-".join(command[:1] + command[3:]),
)
@pytest.mark.parametrize("folder", [".", "./"])
def test_the_current_folder_as_a_file_output_is_refused_by_name(
    tmp_path, monkeypatch, command, folder
):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*command, "-o", folder])
    assert result.exit_code == 2, result.output
    assert result.output == (
        "error: .: that is the current folder, not a file: name the file to write\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_folder_output_names_itself_and_why_it_is_refused(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: x\n")
    presets = tmp_path / "presets"
    presets.mkdir()
    model = tmp_path / "model"
    assert refusal(spec, [spec.resolve()]) == (
        f"{spec}: refusing to overwrite a file this command reads (the spec, a file it extends, or "
        "the weights it loads)"
    )
    assert refusal(tmp_path, [spec.resolve()]) == (
        f"{tmp_path}: refusing to replace a folder that holds {spec.resolve()}, which is read"
    )
    assert refusal(presets / "model", protected=[presets]) == (
        f"{presets / 'model'}: refusing to write into archspec's presets"
    )
    (tmp_path / "notes").mkdir()
    assert refusal(tmp_path / "notes") == (
        f"{tmp_path / 'notes'}: refusing to replace something that is not an earlier export "
        f"({MARKER})"
    )
    assert refusal(tmp_path / "missing" / "model") == (
        f"{tmp_path / 'missing' / 'model'}: the folder {tmp_path / 'missing'} does not exist"
    )
    assert check_folder_output(model, [spec.resolve()], MARKER) == model.resolve()
    assert check_folder_output(earlier_export(model), [], MARKER) == model.resolve()


# --- write_directory_atomic --------------------------------------------------------------------


def test_the_writer_fills_a_hidden_folder_beside_the_target(tmp_path):
    seen: list[Path] = []

    def writer(folder: Path) -> None:
        seen.append(folder)
        fill("new")(folder)

    write_directory_atomic(tmp_path / "model", writer)
    (folder,) = seen
    assert folder.parent == tmp_path
    assert re.fullmatch(rf"\.model\.{os.getpid()}-\w+", folder.name), folder.name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert (tmp_path / "model" / MARKER).read_text() == "new"


def test_a_written_folder_has_the_usual_mode(tmp_path):
    """mkdtemp makes its folder 0o700; the export gets what a new folder gets (umask)."""
    umask = os.umask(0)
    os.umask(umask)
    write_directory_atomic(tmp_path / "model", fill("new"))
    assert (tmp_path / "model").stat().st_mode & 0o7777 == 0o777 & ~umask


def test_a_folder_that_cannot_be_created_is_an_output_error(tmp_path):
    target = tmp_path / "missing" / "model"
    with pytest.raises(OutputError) as info:
        write_directory_atomic(target, fill("new"))
    assert (info.value.path, info.value.reason) == (
        str(target),
        "cannot write: No such file or directory",
    )


def test_a_writer_that_fails_to_write_leaves_the_earlier_export_alone(tmp_path):
    target = earlier_export(tmp_path / "model")

    def writer(folder: Path) -> None:
        (folder / "half").write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError) as info:
        write_directory_atomic(target, writer)
    assert (info.value.path, info.value.reason) == (
        str(target),
        "cannot write: No space left on device",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert sorted(p.name for p in target.iterdir()) == [MARKER]


def test_a_writer_that_crashes_leaves_no_temporary_folder(tmp_path):
    def writer(folder: Path) -> None:
        (folder / "half").write_text("half")
        raise RuntimeError("converter crashed")

    with pytest.raises(RuntimeError, match="converter crashed"):
        write_directory_atomic(tmp_path / "model", writer)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("error", [OSError(5, "Input/output error"), RuntimeError("crashed")])
def test_a_writer_that_removes_its_folder_and_fails_raises_its_own_error(tmp_path, error):
    """Cleaning up after a failed writer must not replace the writer's error with another."""

    def writer(folder: Path) -> None:
        folder.rmdir()
        raise error

    expected = OutputError if isinstance(error, OSError) else RuntimeError
    with pytest.raises(expected, match=r"Input/output error|crashed"):
        write_directory_atomic(tmp_path / "model", writer)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_is_an_output_error_and_leaves_nothing(tmp_path):
    # A dangling link is no folder (nothing is moved aside), but a folder cannot be renamed
    # over it: the rename fails with "Not a directory".
    target = tmp_path / "model"
    target.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputError) as info:
        write_directory_atomic(target, fill("new"))
    assert info.value.reason == "cannot write: Not a directory"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    assert target.is_symlink()


def test_a_failed_rename_puts_the_earlier_export_back(tmp_path, monkeypatch):
    target = earlier_export(tmp_path / "model")
    written: list[Path] = []
    rename = Path.replace

    def writer(folder: Path) -> None:
        written.append(folder)
        fill("new")(folder)

    def failing_rename(self: Path, destination: Path) -> Path:
        if written and self == written[0]:
            raise OSError(5, "Input/output error")
        return rename(self, destination)

    monkeypatch.setattr(Path, "replace", failing_rename)
    with pytest.raises(OutputError, match="Input/output error"):
        write_directory_atomic(target, writer)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert (target / MARKER).read_text() == "old"


def test_an_earlier_export_that_cannot_be_removed_does_not_fail_the_write(tmp_path, monkeypatch):
    """The new folder is in place by then; what is left of the old one is only litter."""
    target = earlier_export(tmp_path / "model")
    (target / "locked.bin").write_text("cannot be removed")
    unlink = os.unlink

    def refusing_unlink(path, *args, **kwargs):
        if os.fspath(path).endswith("locked.bin"):
            raise PermissionError(1, "Operation not permitted")
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", refusing_unlink)
    write_directory_atomic(target, fill("new"))
    assert (target / MARKER).read_text() == "new"


def test_a_write_killed_after_moving_the_old_export_aside_leaves_what_the_next_removes(
    tmp_path, monkeypatch
):
    """If nothing removes the moved-aside folder (the writer was killed), it is a temporary
    of this target's naming, beside it, which a later write's clean-up removes."""
    target = earlier_export(tmp_path / "model")
    monkeypatch.setattr(files.shutil, "rmtree", lambda *args, **kwargs: None)
    write_directory_atomic(target, fill("new"))
    monkeypatch.undo()
    (left,) = (p for p in tmp_path.iterdir() if p.name != "model")
    assert (left / MARKER).read_text() == "old"
    assert re.fullmatch(rf"\.model\.{os.getpid()}-\w+", left.name), left.name
    past = time.time() - files.STALE_AFTER_SECONDS - 1
    os.utime(left, (past, past))
    monkeypatch.setattr(files, "_process_exists", lambda pid: False)
    remove_stale_temporaries(target)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


# --- which temporaries are left over ------------------------------------------------------------


def stale(folder: Path, pid: int) -> Path:
    """A temporary of `out.txt` named for the writer `pid`, untouched for long enough."""
    path = folder / f".out.txt.{pid}-abc123.txt"
    path.write_text("half")
    past = time.time() - files.STALE_AFTER_SECONDS - 1
    os.utime(path, (past, past))
    return path


def test_the_temporary_of_a_running_writer_is_kept_and_the_writer_left_alone(tmp_path):
    # Every signal but 0 (the question "do you exist?") would end it, even where the test
    # runs with hang-ups ignored (nohup).
    quit_on_any = (
        "import signal, time; signal.signal(signal.SIGHUP, signal.SIG_DFL); time.sleep(60)"
    )
    writer = subprocess.Popen([sys.executable, "-c", quit_on_any])
    try:
        kept = stale(tmp_path, writer.pid)
        remove_stale_temporaries(tmp_path / "out.txt")
        assert kept.exists()
        with pytest.raises(subprocess.TimeoutExpired):  # asked whether it exists, not signalled
            writer.wait(timeout=1)
    finally:
        writer.kill()
        writer.wait()
    gone = stale(tmp_path, writer.pid)  # now its process is gone
    remove_stale_temporaries(tmp_path / "out.txt")
    assert not gone.exists()


def test_the_temporary_of_a_process_that_cannot_be_asked_is_kept(tmp_path):
    """A number no process can have (os.kill overflows) is not known to be gone."""
    kept = stale(tmp_path, 2**70)
    remove_stale_temporaries(tmp_path / "out.txt")
    assert kept.exists()
