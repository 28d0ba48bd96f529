"""Writing outputs safely: atomically (temporary file, then rename), never over an input."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import click


def check_output_path(output: Path, inputs: Iterable[str | Path]) -> None:
    """Refuse to write over one of the command's own inputs, or into a missing folder."""
    target = output.resolve()
    for source in inputs:
        if Path(source).exists() and Path(source).resolve() == target:
            raise click.UsageError(f"refusing to overwrite the input file {source}")
    if not target.parent.is_dir():
        raise click.UsageError(f"the folder {output.parent} does not exist")


def check_folder_output(output: Path, inputs: Iterable[str | Path], marker: str) -> None:
    """Refuse a folder output that would replace anything but an earlier output of its kind.

    An existing folder is replaced only if it holds `marker` (a SavedModel's saved_model.pb)
    and none of the command's inputs, so no typo can replace a folder of other files.
    """
    check_output_path(output, inputs)
    target = output.resolve()
    for source in inputs:
        if Path(source).exists() and Path(source).resolve().is_relative_to(target):
            raise click.UsageError(f"refusing to replace {output}: it holds the input {source}")
    if target.exists() and not (target.is_dir() and (target / marker).is_file()):
        raise click.UsageError(
            f"refusing to replace {output}: it exists and is not an earlier export (no {marker})"
        )


def write_atomic(path: str | Path, content: str | bytes | Callable[[Path], object]) -> None:
    """Write `content` to `path` so that readers see the old file or the new, never half of one.

    `content` is text, bytes, or a function that writes a file at the path it is given (such as
    `keras.Model.save`). The temporary file sits in the same folder, so the rename is atomic.
    """
    path = Path(path)
    # The whole suffix (".weights.h5", not ".h5"): Keras checks it when it writes the file.
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix="".join(path.suffixes), dir=path.parent
    )
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
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_directory_atomic(path: str | Path, writer: Callable[[Path], object]) -> None:
    """Write a folder (a SavedModel) so that `path` is never a half-written folder.

    `writer` fills a new folder beside `path`, which is renamed to `path` only when complete
    and removed on any failure. A folder already at `path` is moved aside first and removed
    after the rename (put back if the rename fails): for that moment `path` does not exist,
    but it is never the old folder partly replaced.
    """
    path = Path(path)
    temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    old: Path | None = None
    try:
        writer(temporary)
        umask = os.umask(0)
        os.umask(umask)
        temporary.chmod(0o777 & ~umask)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
            path.replace(old)  # an empty folder is replaced by the rename
        try:
            temporary.replace(path)
        except BaseException:
            if old is not None:
                old.replace(path)
                old = None
            raise
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
