"""Baseline `mean`: every face gets the training set's mean coordinates (Kaggle LB 3.96).

With `mean.sources` the 4-point faces' four core keypoints get the mean of the 4-point rows'
labels, in that source's convention (`sources.py`), and everything else the 15-point rows' mean.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io import load_npz, save_npz
from ..keypoints import N_COLUMNS
from ..metrics import rmse
from ..params import MeanParams
from ..sources import four_point_faces, from_source_layout, to_source_layout
from ..faces import Faces
from ..keypoints import Predictor, mean_keypoints
from .training import EpochCallback


def fit(params: MeanParams, keypoints: np.ndarray) -> np.ndarray:
    """(30,) the mean of each column; with sources, (38,) each column of the source layout's mean."""
    return mean_keypoints(to_source_layout(keypoints) if params.sources else keypoints)


def predictor(mean: np.ndarray) -> Predictor:
    def predict(images: np.ndarray, four_point: np.ndarray | None = None) -> np.ndarray:
        rows = np.broadcast_to(mean, (len(images), len(mean)))
        return rows.copy() if len(mean) == N_COLUMNS else from_source_layout(rows, four_point)

    return predict


def train(params: MeanParams, train: Faces, val: Faces, out_dir: Path, on_epoch: EpochCallback) -> dict:
    mean = fit(params, train.keypoints)
    save_npz(Path(out_dir) / "model.npz", mean=mean)
    val_rmse = rmse(predictor(mean)(val.images, four_point_faces(val.keypoints)), val.keypoints)
    on_epoch(0, {"val/rmse": val_rmse})
    return {"val_rmse": val_rmse, "epochs": 0}


def load(model_dir: Path) -> Predictor:
    return predictor(load_npz(Path(model_dir) / "model.npz")["mean"])
