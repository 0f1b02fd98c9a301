"""A detected face framed the way Kaggle's faces are: the 96x96 crop, upright, and the exact map back.

Kaggle's 96x96 faces are roughly upright squares framed about the face. Measured on Kaggle's own
training faces (bench/crop_framing.py), the face square is, relative to each detector's box:
- MTCNN: 1.29x the box's width (interquartile range: 9% of it), its centre a third of the eye
  distance below the midpoint of MTCNN's eyes;
- OpenCV's frontal Haar cascade: 0.99x the box's width, centred on it (IQR 6%).

A face MTCNN found turns upright: the crop is rotated about the face's centre so that the line
through the detector's eye landmarks is level, as in Kaggle's faces, and the centre's offset
turns with it. The predicted keypoints go back through the exact inverse of that map.
"""
from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from ..keypoints import IMAGE_SIZE
from .detect import Detection

# Per detector: the Kaggle face square's side / box width, and its centre's offset from the
# box's centre / box width, x and y (bench/crop_framing.py).
FRAMING = {"mtcnn": (1.286, 0.017, -0.009), "haar": (0.99, 0.0, 0.0)}
FRAME_SCALE = FRAMING["haar"][0]
# The square's centre from the midpoint of MTCNN's eyes, in eye distances along and down the face
# (bench/crop_framing.py; the box's centre gives twice the spread in pixels).
EYES_TO_CENTRE = (0.017, 0.333)


@dataclasses.dataclass(frozen=True)
class Frame:
    """A square in photo coordinates (pixel centres at integers): its centre, side, and the angle
    (radians, clockwise on screen) by which the face is turned in the photo."""

    cx: float
    cy: float
    side: float
    angle: float = 0.0

    @staticmethod
    def from_box(box, scale: float = FRAME_SCALE, dx: float = 0.0, dy: float = 0.0) -> "Frame":
        """An upright square `scale` box widths wide, its centre (dx, dy) box widths off the box's."""
        x, y, w, h = (float(v) for v in box)
        return Frame(x - 0.5 + w / 2 + dx * w, y - 0.5 + h / 2 + dy * w, w * scale)

    @staticmethod
    def from_detection(detection: Detection, upright: bool = True) -> "Frame":
        """The frame of a detection; turned upright by its eyes when it has them and `upright`."""
        scale, dx, dy = FRAMING["mtcnn" if detection.detector == "mtcnn" else "haar"]
        if detection.eyes is None:
            return Frame.from_box(detection.box, scale, dx, dy)
        (lx, ly), (rx, ry) = detection.eyes
        angle = math.atan2(ry - ly, rx - lx) if upright else 0.0
        # The centre from the eyes, which MTCNN places more tightly than its box's edges; the
        # side from the box, whose width varies less with the face's turn than the eyes' distance.
        distance = math.hypot(rx - lx, ry - ly)
        along, down = EYES_TO_CENTRE[0] * distance, EYES_TO_CENTRE[1] * distance
        cos, sin = math.cos(angle), math.sin(angle)
        return Frame((lx + rx) / 2 + cos * along - sin * down, (ly + ry) / 2 + sin * along + cos * down,
                     detection.box[2] * scale, angle)

    def crop_matrix(self) -> np.ndarray:
        """2x3 affine taking photo coordinates to 96x96 crop coordinates: turned by -angle about
        the centre, then scaled, so that crop pixel j's centre lies at (j + 0.5) * side / 96 from
        the square's upright top-left edge; `to_photo` is the exact inverse."""
        a = self.side / IMAGE_SIZE
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        centre = IMAGE_SIZE / 2 - 0.5
        rotation = np.array([[cos, sin], [-sin, cos]]) / a
        return np.hstack([rotation, (np.array([centre, centre]) - rotation @ [self.cx, self.cy])[:, None]])

    def to_photo(self, keypoints: np.ndarray) -> np.ndarray:
        """(..., 30) crop coordinates -> photo coordinates."""
        a = self.side / IMAGE_SIZE
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        centre = IMAGE_SIZE / 2 - 0.5
        points = np.asarray(keypoints, np.float64)
        u, v = (points[..., 0::2] - centre) * a, (points[..., 1::2] - centre) * a
        out = np.array(points, copy=True)
        out[..., 0::2] = self.cx + cos * u - sin * v
        out[..., 1::2] = self.cy + sin * u + cos * v
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
