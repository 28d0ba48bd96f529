"""The golden-file mechanism itself: a missing or different golden fails; only the flag writes."""

from __future__ import annotations

import pytest

from tests.conftest import golden_checker


def test_missing_golden_fails(tmp_path):
    with pytest.raises(
        pytest.fail.Exception, match="is missing; create it with: pytest --update-golden"
    ):
        golden_checker(tmp_path, update=False)("new.txt", "text\n")
    assert not (tmp_path / "new.txt").exists()


def test_mismatch_fails_with_a_unified_diff_and_the_command(tmp_path):
    (tmp_path / "a.txt").write_text("one\ntwo\n")
    with pytest.raises(pytest.fail.Exception) as info:
        golden_checker(tmp_path, update=False)("a.txt", "one\nthree\n")
    message = str(info.value)
    assert "-two\n+three" in message
    assert "pytest --update-golden" in message
    assert (tmp_path / "a.txt").read_text() == "one\ntwo\n"


def test_update_rewrites(tmp_path):
    golden_checker(tmp_path, update=True)("sub/b.txt", "new\n")
    assert (tmp_path / "sub" / "b.txt").read_text() == "new\n"
    golden_checker(tmp_path, update=False)("sub/b.txt", "new\n")
