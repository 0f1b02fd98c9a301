"""How sure a heatmap model is: each keypoint's spread, a face's score, and the score above which a
detection is not taken for a face.

A face's score is the mean of its 15 keypoint spreads (pixels of the 96x96 face). Where faces end
depends on the model: one trained on real faces scores faces about 8.3 px and crops of pictures
with no face 8.8-10 (its heatmaps are drawn towards an 8 px Gaussian, the floor), while one
trained on the embedded drawings is unsure of real faces too (9-12 px; non-faces 11-15). So each
model measures its own line when it is trained: the 5th percentile of its scores on square crops
of scikit-image's pictures that show no face (`face_limit`), and keeps it with its weights
(bench/confidence.py shows what that line keeps and drops).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import cv2
import numpy as np

from .keypoints import IMAGE_SIZE

# scikit-image's bundled pictures with no human face in them.
NON_FACE_PICTURES = ("coffee", "chelsea", "cat", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
                     "coins", "page", "text", "horse", "grass", "gravel", "brick", "moon")
# Of the non-face crops, this share may score as faces: the line sits at their 5th percentile.
NON_FACE_QUANTILE = 0.05
CALIBRATION_CROPS = 300


@dataclasses.dataclass(frozen=True)
class Confidence:
    spread: Callable[[np.ndarray], np.ndarray]  # (N, 96, 96) uint8 -> (N, 15) px on the 96x96 face
    face_limit: float  # a face scoring above this is taken for "not a face"


def face_score(spreads: np.ndarray) -> np.ndarray:
    """(faces, 15) keypoint spreads -> (faces,) each face's score: their mean (px on the 96x96 face)."""
    spreads = np.asarray(spreads, np.float64)
    return spreads.mean(axis=1) if spreads.ndim == 2 else spreads.reshape(len(spreads), -1).mean(axis=1)


def grey_pictures() -> dict[str, np.ndarray]:
    from skimage import color, data

    out = {}
    for name in NON_FACE_PICTURES:
        image = getattr(data, name)()
        image = color.rgb2gray(image[..., :3]) * 255 if image.ndim == 3 else image.astype(np.float64)
        out[name] = np.clip(image, 0, 255).astype(np.uint8)
    return out


def non_face_crops(n: int, seed: int = 0) -> np.ndarray:
    """(n, 96, 96) uint8 squares of random place and size (48 px to the picture's side) from the
    non-face pictures, in turn."""
    pictures = grey_pictures()
    rng = np.random.default_rng(seed)
    crops = []
    for i in range(n):
        grey = pictures[NON_FACE_PICTURES[i % len(NON_FACE_PICTURES)]]
        h, w = grey.shape
        side = int(rng.integers(48, min(h, w) + 1))
        x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        crops.append(cv2.resize(grey[y:y + side, x:x + side], (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA))
    return np.stack(crops)


def face_limit(spread: Callable[[np.ndarray], np.ndarray]) -> float:
    """The model's own line between faces and non-faces (see the module's docstring)."""
    return float(np.quantile(face_score(spread(non_face_crops(CALIBRATION_CROPS))), NON_FACE_QUANTILE))
