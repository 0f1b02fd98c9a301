"""The README's before/after picture: scikit-image's astronaut portrait, and the same photo as
`python -m stages.predict` draws it with a trained model.

usage: python docs/make_picture.py [--model resnet]   (after `dvc repro`; writes docs/photo-before-after.jpg)
"""
from __future__ import annotations

import argparse
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


if __name__ == "__main__":
    main()
