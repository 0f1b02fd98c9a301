"""Face boxes: MTCNN by default, OpenCV's Haar cascades on request.

MTCNN (the `mtcnn` package: a cascade of three small CNNs, MIT licence, its weights inside its
wheel, run on TensorFlow) gives each face a box, a score and five landmarks; the eyes turn the
face upright (`frame.py`). It replaced the Haar cascades (2001) as the default because
`bench/detection.py` measured it better on every count it prints: faces found in canvases,
small and turned ones included, false boxes, and time on big photos (docs/photos.md).

Small faces on big photos: MTCNN finds faces from 20 px up, through its own image pyramid. A
photo is first shrunk so that a face of 1/50 of its short side becomes 20 px: on a 12 MP photo
that keeps every face of 60 px or more findable, and the time per photo bounded.

The cascades (`detector="haar"`: frontal, then profile both ways) stay for comparison; they are no
fallback, since they bring false boxes that MTCNN does not.
"""
from __future__ import annotations

import dataclasses
import functools
import os

import cv2
import numpy as np

CASCADES = {"frontal": "haarcascade_frontalface_default.xml", "profile": "haarcascade_profileface.xml"}
# A profile box overlapping a kept box by more than this (intersection over union) is the same face.
MERGE_IOU = 0.3
# The smallest face searched for, as a share of the photo's short side, and MTCNN's own smallest
# face (its default `min_face_size`) at the scale it runs on.
SMALLEST_FACE = 1 / 50
MTCNN_SMALLEST = 20
# MTCNN's thresholds: its first two networks' lowered from 0.6 and 0.7 to 0.5, so that fewer
# faces are lost before the last network; the last one's probability under which a box is no
# face, its default. bench/detection.py measured these: 99.3% of the upright canvas faces
# found against 95.7% with a last threshold of 0.95, and no false box either way.
MTCNN_THRESHOLDS = {"threshold_pnet": 0.5, "threshold_rnet": 0.5}
MTCNN_MIN_SCORE = 0.8
DETECTORS = ("mtcnn", "haar")


@dataclasses.dataclass(frozen=True)
class Detection:
    box: tuple[int, int, int, int]  # x, y, width, height in photo pixels
    detector: str  # mtcnn, frontal, profile or profile_mirrored
    score: float | None = None  # the detector's probability that this is a face (MTCNN); None: it gives none
    eyes: tuple[tuple[float, float], tuple[float, float]] | None = None  # the eye on the image's left, then right


@functools.lru_cache(maxsize=None)
def cascade(kind: str) -> cv2.CascadeClassifier:
    """Loaded once per process, not once per photo."""
    return cv2.CascadeClassifier(cv2.data.haarcascades + CASCADES[kind])


@functools.lru_cache(maxsize=None)
def _mtcnn():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from mtcnn import MTCNN

    return MTCNN()


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / float(aw * ah + bw * bh - w * h)


def detect_mtcnn(rgb: np.ndarray, min_score: float = MTCNN_MIN_SCORE) -> list[Detection]:
    """MTCNN's faces scoring at least `min_score`, on the photo shrunk so that a face of
    SMALLEST_FACE of its short side is MTCNN's smallest; boxes and eyes in photo pixels."""
    factor = min(1.0, MTCNN_SMALLEST / (SMALLEST_FACE * min(rgb.shape[:2])))
    small = rgb if factor == 1.0 else cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    if min(small.shape[:2]) < MTCNN_SMALLEST:
        return []
    found = []
    for face in _mtcnn().detect_faces(np.ascontiguousarray(small), threshold_onet=min_score, **MTCNN_THRESHOLDS):
        x, y, w, h = (v / factor for v in face["box"])
        marks = face["keypoints"]
        eyes = tuple(sorted((tuple(float(v) / factor for v in marks[k]) for k in ("left_eye", "right_eye"))))
        found.append(Detection((int(round(x)), int(round(y)), int(round(w)), int(round(h))), "mtcnn",
                               float(face["confidence"]), eyes))
    return found


def detect_haar(grey: np.ndarray) -> list[Detection]:
    """OpenCV's frontal cascade, then its profile cascade on the photo and on its mirror image
    (faces turned either way); a profile box overlapping a kept box is the same face."""
    equalized = cv2.equalizeHist(grey)
    min_side = max(24, int(min(grey.shape) * SMALLEST_FACE))

    def run(kind: str, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        boxes = cascade(kind).detectMultiScale(image, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side))
        return [tuple(int(v) for v in b) for b in boxes]

    width = grey.shape[1]
    found = [Detection(b, "frontal") for b in run("frontal", equalized)]
    found += [Detection(b, "profile") for b in run("profile", equalized)]
    found += [Detection((width - x - w, y, w, h), "profile_mirrored")
              for x, y, w, h in run("profile", equalized[:, ::-1].copy())]
    kept: list[Detection] = []
    for detection in found:
        if all(_iou(detection.box, other.box) <= MERGE_IOU for other in kept):
            kept.append(detection)
    return kept


def detect(rgb: np.ndarray, grey: np.ndarray | None = None, detector: str = "mtcnn") -> list[Detection]:
    """Every face of a photo (H, W, 3 uint8; `grey` its grey version, made when not given), largest first."""
    if detector not in DETECTORS:
        raise ValueError(f"unknown detector {detector!r}; known: {', '.join(DETECTORS)}")
    if detector == "mtcnn":
        found = detect_mtcnn(rgb)
    else:
        found = detect_haar(grey if grey is not None else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    return sorted(found, key=lambda d: -d.box[2] * d.box[3])
