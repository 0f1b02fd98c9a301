"""One photo's faces, boxes and keypoints in photo pixels, and the JSON a user gets."""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..confidence import face_score
from ..keypoints import IMAGE_SIZE, KEYPOINTS
from .detect import Detection
from .frame import Frame


@dataclasses.dataclass(frozen=True)
class PhotoFaces:
    path: str
    width: int
    height: int
    detections: list[Detection]  # per face: the detector's box, score and eyes
    frames: list[Frame]  # per face: the square it was cropped from, turned upright
    keypoints: np.ndarray  # (faces, 30) in photo pixels
    spreads: np.ndarray | None = None  # (faces, 15) px on the 96x96 face; None: the model has none
    face_limit: float | None = None  # the model's line: a face scoring above it is "not a face"
    dropped: int = 0  # detections whose score said "not a face"

    @property
    def boxes(self) -> list[tuple[int, int, int, int]]:
        return [d.box for d in self.detections]

    def is_face(self) -> list[bool]:
        if self.spreads is None:
            return [True] * len(self.detections)
        return [bool(s <= self.face_limit) for s in face_score(self.spreads)]

    def as_json(self, model: str) -> dict:
        faces, is_face = [], self.is_face()
        for number, (d, frame, k) in enumerate(zip(self.detections, self.frames, self.keypoints), start=1):
            b = d.box
            face = {"face": number, "detector": d.detector,
                    "detector_score": None if d.score is None else round(d.score, 4),
                    "box": {"x": b[0], "y": b[1], "width": b[2], "height": b[3]},
                    "turned_upright_by_deg": round(-math.degrees(frame.angle), 1),
                    "keypoints": {name: [round(float(k[2 * i]), 2), round(float(k[2 * i + 1]), 2)]
                                  for i, name in enumerate(KEYPOINTS)}}
            if self.spreads is not None:
                to_photo = frame.side / IMAGE_SIZE  # crop pixels -> photo pixels
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
                "confidence": confidence, "faces": faces, "written_by": WRITTEN_BY}


# What every result JSON says of itself, so a later run knows the file for its own (and a user's
# file of the same name is never replaced).
WRITTEN_BY = "facial-keypoints stages.predict"


def is_result(path) -> bool:
    """Whether `path` is a result JSON this tool wrote."""
    import json

    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read(1 << 20)).get("written_by") == WRITTEN_BY
    except (OSError, ValueError, AttributeError):
        return False
