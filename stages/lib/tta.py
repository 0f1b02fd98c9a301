"""Test-time augmentation: predict on the face and on its mirror, names swapped, and average;
optionally on the face scaled about the image centre too (`zoom_tta`), each view mapped back.

A predictor whose labels sit off the pixels they mark (a label source's horizontal offset,
`resnet.mirror_offsets`) says so with `mirror_offsets` (`with_mirror_offsets`): mirrored back,
its predictions land twice that offset too far left, and are moved back by it.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from .augment import affine_matrix
from .keypoints import IMAGE_SIZE, Predictor, flip_keypoints

_CENTER = (IMAGE_SIZE - 1) / 2

# (faces, four_point) -> (faces, keypoints) each predicted keypoint's horizontal label offset in px
MirrorOffsets = Callable[[int, "np.ndarray | None"], np.ndarray]


def with_mirror_offsets(predict: Predictor, offsets: MirrorOffsets) -> Predictor:
    predict.mirror_offsets = offsets
    return predict


def mirror_offsets(predict: Predictor, faces: int, four_point: np.ndarray | None, keypoints: int) -> np.ndarray:
    """(faces, keypoints) the predictor's label offsets in px; zeros for one without."""
    offsets = getattr(predict, "mirror_offsets", None)
    return np.zeros((faces, keypoints), np.float32) if offsets is None else offsets(faces, four_point)


def mirrored_prediction(predict: Predictor, images: np.ndarray, four_point: np.ndarray | None = None) -> np.ndarray:
    """Predictions on the mirrored faces, mapped back onto the original faces (a face's label
    source does not change in the mirror)."""
    mirrored = flip_keypoints(predict(np.ascontiguousarray(images[:, :, ::-1]), four_point))
    mirrored[:, 0::2] += 2 * mirror_offsets(predict, len(images), four_point, mirrored.shape[1] // 2)
    return mirrored


def flip_average(direct: np.ndarray, mirrored: np.ndarray) -> np.ndarray:
    return ((direct + mirrored) / 2).astype(np.float32)


def with_flip_averaging(predict: Predictor) -> Predictor:
    def averaged(images: np.ndarray, four_point: np.ndarray | None = None) -> np.ndarray:
        return flip_average(predict(images, four_point), mirrored_prediction(predict, images, four_point))

    return averaged


def zoomed_prediction(view: Predictor, offsets: np.ndarray, images: np.ndarray, four_point: np.ndarray | None,
                      scale: float) -> np.ndarray:
    """`view`'s predictions on the faces scaled by `scale` about the image centre, mapped back.

    A label d px right of its point comes back d / scale px right of it: `offsets` (faces,
    keypoints), the predictor's label offsets, put it back to d.
    """
    matrix = affine_matrix(0.0, scale, 0.0, 0.0)
    scaled = np.stack([cv2.warpAffine(image, matrix, (IMAGE_SIZE, IMAGE_SIZE), flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REPLICATE) for image in images.astype(np.float32)])
    points = (view(scaled, four_point) - _CENTER) / scale + _CENTER
    points[:, 0::2] += (1 - 1 / scale) * offsets
    return points.astype(np.float32)


def zoom_average(view: Predictor, predict: Predictor, images: np.ndarray, four_point: np.ndarray | None,
                 direct: np.ndarray, scales: tuple[float, ...]) -> np.ndarray:
    """The mean of `direct` (`view`'s predictions on the faces as they are) and `view`'s on each
    scaled copy; `predict` is the model under `view` (flip-averaged or not), whose label offsets count."""
    if not scales:
        return direct
    offsets = mirror_offsets(predict, len(images), four_point, direct.shape[1] // 2)
    views = [direct] + [zoomed_prediction(view, offsets, images, four_point, s) for s in scales]
    return np.mean(views, axis=0).astype(np.float32)


def with_test_time_augmentation(predict: Predictor, flip: bool, scales: tuple[float, ...] = ()) -> Predictor:
    view = with_flip_averaging(predict) if flip else predict
    if not scales:
        return view
    return lambda images, four_point=None: zoom_average(view, predict, images, four_point, view(images, four_point),
                                                        scales)
