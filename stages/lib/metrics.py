"""Keypoint error metrics; NaN targets (missing labels) are left out, never filled."""
from __future__ import annotations

import numpy as np

from .keypoints import KEYPOINTS


def rmse(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Kaggle's score: root mean squared error over the labelled values only."""
    errors = (np.asarray(predictions, np.float64) - targets)[~np.isnan(targets)]
    return float(np.sqrt(np.mean(errors ** 2))) if errors.size else float("nan")


def point_errors(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(N, 15) Euclidean error of each keypoint in pixels; NaN where the point is unlabelled."""
    diff = (np.asarray(predictions, np.float64) - targets).reshape(len(targets), -1, 2)
    return np.sqrt((diff ** 2).sum(axis=2))


def keypoint_metrics(predictions: np.ndarray, targets: np.ndarray) -> dict:
    """Everything `metrics/<model>.json` reports, from (N, 30) predictions and labels."""
    errors = point_errors(predictions, targets)
    labelled = errors[~np.isnan(errors)]
    return {
        "rmse": rmse(predictions, targets),
        "rmse_x": rmse(predictions[:, 0::2], targets[:, 0::2]),
        "rmse_y": rmse(predictions[:, 1::2], targets[:, 1::2]),
        "mean_error_px": float(labelled.mean()) if labelled.size else float("nan"),
        "within_2px": float((labelled <= 2).mean()) if labelled.size else float("nan"),
        "within_5px": float((labelled <= 5).mean()) if labelled.size else float("nan"),
        "labelled_values": int((~np.isnan(targets)).sum()),
        "per_keypoint": {
            name: rmse(predictions[:, 2 * k:2 * k + 2], targets[:, 2 * k:2 * k + 2])
            for k, name in enumerate(KEYPOINTS)
        },
    }


def per_face_rmse(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(N,) RMSE of each face over its labelled values."""
    squared = (np.asarray(predictions, np.float64) - targets) ** 2
    counts = (~np.isnan(targets)).sum(axis=1)
    return np.sqrt(np.nansum(squared, axis=1) / np.maximum(counts, 1))
