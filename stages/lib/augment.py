"""On-the-fly augmentation of faces and their keypoints (numpy + OpenCV, framework-free).

Keypoints move with the image; a point pushed off the image becomes missing (NaN), so the
masked losses simply ignore it. A horizontal flip also swaps the left/right names.

Annotators may place every point a little off the pixels they mark (a label source's offset,
`resnet.mirror_offsets`): mirrored, such a label lands twice its offset away from where that
source would have put it. `augment_batch` says, for each face, how far its labels must move per
pixel of horizontal offset to stay in their source's convention (`label_shift`).
"""
from __future__ import annotations

import cv2
import numpy as np

from .keypoints import IMAGE_SIZE, flip_keypoints
from .params import AugmentParams

_CENTER = (IMAGE_SIZE - 1) / 2


def is_identity(params: AugmentParams) -> bool:
    return not params.flip and not params.reframe and not any(
        (params.rotate, params.scale, params.shift, params.brightness, params.contrast, params.blur))


def affine_matrix(angle: float, scale: float, shift_x: float, shift_y: float) -> np.ndarray:
    """2x3 matrix: rotate by `angle` degrees and scale about the image centre, then shift."""
    matrix = cv2.getRotationMatrix2D((_CENTER, _CENTER), angle, scale)
    matrix[:, 2] += (shift_x, shift_y)
    return matrix


def warp_keypoints(keypoints: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(30,) keypoints through a 2x3 affine; points that leave the image become NaN."""
    points = keypoints.reshape(-1, 2) @ matrix[:, :2].T + matrix[:, 2]
    outside = (points < 0).any(axis=1) | (points > IMAGE_SIZE - 1).any(axis=1)
    points[outside] = np.nan
    return points.reshape(-1).astype(np.float32)


def augment_batch(images: np.ndarray, keypoints: np.ndarray, params: AugmentParams,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float32 images in 0..255 (N, 96, 96), keypoints (N, 30) and label_shift (N, 2), each face
    drawn anew.

    A label that sits `d` px right of its point (label = point + (d, 0)) goes through the face's
    point transform T as T(label); in the augmented face that source would put it at
    T(point) + (d, 0) = T(label) + d * label_shift, label_shift being (1, 0) minus T's linear
    part applied to (1, 0): (2, 0) for a plain mirror image, 0 for a face left as it is.
    """
    out_images = images.astype(np.float32, copy=True)
    out_keypoints = keypoints.astype(np.float32, copy=True)
    label_shift = np.zeros((len(images), 2), np.float32)
    if is_identity(params):
        return out_images, out_keypoints, label_shift
    n = len(images)
    flips = rng.random(n) < 0.5 if params.flip else np.zeros(n, bool)
    angles = rng.uniform(-params.rotate, params.rotate, n)
    scales = rng.uniform(1 - params.scale, 1 + params.scale, n)
    shifts = rng.uniform(-params.shift, params.shift, (n, 2))
    gains = rng.uniform(1 - params.contrast, 1 + params.contrast, n)
    offsets = rng.uniform(-params.brightness, params.brightness, n) * 255
    blurs = rng.random(n) < params.blur
    sigmas = rng.uniform(0.4, 1.2, n)
    if params.reframe:  # drawn last, so that without it every face draws as before
        reframed = rng.random(n) < params.reframe.share
        scales[reframed] = rng.uniform(params.reframe.scale, 1, n)[reframed]
        shifts[reframed] = rng.uniform(-params.reframe.shift, params.reframe.shift, (n, 2))[reframed]
    geometric = params.rotate or params.scale or params.shift or params.reframe
    for i in range(n):
        image = out_images[i]
        moved_x_axis = np.array([-1.0 if flips[i] else 1.0, 0.0])  # T's linear part applied to (1, 0)
        if flips[i]:
            image = np.ascontiguousarray(image[:, ::-1])
            out_keypoints[i] = flip_keypoints(out_keypoints[i])
        if geometric:
            matrix = affine_matrix(angles[i], scales[i], *shifts[i])
            image = cv2.warpAffine(image, matrix, (IMAGE_SIZE, IMAGE_SIZE), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)
            out_keypoints[i] = warp_keypoints(out_keypoints[i], matrix)
            moved_x_axis = matrix[:, :2] @ moved_x_axis
        label_shift[i] = (1.0 - moved_x_axis[0], -moved_x_axis[1])
        if blurs[i]:
            image = cv2.GaussianBlur(image, (0, 0), sigmas[i])
        mean = image.mean()
        out_images[i] = np.clip((image - mean) * gains[i] + mean + offsets[i], 0, 255)
    return out_images, out_keypoints, label_shift
