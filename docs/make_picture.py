"""The README's pictures, from the pipeline's own outputs (run it after `dvc repro`):
- docs/photo-before-after.jpg: scikit-image's astronaut portrait, and the same photo as
  `python -m stages.predict` draws it with a trained model (`--model`);
- docs/validation-faces.png: the first row of the best model's validation faces
  (evaluation/<best>/faces.png: predicted points red, true green);
- docs/per-keypoint.png: each keypoint's validation RMSE, the best model against the mean
  baseline (metrics/per_keypoint.csv).

usage: python docs/make_picture.py [--model resnet]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stages.photos import sample_photos  # noqa: E402
from stages.lib.params import load_params  # noqa: E402
from stages.predict import predict_photos  # noqa: E402

# The part of the 512x512 portrait around her face: enough to see the points.
REGION = (140, 30, 360, 250)  # left, top, right, bottom


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "photo-before-after.jpg")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "astronaut.png"
        photo.write_bytes(sample_photos()["astronaut.png"])
        predict_photos([photo], args.model, Path(folder) / "out", load_params(ROOT / "params.yaml"), ROOT / "models")
        before = Image.open(photo).convert("RGB").crop(REGION)
        after = Image.open(Path(folder) / "out" / "astronaut.png.overlay.png").convert("RGB").crop(REGION)
    gap = np.full((before.height, 8, 3), 255, np.uint8)
    side_by_side = np.concatenate([np.asarray(before), gap, np.asarray(after)], axis=1)
    Image.fromarray(side_by_side).resize((side_by_side.shape[1] * 2, side_by_side.shape[0] * 2),
                                         Image.LANCZOS).save(args.out, quality=88)
    print(f"-> {args.out}")
    best = json.loads((ROOT / "metrics" / "summary.json").read_text())["best"]
    faces = Image.open(ROOT / "evaluation" / best / "faces.png")
    faces.crop((0, 0, faces.width, faces.width // 4)).save(ROOT / "docs" / "validation-faces.png", optimize=True)
    bars(best, ROOT / "docs" / "per-keypoint.png")
    print(f"-> docs/validation-faces.png, docs/per-keypoint.png ({best})")


def bars(best: str, out: Path) -> None:
    """Horizontal bars, one pair per keypoint: the best model (blue) and the mean baseline (grey)."""
    import cv2
    import pandas as pd

    table = pd.read_csv(ROOT / "metrics" / "per_keypoint.csv")
    keypoints = list(dict.fromkeys(table["keypoint"]))
    value = {(m, k): r for m, k, r in table.itertuples(index=False)}
    top = max(value[("mean", k)] for k in keypoints)
    row, label, width = 26, 230, 420
    picture = np.full((row * len(keypoints) + 40, label + width + 60, 3), 255, np.uint8)
    for i, keypoint in enumerate(keypoints):
        y = 10 + i * row
        cv2.putText(picture, keypoint, (6, y + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (40, 40, 40), 1, cv2.LINE_AA)
        for j, (model, colour) in enumerate(((best, (200, 110, 40)), ("mean", (170, 170, 170)))):
            length = int(width * value[(model, keypoint)] / top)
            cv2.rectangle(picture, (label, y + j * 10), (label + length, y + j * 10 + 8), colour, -1)
            cv2.putText(picture, f"{value[(model, keypoint)]:.2f}", (label + length + 4, y + j * 10 + 8),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.32, (60, 60, 60), 1, cv2.LINE_AA)
    cv2.putText(picture, f"validation RMSE (px): {best} (blue), mean baseline (grey)", (6, picture.shape[0] - 10),
                cv2.FONT_HERSHEY_SIMPLEX, 0.42, (40, 40, 40), 1, cv2.LINE_AA)
    cv2.imwrite(str(out), picture)


if __name__ == "__main__":
    main()
