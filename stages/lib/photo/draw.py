"""The overlay: the photo in its own colours, each face's box, number and points drawn to its scale."""
from __future__ import annotations

import cv2
import numpy as np

from ..keypoints import KEYPOINTS
from ..pictures import encode_png, with_png_text
from .result import PhotoFaces

BOX_COLOUR = (60, 200, 60)  # BGR
POINT_COLOUR = (40, 40, 230)
NON_FACE_COLOUR = (150, 150, 150)  # detections kept with --keep-non-faces
OUTLINE_COLOUR = (255, 255, 255)
# Every overlay carries this PNG text, so a later run knows the file for its own: it is replaced
# or skipped as input, where a file without it (a user's) is neither.
MARK = ("Software", "facial-keypoints stages.predict")


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
    return with_png_text(encode_png(canvas), *MARK)


def is_overlay(path) -> bool:
    """Whether `path` is an overlay this tool wrote (its PNG text says so)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.format == "PNG" and image.text.get(MARK[0]) == MARK[1]
    except (OSError, UnidentifiedImageError, SyntaxError):
        return False


def marker_style(box_width: int) -> dict[str, int | float]:
    """Sizes for one face's drawing, in proportion to its box (a 96 px face: radius 2, line 1)."""
    return {"radius": max(2, round(box_width / 48)), "outline": max(1, round(box_width / 160)),
            "line": max(1, round(box_width / 100)), "text": max(0.3, box_width / 400)}
