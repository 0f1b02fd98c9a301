"""Model `ensemble`: a weighted average of other trained models' predictions.

Its members live beside it (`models/<member>/`); "training" checks they exist and writes
`ensemble.json`, so the ensemble is evaluated, submitted and used on photos like any model.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..keypoints import N_KEYPOINTS
from ..metrics import rmse
from ..params import EnsembleParams
from ..tta import mirror_offsets, with_mirror_offsets
from .base import EpochCallback, Faces, Predictor


def _members(model_dir: Path, names, weights) -> Predictor:
    from . import entry, load_predictor

    predictors = []
    for name in names:
        entry(name)
        member_dir = Path(model_dir).parent / name
        if not member_dir.is_dir():
            raise FileNotFoundError(f"ensemble member {name!r}: {member_dir} not found; train it first")
        predictors.append(load_predictor(name, member_dir))
    weights = np.asarray(weights, np.float64) / np.sum(weights)

    def predict(images: np.ndarray, four_point: np.ndarray | None = None) -> np.ndarray:
        return sum(w * p(images, four_point).astype(np.float64) for w, p in zip(weights, predictors)).astype(np.float32)

    def offsets(faces: int, four_point: np.ndarray | None = None) -> np.ndarray:
        # Flip averaging is linear: each member's mirror image moved back by its own offsets.
        return sum(w * mirror_offsets(p, faces, four_point, N_KEYPOINTS) for w, p in zip(weights, predictors))

    return with_mirror_offsets(predict, offsets)


def train(params: EnsembleParams, train: Faces, val: Faces, out_dir: Path, on_epoch: EpochCallback) -> dict:
    predict = _members(Path(out_dir), params.models, params.weights)
    (Path(out_dir) / "ensemble.json").write_text(
        json.dumps({"models": list(params.models), "weights": list(params.weights)}, indent=2))
    val_rmse = rmse(predict(val.images), val.keypoints)
    on_epoch(0, {"val/rmse": val_rmse})
    return {"val_rmse": val_rmse, "epochs": 0}


def load(model_dir: Path) -> Predictor:
    config = json.loads((Path(model_dir) / "ensemble.json").read_text())
    return _members(Path(model_dir), config["models"], config["weights"])
