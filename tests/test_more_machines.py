"""Beyond one machine, the DVC way: raw data tracked by DVC is what queued experiments see; an
experiment run in a second clone comes back through a bare git `origin` and a local-folder DVC
remote; the SkyPilot task runs exactly those commands; two queue workers keep every result."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, YOUTUBE_FACES, Project, environment, make_project

# Trains models or runs DVC: the full tier only (`make test`), not `make test-fast`.
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not YOUTUBE_FACES.exists(), reason="shared real data not present")]

TASK = ROOT / "cloud" / "dvc-exp.sky.yaml"


def youtube_faces_cut(folder: Path, n_train: int = 160, n_test: int = 20) -> None:
    """The first faces of youtube-faces-15 in Kaggle's three files: a real-face raw_dir, small."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("training.csv", n_train), ("test.csv", n_test)):
        with open(YOUTUBE_FACES / name) as source, open(folder / name, "w") as target:
            for _ in range(rows + 1):
                target.write(source.readline())
    with open(YOUTUBE_FACES / "IdLookupTable.csv") as source, open(folder / "IdLookupTable.csv", "w") as target:
        target.write(source.readline())
        for line in source:
            if int(line.split(",")[1]) <= n_test:
                target.write(line)


RAW_FILES = ("training.csv", "test.csv", "IdLookupTable.csv")


def tracked_faces_project(path: Path) -> Project:
    """A tiny-profile project with real faces in data/raw/kaggle, tracked by DVC as docs/kaggle.md's
    "The Kaggle steps by hand" do it."""
    # The ResNet and the mean baseline only: what these tests follow, without TensorFlow's models.
    project = make_project(path, {"data": {"raw_dir": "data/raw/kaggle"}, "cnn": None, "patch": None,
                                  "ensemble": {"models": ["resnet"], "weights": [1.0]}})
    youtube_faces_cut(project.path / "data/raw/kaggle")
    project.dvc("add", *(f"data/raw/kaggle/{name}" for name in RAW_FILES))
    project.run("git", "add", "data/raw/kaggle")
    project.commit("youtube-faces-15 cut, tracked by DVC")
    return project


def wait_for_queue(project: Project, successes: int, timeout_s: int = 900) -> str:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        status = project.dvc("queue", "status").stdout
        if status.count("Success") >= successes or "Failed" in status:
            return status
        time.sleep(5)
    return status


def experiments(project: Project) -> dict[str, dict]:
    """name -> {metrics file -> its values} for every experiment `dvc exp show` lists."""
    found = {}
    for baseline in json.loads(project.dvc("exp", "show", "--json").stdout):
        for run in baseline.get("experiments") or []:
            for revision in run["revs"]:
                metrics = revision["data"].get("metrics") or {}
                found[revision["name"]] = {path: value["data"] for path, value in metrics.items()}
    return found


def test_queued_and_remote_experiments_come_back_from_one_baseline(tmp_path):
    """One baseline, pushed to a bare git `origin` and a DVC remote; then two queued experiments on
    two workers, which see the DVC-tracked raw data and keep both results; then an experiment run in
    a second clone by the task file's own commands, which comes back through origin and the remote."""
    origin, store = tmp_path / "origin.git", tmp_path / "dvc-store"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    home = tracked_faces_project(tmp_path / "home")
    tracked = home.run("git", "ls-files", "data/raw/kaggle").stdout.split()
    assert sorted(tracked) == sorted(["data/raw/kaggle/.gitignore", "data/raw/kaggle/README.md",
                                      *(f"data/raw/kaggle/{name}.dvc" for name in RAW_FILES)])
    home.dvc("remote", "add", "-d", "store", str(store))
    home.dvc("repro")
    home.commit("baseline")
    home.dvc("push")
    home.run("git", "remote", "add", "origin", str(origin))
    home.run("git", "push", "-q", "origin", "HEAD:main")

    # Queued experiments run in temp copies that hold only what git and DVC track: git-ignored
    # raw data would be invisible there; DVC-tracked raw data is checked out.
    for seed in (1, 2):
        home.dvc("exp", "run", "--queue", "-S", f"resnet.seed={seed}", "-S", "resnet.threads=1", "-n", f"faces-seed{seed}")
    home.dvc("queue", "start", "-j", "2")
    status = wait_for_queue(home, 2)
    assert status.count("Success") == 2, status
    runs = experiments(home)
    assert {"faces-seed1", "faces-seed2"} <= runs.keys()
    resnet = [runs[f"faces-seed{seed}"]["metrics/evaluate/resnet.json"] for seed in (1, 2)]
    # Both were validated on the real faces' split (32 of the 160), not on the embedded data's (16 of 80).
    assert all(sum(r["faces_by_source"].values()) == 32 for r in resnet), resnet
    assert resnet[0]["rmse"] != resnet[1]["rmse"]  # two seeds, two results: neither overwrote the other

    # The worker: a clone with nothing but git's files, running the task file's own commands.
    subprocess.run(["git", "clone", "-q", "-b", "main", str(origin), str(tmp_path / "worker")], check=True)
    worker = Project(tmp_path / "worker")
    worker.run("git", "config", "user.email", "worker@example.com")
    worker.run("git", "config", "user.name", "worker")
    os.symlink(sys.prefix, worker.path / ".venv")  # what the task's setup would have installed
    task = yaml.safe_load(TASK.read_text())
    env = environment() | {**task["envs"], "EXP_NAME": "seed5-remote", "EXP_FLAGS": "-S resnet.seed=5"}
    ran = subprocess.run(["bash", "-euo", "pipefail", "-c", task["run"]], cwd=worker.path, env=env,
                         capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Running stage 'prepare'" not in ran.stdout  # pulled, not rebuilt: only the ResNet's chain ran
    assert "Running stage 'train@resnet'" in ran.stdout

    home.dvc("exp", "pull", "origin", "seed5-remote")
    runs = experiments(home)
    assert "seed5-remote" in runs and runs["seed5-remote"]["metrics/evaluate/resnet.json"]["rmse"] > 0
    diff = home.dvc("metrics", "diff", "HEAD", "seed5-remote").stdout
    assert "metrics/evaluate/resnet.json" in diff and "metrics/evaluate/mean.json" not in diff  # only what the seed moved
    home.dvc("exp", "apply", "seed5-remote")  # its outputs came back through the remote, too
    assert "Data and pipelines are up to date" in home.dvc("status").stdout
    assert json.loads((home.path / "metrics/evaluate/resnet.json").read_text())["rmse"] == \
        runs["seed5-remote"]["metrics/evaluate/resnet.json"]["rmse"]


def test_the_cloud_task_installs_and_runs_the_tested_loop():
    task = yaml.safe_load(TASK.read_text())
    assert {"name", "resources", "workdir", "envs", "setup", "run"} <= task.keys()
    assert "requirements-cuda.txt" in task["setup"] and ".venv" in task["setup"]
    assert task["run"].split("\n").index("dvc pull") < task["run"].split("\n").index('dvc exp run -n "$EXP_NAME" $EXP_FLAGS')
    assert 'dvc exp push origin "$EXP_NAME"' in task["run"]
