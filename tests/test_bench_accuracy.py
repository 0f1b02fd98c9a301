"""bench/accuracy.py on the shared real faces, with the cheap baseline only (seconds).

The trained-model rows take minutes to hours on 2 cores and belong to the benchmark itself; this
checks its data path end to end: parsing, the seeded split, the submission through
IdLookupTable and its score against solution.csv, against the issue's measured anchor.
"""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from conftest import ROOT, YOUTUBE_FACES, environment

pytestmark = pytest.mark.skipif(not YOUTUBE_FACES.exists(), reason="shared real data not present")


def test_mean_baseline_scores_like_the_anchor_and_is_reused(tmp_path):
    command = [sys.executable, str(ROOT / "bench" / "accuracy.py"), "--data", "youtube-faces-15",
               "--models", "mean", "--work", str(tmp_path)]
    first = subprocess.run(command, env=environment(), capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    [row] = json.loads((tmp_path / "results.json").read_text())
    assert row["data"] == "youtube-faces-15" and row["model"] == "mean"
    assert row["test"] == pytest.approx(3.65, abs=0.05)  # the mean-coordinates anchor
    assert row["val"] == pytest.approx(row["test"], rel=0.1)
    assert "| youtube-faces-15 | mean |" in first.stdout

    again = subprocess.run(command, env=environment(), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "reused" in again.stdout
    assert json.loads((tmp_path / "results.json").read_text())[0]["test"] == row["test"]


def load_bench():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_accuracy", ROOT / "bench" / "accuracy.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_a_trained_model_is_reused_only_while_its_params_are_unchanged():
    import numpy as np

    from stages.lib.models.base import Faces
    from stages.lib.params import parse_params

    bench = load_bench()
    faces = Faces(np.zeros((5, 96, 96), np.uint8), np.zeros((5, 30), np.float32))
    data = bench.DataSet("d", faces, faces, None)
    default = bench.fingerprint(parse_params({}), "resnet", data)
    # Spelling out a default changes nothing; a new option left at its default neither.
    assert bench.fingerprint(parse_params({"resnet": {"members": 1, "augment": {"flip": False}}}), "resnet", data) == default
    assert bench.fingerprint(parse_params({"resnet": {"lr": 0.002}}), "resnet", data) != default
    assert bench.fingerprint(parse_params({"resnet": {"augment": {"flip": True}}}), "resnet", data) != default
    assert bench.fingerprint(parse_params({"cnn": {"batch_size": 32}}), "resnet", data) == default


def test_bench_variants_train_the_resnet_with_their_own_params():
    from stages.lib.params import parse_params

    bench = load_bench()
    profile = parse_params({"resnet": {"pseudo_labels": True, "members": 2, "head": "soft_argmax",
                                       "augment": {"flip": True}}})
    model, seed = bench.variant("seed-recipe", profile)
    assert model == "resnet" and seed.cnn == profile.cnn
    assert not seed.resnet.pseudo_labels and not seed.resnet.augment.flip and seed.resnet.members == 1
    assert seed.resnet.lr == 1e-4 and seed.resnet.schedule == "step" and seed.resnet.head == "pool"
    model, single = bench.variant("resnet-single", profile)  # the profile's ResNet, one kept network
    assert model == "resnet" and single.resnet == dataclasses.replace(profile.resnet, members=1)
    assert bench.variant("cnn", profile) == ("cnn", profile)
