"""Baseline `mean`: every face gets the training set's mean coordinates (Kaggle LB 3.96)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io import load_npz, save_npz
from ..metrics import rmse
from .base import EpochCallback, Faces, Predictor


def fit(keypoints: np.ndarray) -> np.ndarray:
    """(30,) mean of each column over the rows where it is labelled."""
    counts = (~np.isnan(keypoints)).sum(axis=0)
    if (counts == 0).any():
        raise ValueError("some keypoint has no label in the training data")
    return np.nanmean(keypoints, axis=0).astype(np.float32)


def train(params, train: Faces, val: Faces, out_dir: Path, on_epoch: EpochCallback) -> dict:
    mean = fit(train.keypoints)
    save_npz(Path(out_dir) / "model.npz", mean=mean)
    val_rmse = rmse(np.broadcast_to(mean, val.keypoints.shape), val.keypoints)
    on_epoch(0, {"val/rmse": val_rmse})
    return {"val_rmse": val_rmse, "epochs": 0}


def load(model_dir: Path) -> Predictor:
    mean = load_npz(Path(model_dir) / "model.npz")["mean"]
    return lambda images: np.broadcast_to(mean, (len(images), len(mean))).copy()
