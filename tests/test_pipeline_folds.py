"""The fold ensemble under `dvc repro`: folds and a hold-out, one stage per fold, out-of-fold figures."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import environment, make_project
from stages.lib.io import load_npz
from stages.lib.metrics import rmse

pytestmark = pytest.mark.slow

# The mean baseline as each fold's model (it trains in milliseconds), the other models off, and no
# test-time views: each fold's prediction is then exactly its training faces' mean.
FOLDS = {"folds": {"ids": [0, 1, 2], "model": "mean"}, "patch": None, "resnet": None, "cnn": None,
         "ensemble": {"models": ["mean"], "weights": [1.0]}, "predict": {"model": "mean"},
         "evaluate": {"flip_tta": False, "zoom_tta": []}}


def repro(project, *stages: str, single: bool = False) -> subprocess.Popen:
    """`dvc repro` in the background (`single`: that stage alone, not what comes before it)."""
    return subprocess.Popen([sys.executable, "-m", "dvc", "repro", *(["-s"] if single else []), *stages],
                            cwd=project.path, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def test_folds_train_one_stage_each_at_once_and_are_scored_out_of_fold_and_on_the_hold_out(tmp_path):
    project = make_project(tmp_path / "project", FOLDS)
    assert "3 folds of the rest" in project.dvc("repro", "split").stdout
    split = project.path / "data" / "split"
    holdout = load_npz(split / "val.npz")
    folds = [{part: load_npz(split / f"fold{k}" / f"{part}.npz") for part in ("train", "val")} for k in range(3)]
    ids = [set(f["val"]["image_ids"].tolist()) for f in folds]
    assert set(holdout["image_ids"].tolist()).isdisjoint(set().union(*ids))
    assert sum(map(len, ids)) + len(holdout["image_ids"]) == 80 and len(set().union(*ids)) == sum(map(len, ids))
    for k, fold in enumerate(folds):  # each fold's network trains on the other folds, never the hold-out
        assert set(fold["train"]["image_ids"].tolist()) == set().union(*ids[:k], *ids[k + 1:])

    # Each fold is a stage: one alone, then two at once (as on two GPUs), then the rest skips them.
    project.dvc("repro", "-s", "train_fold@0")
    running = [repro(project, f"train_fold@{k}", single=True) for k in (1, 2)]
    for process in running:
        output = process.communicate(timeout=300)[0]
        assert process.returncode == 0, output
    out = project.dvc("repro", "evaluate_folds").stdout
    assert "Running stage 'train_fold@" not in out and "Running stage 'evaluate_folds'" in out

    metrics = json.loads((project.path / "metrics" / "evaluate" / "folds.json").read_text())
    means = [np.nanmean(f["train"]["keypoints"], axis=0) for f in folds]
    # Out of fold: every fold's faces by the network of that fold, the one that never saw them.
    truth = np.concatenate([f["val"]["keypoints"] for f in folds])
    out_of_fold = np.concatenate([np.tile(m, (len(f["val"]["keypoints"]), 1)) for m, f in zip(means, folds)])
    assert metrics["out_of_fold"]["faces"] == len(truth)
    assert metrics["out_of_fold"]["rmse"] == pytest.approx(rmse(out_of_fold, truth), abs=1e-4)
    # The ensemble, on the hold-out: the folds' average, its mix inside its bootstrap interval.
    predicted = load_npz(project.path / "evaluation" / "folds" / "predictions.npz")["val"]
    assert np.allclose(predicted, np.mean(means, axis=0), atol=1e-4)
    assert metrics["rmse"] == pytest.approx(rmse(predicted, holdout["keypoints"]), abs=1e-5)
    low, high = metrics["holdout_interval_95"]
    assert low < metrics["rmse_leaderboard_weighted"] < high

    # compare ranks it with every model on the same hold-out, and says its other figures.
    out = project.dvc("repro").stdout
    summary = json.loads((project.path / "metrics" / "summary.json").read_text())
    assert set(summary["ranking"]) == {"mean", "ensemble", "folds"} and "folds" in summary["folds"]
    assert "folds: its networks out of fold" in (project.path / "metrics" / "summary.md").read_text()
    assert "Data and pipelines are up to date" in project.dvc("status").stdout, out
