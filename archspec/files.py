"""Writing outputs safely: atomically (temporary file, then rename), never over an input."""

from __future__ import annotations

import os
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
