"""Keypoints on your own photos: `python -m stages.predict PHOTO_OR_FOLDER... [--out DIR] [--model NAME]`.

The model is params.yaml's `predict.model` unless `--model` names another, or `best`: the one
`compare` ranked first (metrics/summary.json), which `make photos` uses. It first says which
model it runs and what that model learned from (its training summary, metrics/train/<name>.json):
the embedded drawings, Kaggle's faces, or the real faces of another folder. Results go to
`results/` unless `--out` names another folder.

Finds every face (MTCNN, `lib/photo/detect.py`; `--detector haar` for OpenCV's cascades), turns it
upright by its eyes, frames it like a Kaggle face, predicts the 15 keypoints with a trained model
and maps them back into the photo's pixels. Per photo it writes `DIR/<file name>.json` (numbered
faces: the detector, its score, box, the angle the face was turned by, and named keypoints in photo
pixels; the model name) and `DIR/<file name>.overlay.png` (the photo in its own colours with
numbered boxes and points drawn to each face's scale; `--labels` names the points). Models with a
distribution per keypoint (the ResNet's heatmaps) add each keypoint's spread and a face score, and
detections that score beyond the model's own face line are dropped (`--keep-non-faces` keeps them,
marked); the others say they have no confidence to give. `a.jpg` and `a.png` get results of their
own, and a second `a.jpg` from another folder gets `a-2.jpg.*`. No result ever replaces a photo of
the batch, and a folder's `*.overlay.png` (this tool's own pictures) are not taken for photos. A
photo with no face gets an empty result and a message; an unreadable file an error naming it; the
batch goes on either way. The exit status is non-zero only when no photo gave a face.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .lib.cli import describe
from .lib.errors import UserError
from .lib.io import atomic_file
from .lib.models import MODELS, load_confidence, load_predictor, model_dir
from .lib.params import Params, load_params
from .lib.photo.detect import DETECTORS
from .lib.photo.draw import is_overlay, overlay_png
from .lib.photo.find import find_keypoints
from .lib.photo.read import PhotoError, load_photo
from .lib.photo.result import is_result
from .lib.provenance import training_data
from .lib.tta import with_test_time_augmentation

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


OVERLAY_SUFFIX = ".overlay.png"


class OutputError(UserError):
    """The results would land on an input, or `--out` cannot hold them."""


def expand(inputs: list[str]) -> list[Path]:
    """Files as given; folders become the photos inside them, sorted, minus this tool's overlays
    (known by their mark: a user's own `x.overlay.png` is a photo like any other)."""
    paths = []
    for item in map(Path, inputs):
        if item.is_dir():
            paths += sorted(p for p in item.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES
                            and not (p.name.endswith(OVERLAY_SUFFIX) and is_overlay(p)))
        else:
            paths.append(item)
    return paths


def result_names(photos: list[Path]) -> list[str]:
    """One distinct base name per photo: its file name, numbered when two photos share it."""
    names, taken = [], set()
    for photo in photos:
        name, number = photo.name, 1
        while name in taken:
            number += 1
            name = f"{photo.stem}-{number}{photo.suffix}"
        taken.add(name)
        names.append(name)
    return names


def result_paths(photos: list[Path], out_dir: Path) -> list[tuple[Path, Path]]:
    """(json, overlay) per photo; refuses any that would replace one of the photos."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: --out names a file; give a folder for the results")
    pairs = [(out_dir / f"{name}.json", out_dir / f"{name}{OVERLAY_SUFFIX}") for name in result_names(photos)]
    inputs = {photo.resolve() for photo in photos}
    for pair in pairs:
        for path in pair:
            if path.resolve() in inputs:
                raise OutputError(f"{path}: the result would replace this input photo; choose another --out")
            if path.exists() and not (is_result(path) if path.suffix == ".json" else is_overlay(path)):
                raise OutputError(f"{path}: exists and was not written by this tool; it is kept: choose another --out")
    return pairs


def predict_photos(photos: list[Path], model: str, out_dir: Path, params: Params, models_dir: Path = Path("models"),
                   test_time_views: bool = True, labels: bool = False, keep_non_faces: bool = False,
                   detector: str = "mtcnn", log=print) -> dict[str, int]:
    """Process every photo; returns counts of photos with faces, without faces, and failed."""
    results = result_paths(photos, out_dir)  # a bad --out fails before the model loads
    folder = model_dir(models_dir, model)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no trained model {model!r}; run `dvc repro` first")
    predict = load_predictor(model, folder, params)
    confidence = load_confidence(model, folder)
    if test_time_views:  # the views evaluation scores the model with: params.yaml's evaluate section
        predict = with_test_time_augmentation(predict, params.evaluate.flip_tta, params.evaluate.zoom_tta)
    counts = {"with_faces": 0, "no_face": 0, "failed": 0}
    for path, (json_path, overlay_path) in zip(photos, results):
        try:
            grey, rgb = load_photo(path)
        except PhotoError as error:
            log(f"error: {error}", file=sys.stderr)
            counts["failed"] += 1
            continue
        result = find_keypoints(rgb, grey, predict, str(path), confidence, keep_non_faces, detector)
        with atomic_file(json_path, "w") as handle:
            json.dump(result.as_json(model), handle, indent=2)
        with atomic_file(overlay_path) as handle:
            handle.write(overlay_png(rgb, result, labels))
        dropped = (f" ({result.dropped} detection(s) dropped: not a face by their keypoints' spread;"
                   " --keep-non-faces keeps them)") if result.dropped else ""
        if result.boxes:
            counts["with_faces"] += 1
            log(f"{path}: {len(result.boxes)} face(s) -> {json_path}, {overlay_path.name}{dropped}")
        else:
            counts["no_face"] += 1
            log(f"{path}: no face found (empty result written){dropped}", file=sys.stderr)
    return counts


def chosen_model(requested: str | None, params: Params, summary: Path) -> str:
    """--model as given; `best`: compare's first; none: params.yaml's predict.model."""
    if requested != "best":
        return requested or params.predict.model
    if not summary.is_file():
        raise FileNotFoundError(f"{summary}: no ranking of the trained models yet; run `make repro` first")
    return json.loads(summary.read_text())["best"]


def provenance(model: str, params: Params, train_metrics: Path) -> str:
    """`model`, and what it (an ensemble: its members) learned from, from the training summaries."""
    members = params.ensemble.models if model == "ensemble" else (model,)
    seen = []
    for member in members:
        path = train_metrics / f"{member}.json"
        record = json.loads(path.read_text()) if path.is_file() else {}
        if "trained_on" not in record:
            return f"model {model} (what it learned from is not recorded: {path})"
        seen.append(training_data(record["trained_on"]["raw_dir"], record["trained_on"]["faces"]))
    members_text = f" (an average of {', '.join(members)})" if model == "ensemble" else ""
    return f"model {model}{members_text}, trained on {' and '.join(sorted(set(seen)))}"


def limit_photo_size(megapixels: float) -> None:
    """PIL refuses images over twice its MAX_IMAGE_PIXELS and warns over it; refuse over `megapixels`, silently below."""
    import warnings

    from PIL import Image

    Image.MAX_IMAGE_PIXELS = int(megapixels * 1e6 / 2)
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="+", help="photo files or folders of photos")
    parser.add_argument("--model", choices=[*sorted(MODELS), "best"],
                        help="a trained model, or best: compare's first (default: params.yaml's predict.model)")
    parser.add_argument("--out", default=Path("results"), type=Path, help="folder for the .json and .png results")
    parser.add_argument("--models-dir", default=Path("models"), type=Path)
    parser.add_argument("--metrics-dir", default=Path("metrics"), type=Path,
                        help="where compare's summary.json and the training summaries (train/) are")
    parser.add_argument("--no-tta", action="store_true",
                        help="one view per face (default: evaluation's views, params.yaml's evaluate.flip_tta and zoom_tta)")
    parser.add_argument("--labels", action="store_true", help="write each keypoint's name beside it in the overlay")
    parser.add_argument("--max-megapixels", type=float, default=179.0,
                        help="refuse larger photos (a guard against decompression bombs; default 179, PIL's)")
    parser.add_argument("--detector", choices=DETECTORS, default="mtcnn",
                        help="mtcnn (default), or haar: OpenCV's cascades, for comparison")
    parser.add_argument("--keep-non-faces", action="store_true",
                        help="keep detections whose keypoints' spread says they are not faces (marked is_face: false)")
    args = parser.parse_args(argv)
    limit_photo_size(args.max_megapixels)
    photos = expand(args.photos)
    if not photos:
        print("error: no photos found in the given paths", file=sys.stderr)
        return 1
    try:
        params = load_params()
        model = chosen_model(args.model, params, args.metrics_dir / "summary.json")
        print(provenance(model, params, args.metrics_dir / "train"))
        counts = predict_photos(photos, model, args.out, params, args.models_dir,
                                not args.no_tta, args.labels, args.keep_non_faces, args.detector)
    except (UserError, OSError) as error:
        print(f"error: {describe(error)}", file=sys.stderr)
        return 1
    print(f"{len(photos)} photo(s): {counts['with_faces']} with faces, {counts['no_face']} without, "
          f"{counts['failed']} unreadable")
    return 0 if counts["with_faces"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; the results written so far are kept", file=sys.stderr)
        sys.exit(130)
