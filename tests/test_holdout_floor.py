"""bench/holdout_floor.py: how low a model that marks true points could score on a hold-out
whose labels are partly wrong."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT, load_script


def load_floor():
    return load_script("bench/holdout_floor.py", "bench_holdout_floor")


def test_the_floor_keeps_only_the_errors_of_faces_labelled_wrongly():
    from stages.lib.evaluation import source_metrics

    floor = load_floor()
    weights = {"15-point": 0.65, "4-point": 0.35}
    rng = np.random.default_rng(0)
    labels = rng.uniform(20, 76, (6, 30)).astype(np.float32)
    labels[3:, 8:] = np.nan  # three 4-point faces
    predictions = labels + rng.normal(0, 1, labels.shape).astype(np.float32)
    predictions[1] += 20  # a face the network gets wrong
    labels[4] -= 15  # a face labelled wrongly: the network is right there
    rows = np.arange(101, 107)
    figures = floor.floors(predictions, labels, rows, {102: "network", 105: "label"}, weights)

    def mix(p):
        return source_metrics(p, labels, weights)["rmse_leaderboard_weighted"]

    assert figures["as_predicted"] == pytest.approx(mix(predictions))
    mended = predictions.copy()
    mended[1] = labels[1]
    assert figures["network_failures_mended"] == pytest.approx(mix(mended))
    assert figures["network_failures_mended"] < figures["as_predicted"]
    only_wrong_label = np.where(np.isnan(labels), np.nan, labels)
    only_wrong_label[4] = predictions[4]
    assert figures["floor"] == pytest.approx(mix(only_wrong_label))
    # The one wrong label's squared error, spread over the three 4-point faces' 24 values, at that source's weight.
    wrong = predictions[4, :8].astype(np.float64) - labels[4, :8]
    assert figures["floor"] == pytest.approx(np.sqrt(0.35 * (wrong ** 2).sum() / 24), rel=1e-5)


def test_a_verdict_must_be_known_and_its_row_listed(tmp_path):
    floor = load_floor()
    checked = tmp_path / "checked.csv"
    checked.write_text("# by eye\nrow,verdict,note\n7,label,shifted\n9,network,a profile\n")
    assert floor.read_checked(checked, np.array([7, 9, 12])) == {7: "label", 9: "network"}
    with pytest.raises(SystemExit, match="line 3 of its table, field row: row 9 is not on the list"):
        floor.read_checked(checked, np.array([7, 12]))
    checked.write_text("row,verdict,note\n7x,label,shifted\n")
    with pytest.raises(SystemExit, match="line 2 of its table, field row: '7x' is not a row number"):
        floor.read_checked(checked, np.array([7]))
    checked.write_text("row,verdict,note\n7,wrong,shifted\n")
    with pytest.raises(SystemExit, match="field verdict: 'wrong' is not one of label, network"):
        floor.read_checked(checked, np.array([7]))


def test_the_fold_runs_faces_are_read_as_kaggles_rows_or_missing_in_one_line(tmp_path):
    from argparse import Namespace

    from stages.lib.kaggle_csv import format_training_csv

    floor = load_floor()
    args = Namespace(work=tmp_path, data="faces", folds=5)
    with pytest.raises(SystemExit, match=r"faces/training.csv: not found; run bench/accuracy.py --data faces --folds 5"):
        floor.fold_run_faces(args)
    images = np.random.default_rng(0).integers(0, 256, (3, 96, 96)).astype(np.uint8)
    keypoints = np.full((3, 30), np.nan, dtype=np.float32)
    keypoints[:, :4] = [[30, 40, 60, 40], [31, 41, 61, 41], [32, 42, 62, 42]]
    (tmp_path / "faces").mkdir()
    (tmp_path / "faces" / "training.csv").write_text(format_training_csv(images, keypoints))
    faces = floor.fold_run_faces(args)
    assert faces.image_ids.tolist() == [1, 2, 3]
    np.testing.assert_allclose(faces.keypoints[:, :4], keypoints[:, :4], atol=1e-3)
    assert np.isnan(faces.keypoints[:, 4:]).all()


def test_the_committed_verdicts_are_on_the_committed_list():
    import csv

    listed = {int(r["row"]) for r in csv.DictReader(
        line for line in (ROOT / "data/labels/kaggle-training.csv").read_text().splitlines() if not line.startswith("#"))}
    floor = load_floor()
    verdicts = floor.read_checked(ROOT / "data/labels/kaggle-holdout-checked.csv", np.array(sorted(listed)))
    assert {"label", "network"} <= set(verdicts.values())


def test_the_floor_table_names_the_run_whose_ensemble_it_scored():
    tables = load_script("docs/tables.py", "docs_tables")
    results = {"model": "resnet", "folds": 5, "as_predicted": 1.9, "network_failures_mended": 1.7, "floor": 1.25,
               "checked": {"1": "label", "2": "network", "3": "network"}}
    assert "| by the fold ensemble (resnet, 5 folds) | 1.900 |" in tables.floor_table(results)  # an older file
    named = tables.floor_table(results | {"run": "kaggle.yaml folds=5"})
    assert "| by the fold ensemble (resnet, 5 folds of the run `kaggle.yaml folds=5`) | 1.900 |" in named
    assert "its 2 failures checked by eye" in named and "but the 1 labelled wrongly" in named
