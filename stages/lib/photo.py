"""Keypoints on any photo: find faces, frame each like a Kaggle face, predict, map back.

Kaggle's 96x96 faces are framed like OpenCV's frontal-face Haar detection: measured on
Kaggle's own training faces (bench/crop_framing.py), the face square is 0.99x the detected
box's width (interquartile range 0.06), centred on it (offsets under 0.3% of its width). So a
detected box is cropped at that size, scaled to 96x96, and the predicted keypoints go back
through the exact inverse of that map.
"""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .confidence import Confidence, face_score
from .errors import UserError
from .keypoints import IMAGE_SIZE, KEYPOINTS, Predictor
from .overlay import encode_png

# The Kaggle face square's side relative to the Haar box's width, centred on the box (its centre
# offsets measured under 0.3% of the width: bench/crop_framing.py).
FRAME_SCALE = 0.99


class PhotoError(UserError):
    """A file that cannot be read as an image; the message names it."""


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


def load_photo(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 grey (H, W), uint8 RGB (H, W, 3)) of any photo PIL can read, EXIF orientation applied.

    The grey image is what the detector and the models see; the colour one is what overlays are
    drawn on.
    """
    try:
        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image)
            if upright.mode in _WIDE_MODES:
                grey = to_uint8(np.asarray(upright))
                return grey, np.repeat(grey[..., None], 3, axis=2)
            return np.asarray(upright.convert("L"), np.uint8), np.asarray(upright.convert("RGB"), np.uint8)
    except FileNotFoundError:
        raise PhotoError(f"{path}: file not found") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise PhotoError(f"{path}: not a readable image ({error.__class__.__name__})") from None


# Single-channel modes whose values are not 0..255: 16- and 32-bit integers, 32-bit floats.
# PIL's convert("L") clips them (a 16-bit photo turns near-white, a 0..1 float one black).
_WIDE_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Grey levels of any range to 0..255, scaled by the range the image really uses.

    Floats within [0, 1] are taken as fractions of white; integers within 0..255 are kept; any
    other range is stretched from its minimum to its maximum (a 12-bit image in a 16-bit file
    uses its 12 bits, not a sixteenth of the scale).
    """
    is_float = np.issubdtype(np.asarray(values).dtype, np.floating)
    values = np.asarray(values, np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(values.shape, np.uint8)
    low, high = float(finite.min()), float(finite.max())
    if is_float and 0.0 <= low and high <= 1.0:
        scaled = values * 255.0
    elif 0.0 <= low and high <= 255.0:
        scaled = values
    else:
        scaled = (values - low) * (255.0 / max(high - low, 1e-12))
    return np.clip(np.round(np.nan_to_num(scaled, nan=0.0)), 0, 255).astype(np.uint8)


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


def crop(grey: np.ndarray, frame: Frame) -> np.ndarray:
    """The 96x96 face of `frame`; pre-blurred when shrinking, so that it does not alias."""
    shrink = frame.side / IMAGE_SIZE
    source = grey.astype(np.float32)
    if shrink > 1.5:
        source = cv2.GaussianBlur(source, (0, 0), 0.5 * (shrink - 1))
    out = cv2.warpAffine(source, frame.crop_matrix(), (IMAGE_SIZE, IMAGE_SIZE), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


@dataclasses.dataclass(frozen=True)
class PhotoFaces:
    path: str
    width: int
    height: int
    boxes: list[tuple[int, int, int, int]]
    keypoints: np.ndarray  # (faces, 30) in photo pixels
    detectors: list[str]  # per face: frontal, profile or profile_mirrored
    spreads: np.ndarray | None = None  # (faces, 15) px on the 96x96 face; None: the model has none
    face_limit: float | None = None  # the model's line: a face scoring above it is "not a face"
    dropped: int = 0  # detections whose score said "not a face"

    def is_face(self) -> list[bool]:
        if self.spreads is None:
            return [True] * len(self.boxes)
        return [bool(s <= self.face_limit) for s in face_score(self.spreads)]

    def as_json(self, model: str) -> dict:
        faces, is_face = [], self.is_face()
        for number, (b, k, detector) in enumerate(zip(self.boxes, self.keypoints, self.detectors), start=1):
            face = {"face": number, "detector": detector, "box": {"x": b[0], "y": b[1], "width": b[2], "height": b[3]},
                    "keypoints": {name: [round(float(k[2 * i]), 2), round(float(k[2 * i + 1]), 2)]
                                  for i, name in enumerate(KEYPOINTS)}}
            if self.spreads is not None:
                to_photo = b[2] * FRAME_SCALE / IMAGE_SIZE  # crop pixels -> photo pixels
                spreads = self.spreads[number - 1]
                face["spread"] = {name: round(float(v * to_photo), 2) for name, v in zip(KEYPOINTS, spreads)}
                face["face_score"] = round(float(face_score(spreads[None])[0]), 3)
                face["is_face"] = is_face[number - 1]
            faces.append(face)
        if self.spreads is None:
            confidence = {"kind": None, "reason": f"model {model!r} predicts points, not a distribution per keypoint"}
        else:
            confidence = {"kind": "heatmap_spread", "face_limit": round(self.face_limit, 3), "dropped_faces": self.dropped}
        return {"photo": self.path, "width": self.width, "height": self.height, "model": model,
                "confidence": confidence, "faces": faces}


def find_keypoints(grey: np.ndarray, predict: Predictor, path: str = "", confidence: Confidence | None = None,
                   keep_non_faces: bool = False) -> PhotoFaces:
    """Every face's keypoints in photo pixels. With a model's `confidence`, each face gets its
    keypoints' spreads and a score, and detections scoring above the model's face line are
    dropped unless `keep_non_faces` (then they are marked)."""
    detections = detect(grey)
    found = len(detections)
    frames = [Frame.from_box(box) for box, _ in detections]
    crops = np.stack([crop(grey, f) for f in frames]) if frames else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    spreads = None
    if confidence is not None:
        spreads = confidence.spread(crops) if len(crops) else np.zeros((0, 15), np.float32)
        keep = np.ones(len(frames), bool) if keep_non_faces else face_score(spreads) <= confidence.face_limit
        detections = [d for d, k in zip(detections, keep) if k]
        frames, crops, spreads = [f for f, k in zip(frames, keep) if k], crops[keep], spreads[keep]
    predicted = predict(crops) if len(crops) else np.zeros((0, 30), np.float32)
    keypoints = np.stack([f.to_photo(k) for f, k in zip(frames, predicted)]) if frames else np.zeros((0, 30))
    return PhotoFaces(path, grey.shape[1], grey.shape[0], [box for box, _ in detections], keypoints,
                      [d for _, d in detections], spreads, confidence and confidence.face_limit,
                      dropped=found - len(detections))


BOX_COLOUR = (60, 200, 60)  # BGR
POINT_COLOUR = (40, 40, 230)
NON_FACE_COLOUR = (150, 150, 150)  # detections kept with --keep-non-faces
OUTLINE_COLOUR = (255, 255, 255)


def overlay_png(rgb: np.ndarray, result: PhotoFaces, labels: bool = False) -> bytes:
    """The photo in its own colours with each face's box, number and points drawn (in grey, and
    numbered "3?", for detections kept although their spread says they are not faces).

    Lines, markers and text are sized from each face's box (not the photo), so a face 40 px wide
    and one 1,000 px wide both read clearly; markers have a light outline to stand out on any
    colour. `labels` writes each point's name beside it.
    """
    canvas = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
    faces = zip(result.boxes, result.keypoints, result.is_face())
    for number, ((x, y, w, h), keypoints, is_face) in enumerate(faces, start=1):
        style = marker_style(w)
        box_colour, point_colour = (BOX_COLOUR, POINT_COLOUR) if is_face else (NON_FACE_COLOUR, NON_FACE_COLOUR)
        cv2.rectangle(canvas, (x, y), (x + w, y + h), box_colour, style["line"], cv2.LINE_AA)
        cv2.putText(canvas, str(number) if is_face else f"{number}?", (x + style["line"], y - 2 * style["line"]),
                    cv2.FONT_HERSHEY_SIMPLEX, style["text"] * 2, box_colour, style["line"], cv2.LINE_AA)
        for name, (px, py) in zip(KEYPOINTS, keypoints.reshape(-1, 2)):
            centre = (int(round(px)), int(round(py)))
            cv2.circle(canvas, centre, style["radius"] + style["outline"], OUTLINE_COLOUR, -1, cv2.LINE_AA)
            cv2.circle(canvas, centre, style["radius"], point_colour, -1, cv2.LINE_AA)
            if labels:
                cv2.putText(canvas, name, (centre[0] + 2 * style["radius"], centre[1] + style["radius"]),
                            cv2.FONT_HERSHEY_SIMPLEX, style["text"], point_colour, max(1, style["line"] // 2), cv2.LINE_AA)
    return encode_png(canvas)


def marker_style(box_width: int) -> dict[str, int | float]:
    """Sizes for one face's drawing, in proportion to its box (a 96 px face: radius 2, line 1)."""
    return {"radius": max(2, round(box_width / 48)), "outline": max(1, round(box_width / 160)),
            "line": max(1, round(box_width / 100)), "text": max(0.3, box_width / 400)}
