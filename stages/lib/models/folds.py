"""Model `folds`: a fold ensemble, `folds.model` trained once per fold and averaged.

With `folds.ids` set, the split stage cuts the training faces into K folds and an outer hold-out
(`lib/folds.py`); stage `train_fold@k` trains the model on every fold but k, into
`models/folds/fold<k>/`, and validates it on fold k. The ensemble averages the K networks, so its
own figure can only come from faces none of them saw: the hold-out, which is then every model's
validation split. Each face of the folds is predicted by the one network that did not train on it
(`out_of_fold`): that figure is the single network's, over every fold.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..faces import Faces
from ..keypoints import Predictor
from ..params import EvaluateParams, FoldsParams

FOLDS_DIR = "folds"  # under models/: fold<k>/, one trained model per fold


def member_dir(models_dir: Path, fold: int) -> Path:
    return Path(models_dir) / FOLDS_DIR / f"fold{fold}"


def members(models_dir: Path, params: FoldsParams) -> list[Predictor]:
    from . import load_predictor

    found = []
    for fold in params.ids:
        folder = member_dir(models_dir, fold)
        if not folder.is_dir():
            raise FileNotFoundError(f"fold {fold}: {folder} not found; run `dvc repro train_fold@{fold}`")
        found.append(load_predictor(params.model, folder))
    return found


def load(models_dir: Path, params: FoldsParams) -> Predictor:
    """The K fold networks of `models_dir/folds/`, averaged with equal weights."""
    from .ensemble import averaged

    predictors = members(models_dir, params)
    return averaged(predictors, np.full(len(predictors), 1.0 / len(predictors)))


def out_of_fold(models_dir: Path, folds: list[Faces], params: FoldsParams,
                evaluate_params: EvaluateParams) -> tuple[Faces, np.ndarray]:
    """Every fold's faces (pooled, fold by fold) and their predictions by the network of that
    fold, which never trained on them, with evaluation's test-time views."""
    from ..evaluation import evaluate

    predictions = [evaluate(predict, faces, evaluate_params)[1] for predict, faces in zip(members(models_dir, params), folds)]
    pooled = Faces(np.concatenate([f.images for f in folds]), np.concatenate([f.keypoints for f in folds]),
                   np.concatenate([f.image_ids for f in folds]) if all(f.image_ids is not None for f in folds) else None)
    return pooled, np.concatenate(predictions)


def more_figures(models_dir: Path, split_dir: Path, params, val: Faces, val_predictions: np.ndarray,
                 weights: dict[str, float]) -> dict:
    """What `stages.evaluate` adds for the fold ensemble: the out-of-fold figures (every fold's
    faces predicted by the network that did not train on them; fold<k>/val.npz of `split_dir`),
    and a 95% bootstrap interval over the hold-out's faces (`val`) of the ensemble's mix."""
    from ..evaluation import bootstrap_interval, source_metrics
    from ..io import load_npz
    from ..metrics import rmse

    folds = [Faces.from_arrays(load_npz(Path(split_dir) / f"fold{k}" / "val.npz")) for k in params.folds.ids]
    pooled, predictions = out_of_fold(models_dir, folds, params.folds, params.evaluate)
    sources = source_metrics(predictions, pooled.keypoints, weights)
    return {"out_of_fold": {"faces": len(pooled), "rmse": rmse(predictions, pooled.keypoints),
                            "rmse_by_source": sources["rmse_by_source"],
                            "rmse_leaderboard_weighted": sources["rmse_leaderboard_weighted"]},
            "holdout_interval_95": list(bootstrap_interval(val_predictions, val.keypoints, weights))}
