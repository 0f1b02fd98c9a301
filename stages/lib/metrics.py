"""Keypoint error metrics; NaN targets (missing labels) are left out, never filled."""
from __future__ import annotations

import numpy as np


def rmse(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Kaggle's score: root mean squared error over the labelled values only."""
    errors = (np.asarray(predictions, np.float64) - targets)[~np.isnan(targets)]
    return float(np.sqrt(np.mean(errors ** 2))) if errors.size else float("nan")
