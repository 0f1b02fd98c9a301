"""A stack over fold runs: several runs' fold networks combined into one prediction, measured over
the same folds.

Each member is a finished run of `bench/accuracy.py --folds K` in the results file (its key, as
the levers table names it), all over the same folds. Its committed fold predictions
(bench/results/fold-predictions/) give every fold face predicted by the network that never
trained on it, and the hold-out predicted by each fold's network (each fold of the results file
names its file). Two ways to combine them:

- `average`: the members' mean;
- `linear`: per keypoint coordinate, scikit-learn's LinearRegression with non-negative weights
  on the members' predictions of that coordinate, fitted on the labelled faces.

The linear stack is scored out of fold as the members are: for each fold, it is fitted on the
other folds' out-of-fold predictions and predicts this fold's, so no face scores a stack that
saw its label. On the hold-out it is fitted on all the folds' faces and applied to each member's
fold ensemble. Each combination is compared fold by fold with the best member (`paired_gain`'s
rule: kept when the mean gain exceeds its standard deviation). Nothing is trained: a member whose
fold predictions are not there gets one line naming the run to make.

Writes bench/results/stack.json; docs/kaggle.md renders it ("A stack of fold runs").

usage: python bench/stack.py --runs KEY KEY ... [--data kaggle-train-jpeg] [--model resnet]
           [--folds 5] [--work bench/out/stack] [--out bench/results/stack.json]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LinearRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.accuracy import (SHARED, FoldLayout, load_faces, machine, mean_std, paired_gain,  # noqa: E402
                            pooled_figures, resolved_params, source_row)
from stages.lib.folds import HOLDOUT  # noqa: E402
from stages.lib.io import load_npz, save_json  # noqa: E402
from stages.lib.cli import run  # noqa: E402

COMBINATIONS = ("average", "linear")


def fit_linear(members: np.ndarray, labels: np.ndarray) -> list[LinearRegression | None]:
    """Per coordinate, non-negative weights (and an intercept) on the members' predictions of it,
    fitted on the faces that label it. members: (m, n, 30); labels: (n, 30), NaN where missing."""
    fits = []
    for j in range(labels.shape[1]):
        known = ~np.isnan(labels[:, j])
        fits.append(LinearRegression(positive=True).fit(members[:, known, j].T, labels[known, j])
                    if known.sum() > members.shape[0] else None)
    return fits


def apply_linear(fits: list[LinearRegression | None], members: np.ndarray) -> np.ndarray:
    """The fitted stack's predictions; a coordinate too rarely labelled to fit takes the mean."""
    return np.stack([fit.predict(members[:, :, j].T) if fit is not None else members[:, :, j].mean(axis=0)
                     for j, fit in enumerate(fits)], axis=1)


