"""Measure how Kaggle's 96x96 faces are framed relative to each detector's face box.

Each real face from ../shared/data is enlarged 3x and padded, the photo path's detectors run on
it (MTCNN, and OpenCV's frontal Haar cascade), and the 96x96 square is expressed in units of the
detected box: its side / box width and its centre offset / box width. stages/lib/photo/frame.py
uses these figures (FRAMING) to crop faces out of photos the way Kaggle's were cropped.

usage: python bench/crop_framing.py [--faces 600]    (about 4 minutes on 2 cores)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stages.lib.kaggle_csv import read_training_csv  # noqa: E402
from stages.lib.photo.detect import cascade, detect_mtcnn  # noqa: E402
from stages.lib.photo.read import grey_to_rgb  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
ENLARGE, PAD = 3, 120


def framing(images: np.ndarray, detector: str) -> np.ndarray:
    """(detected faces, 3): side / w, centre dx / w, centre dy / w."""
    side = 96 * ENLARGE
    rows = []
    for image in images:
        big = cv2.resize(image, None, fx=ENLARGE, fy=ENLARGE, interpolation=cv2.INTER_CUBIC)
        big = cv2.copyMakeBorder(big, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)
        if detector == "haar":  # the framing is measured for frontal boxes
            boxes = cascade("frontal").detectMultiScale(cv2.equalizeHist(big), 1.1, 5, minSize=(80, 80))
        else:
            boxes = [d.box for d in detect_mtcnn(grey_to_rgb(big), turned=False)]
        if len(boxes) != 1:
            continue
        x, y, w, h = boxes[0]
        centre_x, centre_y = x - 0.5 + w / 2, y - 0.5 + h / 2
        square_centre = PAD - 0.5 + side / 2
        rows.append((side / w, (square_centre - centre_x) / w, (square_centre - centre_y) / w))
    return np.array(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=600)
    args = parser.parse_args()
    sets = {
        "kaggle-train-jpeg": lambda: np.load(SHARED / "kaggle-train-jpeg/images.npz")["images"],
        "youtube-faces-15": lambda: read_training_csv(SHARED / "youtube-faces-15/training.csv")[0],
    }
    for name, load in sets.items():
        if not (SHARED / name).exists():
            print(f"{name}: not present, skipped")
            continue
        for detector in ("mtcnn", "haar"):
            result = framing(load()[:args.faces], detector)
            median = np.median(result, axis=0)
            spread = np.percentile(result, 75, axis=0) - np.percentile(result, 25, axis=0)
            print(f"{name:18s} {detector:6s} detected {len(result)}/{args.faces}   side/w {median[0]:.3f} "
                  f"(IQR {spread[0]:.3f})   dx/w {median[1]:+.3f}   dy/w {median[2]:+.3f}", flush=True)


if __name__ == "__main__":
    main()
