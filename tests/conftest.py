"""Shared test helpers: the project root, the shared real data, and temp project copies."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stages.lib.params import Params, parse_params, read_yaml
from stages.lib.profile import merge

ROOT = Path(__file__).resolve().parents[1]


def load_script(path: str, name: str):
    """A script of bench/ or docs/ (not a package) as a module, so tests call its functions."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: trains a model or runs DVC; `make test-fast` leaves these out")
    global CONFIG
    CONFIG = config


CONFIG = None
LONG_S = 30  # a test (or its fixtures' setup) that takes longer says so as soon as it ends


def pytest_runtest_logreport(report):
    """One line for each long test as it ends, so that a log cut short (a CI limit) still tells
    where the time went; `--durations` gives the whole list at the end."""
    terminal = CONFIG.pluginmanager.get_plugin("terminalreporter") if CONFIG else None
    if report.duration > LONG_S and terminal is not None:
        terminal.write_line(f"  {report.duration:.0f} s {report.when} {report.nodeid}")


SHARED_DATA = ROOT.parent / "shared" / "data"
YOUTUBE_FACES = SHARED_DATA / "youtube-faces-15"

# Small enough that the whole pipeline runs in about a minute.
TINY_PARAMS = yaml.safe_load((ROOT / "profiles" / "tiny.yaml").read_text())


def params_with(overrides: dict) -> Params:
    """params.yaml, the one source of defaults, with `overrides` laid over it."""
    return parse_params(merge(read_yaml(ROOT / "params.yaml"), overrides))


NO_AUGMENT = {key: 0 for key in ("rotate", "scale", "shift", "brightness", "contrast", "blur")} | {"flip": False}


def project_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\n")
    return [name for name in listed if name and (ROOT / name).is_file()]


def environment() -> dict[str, str]:
    """The stages run `python`: make it this interpreter, with the project's packages."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    return env


class Project:
    """A copy of the project in its own git repository, with its own DVC cache."""

    def __init__(self, path: Path):
        self.path = path

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(args, cwd=self.path, env=environment(), capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-m", "dvc", *args, check=check)

    def params(self) -> dict:
        return yaml.safe_load((self.path / "params.yaml").read_text())

    def set_params(self, overrides: dict) -> None:
        (self.path / "params.yaml").write_text(yaml.safe_dump(merge(self.params(), overrides), sort_keys=False))

    def commit(self, message: str = "snapshot") -> None:
        self.run("git", "add", "-A")
        self.run("git", "commit", "-qm", message)


def make_project(path: Path, overrides: dict | None = None) -> Project:
    for name in project_files():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    # The committed dvc.lock describes the full-size default run, not this copy's.
    (path / "dvc.lock").unlink(missing_ok=True)
    project = Project(path)
    project.set_params(merge(TINY_PARAMS, overrides or {}))
    project.run("git", "init", "-q")
    project.run("git", "config", "user.email", "tests@example.com")
    project.run("git", "config", "user.name", "tests")
    project.commit("copy of the project")
    return project


@pytest.fixture
def tiny_project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "project")
