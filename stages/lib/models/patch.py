"""Baseline `patch`: average-patch search around the mean position (Kaggle LB 3.81).

Training averages a patch per keypoint over the faces where it is labelled; prediction slides
each average patch over a small window around the keypoint's mean position and keeps the
offset with the best normalised correlation. Vectorised over faces, offsets and keypoints.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..io import load_npz, save_npz
from ..keypoints import N_KEYPOINTS
from ..metrics import rmse
from ..params import PatchParams
from ..faces import Faces
from ..keypoints import Predictor, mean_keypoints
from .training import EpochCallback

_CHUNK = 256


def _standardise(patches: np.ndarray) -> np.ndarray:
    """Zero mean, unit norm over the last two axes, so a dot product is a correlation."""
    centred = patches - patches.mean(axis=(-2, -1), keepdims=True)
    norm = np.sqrt((centred ** 2).sum(axis=(-2, -1), keepdims=True))
    return centred / np.maximum(norm, 1e-6)


def _pad(images: np.ndarray, margin: int) -> np.ndarray:
    return np.pad(images.astype(np.float32), ((0, 0), (margin, margin), (margin, margin)), mode="edge")


def average_patches(images: np.ndarray, keypoints: np.ndarray, size: int) -> np.ndarray:
    """(15, size, size) mean patch centred on each keypoint, over the faces that label it."""
    half = size // 2
    padded = _pad(images, half)
    patches = np.zeros((N_KEYPOINTS, size, size), np.float64)
    for k in range(N_KEYPOINTS):
        points = keypoints[:, 2 * k:2 * k + 2]
        rows = np.flatnonzero(~np.isnan(points).any(axis=1))
        xy = np.clip(np.round(points[rows]).astype(int), 0, images.shape[-1] - 1)
        windows = sliding_window_view(padded[rows], (size, size), axis=(1, 2))
        patches[k] = windows[np.arange(len(rows)), xy[:, 1], xy[:, 0]].mean(axis=0)
    return patches.astype(np.float32)


def search(images: np.ndarray, patches: np.ndarray, centers: np.ndarray, radius: int) -> np.ndarray:
    """(N, 30) best-matching position of each patch within +-radius of its centre."""
    size = patches.shape[-1]
    half = size // 2
    margin = half + radius
    templates = _standardise(patches.astype(np.float64))
    offsets = np.arange(-radius, radius + 1)
    base = np.clip(np.round(centers.reshape(-1, 2)).astype(int), 0, images.shape[-1] - 1)
    out = np.empty((len(images), 2 * N_KEYPOINTS), np.float32)
    for start in range(0, len(images), _CHUNK):
        windows = sliding_window_view(_pad(images[start:start + _CHUNK], margin), (size, size), axis=(1, 2))
        for k in range(N_KEYPOINTS):
            # Candidate patch origins (top-left) in the padded image, for every offset.
            ys = base[k, 1] + offsets + margin - half
            xs = base[k, 0] + offsets + margin - half
            candidates = windows[:, ys[:, None], xs[None, :]]  # (n, 2r+1, 2r+1, size, size)
            scores = (_standardise(candidates) * templates[k]).sum(axis=(-2, -1))
            best = scores.reshape(len(scores), -1).argmax(axis=1)
            out[start:start + len(scores), 2 * k] = base[k, 0] + offsets[best % len(offsets)]
            out[start:start + len(scores), 2 * k + 1] = base[k, 1] + offsets[best // len(offsets)]
    return out


def train(params: PatchParams, train: Faces, val: Faces, out_dir: Path, on_epoch: EpochCallback) -> dict:
    centers = mean_keypoints(train.keypoints)
    patches = average_patches(train.images, train.keypoints, params.patch_size)
    save_npz(Path(out_dir) / "model.npz", patches=patches, centers=centers,
             radius=np.array(params.search_radius))
    val_rmse = rmse(search(val.images, patches, centers, params.search_radius), val.keypoints)
    on_epoch(0, {"val/rmse": val_rmse})
    return {"val_rmse": val_rmse, "epochs": 0}


def load(model_dir: Path) -> Predictor:
    model = load_npz(Path(model_dir) / "model.npz")
    return lambda images, four_point=None: search(images, model["patches"], model["centers"], int(model["radius"]))
