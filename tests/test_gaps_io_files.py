"""Reading a spec file: a byte that is not UTF-8 is located, named and coded; a path that is not
a regular file is refused with a hint; a file is read up to the limit given, and a failure while
reading it is an `UnreadableError` naming it."""

from __future__ import annotations

import errno
import os

import pytest

from archspec.errors import SpecError, UnreadableError
from archspec.io import read_document, read_regular_file
from tests.conftest import deadline


@pytest.mark.parametrize(
    ("raw", "where", "message"),
    [
        (b"\xe9", (1, 1), "byte 0xe9 at offset 0 is not valid UTF-8"),
        (b"\n\xff", (2, 1), "byte 0xff at offset 1 is not valid UTF-8"),
        (b"\nname: caf\xe9\n", (2, 10), "byte 0xe9 at offset 10 is not valid UTF-8"),
        (b"\n\nname: \xc3(\n", (3, 7), "byte 0xc3 at offset 8 is not valid UTF-8"),
        (b"a: 1\nb: 2\nc: \x80\n", (3, 4), "byte 0x80 at offset 13 is not valid UTF-8"),
    ],
)
def test_a_byte_that_is_not_utf8_is_located_on_its_line(tmp_path, raw, where, message):
    path = tmp_path / "spec.yaml"
    path.write_bytes(raw)
    with pytest.raises(SpecError) as info:
        read_document(path)
    (diagnostic,) = info.value.diagnostics
    at = diagnostic.location
    assert (at.file, at.line, at.column) == (str(path), *where)
    assert (diagnostic.message, diagnostic.hint, diagnostic.code) == (
        message,
        "save the file as UTF-8",
        "encoding",
    )


HINTS = {
    "folder": "give a spec file in it; `archspec validate FOLDER` checks every spec in a folder",
    "named pipe": "give a spec file; archspec does not read pipes, devices or sockets",
}


@pytest.mark.parametrize("kind", ["folder", "named pipe"])
def test_a_path_that_is_not_a_regular_file_is_refused_with_a_hint(tmp_path, kind):
    path = tmp_path / "spec.yaml"
    if kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)  # opened without blocking: no writer is needed to refuse it
    with deadline(5), pytest.raises(UnreadableError) as info:
        read_document(path)
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.file, diagnostic.message, diagnostic.hint, diagnostic.code) == (
        str(path),
        f"not a regular file (a {kind})",
        HINTS[kind],
        "not-a-file",
    )


@pytest.mark.parametrize("size", [0, 10, (1 << 16) - 1, 1 << 16, (1 << 16) + 1, 200_000])
def test_a_regular_file_is_read_up_to_the_limit_it_is_given(tmp_path, size):
    """Whole when it is shorter, its first `limit` bytes when it is not, across 64 KiB reads."""
    path = tmp_path / "spec.yaml"
    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    path.write_bytes(data)
    for limit in (1, 10, 1 << 16, (1 << 16) + 7, 150_000, 300_000):
        assert read_regular_file(path, limit) == data[:limit]


def test_a_file_that_fails_while_it_is_read_is_unreadable(tmp_path, monkeypatch):
    path = tmp_path / "spec.yaml"
    path.write_text("name: a\n")

    def failing(descriptor, size):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "read", failing)
    with deadline(5), pytest.raises(UnreadableError) as info:
        read_document(path)
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.file, diagnostic.message) == (
        str(path),
        "cannot be read: input/output error",
    )