def combine(how: str, oof: np.ndarray, labels: np.ndarray, parts: np.ndarray, held: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """(out-of-fold predictions, hold-out predictions) of a combination of m members.

    oof: (m, n, 30), each fold face predicted by each member's network of its fold (hold-out rows
    unused); labels: (n, 30); parts: each face's fold or HOLDOUT; held: (m, h, 30), each member's
    fold ensemble on the hold-out. `linear` predicts each fold from a fit on the other folds only."""
    if how == "average":
        return oof.mean(axis=0), held.mean(axis=0)
    if how != "linear":
        raise ValueError(f"unknown combination {how!r}: one of {', '.join(COMBINATIONS)}")
    stacked = np.full(oof.shape[1:], np.nan, dtype=np.float64)
    for fold in np.unique(parts[parts != HOLDOUT]):
        train, test = (parts != fold) & (parts != HOLDOUT), parts == fold
        stacked[test] = apply_linear(fit_linear(oof[:, train], labels[train]), oof[:, test])
    pooled = parts != HOLDOUT
    return stacked, apply_linear(fit_linear(oof[:, pooled], labels[pooled]), held)


def member_predictions(key: str, folds: list[dict], layout: FoldLayout, saved: Path) -> tuple[np.ndarray, np.ndarray]:
    """(out-of-fold predictions, fold ensemble on the hold-out) of the run `key` of the results
    file, whose `folds` name the files that keep each fold's predictions; one line naming what
    is missing otherwise."""
    oof, held = np.full(layout.parts.shape + (30,), np.nan, dtype=np.float32), []
    if sorted(f["fold"] for f in folds) != list(range(layout.k)):
        sys.exit(f"--runs: {key!r} has {len(folds)} of {layout.k} folds; finish it with bench/accuracy.py first")
    for fold in folds:
        path = saved / f"fold{fold['fold']}" / str(fold.get("predictions"))
        if "predictions" not in fold or not path.exists():
            sys.exit(f"{path}: not found, fold {fold['fold']} of the run {key!r}; run it again with bench/accuracy.py")
        predictions = load_npz(path)
        oof[layout.parts == fold["fold"]] = predictions["val"]
        held.append(predictions["holdout"])
    return oof, np.mean(held, axis=0)


def scored(oof: np.ndarray, held: np.ndarray, faces, layout: FoldLayout, weights: dict[str, float]) -> dict:
    """A prediction's figures as a fold run records them: each fold, their mean, out of fold, and
    the hold-out with its bootstrap interval."""
    folds = [{"fold": fold, **source_row(oof[layout.parts == fold], faces.keypoints[layout.parts == fold], weights)}
             for fold in range(layout.k)]
    return {"folds": folds, "mix": mean_std([f["mix"] for f in folds]),
            **pooled_figures(oof, held, faces.keypoints, layout.parts, weights)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", required=True, metavar="KEY", help="fold runs of the results file")
    parser.add_argument("--data", default="kaggle-train-jpeg")
    parser.add_argument("--model", default="resnet")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "stack")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results", help="where the fold runs are")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "stack.json")
    args = parser.parse_args()
    if len(args.runs) < 2:
        sys.exit("--runs: a stack needs two runs or more")
    results_path = args.results / f"{args.data}.json"
    runs = json.loads(results_path.read_text()) if results_path.exists() else {}
    for key in args.runs:
        if key not in runs or args.model not in runs[key]["models"] or runs[key]["folds"] != args.folds:
            sys.exit(f"{results_path}: no {args.folds}-fold run {key!r} of {args.model} (--runs)")
    folder = SHARED / args.data
    if not folder.is_dir():
        sys.exit(f"{folder}: not found")
    work = args.work / args.data
    work.mkdir(parents=True, exist_ok=True)
    faces, weights, _ = load_faces(args.data, folder, work)
    params = {key: resolved_params(ROOT / "profiles" / runs[key]["profile"], runs[key]["set"]) for key in args.runs}
    # The folds are cut by the split's seed and duplicate distance: the members must share them.
    first = params[args.runs[0]].split
    for key in args.runs:
        if (params[key].split.seed, params[key].split.duplicate_distance) != (first.seed, first.duplicate_distance):
            sys.exit(f"--runs: {key!r} cuts other folds than {args.runs[0]!r} (split.seed, split.duplicate_distance)")
    layout = FoldLayout.of(faces, params[args.runs[0]], args.folds)
    saved = args.results / "fold-predictions" / args.data / f"folds{args.folds}"
    members = [member_predictions(key, runs[key]["models"][args.model]["folds"], layout, saved) for key in args.runs]
    oof, held = np.stack([m[0] for m in members]), np.stack([m[1] for m in members])
    figures = {key: scored(oof[i], held[i], faces, layout, weights) for i, key in enumerate(args.runs)}
    best = min(args.runs, key=lambda k: figures[k]["mix"]["mean"])
    result = {"data": args.data, "model": args.model, "folds": args.folds, "machine": machine(),
              "members": {key: {**figures[key], "train_minutes": runs[key]["train_minutes"]} for key in args.runs},
              "best_member": best, "combinations": {}}
    for i, key in enumerate(args.runs):
        print(f"{key}: folds {figures[key]['mix']['mean']:.4f} +- {figures[key]['mix']['std']:.4f}, out of fold "
              f"{figures[key]['out_of_fold']['mix']:.4f}, hold-out {figures[key]['holdout_fold_ensemble']['mix']:.4f}")
    for how in COMBINATIONS:
        combined = scored(*combine(how, oof, faces.keypoints, layout.parts, held), faces, layout, weights)
        gain = paired_gain(figures[best]["folds"], combined["folds"])
        gain["out_of_fold"] = figures[best]["out_of_fold"]["mix"] - combined["out_of_fold"]["mix"]
        gain["holdout_fold_ensemble"] = (figures[best]["holdout_fold_ensemble"]["mix"]
                                         - combined["holdout_fold_ensemble"]["mix"])
        result["combinations"][how] = {**combined, "against_best": gain}
        print(f"{how}: folds {combined['mix']['mean']:.4f} +- {combined['mix']['std']:.4f}, out of fold "
              f"{combined['out_of_fold']['mix']:.4f}, hold-out {combined['holdout_fold_ensemble']['mix']:.4f}; "
              f"gain over the best member per fold " + " ".join(f"{g:+.4f}" for g in gain["gains"])
              + f", mean {gain['mean']:+.4f} +- {gain['std']:.4f}: {'kept' if gain['kept'] else 'not kept'}")
    save_json(args.out, result)
    print(f"-> {args.out}")


if __name__ == "__main__":
    run(main)  # bad params or input: one line, not a traceback
