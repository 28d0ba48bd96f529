"""`make` finds a suitable Python (3.11 to 3.13) by itself, or says what to install."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def python_check(tmp_path, pythons: dict[str, str]) -> subprocess.CompletedProcess:
    """`make python-check` with a PATH that holds only make's tools and `pythons`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("make", "cat", "cksum", "cut"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    for name, target in pythons.items():
        (bin_dir / name).symlink_to(target)
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "python-check"],
        capture_output=True,
        text=True,
        env={"PATH": str(bin_dir)},
        timeout=60,
    )


def test_another_supported_python_is_found(tmp_path):
    result = python_check(tmp_path, {"python3.12": sys.executable})  # no python3.11 here
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"using {tmp_path / 'bin' / 'python3.12'} (3.")


def test_without_one_make_says_what_to_install(tmp_path):
    result = python_check(tmp_path, {})
    assert result.returncode != 0
    assert "archspec needs Python 3.11, 3.12 or 3.13, and none was found" in result.stderr
    assert "sudo apt install python3.11 python3.11-venv" in result.stderr
    assert "make PYTHON=/path/to/python3.12" in result.stderr
