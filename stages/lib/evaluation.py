"""Scoring a trained model on validation faces: metrics with and without flip averaging, per
label source, and the pictures of its predictions.

Kaggle's faces come from two label sources (`sources.py`). The test lookup asks 8 values of some
faces and up to 30 of others in the same proportions, so the leaderboard's RMSE is a mix of the
two: `source_metrics` reports each source's RMSE and that mix.
"""
from __future__ import annotations

import numpy as np

from .keypoints import KEYPOINTS, Predictor
from .metrics import keypoint_metrics, per_face_rmse, rmse
from .faces import Faces
from .pictures import encode_png, face_tile, grid
from .params import EvaluateParams
from .sources import SOURCES, face_sources, four_point_faces, four_point_requests, label_sources
from .tta import flip_average, mirrored_prediction, with_flip_averaging, with_test_time_augmentation, zoom_average


def evaluate(predict: Predictor, val: Faces, params: EvaluateParams) -> tuple[dict, np.ndarray]:
    """(metrics, chosen val predictions); both flip settings are measured, one is chosen (with
    the zoomed views, where `zoom_tta` names any). Each face is predicted in its own label
    source's convention, as the submission predicts test faces."""
    four_point = four_point_faces(val.keypoints)
    plain = predict(val.images, four_point)
    flipped = flip_average(plain, mirrored_prediction(predict, val.images, four_point))
    view = with_flip_averaging(predict) if params.flip_tta else predict
    chosen = zoom_average(view, predict, val.images, four_point, flipped if params.flip_tta else plain,
                          params.zoom_tta)
    metrics = keypoint_metrics(chosen, val.keypoints)
    metrics.update(flip_tta=params.flip_tta, rmse_without_flip_tta=rmse(plain, val.keypoints),
                   rmse_with_flip_tta=rmse(flipped, val.keypoints))
    return metrics, chosen


def lookup_weights(lookup_image_ids: np.ndarray) -> dict[str, float]:
    """Each source's share of the values the test lookup asks for: the leaderboard's weights."""
    _, per_image = np.unique(lookup_image_ids, return_counts=True)
    values = {source: float(per_image[face_sources(per_image) == source].sum()) for source in SOURCES}
    total = sum(values.values())
    return {source: values[source] / total for source in SOURCES}


def source_metrics(predictions: np.ndarray, truth: np.ndarray, weights: dict[str, float]) -> dict:
    """RMSE per source (over each face's labelled values) and the mix the leaderboard would see.

    A source with no validation faces is left out of the mix, and the other's weight becomes 1.
    """
    sources = label_sources(truth)
    by_source, faces = {}, {}
    for source in SOURCES:
        rows = sources == source
        faces[source] = int(rows.sum())
        by_source[source] = rmse(predictions[rows], truth[rows]) if rows.any() else None
    present = {s: weights[s] for s in SOURCES if by_source[s] is not None and weights[s] > 0}
    mixed = np.sqrt(sum(w * by_source[s] ** 2 for s, w in present.items()) / sum(present.values())) if present else None
    return {"rmse_by_source": by_source, "faces_by_source": faces, "lookup_weights": weights,
            "rmse_leaderboard_weighted": None if mixed is None else float(mixed)}


def predict_test(predict: Predictor, images: np.ndarray, image_ids: np.ndarray, lookup_image_ids: np.ndarray,
                 flip_tta: bool, zoom_tta: tuple[float, ...] = ()) -> np.ndarray:
    """Test predictions for the submission: each face in the convention of the label source the
    lookup marks it as (at most 8 values asked: a 4-point face)."""
    chosen = with_test_time_augmentation(predict, flip_tta, zoom_tta)
    return chosen(images, four_point_requests(image_ids, lookup_image_ids))


def pictures(val: Faces, predictions: np.ndarray, n_faces: int) -> tuple[bytes, bytes]:
    """PNGs of the first n_faces validation faces and of the ten worst (predicted red, truth green)."""
    faces = [face_tile(val.images[i], predictions[i], val.keypoints[i]) for i in range(min(n_faces, len(predictions)))]
    errors = per_face_rmse(predictions, val.keypoints)
    worst = np.argsort(-errors, kind="stable")[:10]
    worst_tiles = [face_tile(val.images[i], predictions[i], val.keypoints[i],
                             f"id {val.image_ids[i]}  rmse {errors[i]:.2f}") for i in worst]
    return encode_png(grid(faces)), encode_png(grid(worst_tiles, columns=5))


def per_keypoint_csv(metrics: dict) -> str:
    """`keypoint,rmse`, a row per keypoint in Kaggle's order (the `dvc plots` bar chart's data)."""
    import pandas as pd

    table = pd.DataFrame({"keypoint": KEYPOINTS, "rmse": [metrics["per_keypoint"][k] for k in KEYPOINTS]})
    return table.to_csv(index=False, float_format="%.6f", lineterminator="\n")


def bootstrap_interval(predictions: np.ndarray, truth: np.ndarray, weights: dict[str, float],
                       resamples: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """A percentile bootstrap interval of the leaderboard mix (`source_metrics`) over faces: the
    faces are drawn again with replacement `resamples` times, each source on its own, so every draw
    keeps each source's count and the mix its weights."""
    rng = np.random.default_rng(seed)
    sources = label_sources(truth)
    by_source = [np.flatnonzero(sources == source) for source in SOURCES]
    squared = np.where(np.isnan(truth), 0.0, (np.asarray(predictions, np.float64) - truth) ** 2).sum(axis=1)
    counted = (~np.isnan(truth)).sum(axis=1)
    mixes = np.zeros(resamples)
    total = sum(weights[s] for s, rows in zip(SOURCES, by_source) if len(rows) and weights[s] > 0)
    for source, rows in zip(SOURCES, by_source):
        if not len(rows) or weights[source] <= 0:
            continue
        draws = rows[rng.integers(0, len(rows), size=(resamples, len(rows)))]
        mixes += weights[source] / total * squared[draws].sum(axis=1) / counted[draws].sum(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(np.sqrt(mixes), [tail, 100 - tail])
    return float(low), float(high)
