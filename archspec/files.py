"""Writing outputs safely: atomically (temporary file, then rename), never over an input.

A write either replaces the target whole or leaves it as it was: the new contents go to a
temporary file beside it (`.NAME.PID-RANDOM.SUFFIX`), which is renamed over the target only
when complete, and removed on any failure. A writer killed outright cannot remove its own
temporary file, so each write also removes those of earlier writers of the same target whose
process is gone. A folder (a SavedModel) is written the same way: into a temporary folder
beside it, renamed into place when complete.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

STALE_AFTER_SECONDS = 60
"""A temporary file untouched this long whose writer's process is gone is left over."""


class OutputError(Exception):
    """An output cannot be written: the path and the reason (the command line exits 2)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


_READ_BY_THIS_COMMAND = (
    "refusing to overwrite a file this command reads (the spec, a file it extends, or the "
    "weights it loads)"
)


def check_output_path(output: Path, inputs: Iterable[Path], protected: Iterable[Path] = ()) -> Path:
    """Refuse an output that would replace an input, a non-regular file or a read-only file.

    `inputs` are the real paths of every file the command reads (a spec and everything it
    extends); `protected` are folders nothing may be written into (archspec's presets).
    Returns the path to write: the target of a symbolic link, so the link stays a link.
    Raises `OutputError` before any work is done.
    """
    if str(output) == ".":  # what `-o .`, `-o ./` and an empty Path all are
        raise OutputError(".", "that is the current folder, not a file: name the file to write")
    try:
        return _checked_target(output, set(inputs), protected)
    except OSError as exc:  # a name too long, a folder that cannot be searched, ...
        raise OutputError(output, f"cannot write: {exc.strerror or exc}") from None


def _checked_target(output: Path, inputs: set[Path], protected: Iterable[Path]) -> Path:
    target = output.resolve()
    if target in inputs:
        raise OutputError(
            output,
            _READ_BY_THIS_COMMAND,
        )
    for folder in protected:
        if target.is_relative_to(folder.resolve()):
            raise OutputError(output, "refusing to write into archspec's presets")
    if target.exists():
        mode = target.stat().st_mode
        if stat.S_ISDIR(mode):
            raise OutputError(output, "that is a folder, not a file: name the file to write in it")
        if not stat.S_ISREG(mode):
            raise OutputError(output, "refusing to replace something that is not a regular file")
        if not os.access(target, os.W_OK) or not mode & (
            stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
        ):
            raise OutputError(output, "refusing to replace a read-only file")
    if not target.parent.is_dir():
        raise OutputError(output, f"the folder {output.parent} does not exist")
    return target


def check_folder_output(
    output: Path, inputs: Iterable[Path], marker: str, protected: Iterable[Path] = ()
) -> Path:
    """Refuse a folder output (a SavedModel) that would replace anything but an earlier one.

    As `check_output_path` for files: never one of `inputs` (real paths) nor a folder that
    holds one, nor inside `protected`; and an existing folder is replaced only if it holds
    `marker` (a SavedModel's saved_model.pb), so no typo can replace a folder of other files.
    Returns the path to write. Raises `OutputError` before any work is done.
    """
    if str(output) == ".":  # what `-o .`, `-o ./` and an empty Path all are
        raise OutputError(".", "refusing to replace the current folder: name a new folder")
    try:
        target = output.resolve()
        readers = set(inputs)
        if target in readers:
            raise OutputError(
                output,
                _READ_BY_THIS_COMMAND,
            )
        for source in readers:
            if source.is_relative_to(target):
                raise OutputError(
                    output, f"refusing to replace a folder that holds {source}, which is read"
                )
        for folder in protected:
            if target.is_relative_to(folder.resolve()):
                raise OutputError(output, "refusing to write into archspec's presets")
        if target.exists() and not (target.is_dir() and (target / marker).is_file()):
            raise OutputError(
                output, f"refusing to replace something that is not an earlier export ({marker})"
            )
        if not target.parent.is_dir():
            raise OutputError(output, f"the folder {output.parent} does not exist")
    except OSError as exc:  # a name too long, a folder that cannot be searched, ...
        raise OutputError(output, f"cannot write: {exc.strerror or exc}") from None
    return target


def write_atomic(path: str | Path, content: str | bytes | Callable[[Path], object]) -> None:
    """Write `content` to `path` so that readers see the old file or the new, never half of one.

    `content` is text, bytes, or a function that writes a file at the path it is given (such as
    `keras.Model.save`). The temporary file sits in the same folder, so the rename is atomic.
    Any failure to write (no space, file too large, no permission) raises `OutputError` naming
    `path`, and leaves neither a temporary file nor a changed target.
    """
    path = Path(path)
    try:
        remove_stale_temporaries(path)
        # The whole suffix (".weights.h5", not ".h5"): Keras checks it when it writes the file.
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}-", suffix="".join(path.suffixes), dir=path.parent
        )
    except OSError as exc:
        raise OutputError(path, f"cannot write: {exc.strerror or exc}") from None
    try:
        if callable(content):
            os.close(handle)
            content(Path(temporary))
        else:
            data = content.encode() if isinstance(content, str) else content
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        umask = os.umask(0)
        os.umask(umask)
        Path(temporary).chmod(0o666 & ~umask)
        Path(temporary).replace(path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(path, f"cannot write: {exc.strerror or exc}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_directory_atomic(path: str | Path, writer: Callable[[Path], object]) -> None:
    """Write a folder (a SavedModel) so that `path` is never a half-written folder.

    `writer` fills a new folder beside `path` (named like the temporary files), which is
    renamed to `path` only when complete and removed on any failure. A folder already at
    `path` is moved aside first and removed after the rename (put back if the rename fails):
    for that moment `path` does not exist, but it is never the old folder partly replaced.
    Any failure to write raises `OutputError` naming `path`.
    """
    path = Path(path)
    try:
        remove_stale_temporaries(path)
        temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}-", dir=path.parent))
    except OSError as exc:
        raise OutputError(path, f"cannot write: {exc.strerror or exc}") from None
    old: Path | None = None
    try:
        writer(temporary)
        umask = os.umask(0)
        os.umask(umask)
        temporary.chmod(0o777 & ~umask)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}-", dir=path.parent))
            path.replace(old)  # the empty folder is replaced by the rename
        try:
            temporary.replace(path)
        except BaseException:
            if old is not None:
                old.replace(path)
                old = None
            raise
    except OSError as exc:
        shutil.rmtree(temporary, ignore_errors=True)
        raise OutputError(path, f"cannot write: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def remove_stale_temporaries(path: Path) -> None:
    """Remove temporary files (and folders) of earlier writes to `path` whose writer was killed.

    Only files of this module's naming for this target are considered, and only when their
    process no longer exists and they have not changed for `STALE_AFTER_SECONDS`. POSIX only:
    elsewhere, asking whether a process exists is not harmless.
    """
    if os.name != "posix":
        return
    suffix = "".join(path.suffixes)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)-[A-Za-z0-9_]+{re.escape(suffix)}")
    now = time.time()
    for candidate in path.parent.glob(f".{glob.escape(path.name)}.*"):
        match = pattern.fullmatch(candidate.name)
        if not match or _process_exists(int(match[1])):
            continue
        with contextlib.suppress(OSError):
            if now - candidate.lstat().st_mtime > STALE_AFTER_SECONDS:
                if candidate.is_dir() and not candidate.is_symlink():
                    shutil.rmtree(candidate)
                else:
                    candidate.unlink()


def _process_exists(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
