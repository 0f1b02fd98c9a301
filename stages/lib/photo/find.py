"""Keypoints on one photo: detect, frame upright, crop, predict (the model's confidence may drop a box), map back."""
from __future__ import annotations

import math

import numpy as np

from ..confidence import Confidence, face_score
from ..keypoints import IMAGE_SIZE, Predictor
from .detect import UPRIGHT_AGAIN_DEG, Detection, detect, detect_upright_at
from .frame import Frame, crop
from .result import PhotoFaces


def found_upright(rgb: np.ndarray, detection: Detection) -> Detection:
    """The detection, or where it is turned by more than UPRIGHT_AGAIN_DEG, the face found again
    on its surroundings turned upright (the first one where none is found there)."""
    frame = Frame.from_detection(detection)
    if detection.eyes is None or abs(math.degrees(frame.angle)) <= UPRIGHT_AGAIN_DEG:
        return detection
    return detect_upright_at(rgb, frame.cx, frame.cy, frame.side, frame.angle) or detection


def crops_of(grey: np.ndarray, frames: list[Frame]) -> np.ndarray:
    return np.stack([crop(grey, f) for f in frames]) if frames else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)


def find_keypoints(rgb: np.ndarray, grey: np.ndarray, predict: Predictor, path: str = "",
                   confidence: Confidence | None = None, keep_non_faces: bool = False, detector: str = "mtcnn",
                   upright: bool = True, again: bool = True) -> PhotoFaces:
    """Every face's keypoints in photo pixels. Each face is cropped upright (`upright`: by its
    eyes, where the detector gives them; with `again`, a face turned by more than
    UPRIGHT_AGAIN_DEG is found again on its surroundings turned upright, and framed by that).
    With a model's `confidence`, each face gets its keypoints' spreads and a score, and
    detections scoring above the model's face line are dropped unless `keep_non_faces` (then
    they are marked)."""
    detections = detect(rgb, grey, detector)
    found = len(detections)
    if upright and again:
        detections = [found_upright(rgb, d) for d in detections]
    frames = [Frame.from_detection(d, upright) for d in detections]
    crops = crops_of(grey, frames)
    spreads = None
    if confidence is not None:
        spreads = confidence.spread(crops) if len(crops) else np.zeros((0, 15), np.float32)
        keep = np.ones(len(frames), bool) if keep_non_faces else face_score(spreads) <= confidence.face_limit
        detections = [d for d, k in zip(detections, keep) if k]
        frames, crops, spreads = [f for f, k in zip(frames, keep) if k], crops[keep], spreads[keep]
    predicted = predict(crops) if len(crops) else np.zeros((0, 30), np.float32)
    keypoints = np.stack([f.to_photo(k) for f, k in zip(frames, predicted)]) if frames else np.zeros((0, 30))
    return PhotoFaces(path, grey.shape[1], grey.shape[0], detections, frames, keypoints, spreads,
                      confidence and confidence.face_limit, dropped=found - len(detections))
