"""Pictures of faces with predicted (red) and true (green) keypoints."""
from __future__ import annotations

import cv2
import numpy as np

SCALE = 3


def face_tile(image: np.ndarray, predicted: np.ndarray, truth: np.ndarray | None = None,
              label: str | None = None) -> np.ndarray:
    """BGR picture of one 96x96 face, enlarged SCALE times."""
    big = cv2.resize(image, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_NEAREST)
    canvas = cv2.cvtColor(big.astype(np.uint8), cv2.COLOR_GRAY2BGR)

    def dots(points: np.ndarray, colour: tuple[int, int, int], radius: int) -> None:
        for x, y in points.reshape(-1, 2):
            if not (np.isnan(x) or np.isnan(y)):
                centre = (int(round((x + 0.5) * SCALE - 0.5)), int(round((y + 0.5) * SCALE - 0.5)))
                cv2.circle(canvas, centre, radius, colour, -1, cv2.LINE_AA)

    if truth is not None:
        dots(truth, (60, 200, 60), 4)
    dots(predicted, (40, 40, 230), 3)
    if label:
        cv2.putText(canvas, label, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return canvas


def grid(tiles: list[np.ndarray], columns: int = 4) -> np.ndarray:
    if not tiles:
        return np.zeros((96 * SCALE, 96 * SCALE, 3), np.uint8)
    blank = np.zeros_like(tiles[0])
    rows = [tiles[i:i + columns] + [blank] * (columns - len(tiles[i:i + columns]))
            for i in range(0, len(tiles), columns)]
    return np.vstack([np.hstack(row) for row in rows])


def with_png_text(png: bytes, key: str, value: str) -> bytes:
    """`png` with a tEXt chunk `key: value` after its header chunk (what PIL reads as `image.text`)."""
    import struct
    import zlib

    data = key.encode("latin-1") + b"\0" + value.encode("latin-1")
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data))
    end_of_header = 8 + 4 + 4 + 13 + 4  # signature, then IHDR's length, type, 13 bytes and CRC
    return png[:end_of_header] + chunk + png[end_of_header:]


def encode_png(picture: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", picture)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return data.tobytes()
