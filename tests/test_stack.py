"""bench/stack.py: fold runs combined, scored out of fold without a face's own label."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import load_script


def load_stack():
    return load_script("bench/stack.py", "bench_stack")


def members_of(labels: np.ndarray, rng) -> np.ndarray:
    """Two members: a close one and a noisy, shifted one."""
    return np.stack([labels + rng.normal(0, 0.5, labels.shape), labels + 3 + rng.normal(0, 3, labels.shape)])


def rmse(predictions, labels):
    return float(np.sqrt(np.nanmean((predictions - labels) ** 2)))


def test_the_linear_stack_weighs_the_better_member_and_never_sees_a_folds_own_labels():
    stack = load_stack()
    rng = np.random.default_rng(0)
    n, holdout = 600, 100
    labels = rng.uniform(20, 76, (n, 30))
    oof = members_of(labels, rng)  # predictions of every point, labelled or not
    labels[::3, 8:] = np.nan  # faces with four keypoints: the rest missing
    parts = np.repeat(np.arange(5), (n - holdout) // 5)
    parts = np.concatenate([parts, np.full(holdout, -1)])
    held = oof[:, parts == -1] + rng.normal(0, 0.1, (2, holdout, 30))

    average, held_average = stack.combine("average", oof, labels, parts, held)
    np.testing.assert_allclose(average, oof.mean(axis=0))
    np.testing.assert_allclose(held_average, held.mean(axis=0))

    linear, held_linear = stack.combine("linear", oof, labels, parts, held)
    pooled = parts != -1
    assert not np.isnan(linear[pooled]).any()
    # The close member carries the stack: better than the plain mean, about as good as it alone.
    assert rmse(linear[pooled], labels[pooled]) < 0.6 < rmse(average[pooled], labels[pooled])
    assert rmse(held_linear, labels[~pooled]) < 0.6
    # Fold 2's predictions come from a fit on the other folds: its own labels do not move them.
    changed = labels.copy()
    changed[parts == 2] += 10
    again, _ = stack.combine("linear", oof, changed, parts, held)
    np.testing.assert_allclose(again[parts == 2], linear[parts == 2])
    assert not np.allclose(again[parts == 3], linear[parts == 3])


def test_the_linear_stacks_weights_are_never_negative():
    stack = load_stack()
    rng = np.random.default_rng(1)
    labels = rng.uniform(20, 76, (200, 30))
    members = np.stack([labels + rng.normal(0, 1, labels.shape), 96 - labels])  # the second moves against
    fits = stack.fit_linear(members, labels)
    assert all(fit.coef_.min() >= 0 for fit in fits) and all(fit.coef_[1] == 0 for fit in fits)
    labels[:, 29] = np.nan  # a coordinate no face labels: the members' mean
    fits = stack.fit_linear(members, labels)
    assert fits[29] is None
    np.testing.assert_allclose(stack.apply_linear(fits, members)[:, 29], members[:, :, 29].mean(axis=0))
    with pytest.raises(ValueError, match="unknown combination 'median'"):
        stack.combine("median", members, labels, np.zeros(200, int), members)


def test_a_members_missing_fold_predictions_get_one_line(tmp_path):
    stack = load_stack()
    layout = stack.FoldLayout(groups=np.arange(6), parts=np.array([0, 0, 1, 1, -1, -1]), listed=None, k=2)
    saved = tmp_path / "folds2"
    for fold in (0, 1):
        (saved / f"fold{fold}").mkdir(parents=True)
        np.savez(saved / f"fold{fold}" / f"resnet-{fold}.npz", val=np.full((2, 30), fold, np.float32),
                 holdout=np.full((2, 30), 10 + fold, np.float32))
    folds = [{"fold": 0, "predictions": "resnet-0.npz"}, {"fold": 1, "predictions": "resnet-1.npz"}]
    oof, held = stack.member_predictions("run", folds, layout, saved)
    np.testing.assert_array_equal(oof[:4, 0], [0, 0, 1, 1])
    assert np.isnan(oof[4:]).all() and (held == 10.5).all()
    with pytest.raises(SystemExit, match=r"fold1/resnet-9.npz: not found, fold 1 of the run 'run'"):
        stack.member_predictions("run", [folds[0], {"fold": 1, "predictions": "resnet-9.npz"}], layout, saved)
    with pytest.raises(SystemExit, match="'run' has 1 of 2 folds"):
        stack.member_predictions("run", folds[:1], layout, saved)


def test_the_stack_table_gives_each_member_and_each_combinations_verdict():
    tables = load_script("docs/tables.py", "docs_tables")

    def row(mix):
        return {"mix": {"mean": mix, "std": 0.1}, "out_of_fold": {"mix": mix + 0.01},
                "holdout_fold_ensemble": {"mix": mix + 0.4, "interval_95": [mix, mix + 0.8]}}

    results = {"data": "kaggle-train-jpeg", "model": "resnet", "folds": 2, "best_member": "a folds=2",
               "machine": {"gpu": None, "cores": 2, "cpu": "AMD EPYC", "cpu_family": "25", "cpu_model": "17", "bf16": True},
               "members": {"a folds=2": row(1.25), "b folds=2": row(1.37)},
               "combinations": {"linear": {**row(1.24), "against_best": {"gains": [0.02, 0.0], "mean": 0.01,
                                                                          "std": 0.014, "kept": False}}}}
    table = tables.stack_table(results)
    assert "| `a folds=2` (the best), 2 fold networks | 1.250 ± 0.100 | 1.260 | 1.650 (1.250-2.050) | - | - | - |" in table
    assert "| `b folds=2`, 2 fold networks | 1.370 ± 0.100 |" in table
    assert "| linear of the 2 | 1.240 ± 0.100 | 1.250 | 1.640 (1.240-2.040) | +0.020 / +0.000 | +0.010 ± 0.014 | no |" in table
    assert "on 2 cores of an AMD EPYC (family 25 model 17, with bf16)" in table
