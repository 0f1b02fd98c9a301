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

from conftest import ROOT, YOUTUBE_FACES, environment, load_script, params_with

pytestmark = pytest.mark.skipif(not YOUTUBE_FACES.exists(), reason="shared real data not present")


@pytest.mark.slow
def test_mean_baseline_scores_like_the_anchor_and_is_reused(tmp_path):
    command = [sys.executable, str(ROOT / "bench" / "accuracy.py"), "--data", "youtube-faces-15",
               "--models", "mean", "--work", str(tmp_path)]
    first = subprocess.run(command, env=environment(), capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    [row] = json.loads((tmp_path / "results.json").read_text())
    assert row["data"] == "youtube-faces-15" and row["model"] == "mean"
    assert row["test"] == pytest.approx(3.65, abs=0.05)  # the mean-coordinates anchor
    assert row["val"] == pytest.approx(row["test"], rel=0.1)
    # youtube-faces-15's lookup asks all 15 keypoints of every test face: its leaderboard mix is
    # the 15-point faces' RMSE alone, though its validation split has 4-point rows too.
    assert row["val_leaderboard"] == row["val_15_point"] and row["val_4_point"] > 0
    assert "| youtube-faces-15 | mean |" in first.stdout

    again = subprocess.run(command, env=environment(), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "reused" in again.stdout
    assert json.loads((tmp_path / "results.json").read_text())[0]["test"] == row["test"]


def load_bench():
    return load_script("bench/accuracy.py", "bench_accuracy")


def test_a_trained_model_is_reused_only_while_its_params_data_and_code_are_unchanged(tmp_path, monkeypatch):
    import numpy as np

    from stages.lib.faces import Faces

    bench = load_bench()
    faces = Faces(np.zeros((5, 96, 96), np.uint8), np.zeros((5, 30), np.float32))
    data = bench.DataSet("d", faces, faces, None, {"15-point": 0.5, "4-point": 0.5})
    default = bench.fingerprint(params_with({}), "resnet", data)
    assert bench.fingerprint(params_with({}), "resnet", data) == default
    assert bench.fingerprint(params_with({"resnet": {"lr": 0.002}}), "resnet", data) != default
    assert bench.fingerprint(params_with({"resnet": {"augment": {"flip": False}}}), "resnet", data) != default
    assert bench.fingerprint(params_with({"cnn": {"batch_size": 32}}), "resnet", data) == default
    # An ensemble's key covers its members' params.
    ensemble = bench.fingerprint(params_with({}), "ensemble", data)
    assert bench.fingerprint(params_with({"resnet": {"lr": 0.002}}), "ensemble", data) != ensemble
    other_labels = Faces(faces.images, np.ones((5, 30), np.float32))
    assert bench.fingerprint(params_with({}), "resnet", bench.DataSet("d", other_labels, faces, None, {"15-point": 0.5, "4-point": 0.5})) != default

    # An edited file of the model's code makes the trained model stale.
    code = tmp_path / "stages" / "model.py"
    code.parent.mkdir()
    code.write_text("x = 1\n")
    monkeypatch.setattr(bench, "CODE_ROOT", tmp_path)
    monkeypatch.setattr(bench, "closure_files", lambda modules: ["stages/model.py"])
    before = bench.fingerprint(params_with({}), "resnet", data)
    code.write_text('"""A docstring."""\nx = 1  # a comment\n')  # what it does is unchanged: still valid
    assert bench.fingerprint(params_with({}), "resnet", data) == before
    code.write_text("x = 2\n")
    assert bench.fingerprint(params_with({}), "resnet", data) != before


def test_a_models_key_covers_its_own_params_classes_not_the_rest_of_their_module(monkeypatch):
    """params.py holds every section's class: a new split key keeps the models trained before,
    an edit of the model's own params class does not, a comment there does; the registry stays
    out of the key."""
    import inspect

    import numpy as np

    from stages.lib.faces import Faces
    from stages.lib.params import ResNetParams

    bench = load_bench()
    sources = "".join(bench.section_code(params_with({}).resnet))
    assert all(f"ClassDef(name='{name}'" in sources
               for name in ("ResNetParams", "ModelParams", "AugmentParams", "SoftArgmaxHead"))
    assert "SplitParams" not in sources
    faces = Faces(np.zeros((5, 96, 96), np.uint8), np.zeros((5, 30), np.float32))
    data = bench.DataSet("d", faces, faces, None, {"15-point": 0.5, "4-point": 0.5})
    params = params_with({})
    monkeypatch.setattr(bench, "closure_files", lambda modules: ["stages/lib/params.py", "stages/lib/keypoints.py"])
    alone = bench.fingerprint(params, "resnet", data)
    monkeypatch.setattr(bench, "closure_files", lambda modules: ["stages/lib/params.py", "stages/lib/keypoints.py",
                                                                 "stages/lib/models/__init__.py"])
    assert bench.fingerprint(params, "resnet", data) == alone
    before = bench.fingerprint(params, "resnet", data)
    source = inspect.getsource
    monkeypatch.setattr(inspect, "getsource", lambda c: source(c) + ("    # a comment\n" if c is ResNetParams else ""))
    assert bench.fingerprint(params, "resnet", data) == before
    monkeypatch.setattr(inspect, "getsource", lambda c: source(c) + ("    edited = 1\n" if c is ResNetParams else ""))
    assert bench.fingerprint(params, "resnet", data) != before
    monkeypatch.setattr(inspect, "getsource", lambda c: source(c) + ("    edited = 1\n" if c.__name__ == "SplitParams" else ""))
    assert bench.fingerprint(params, "resnet", data) == before


def test_the_model_code_in_the_key_is_the_models_import_closure():
    from stages.lib.imports import closure_files
    from stages.lib.models import loaded_modules

    files = closure_files(loaded_modules("resnet", params_with({})))
    assert "stages/lib/models/resnet/network.py" in files and "stages/lib/params.py" in files
    assert "stages/lib/models/cnn/__init__.py" not in files


def test_bench_variants_train_the_resnet_with_their_own_params():
    bench = load_bench()
    profile = params_with({"resnet": {"pseudo_labels": True, "members": 2, "ema": 0.9, "mirror_offsets": True,
                                      "head": {"fine_heatmaps": True}, "augment": {"flip": True}}})
    model, seed = bench.variant("seed-recipe", profile)
    assert model == "resnet" and seed.cnn == profile.cnn
    assert not seed.resnet.pseudo_labels and not seed.resnet.augment.flip and seed.resnet.members == 1
    assert seed.resnet.ema is None and seed.resnet.augment == seed.resnet.augment.off()
    assert not seed.resnet.mirror_offsets  # an option newer than the recipe, off whatever the profile says
    assert seed.resnet.lr == 1e-4 and seed.resnet.schedule.kind == "step" and seed.resnet.head.kind == "pool"
    model, single = bench.variant("resnet-single", profile)  # the profile's ResNet, one kept network
    assert model == "resnet" and single.resnet == dataclasses.replace(profile.resnet, members=1)
    assert bench.variant("cnn", profile) == ("cnn", profile)


def test_the_trimmed_mix_leaves_out_each_sources_worst_faces_only():
    import numpy as np

    bench = load_bench()
    rng = np.random.default_rng(0)
    truth = rng.uniform(20, 70, (300, 30)).astype(np.float32)
    truth[200:, 8:] = np.nan  # 100 faces with 8 values: the 4-point source
    predictions = truth + rng.normal(0, 1, truth.shape).astype(np.float32)
    weights = {"15-point": 0.65, "4-point": 0.35}
    predictions[[3, 150]] += 30  # two 15-point faces far off: 1% of 200 leaves out both
    predictions[250] += 30  # one 4-point face: 1% of 100 leaves out one
    predictions[251] += 5  # the 4-point source's second worst stays in
    kept = np.setdiff1d(np.arange(300), [3, 150, 250])
    expected = bench.source_metrics(predictions[kept], truth[kept], weights)["rmse_leaderboard_weighted"]
    assert bench.trimmed_mix(predictions, truth, weights) == pytest.approx(expected)
    full = bench.source_metrics(predictions, truth, weights)["rmse_leaderboard_weighted"]
    assert full > 3 * expected and expected == pytest.approx(1.0, abs=0.1)  # three faces dominate the mix
    # A source with no faces is left out, as in the mix itself.
    fifteen = kept[kept < 200]
    assert bench.trimmed_mix(predictions[:200], truth[:200], weights) == pytest.approx(
        bench.source_metrics(predictions[fifteen], truth[fifteen], weights)["rmse_by_source"]["15-point"])


def test_the_table_shows_the_epoch_each_kept_network_comes_from():
    bench = load_bench()
    assert bench.kept_epochs({"best_epoch": 19, "epochs": 35}) == 19  # the CNN's summary
    networks = [{"role": "pseudo_labeller", "best_epoch": 24}, {"role": "member", "best_epoch": 72},
                {"role": "member", "best_epoch": 80}]
    assert bench.kept_epochs({"epochs": 184, "networks": networks}) == "72/80"
    assert bench.kept_epochs({}) is None  # the baselines
    row = {"data": "d", "model": "resnet", "val": 1.0, "val_flip": 1.0, "test": None, "test_flip": None,
           "epochs": 84, "best_epoch": "72", "train_wall_min": 1.0, "train_cpu_min": 2.0}
    assert "| 84 (72) |" in bench.table([row])


@pytest.mark.slow
def test_folds_are_predicted_out_of_fold_resumed_fold_by_fold_and_recorded(tmp_path):
    import numpy as np

    from stages.lib.folds import HOLDOUT, fold_indices
    from stages.lib.split import duplicate_groups
    from stages.prepare import prepare

    command = [sys.executable, str(ROOT / "bench" / "accuracy.py"), "--data", "youtube-faces-15", "--models", "mean",
               "--folds", "3", "--work", str(tmp_path / "work"), "--results", str(tmp_path / "results"),
               "--set", "evaluate.flip_tta=false", "evaluate.zoom_tta=[]"]
    first = subprocess.run(command, env=environment(), capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("training on") == 3
    [(key, run)] = json.loads((tmp_path / "results" / "youtube-faces-15.json").read_text()).items()
    assert key == "real.yaml evaluate.flip_tta=false evaluate.zoom_tta=[] folds=3"
    assert run["machine"]["cores"] and "bf16" in run["machine"] and run["train_minutes"] > 0
    mean = run["models"]["mean"]
    assert [f["fold"] for f in mean["folds"]] == [0, 1, 2]
    mixes = [f["mix"] for f in mean["folds"]]
    assert mean["mix"]["mean"] == pytest.approx(np.mean(mixes)) and mean["mix"]["std"] == pytest.approx(np.std(mixes, ddof=1))
    ensemble = mean["holdout_fold_ensemble"]
    assert ensemble["faces"] == run["faces"]["holdout"]
    assert ensemble["interval_95"][0] < ensemble["mix"] < ensemble["interval_95"][1]

    # Out of fold: each fold's faces get the mean of the other folds' faces, never their own
    # nor the hold-out's.
    faces = prepare(ROOT.parent / "shared" / "data" / "youtube-faces-15")["train"]
    split = params_with({}).split  # the seed and duplicate line the bench reads from params.yaml
    parts = fold_indices(faces["keypoints"], duplicate_groups(faces["images"], split.duplicate_distance), 3, split.seed)
    predictions = tmp_path / "results" / "fold-predictions" / "youtube-faces-15" / "folds3"
    [saved] = [np.load(path) for path in (predictions / "fold1").glob("mean-*.npz")]
    training = faces["keypoints"][(parts != 1) & (parts != HOLDOUT)]
    assert np.allclose(saved["val"][0], np.nanmean(training, axis=0), atol=1e-4)
    assert len(saved["val"]) == (parts == 1).sum() and len(saved["holdout"]) == (parts == HOLDOUT).sum()
    # Each fold names the file that keeps its predictions (bench/stack.py reads them from there).
    assert [(predictions / f"fold{f['fold']}" / f["predictions"]).exists() for f in mean["folds"]] == [True] * 3

    # A run killed during fold 2 keeps folds 0 and 1: the next run trains fold 2 only, and a fresh
    # clone (no work folder, the committed predictions) trains nothing.
    import shutil
    shutil.rmtree(predictions / "fold2")
    shutil.rmtree(tmp_path / "work" / "youtube-faces-15" / "folds3" / "fold2")
    again = subprocess.run(command, env=environment(), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("training on") == 1 and "reused" not in again.stdout
    shutil.rmtree(tmp_path / "work" / "youtube-faces-15" / "folds3")
    fresh = subprocess.run(command, env=environment(), capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stderr
    assert "training on" not in fresh.stdout and "reused" not in fresh.stdout
    rerun = json.loads((tmp_path / "results" / "youtube-faces-15.json").read_text())[key]["models"]["mean"]
    assert [f["mix"] for f in rerun["folds"]] == mixes

    # Every face predicted unseen (folds out of fold, the hold-out by the fold ensemble), and the
    # wrong-label list made from it is one the split stage accepts for these faces.
    from stages.lib.cleaning import gross_labels, read_label_list
    from stages.lib.faces import Faces

    unseen_file = tmp_path / "work" / "youtube-faces-15" / "folds3" / "mean_unseen_predictions.npz"
    unseen = np.load(unseen_file)
    assert np.allclose(unseen["predictions"][parts == 1], saved["val"]) and unseen["holdout"].sum() == (parts == HOLDOUT).sum()
    assert str(unseen["run"]) == key  # bench/holdout_floor.py says which run it scored
    listed = tmp_path / "wrong.csv"
    made = subprocess.run([sys.executable, str(ROOT / "bench" / "wrong_labels.py"), "--data", "youtube-faces-15",
                           "--model", "mean", "--folds", "3", "--work", str(tmp_path / "work"), "--out", str(listed)],
                          env=environment(), capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    rows = read_label_list(listed, Faces.from_arrays(faces))
    expected = np.flatnonzero(gross_labels(unseen["predictions"], faces["keypoints"]).any(axis=1)) + 1
    assert len(rows) and rows.tolist() == expected.tolist()

    # A run that leaves the listed faces out of training gives its figures without them too,
    # beside the ones that count: the hold-out's, from the fold ensemble's predictions.
    from stages.lib.evaluation import lookup_weights, source_metrics

    cleaned = subprocess.run(command + [f"split.wrong_labels={listed}"], env=environment(), capture_output=True, text=True)
    assert cleaned.returncode == 0, cleaned.stderr
    [run] = [r for k, r in json.loads((tmp_path / "results" / "youtube-faces-15.json").read_text()).items()
             if "split.wrong_labels" in k]
    held, unseen = run["models"]["mean"]["holdout_fold_ensemble"], np.load(unseen_file)
    kept = unseen["holdout"] & ~np.isin(unseen["rows"], rows)
    weights = lookup_weights(prepare(YOUTUBE_FACES)["lookup"]["image_ids"])
    assert kept.sum() < unseen["holdout"].sum()  # the list holds hold-out faces: the figures differ
    assert held["mix_without_listed"] == pytest.approx(source_metrics(
        unseen["predictions"][kept], unseen["labels"][kept], weights)["rmse_leaderboard_weighted"], rel=1e-5)
    assert held["mix"] == pytest.approx(source_metrics(
        unseen["predictions"][unseen["holdout"]], unseen["labels"][unseen["holdout"]], weights)["rmse_leaderboard_weighted"],
        rel=1e-5)
    assert all("mix_without_listed" in f for f in run["models"]["mean"]["folds"])

    # The same settings again under a tag, compared fold by fold with the first run: kept apart
    # (its own key and predictions folder), and every fold's gain nothing (the mean is deterministic).
    tagged = subprocess.run(command + ["--tag", "Once more", "--against", key], env=environment(),
                            capture_output=True, text=True)
    assert tagged.returncode == 0, tagged.stderr
    assert "gain per fold +0.0000 +0.0000 +0.0000" in tagged.stdout
    runs = json.loads((tmp_path / "results" / "youtube-faces-15.json").read_text())
    again = runs[key + " [Once more]"]
    assert again["tag"] == "Once more" and again["set"] == runs[key]["set"]
    assert again["models"]["mean"]["against"] == {"run": key, "gains": [0.0, 0.0, 0.0], "mean": 0.0, "std": 0.0,
                                                  "kept": False, "out_of_fold": 0.0, "holdout_fold_ensemble": 0.0}
    assert len(list((predictions.parent / "folds3-once-more").glob("fold*/mean-*.npz"))) == 3
    missing = subprocess.run(command + ["--against", "no such run"], env=environment(), capture_output=True, text=True)
    assert missing.returncode != 0 and "no run 'no such run' to compare with" in missing.stderr

    # The two runs stacked from their committed predictions: both members alike, so the average
    # is each of them, and the stack's figures are the run's own.
    stacked = subprocess.run([sys.executable, str(ROOT / "bench" / "stack.py"), "--data", "youtube-faces-15",
                              "--model", "mean", "--folds", "3", "--runs", key, key + " [Once more]",
                              "--work", str(tmp_path / "work"), "--results", str(tmp_path / "results"),
                              "--out", str(tmp_path / "stack.json")], env=environment(), capture_output=True, text=True)
    assert stacked.returncode == 0, stacked.stderr
    stack = json.loads((tmp_path / "stack.json").read_text())
    assert stack["best_member"] == key and stack["members"][key]["out_of_fold"] == runs[key]["models"]["mean"]["out_of_fold"]
    average = stack["combinations"]["average"]
    assert [f["mix"] for f in average["folds"]] == pytest.approx(mixes, rel=1e-6)
    assert average["holdout_fold_ensemble"]["mix"] == pytest.approx(runs[key]["models"]["mean"]["holdout_fold_ensemble"]["mix"], rel=1e-6)
    assert average["against_best"]["gains"] == pytest.approx([0, 0, 0], abs=1e-6)
    assert stack["combinations"]["linear"]["against_best"]["kept"] is not None


def test_a_lever_is_kept_only_when_its_mean_gain_over_complete_folds_exceeds_their_spread():
    bench = load_bench()

    def folds(*mixes):
        return [{"fold": k, "mix": m} for k, m in enumerate(mixes)]

    baseline = folds(1.7, 1.4, 1.4, 1.45, 1.6)
    steady = bench.paired_gain(baseline, folds(1.68, 1.37, 1.39, 1.42, 1.58))  # 0.01-0.03 on every fold
    assert steady["gains"] == pytest.approx([0.02, 0.03, 0.01, 0.03, 0.02]) and steady["kept"] is True
    assert steady["mean"] == pytest.approx(0.022) and steady["std"] == pytest.approx(0.008367, abs=1e-6)
    # The same mean gain, carried by one fold: no better than noise.
    assert bench.paired_gain(baseline, folds(1.59, 1.42, 1.41, 1.46, 1.61))["kept"] is False
    assert bench.paired_gain(baseline, folds(1.72, 1.42, 1.41, 1.47, 1.62))["kept"] is False  # worse
    # Not every fold done: no verdict yet, on either side.
    assert bench.paired_gain(baseline, folds(1.68, 1.37))["kept"] is None
    assert bench.paired_gain(baseline[:2], folds(1.68, 1.37, 1.39))["kept"] is None


def test_the_levers_table_shows_each_compared_run_against_its_baseline(tmp_path, monkeypatch):
    from test_docs import tables_module

    tables = tables_module()
    bench = load_bench()
    folds = lambda *mixes: [{"fold": k, "mix": m} for k, m in enumerate(mixes)]  # noqa: E731
    base = {"profile": "p.yaml", "set": ["resnet.epochs=24"], "folds": 2, "models": {"resnet": {"folds": folds(1.5, 1.4)}}}
    lever = {"profile": "p.yaml", "set": ["resnet.epochs=24", "resnet.ema=0.998"], "folds": 2,
             "models": {"resnet": {"folds": folds(1.45, 1.38)}}}
    bench.compare_with(lever, "lever", "base", base)
    table = tables.levers_table({"base": base, "lever": lever})
    assert table.splitlines()[2] == "| resnet.ema=0.998 | p.yaml resnet.epochs=24 | resnet | +0.050 / +0.020 | +0.035 ± 0.021 | - | - | **kept** |"
    assert len(table.splitlines()) == 3  # the baseline itself is compared with nothing
    # A profile that took the lever in, against the run that switched it off; and a model the change
    # does not touch (every gain nothing) is no row.
    profile = {"profile": "p.yaml", "set": ["resnet.epochs=24"], "folds": 2,
               "models": {"resnet": {"folds": folds(1.45, 1.38)}, "mean": {"folds": folds(3.6, 3.5)}}}
    off = {"profile": "p.yaml", "set": ["resnet.epochs=24", "resnet.ema=null"], "folds": 2,
           "models": {"resnet": {"folds": folds(1.5, 1.4)}, "mean": {"folds": folds(3.6, 3.5)}}}
    bench.compare_with(profile, "profile", "off", off)
    rows = tables.levers_table({"off": off, "profile": profile}).splitlines()[2:]
    assert rows == ["| p.yaml as it is | p.yaml resnet.epochs=24 resnet.ema=null | resnet | +0.050 / +0.020 | +0.035 ± 0.021 | - | - | **kept** |"]
    # A bench row of the same settings, in the baseline run itself: compared with its registry
    # model there, and that model not with itself.
    base["models"]["resnet-per-source"] = {"folds": folds(1.55, 1.37)}
    bench.compare_with(base, "base", "base", base)
    assert "against" not in base["models"]["resnet"]
    assert base["models"]["resnet-per-source"]["against"]["model"] == "resnet"
    rows = tables.levers_table({"base": base}).splitlines()[2:]
    assert rows == ["| resnet-per-source instead of resnet | p.yaml resnet.epochs=24 | resnet-per-source | -0.050 / +0.030 | -0.010 ± 0.057 | - | - | no |"]


def test_the_bootstrap_interval_holds_the_mix_and_narrows_with_more_faces():
    import numpy as np

    from stages.lib.evaluation import bootstrap_interval, source_metrics

    rng = np.random.default_rng(0)
    weights = {"15-point": 0.6, "4-point": 0.4}

    def faces(n):
        truth = rng.uniform(0, 96, (n, 30)).astype(np.float32)
        truth[n // 2:, 8:] = np.nan  # half of them 4-point faces
        return truth + rng.normal(0, 2, truth.shape), truth

    small, large = faces(100), faces(2000)
    low, high = bootstrap_interval(*small, weights)
    mix = source_metrics(*small, weights)["rmse_leaderboard_weighted"]
    assert low < mix < high
    assert bootstrap_interval(*small, weights) == (low, high)  # seeded
    large_low, large_high = bootstrap_interval(*large, weights)
    assert large_high - large_low < (high - low) / 2


@pytest.mark.slow
def test_bad_overrides_get_one_line_naming_the_key():
    """real.yaml turns the heatmaps' pull off, so setting one of its keys alone leaves the others
    missing: the bench says which, in one line."""
    for assignment, message in (("resnet.head.heatmap_reg.sigma_px=4", "error: resnet.head.heatmap_reg.weight: missing"),
                                ("resnet.lr", "error: 'resnet.lr': expected KEY=VALUE")):
        result = subprocess.run([sys.executable, str(ROOT / "bench" / "accuracy.py"), "--data", "youtube-faces-15",
                                 "--models", "mean", "--set", assignment], env=environment(), capture_output=True, text=True)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines() == [result.stderr.strip()] and result.stderr.startswith(message)


def test_per_source_networks_each_train_on_their_own_source_and_answer_for_its_faces():
    import numpy as np

    from stages.lib.faces import Faces
    from stages.lib.tta import mirror_offsets, with_mirror_offsets

    bench = load_bench()

    def constant(value: float, offset: float):
        def predict(images, four_point=None):
            return np.full((len(images), 30), value, np.float32) + images[:, 0, :30]  # which face it was

        return with_mirror_offsets(predict, lambda faces, four_point=None: np.full((faces, 15), offset, np.float32))

    fifteen, four = constant(10.0, 0.5), constant(20.0, 1.5)
    images = np.zeros((4, 96, 96), np.float32)
    images[:, 0, :30] = np.arange(4)[:, None]
    routed = bench.by_source(fifteen, four)
    four_point = np.array([True, False, True, False])
    out = routed(images, four_point)
    assert out[:, 0].tolist() == [20.0, 11.0, 22.0, 13.0]
    assert routed(images)[:, 0].tolist() == [10.0, 11.0, 12.0, 13.0]  # no convention asked: the 15-point one
    assert routed(images, np.ones(4, bool))[:, 0].tolist() == [20.0, 21.0, 22.0, 23.0]
    assert mirror_offsets(routed, 4, four_point, 15)[:, 0].tolist() == [1.5, 0.5, 1.5, 0.5]

    keypoints = np.full((5, 30), 50.0, np.float32)
    keypoints[[1, 3], 8:] = np.nan  # 8 values: the 4-point source
    faces = Faces(np.zeros((5, 96, 96), np.uint8), keypoints, np.arange(1, 6))
    data = bench.DataSet("d", faces, faces, None, {"15-point": 0.65, "4-point": 0.35})
    assert bench.source_data(data, "4-point").train.image_ids.tolist() == [2, 4]
    assert bench.source_data(data, "15-point").train.image_ids.tolist() == [1, 3, 5]
    assert len(bench.source_data(data, "4-point").val) == 5  # validation keeps every face


def test_a_model_run_later_joins_its_run_and_another_machines_run_is_kept_apart(tmp_path, monkeypatch):
    import numpy as np

    from stages.lib.faces import Faces

    bench = load_bench()
    rng = np.random.default_rng(0)
    keypoints = rng.uniform(20, 70, (90, 30)).astype(np.float32)
    keypoints[::3, 8:] = np.nan  # a third of the faces from the 4-point source
    faces = Faces(rng.integers(0, 255, (90, 96, 96), dtype=np.uint8), keypoints, np.arange(1, 91))
    weights = {"15-point": 0.65, "4-point": 0.35}
    params = params_with({"evaluate": {"flip_tta": False, "zoom_tta": []}})
    results, key = tmp_path / "results.json", "p.yaml folds=3"

    def run(models):
        bench.run_folds("d", faces, weights, params, models, 3, tmp_path / "work", False, results, tmp_path / "saved",
                        "p.yaml", [])

    run(["mean"])
    runs = json.loads(results.read_text())
    first = runs[key]["models"]["mean"]
    runs[key]["models"]["resnet"] = dict(first, folds=[dict(f, train_wall_min=5.0) for f in first["folds"]])
    results.write_text(json.dumps(runs))  # as if the ResNet of the same settings had run before
    run(["mean"])
    again = json.loads(results.read_text())[key]
    assert sorted(again["models"]) == ["mean", "resnet"] and again["models"]["mean"] == first
    assert again["train_minutes"] == pytest.approx(15.0 + sum(f["train_wall_min"] for f in first["folds"]))

    monkeypatch.setattr(bench, "machine", lambda: {**again["machine"], "cpu": "another CPU"})
    with pytest.raises(SystemExit, match="--tag"):
        run(["mean"])
    assert json.loads(results.read_text())[key] == again  # nothing written over
