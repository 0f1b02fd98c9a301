"""Scoring a trained model on validation faces: metrics with and without flip averaging, and
the pictures of its predictions."""
from __future__ import annotations

import numpy as np

from .keypoints import KEYPOINTS, Predictor
from .metrics import keypoint_metrics, per_face_rmse, rmse
from .models.base import Faces
from .overlay import draw_face, encode_png, grid
from .params import EvaluateParams
from .tta import flip_average, mirrored_prediction


def evaluate(predict: Predictor, val: Faces, params: EvaluateParams) -> tuple[dict, np.ndarray]:
    """(metrics, chosen val predictions); both flip settings are measured, one is chosen."""
    plain = predict(val.images)
    flipped = flip_average(plain, mirrored_prediction(predict, val.images))
    chosen = flipped if params.flip_tta else plain
    metrics = keypoint_metrics(chosen, val.keypoints)
    metrics.update(flip_tta=params.flip_tta, rmse_without_flip_tta=rmse(plain, val.keypoints),
                   rmse_with_flip_tta=rmse(flipped, val.keypoints))
    return metrics, chosen


def pictures(val: Faces, predictions: np.ndarray, n_faces: int) -> tuple[bytes, bytes]:
    """PNGs of the first n_faces validation faces and of the ten worst (predicted red, truth green)."""
    faces = [draw_face(val.images[i], predictions[i], val.keypoints[i]) for i in range(min(n_faces, len(predictions)))]
    errors = per_face_rmse(predictions, val.keypoints)
    worst = np.argsort(-errors, kind="stable")[:10]
    worst_tiles = [draw_face(val.images[i], predictions[i], val.keypoints[i],
                             f"id {val.image_ids[i]}  rmse {errors[i]:.2f}") for i in worst]
    return encode_png(grid(faces)), encode_png(grid(worst_tiles, columns=5))


def per_keypoint_csv(metrics: dict) -> str:
    return "keypoint,rmse\n" + "".join(f"{k},{metrics['per_keypoint'][k]:.6f}\n" for k in KEYPOINTS)
