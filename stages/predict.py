"""Keypoints on your own photos: `python -m stages.predict PHOTO_OR_FOLDER... --model resnet --out DIR`.

Finds every face (OpenCV's Haar cascade), frames it like a Kaggle face, predicts the 15
keypoints with a trained model and maps them back into the photo's pixels. Per photo it writes
`DIR/<name>.json` (boxes and named keypoints in photo pixels, model name) and `DIR/<name>.png`
(the photo with boxes and points drawn). A photo with no face gets an empty result and a
message; an unreadable file an error naming it; the batch goes on either way. The exit status
is non-zero only when no photo gave a face.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .lib.io import atomic_file
from .lib.models import MODELS, load_predictor
from .lib.photo import PhotoError, find_keypoints, overlay_png, read_photo
from .lib.tta import with_flip_averaging

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


def expand(inputs: list[str]) -> list[Path]:
    """Files as given; folders become the photos inside them, sorted."""
    paths = []
    for item in map(Path, inputs):
        if item.is_dir():
            paths += sorted(p for p in item.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        else:
            paths.append(item)
    return paths


def predict_photos(photos: list[Path], model: str, out_dir: Path, models_dir: Path = Path("models"),
                   flip_tta: bool = True, log=print) -> dict[str, int]:
    """Process every photo; returns counts of photos with faces, without faces, and failed."""
    model_dir = models_dir / model
    if not model_dir.is_dir():
        raise FileNotFoundError(f"{model_dir}: no trained model {model!r}; run `dvc repro train@{model}` first")
    predict = load_predictor(model, model_dir)
    if flip_tta:
        predict = with_flip_averaging(predict)
    counts = {"with_faces": 0, "no_face": 0, "failed": 0}
    for path in photos:
        try:
            grey = read_photo(path)
        except PhotoError as error:
            log(f"error: {error}", file=sys.stderr)
            counts["failed"] += 1
            continue
        result = find_keypoints(grey, predict, str(path))
        with atomic_file(out_dir / f"{path.stem}.json", "w") as handle:
            json.dump(result.as_json(model), handle, indent=2)
        with atomic_file(out_dir / f"{path.stem}.png") as handle:
            handle.write(overlay_png(grey, result))
        if result.boxes:
            counts["with_faces"] += 1
            log(f"{path}: {len(result.boxes)} face(s) -> {out_dir / path.stem}.json, .png")
        else:
            counts["no_face"] += 1
            log(f"{path}: no face found (empty result written)", file=sys.stderr)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="+", help="photo files or folders of photos")
    parser.add_argument("--model", default="resnet", choices=sorted(MODELS))
    parser.add_argument("--out", required=True, type=Path, help="folder for the .json and .png results")
    parser.add_argument("--models-dir", default=Path("models"), type=Path)
    parser.add_argument("--no-flip-tta", action="store_true", help="skip test-time flip averaging")
    args = parser.parse_args(argv)
    photos = expand(args.photos)
    if not photos:
        print("error: no photos found in the given paths", file=sys.stderr)
        return 1
    try:
        counts = predict_photos(photos, args.model, args.out, args.models_dir, not args.no_flip_tta)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{len(photos)} photo(s): {counts['with_faces']} with faces, {counts['no_face']} without, "
          f"{counts['failed']} unreadable")
    return 0 if counts["with_faces"] else 1


if __name__ == "__main__":
    sys.exit(main())
