"""dvc.yaml against the code: every stage depends on exactly the project modules it runs, and
every list of model names in it is the registry's."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from dvc.repo import Repo

from conftest import ROOT
from stages.lib.imports import closure, closure_files, module_file
from stages.lib.models import MODELS, loaded_modules, trained_models
from stages.lib.params import load_params



def stage_modules(cmd: str, params) -> set[str]:
    argv = shlex.split(cmd)
    assert argv[:2] == ["python", "-m"], cmd
    modules = {argv[2]}
    model = argv[argv.index("--model") + 1] if "--model" in argv else \
        params.predict.model if argv[2] == "stages.predict" else argv[3] if len(argv) > 3 else None
    if model in MODELS and "stages.lib.models" in closure(modules):
        modules |= loaded_modules(model, params)
    return set(closure_files(modules))


@pytest.fixture(scope="module")
def stages():
    with Repo(str(ROOT)) as repo:
        return {stage.addressing: (stage.cmd, [str(Path(d.def_path)) for d in stage.deps])
                for stage in repo.index.stages}


def covered(path: str, deps: list[str]) -> bool:
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps)


def test_every_stage_depends_on_every_project_module_it_runs(stages):
    params = load_params(ROOT / "params.yaml")
    missing = {}
    for name, (cmd, deps) in stages.items():
        gaps = sorted(p for p in stage_modules(cmd, params) if not covered(p, deps))
        if gaps:
            missing[name] = gaps
    assert not missing, f"dvc.yaml misses code dependencies: {missing}"


def test_no_stage_depends_on_code_it_does_not_run(stages):
    """Each code dependency is imported by its stage; in a foreach family, by one of its members
    at least (the shared list serves them all: training `mean` also depends on `augment.py`)."""
    params = load_params(ROOT / "params.yaml")
    families: dict[str, tuple[set, set]] = {}
    for name, (cmd, deps) in stages.items():
        modules, code = families.setdefault(name.split("@")[0], (set(), set()))
        modules |= stage_modules(cmd, params)
        code |= {d for d in deps if d.startswith("stages")}
    extra = {family: sorted(d for d in code if not any(covered(m, [d]) for m in modules))
             for family, (modules, code) in families.items()}
    assert not any(extra.values()), f"dvc.yaml lists code that no stage imports: {extra}"


def test_the_closure_follows_relative_imports_and_registry_loads():
    params = load_params(ROOT / "params.yaml")
    train_resnet = stage_modules("python -m stages.train resnet data/split models/resnet logs/resnet", params)
    assert {"stages/lib/models/resnet/network.py", "stages/lib/models/resnet/losses.py",
            "stages/lib/params.py", "stages/lib/models/__init__.py", "stages/__init__.py"} <= train_resnet
    assert "stages/lib/models/cnn/__init__.py" not in train_resnet
    ensemble = stage_modules("python -m stages.evaluate ensemble a b c d e f", params)
    assert {module_file(f"stages.lib.models.{MODELS[m].module}") for m in params.ensemble.models} <= ensemble


def test_dvc_yaml_names_the_models_once_and_as_the_registry_does(stages):
    """One list of models in dvc.yaml, the registry's trained ones; no stage, metric or plot names
    a model any other way (they iterate over that list or depend on a folder)."""
    config = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    (trained,) = [entry["trained"] for entry in config["vars"] if "trained" in entry]
    assert list(trained) == trained_models() == [name for name in MODELS if name not in ("ensemble", "folds")]
    assert all(trained[name] == module_file(f"stages.lib.models.{MODELS[name].module}").removesuffix("/__init__.py")
               for name in trained)
    rest = yaml.safe_dump({key: value for key, value in config.items() if key != "vars"})
    for name in trained:
        assert not re.search(rf"\b{name}\b", rest), f"dvc.yaml names {name!r} outside its list of models"
    names = set(stages)
    assert {n.split("@")[1] for n in names if n.startswith("train@")} == set(trained)
    assert {n.split("@")[1] for n in names if n.startswith("evaluate@")} == set(trained)
    assert "evaluate_ensemble" in names and "evaluate_folds" in names
    assert not any(n.startswith("train_fold@") for n in names)  # params.yaml's folds.ids: [], no folds


def test_stage_modules_hold_no_paths_of_their_own():
    """Paths live in dvc.yaml and reach the stages on the command line. (stages/kaggle.py, which
    drives a whole experiment rather than being one of its stages, reads the pipeline's outputs.)"""
    stages = set(re.findall(r"python -m stages\.(\w+)", (ROOT / "dvc.yaml").read_text()))
    assert {"train", "evaluate", "predict"} <= stages
    for path in (ROOT / "stages").glob("*.py"):
        if path.stem not in stages:
            continue
        source = path.read_text()
        for literal in ("data/", "models/", "logs/", "metrics/", "evaluation/", "submissions"):
            assert f'"{literal}' not in source, (path.name, literal)


def test_every_output_but_the_checks_fixed_line_is_persisted():
    """DVC deletes an output that is not `persist` before its stage runs: a failed or interrupted
    run would lose the last good one (a metrics file too)."""
    with Repo(str(ROOT)) as repo:
        outs = {str(Path(out.def_path)): out.persist for stage in repo.index.stages for out in stage.outs}
    assert {path for path, persist in outs.items() if not persist} == {"data/checked.txt"}
    assert "metrics/train/resnet.json" in outs and "metrics/summary.json" in outs
