"""Benchmark: face detection for photos, frontal cascade alone vs frontal + profile both ways.

- Real faces: youtube-faces-15's test faces (../shared/data), each enlarged 3x and pasted at a
  random place into a 640x480 canvas of grey noise; a detection counts as found when its box
  centre falls inside the pasted face, and as false otherwise.
- No faces expected: scikit-image's bundled pictures (those without a human face), where every
  box is a false detection.

usage: python bench/detection.py [--faces 400]   (about 2.5 minutes on 2 cores)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stages.lib.confidence import NON_FACE_PICTURES  # noqa: E402
from stages.lib.kaggle_csv import read_test_csv  # noqa: E402
from stages.lib.photo.detect import detect  # noqa: E402

FACES = ROOT.parent / "shared" / "data" / "youtube-faces-15" / "test.csv"
HUMAN = {"astronaut", "camera"}  # the bundled pictures that do show a person's face
PICTURES = (*sorted(HUMAN), *NON_FACE_PICTURES)


def count(found, inside) -> dict[str, tuple[int, int]]:
    """Per detector set: (faces found, false boxes)."""
    out = {}
    for label, kinds in (("frontal only", {"frontal"}), ("frontal + profile", {"frontal", "profile", "profile_mirrored"})):
        boxes = [box for box, kind in found if kind in kinds]
        hits = [inside(box) for box in boxes]
        out[label] = (int(any(hits)), sum(not h for h in hits))
    return out


def canvases(n: int, seed: int = 0):
    _, images = read_test_csv(FACES)
    rng = np.random.default_rng(seed)
    for image in images[rng.permutation(len(images))[:n]]:
        face = cv2.resize(image, (288, 288), interpolation=cv2.INTER_CUBIC)
        canvas = np.clip(rng.normal(128, 30, (480, 640)), 0, 255).astype(np.uint8)
        x, y = int(rng.integers(0, 640 - 288)), int(rng.integers(0, 480 - 288))
        canvas[y:y + 288, x:x + 288] = face
        yield canvas, (x, y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=400)
    args = parser.parse_args()
    if not FACES.exists():
        sys.exit(f"{FACES}: not found (the shared data sits beside the project)")

    totals = {"frontal only": [0, 0], "frontal + profile": [0, 0]}
    n = 0
    for canvas, (x, y) in canvases(args.faces):
        inside = lambda b: x <= b[0] + b[2] / 2 <= x + 288 and y <= b[1] + b[3] / 2 <= y + 288  # noqa: E731
        for label, (hit, false) in count(detect(canvas), inside).items():
            totals[label][0] += hit
            totals[label][1] += false
        n += 1
    print(f"youtube-faces-15 test faces in 640x480 canvases: {n}")
    for label, (hits, false) in totals.items():
        print(f"  {label:20s} found {hits / n:6.1%}   false boxes {false}")

    from skimage import data

    print("scikit-image pictures without a human face: false boxes")
    false = {"frontal only": 0, "frontal + profile": 0}
    for name in PICTURES:
        picture = getattr(data, name)()
        grey = picture if picture.ndim == 2 else cv2.cvtColor(picture[..., :3], cv2.COLOR_RGB2GRAY)
        if grey.dtype != np.uint8:
            grey = (grey * 255.0 / max(float(grey.max()), 1.0)).astype(np.uint8)
        found = detect(grey)
        if name in HUMAN:
            print(f"  {name}: {', '.join(kind for _, kind in found) or 'nothing found'}")
            continue
        for label, (_, f) in count(found, lambda b: False).items():
            false[label] += f
    for label, f in false.items():
        print(f"  {label:20s} {f} false boxes on {len(PICTURES) - len(HUMAN)} pictures")


if __name__ == "__main__":
    main()
