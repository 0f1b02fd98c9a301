"""Benchmark: face detection for photos, OpenCV's Haar cascades against MTCNN, side by side.

- Faces in canvases: youtube-faces-15's test faces (../shared/data), each enlarged 3x (288 px),
  with a border of its edge pixels, turned by 0, 10, 20 or 30 degrees and pasted at a random
  place into a 640x480 canvas of grey noise. A face counts as found when a box centre falls
  inside it; any other box is false.
- Small faces: the same faces at 1/50 of a 3000x2000 canvas's short side (40 px).
- No faces: scikit-image's bundled pictures without a human face, where every box is false.
- Time per photo: a 640x480 canvas, and a 12 MP photo (4000x3000) holding four faces.
- Upright: with a model (`--model-dir`, e.g. a ResNet trained on real faces by bench/accuracy.py),
  the keypoint RMSE of the turned faces in face pixels (of the 96x96 face), cropped as they lie,
  turned upright by the detector's eyes, and, where turned by over 15 degrees, found again on
  their surroundings turned upright (the photo path); and, for a bound, cropped from the square
  the face was pasted into, with no detector. The truth: solution.csv through IdLookupTable.csv.

usage: python bench/detection.py [--faces 300] [--model-dir bench/out/accuracy/youtube-faces-15/resnet]
                                 [--upright-only]
Writes what it prints to bench/results/detection.json.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.accuracy import machine  # noqa: E402
from stages.lib.confidence import NON_FACE_PICTURES  # noqa: E402
from stages.lib.io import save_json  # noqa: E402
from stages.lib.kaggle_csv import read_lookup_csv, read_test_csv  # noqa: E402
from stages.lib.photo.detect import detect, detect_mtcnn  # noqa: E402
from stages.lib.photo.find import find_keypoints  # noqa: E402
from stages.lib.photo.frame import Frame, crop  # noqa: E402
from stages.lib.photo.read import grey_to_rgb as rgb  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "youtube-faces-15"
HUMAN = {"astronaut", "camera"}  # the bundled pictures that do show a person's face
ANGLES = (0, 10, 20, 30)
ENLARGE = 3
CONTEXT = 24  # px of the 96x96 face: covers a crop's corners for turns up to 45 degrees
FACE = 96 * ENLARGE


# The rows: the Haar cascades, MTCNN without its turned passes, and MTCNN as the photo path runs it.
DETECTORS = {"haar": lambda rgb, grey: detect(rgb, grey, "haar"),
             "mtcnn one pass": lambda rgb, grey: detect_mtcnn(rgb, turned=False),
             "mtcnn": lambda rgb, grey: detect(rgb, grey, "mtcnn")}


def test_faces() -> tuple[np.ndarray, np.ndarray]:
    """youtube-faces-15's test images and their 30 true values (solution.csv through the lookup)."""
    import pandas as pd

    ids, images = read_test_csv(DATA / "test.csv")
    lookup = read_lookup_csv(DATA / "IdLookupTable.csv", ids)
    solution = pd.read_csv(DATA / "solution.csv").set_index("RowId")["Location"]
    truth = np.full((len(ids), 30), np.nan)
    row_of = {int(i): n for n, i in enumerate(ids)}
    for row_id, image_id, feature in zip(lookup.row_ids, lookup.image_ids, lookup.features):
        truth[row_of[int(image_id)], int(feature)] = solution[int(row_id)]  # features: column indices
    return images, truth


