"""Face boxes: OpenCV's Haar cascades, frontal and profile (both ways), overlaps merged."""
from __future__ import annotations

import functools

import cv2
import numpy as np

CASCADES = {"frontal": "haarcascade_frontalface_default.xml", "profile": "haarcascade_profileface.xml"}
# A profile box overlapping a kept box by more than this (intersection over union) is the same face.
MERGE_IOU = 0.3


@functools.lru_cache(maxsize=None)
def cascade(kind: str) -> cv2.CascadeClassifier:
    """Loaded once per process, not once per photo."""
    return cv2.CascadeClassifier(cv2.data.haarcascades + CASCADES[kind])


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / float(aw * ah + bw * bh - w * h)


def detect(grey: np.ndarray) -> list[tuple[tuple[int, int, int, int], str]]:
    """Face boxes (x, y, w, h) and the detector that found each, largest first.

    OpenCV's frontal cascade, then its profile cascade, which finds faces turned to one side, on
    the photo and on its mirror image (faces turned the other way). A profile box that overlaps
    a box already kept is the same face and is dropped.
    """
    equalized = cv2.equalizeHist(grey)
    min_side = max(24, min(grey.shape) // 20)

    def run(kind: str, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        boxes = cascade(kind).detectMultiScale(image, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side))
        return [tuple(int(v) for v in b) for b in boxes]

    width = grey.shape[1]
    found = [(b, "frontal") for b in run("frontal", equalized)]
    found += [(b, "profile") for b in run("profile", equalized)]
    found += [((width - x - w, y, w, h), "profile_mirrored") for x, y, w, h in run("profile", equalized[:, ::-1].copy())]
    kept: list[tuple[tuple[int, int, int, int], str]] = []
    for box, detector in found:
        if all(_iou(box, other) <= MERGE_IOU for other, _ in kept):
            kept.append((box, detector))
    return sorted(kept, key=lambda item: -item[0][2] * item[0][3])
