"""`make mutate` stays out of `make test`, its module list stays current, its plugin orders.

The plugin (tests/mutation_plugin.py) is loaded only by mutation runs; these tests call its
hook directly with stand-in items, so they need neither mutmut nor a mutation run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import mutation_plugin
from tests.conftest import ROOT


def dry_run(target: str) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(ROOT), target],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_test_never_runs_mutation_testing_and_make_mutate_does():
    assert "mutmut" not in dry_run("test")
    assert "mutmut run" in dry_run("mutate")


def test_every_module_glob_of_the_mutation_settings_names_a_module():
    """A renamed or split module must be renamed here too, or it silently drops out."""
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    for pattern in settings["only_mutate"]:
        assert list(ROOT.glob(pattern)), f"{pattern} matches no file: update [tool.mutmut]"
    assert (ROOT / "tests" / "mutation_plugin.py").is_file()
    assert "tests.mutation_plugin" in settings["pytest_add_cli_args"]


@dataclass
class Item:
    nodeid: str


@dataclass
class Hook:
    deselected: list[Item] = field(default_factory=list)

    def pytest_deselected(self, items: list[Item]) -> None:
        self.deselected += items


@dataclass
class Config:
    hook: Hook = field(default_factory=Hook)


DURATIONS = {"t::slow": 8.0, "t::fast": 0.01, "t::middle": 3.0, "t::quick": 0.5}


def collect(folder: Path, monkeypatch, *, mutant: str, budget: str) -> tuple[list[str], list[str]]:
    monkeypatch.chdir(folder)
    (folder / "mutmut-stats.json").write_text(json.dumps({"duration_by_test": DURATIONS}))
    monkeypatch.setenv("MUTANT_UNDER_TEST", mutant)
    monkeypatch.setenv(mutation_plugin.BUDGET, budget)
    items = [Item(name) for name in ("t::new", *DURATIONS)]
    config = Config()
    mutation_plugin.pytest_collection_modifyitems(config, items)
    return [i.nodeid for i in items], [i.nodeid for i in config.hook.deselected]


def test_a_mutant_runs_its_fastest_tests_first_within_the_budget(tmp_path, monkeypatch):
    kept, dropped = collect(tmp_path, monkeypatch, mutant="archspec.x_f__mutmut_1", budget="4")
    assert kept == ["t::fast", "t::quick", "t::middle"]  # 3.51 s; the next would pass 4 s
    assert dropped == ["t::slow", "t::new"]


def test_no_budget_or_no_mutant_runs_every_test_fastest_first(tmp_path, monkeypatch):
    everything = ["t::fast", "t::quick", "t::middle", "t::slow", "t::new"]
    assert collect(tmp_path, monkeypatch, mutant="archspec.x_f__mutmut_1", budget="0") == (
        everything,
        [],
    )
    # mutmut's own runs (stats, clean tests) must run every test, whatever the budget.
    assert collect(tmp_path, monkeypatch, mutant="stats", budget="4") == (everything, [])


def test_a_budget_smaller_than_any_test_still_runs_the_fastest(tmp_path, monkeypatch):
    kept, _ = collect(tmp_path, monkeypatch, mutant="archspec.x_f__mutmut_1", budget="0.001")
    assert kept == ["t::fast"]


def test_a_fresh_mutants_folder_is_set_up_as_make_mutate_does_it(tmp_path):
    """On a fresh clone, `make mutate` first links the package's links into mutants/, then
    mutmut copies `also_copy` there (mutmut.utils.file_utils.copy_also_copy_files: copy2 for
    a file, copytree with dirs_exist_ok for a folder). A folder copied into one of those links
    before the link's target exists fails with FileExistsError, and the run never starts."""
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    links = sorted(path for path in (ROOT / "archspec").iterdir() if path.is_symlink())
    assert links, "archspec/presets and archspec/schemas are links to specs/ and schemas/"
    linked_by_make = dry_run("mutate").split("for link in", 1)[1].split(";", 1)[0].split()
    mutants = tmp_path / "mutants"
    (mutants / "archspec").mkdir(parents=True)
    for link in links:
        assert link.name in linked_by_make, f"make mutate must keep {link.name} a link"
        (mutants / "archspec" / link.name).symlink_to(link.readlink())
    for entry in settings["also_copy"]:
        source, destination = ROOT / entry, mutants / entry
        if source.is_file():
            shutil.copy2(source, destination)
        else:
            shutil.copytree(source, destination, dirs_exist_ok=True)
    for link in links:
        copied = mutants / "archspec" / link.name
        assert copied.is_symlink() and copied.resolve().is_dir()
        assert sorted(p.name for p in copied.iterdir()) == sorted(p.name for p in link.iterdir())