def paste(image: np.ndarray, angle: float, canvas_shape, size: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """The face enlarged to `size`, turned by `angle` degrees about its centre, at a random place
    of a noise canvas; returns the canvas and the 2x3 map from 96x96 face coordinates to it.

    The face keeps a border of CONTEXT px (its edge pixels repeated), as a face in a photo has
    surroundings: a crop turned upright then finds the face's surroundings in its corners, not
    the canvas's noise, which the 96x96 faces of the upright canvases never show."""
    height, width = canvas_shape
    canvas = np.clip(rng.normal(128, 30, canvas_shape), 0, 255).astype(np.uint8)
    margin = int(size * 0.75)
    cx, cy = rng.integers(margin, width - margin), rng.integers(margin, height - margin)
    scale = size / 96
    to_canvas = cv2.getRotationMatrix2D((47.5, 47.5), angle, scale)
    to_canvas[:, 2] += (cx - 47.5, cy - 47.5)
    framed = cv2.copyMakeBorder(image, CONTEXT, CONTEXT, CONTEXT, CONTEXT, cv2.BORDER_REPLICATE)
    from_framed = to_canvas.copy()
    from_framed[:, 2] -= to_canvas[:, :2] @ (CONTEXT, CONTEXT)
    warped = cv2.warpAffine(framed, from_framed, (width, height), flags=cv2.INTER_CUBIC, borderValue=0)
    mask = cv2.warpAffine(np.full_like(framed, 255), from_framed, (width, height), flags=cv2.INTER_NEAREST) > 0
    canvas[mask] = warped[mask]
    return canvas, to_canvas


def found_and_false(boxes, face_mask) -> tuple[bool, int]:
    hits = [bool(face_mask[min(int(y + h / 2), face_mask.shape[0] - 1), min(int(x + w / 2), face_mask.shape[1] - 1)])
            for x, y, w, h in boxes]
    return any(hits), sum(not h for h in hits)


def canvases(args, images, angle: float, shape=(480, 640), size=FACE):
    rng = np.random.default_rng(angle)
    order = np.random.default_rng(0).permutation(len(images))[:args.faces]
    for index in order:
        canvas, to_canvas = paste(images[index], angle, shape, size, rng)
        mask = cv2.warpAffine(np.full((96, 96), 255, np.uint8), to_canvas, shape[::-1], flags=cv2.INTER_NEAREST) > 0
        yield index, canvas, to_canvas, mask


def detection_rates(args, images) -> dict:
    out = {}
    for angle in ANGLES:
        for detector in DETECTORS:
            hits = false = 0
            for _, canvas, _, mask in canvases(args, images, angle):
                hit, wrong = found_and_false([d.box for d in DETECTORS[detector](rgb(canvas), canvas)], mask)
                hits, false = hits + hit, false + wrong
            out[f"{angle} deg, {detector}"] = {"found": hits / args.faces, "false_boxes": false}
            print(f"  turned {angle:2d} deg   {detector:14s} found {hits / args.faces:6.1%}   false boxes {false}", flush=True)
    return out


def small_faces(args, images) -> dict:
    out = {}
    n = max(10, args.faces // 10)
    for detector in DETECTORS:
        hits = 0
        for i, canvas, _, mask in canvases(argparse.Namespace(faces=n), images, 0, (2000, 3000), 40):
            hits += found_and_false([d.box for d in DETECTORS[detector](rgb(canvas), canvas)], mask)[0]
        out[detector] = hits / n
        print(f"  {detector:14s} found {hits / n:6.1%} of {n} faces of 40 px (1/50 of 2000) on 3000x2000", flush=True)
    return out


def false_boxes() -> dict:
    from skimage import data

    out = {}
    for detector in DETECTORS:
        false = {}
        for name in NON_FACE_PICTURES:
            picture = getattr(data, name)()
            grey = picture if picture.ndim == 2 else cv2.cvtColor(picture[..., :3], cv2.COLOR_RGB2GRAY)
            if grey.dtype != np.uint8:
                grey = (grey * 255.0 / max(float(grey.max()), 1.0)).astype(np.uint8)
            boxes = DETECTORS[detector](rgb(grey), grey)
            if boxes:
                false[name] = len(boxes)
        out[detector] = false
        print(f"  {detector:14s} {sum(false.values())} false boxes on {len(NON_FACE_PICTURES)} pictures {false or ''}",
              flush=True)
    return out


def timings(images) -> dict:
    rng = np.random.default_rng(1)
    small, _ = paste(images[0], 0, (480, 640), FACE, rng)
    big = np.clip(rng.normal(128, 30, (3000, 4000)), 0, 255).astype(np.uint8)
    for i, size in enumerate((900, 400, 150, 80)):  # four faces, large to 1/37 of the short side
        face = cv2.resize(images[i + 1], (size, size), interpolation=cv2.INTER_CUBIC)
        x, y = 200 + i * 950, 1000
        big[y:y + size, x:x + size] = face
    out = {}
    for detector in DETECTORS:
        for label, photo in (("640x480", small), ("12 MP, 4 faces", big)):
            DETECTORS[detector](rgb(photo), photo)  # warm: models loaded, graphs traced
            runs = []
            for _ in range(3):
                start = time.perf_counter()
                found = DETECTORS[detector](rgb(photo), photo)
                runs.append(time.perf_counter() - start)
            out[f"{label}, {detector}"] = {"seconds": min(runs), "faces": len(found)}
            print(f"  {label:15s} {detector:14s} {min(runs):6.2f} s (best of 3)   {len(found)} faces", flush=True)
    return out


# The ways of cropping a face compared: as it lies, turned upright by the detector's eyes, and
# (the photo path's way) a face turned by over 15 degrees found again on its surroundings turned upright.
WAYS = {"as it lies": {"upright": False}, "turned upright": {"again": False}, "and found again upright": {}}
OWN_SQUARE = "in the face's own square"


def upright_rmse(args, images, truth, model_dir: Path) -> dict:
    from stages.lib.models import load_predictor

    predict = load_predictor("resnet", model_dir)
    out = {}
    for angle in ANGLES:
        errors = {way: [] for way in (*WAYS, OWN_SQUARE)}
        for index, canvas, to_canvas, _ in canvases(args, images, angle):
            labels = truth[index].reshape(15, 2)
            true_canvas = labels @ to_canvas[:, :2].T + to_canvas[:, 2]
            results = {way: find_keypoints(rgb(canvas), canvas, predict, **options) for way, options in WAYS.items()}
            if not all(len(result.keypoints) for result in results.values()):
                continue  # every way on the same faces: those MTCNN found
            for way, result in results.items():
                predicted = result.keypoints[0].reshape(15, 2)  # the largest face: the pasted one
                errors[way].append(((predicted - true_canvas) / ENLARGE) ** 2)
            # The bound: the face's own square (where it was pasted, turned as it was), no detector.
            own = Frame(*(to_canvas @ (47.5, 47.5, 1.0)), FACE, -math.radians(angle))
            predicted = own.to_photo(predict(crop(canvas, own)[None])[0]).reshape(15, 2)
            errors[OWN_SQUARE].append(((predicted - true_canvas) / ENLARGE) ** 2)
        row = {way: float(np.sqrt(np.nanmean(np.stack(v)))) for way, v in errors.items()}
        out[f"{angle} deg"] = row
        print(f"  turned {angle:2d} deg   " + "   ".join(f"RMSE {way} {value:.3f}" for way, value in row.items()),
              flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=300)
    parser.add_argument("--model-dir", type=Path, help="a trained resnet folder, for the upright RMSE")
    parser.add_argument("--upright-only", action="store_true", help="only the upright RMSE (needs --model-dir)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "detection.json")
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA}: not found (the shared data sits beside the project)")
    images, truth = test_faces()
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    if args.upright_only:
        results["upright_rmse"] = upright_rmse(args, images, truth, args.model_dir)
        results["upright_ways"] = [*WAYS, OWN_SQUARE]  # the columns' order (the file's keys are sorted)
        results["upright_faces"] = args.faces
        results["upright_model"] = str(args.model_dir.relative_to(ROOT) if args.model_dir.is_relative_to(ROOT)
                                       else args.model_dir)
        save_json(args.results, results)
        print(f"-> {args.results}")
        return
    results.update({"machine": machine(), "faces": args.faces})
    print(f"youtube-faces-15 test faces, 3x, in 640x480 canvases: {args.faces} per angle")
    results["canvases"] = detection_rates(args, images)
    print("small faces")
    results["small_faces"] = small_faces(args, images)
    print("scikit-image pictures without a human face")
    results["false_boxes"] = false_boxes()
    print("time per photo, 2 cores")
    results["seconds"] = timings(images)
    if args.model_dir:
        print(f"keypoint RMSE in face pixels, {args.model_dir}")
        results["upright_rmse"] = upright_rmse(args, images, truth, args.model_dir)
        results["upright_ways"] = [*WAYS, OWN_SQUARE]
        results["upright_faces"] = args.faces
        results["upright_model"] = str(args.model_dir)
    save_json(args.results, results)
    print(f"-> {args.results}")


if __name__ == "__main__":
    main()
