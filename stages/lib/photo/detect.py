"""Face boxes: MTCNN by default, OpenCV's Haar cascades on request.

MTCNN (the `mtcnn` package: a cascade of three small CNNs, MIT licence, its weights inside its
wheel, run on TensorFlow) gives each face a box, a score and five landmarks; the eyes turn the
face upright (`frame.py`). It replaced the Haar cascades (2001) as the default because
`bench/detection.py` measured it better on every count it prints: faces found in canvases,
small and turned ones included, false boxes, and time on big photos (docs/photos.md).

Small faces on big photos: MTCNN finds faces from 20 px up, through its own image pyramid. A
photo is first shrunk so that a face of 1/50 of its short side becomes 20 px: on a 12 MP photo
that keeps every face of 60 px or more findable, and the time per photo bounded.

Turned faces: MTCNN learned from upright faces and misses many turned by 30 degrees or more. It
also runs on the photo turned by each of TURNED_PASSES, for faces of at least 1/15 of the short
side (a coarser pyramid, so these passes cost a fraction of the first); what they find is mapped
back, and kept where the first pass found no face. A face found turned by more than 15 degrees
is found once more on its surroundings turned upright (`detect_upright_at`), where MTCNN places its
box and eyes as surely as on any upright face.

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
# A box overlapping a kept box by more than this (intersection over union) is the same face:
# a profile box over a frontal one, or one MTCNN pass's box over another's.
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
# The photo's turns (degrees, counter-clockwise) of the extra passes, and their smallest face.
TURNED_PASSES = (-30.0, 30.0)
TURNED_SMALLEST_FACE = 1 / 15
DETECTORS = ("mtcnn", "haar")
# A face MTCNN found turned by more than this is found again on its surroundings turned upright
# (`detect_upright_at`): MTCNN places the box and eyes of an upright face more surely than of a
# turned one (bench/detection.py, turned faces' RMSE). The surroundings: a square of WINDOW face
# squares, at WINDOW_PX pixels.
UPRIGHT_AGAIN_DEG = 15.0
WINDOW = 2.0
WINDOW_PX = 320


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


def _in_photo(box, eyes, score: float, to_photo: np.ndarray, scale: float) -> Detection:
    """A face MTCNN found on a shrunk or turned copy of the photo, in photo pixels: `to_photo`
    (2x3) maps the copy's pixels back, `scale` photo pixels per copy pixel; the box is the upright
    box of the same centre and size."""

    def back(x: float, y: float) -> tuple[float, float]:
        return tuple(float(v) for v in to_photo @ (x, y, 1.0))

    x, y, w, h = box
    cx, cy = back(x + w / 2, y + h / 2)
    w, h = w * scale, h * scale
    return Detection((int(round(cx - w / 2)), int(round(cy - h / 2)), int(round(w)), int(round(h))), "mtcnn",
                     score, tuple(sorted(back(*eye) for eye in eyes)))


def _mtcnn_pass(rgb: np.ndarray, smallest: float, min_score: float, turn: float = 0.0) -> list[Detection]:
    """One MTCNN run on the photo shrunk so that a face of `smallest` of its short side is
    MTCNN's smallest, and turned by `turn` degrees; boxes and eyes mapped back to photo pixels
    (a turned pass's box: the upright box of the same centre and size)."""
    factor = min(1.0, MTCNN_SMALLEST / (smallest * min(rgb.shape[:2])))
    small = rgb if factor == 1.0 else cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    if min(small.shape[:2]) < MTCNN_SMALLEST:
        return []
    to_photo = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    if turn:
        height, width = small.shape[:2]
        turning = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), turn, 1.0)
        cos, sin = abs(turning[0, 0]), abs(turning[0, 1])
        size = (int(np.ceil(width * cos + height * sin)), int(np.ceil(width * sin + height * cos)))
        turning[:, 2] += ((size[0] - width) / 2, (size[1] - height) / 2)
        small = cv2.warpAffine(small, turning, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        to_photo = cv2.invertAffineTransform(turning)
    faces = _mtcnn().detect_faces(np.ascontiguousarray(small), threshold_onet=min_score, **MTCNN_THRESHOLDS)
    return [_in_photo(face["box"], [face["keypoints"][k] for k in ("left_eye", "right_eye")], float(face["confidence"]),
                      to_photo / factor, 1 / factor) for face in faces]


def detect_mtcnn(rgb: np.ndarray, min_score: float = MTCNN_MIN_SCORE, turned: bool = True) -> list[Detection]:
    """MTCNN's faces scoring at least `min_score`: on the photo as it is, for faces down to
    SMALLEST_FACE of its short side, then (`turned`) on the photo turned by TURNED_PASSES for the
    faces the first pass missed: a box overlapping a kept one by more than MERGE_IOU is the same
    face, and the first pass's box and eyes, measured on the face as it lies, are kept."""
    kept = _mtcnn_pass(rgb, SMALLEST_FACE, min_score)
    extra = [d for turn in (TURNED_PASSES if turned else ()) for d in _mtcnn_pass(rgb, TURNED_SMALLEST_FACE, min_score, turn)]
    for detection in sorted(extra, key=lambda d: -d.score):
        if all(_iou(detection.box, other.box) <= MERGE_IOU for other in kept):
            kept.append(detection)
    return kept


def detect_upright_at(rgb: np.ndarray, cx: float, cy: float, side: float, angle: float) -> Detection | None:
    """MTCNN's face nearest the centre of a square of WINDOW x `side` about (cx, cy), turned by
    -`angle` (radians, as `frame.Frame` has it) so that a face turned by `angle` stands upright;
    its box (upright, of the same centre and size) and eyes in photo pixels. None: no face there."""
    scale = WINDOW * side / WINDOW_PX  # photo pixels per window pixel
    cos, sin = np.cos(angle), np.sin(angle)
    turn = np.array([[cos, sin], [-sin, cos]]) / scale
    middle = WINDOW_PX / 2 - 0.5
    to_window = np.hstack([turn, (np.array([middle, middle]) - turn @ (cx, cy))[:, None]])
    if scale > 1.5:  # shrinking: blur first, so that the window does not alias
        rgb = cv2.GaussianBlur(rgb, (0, 0), 0.5 * (scale - 1))
    window = cv2.warpAffine(rgb, to_window, (WINDOW_PX, WINDOW_PX), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    found = _mtcnn_pass(window, MTCNN_SMALLEST / WINDOW_PX, MTCNN_MIN_SCORE)
    if not found:
        return None
    nearest = min(found, key=lambda d: (d.box[0] + d.box[2] / 2 - middle) ** 2 + (d.box[1] + d.box[3] / 2 - middle) ** 2)
    return _in_photo(nearest.box, nearest.eyes, nearest.score, cv2.invertAffineTransform(to_window), scale)


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
