"""A detected box framed the way Kaggle's faces are: the 96x96 crop and the exact map back.

Kaggle's 96x96 faces are framed like OpenCV's frontal-face Haar detection: measured on
Kaggle's own training faces (bench/crop_framing.py), the face square is 0.99x the detected
box's width (interquartile range 0.06), centred on it (offsets under 0.3% of its width). So a
detected box is cropped at that size, scaled to 96x96, and the predicted keypoints go back
through the exact inverse of that map.
"""
from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from ..keypoints import IMAGE_SIZE

# The Kaggle face square's side relative to the Haar box's width, centred on the box (its centre
# offsets measured under 0.3% of the width: bench/crop_framing.py).
FRAME_SCALE = 0.99


@dataclasses.dataclass(frozen=True)
class Frame:
    """A square in photo coordinates (pixel centres at integers): top-left edge and side."""

    x0: float
    y0: float
    side: float

    @staticmethod
    def from_box(box, scale: float = FRAME_SCALE) -> "Frame":
        x, y, w, h = (float(v) for v in box)
        side = w * scale
        cx = x - 0.5 + w / 2
        cy = y - 0.5 + h / 2
        return Frame(cx - side / 2, cy - side / 2, side)

    def crop_matrix(self) -> np.ndarray:
        """2x3 affine taking photo coordinates to 96x96 crop coordinates.

        Crop pixel j covers [x0 + j * a, x0 + (j + 1) * a] of the photo (a = side / 96), so its
        centre is x0 + (j + 0.5) * a; `to_photo` is the exact inverse.
        """
        a = self.side / IMAGE_SIZE
        return np.array([[1 / a, 0.0, -self.x0 / a - 0.5], [0.0, 1 / a, -self.y0 / a - 0.5]])

    def to_photo(self, keypoints: np.ndarray) -> np.ndarray:
        """(..., 30) crop coordinates -> photo coordinates."""
        a = self.side / IMAGE_SIZE
        out = np.array(keypoints, np.float64, copy=True)
        out[..., 0::2] = self.x0 + (out[..., 0::2] + 0.5) * a
        out[..., 1::2] = self.y0 + (out[..., 1::2] + 0.5) * a
        return out


def crop(grey: np.ndarray, frame: Frame) -> np.ndarray:
    """The 96x96 face of `frame`; pre-blurred when shrinking, so that it does not alias."""
    shrink = frame.side / IMAGE_SIZE
    source = grey.astype(np.float32)
    if shrink > 1.5:
        source = cv2.GaussianBlur(source, (0, 0), 0.5 * (shrink - 1))
    out = cv2.warpAffine(source, frame.crop_matrix(), (IMAGE_SIZE, IMAGE_SIZE), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)
