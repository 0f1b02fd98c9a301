"""Model `ensemble`: a weighted average of other trained models' predictions.

It has no training and no folder: params.yaml's `ensemble` section names its members and weights,
and it loads them from the folder of trained models (`models/<member>/`), so it is evaluated,
submitted and used on photos like any model.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..keypoints import N_KEYPOINTS, Predictor
from ..params import EnsembleParams
from ..tta import mirror_offsets, with_mirror_offsets


def averaged(predictors: list[Predictor], weights) -> Predictor:
    """The weighted average of `predictors` (weights normalised to sum 1), flip-averaging included."""
    weights = np.asarray(weights, np.float64) / np.sum(weights)

    def predict(images: np.ndarray, four_point: np.ndarray | None = None) -> np.ndarray:
        return sum(w * p(images, four_point).astype(np.float64) for w, p in zip(weights, predictors)).astype(np.float32)

    def offsets(faces: int, four_point: np.ndarray | None = None) -> np.ndarray:
        # Flip averaging is linear: each member's mirror image moved back by its own offsets.
        return sum(w * mirror_offsets(p, faces, four_point, N_KEYPOINTS) for w, p in zip(weights, predictors))

    return with_mirror_offsets(predict, offsets)


def load(models_dir: Path, params: EnsembleParams) -> Predictor:
    """`params.models` from `models_dir/<name>/`, averaged with `params.weights`."""
    from . import entry, load_predictor

    predictors = []
    for name in params.models:
        entry(name)
        member_dir = Path(models_dir) / name
        if not member_dir.is_dir():
            raise FileNotFoundError(f"ensemble member {name!r}: {member_dir} not found; train it first")
        predictors.append(load_predictor(name, member_dir))
    return averaged(predictors, params.weights)
