"""Keypoints on one photo: detect, frame upright, crop, predict (the model's confidence may drop a box), map back."""
from __future__ import annotations

import numpy as np

from ..confidence import Confidence, face_score
from ..keypoints import IMAGE_SIZE, Predictor
from .detect import detect
from .frame import Frame, crop
from .result import PhotoFaces


def find_keypoints(rgb: np.ndarray, grey: np.ndarray, predict: Predictor, path: str = "",
                   confidence: Confidence | None = None, keep_non_faces: bool = False, detector: str = "mtcnn",
                   upright: bool = True) -> PhotoFaces:
    """Every face's keypoints in photo pixels. Each face is cropped upright (`upright`: by its
    eyes, where the detector gives them). With a model's `confidence`, each face gets its
    keypoints' spreads and a score, and detections scoring above the model's face line are
    dropped unless `keep_non_faces` (then they are marked)."""
    detections = detect(rgb, grey, detector)
    found = len(detections)
    frames = [Frame.from_detection(d, upright) for d in detections]
    crops = np.stack([crop(grey, f) for f in frames]) if frames else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
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
