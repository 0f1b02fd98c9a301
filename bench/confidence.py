"""Benchmark: does the ResNet's face score tell faces from things that are not faces?

A face's score is the mean of its 15 keypoints' heatmap spreads, in pixels of the 96x96 face
(`stages/lib/confidence.py`); each model measures its own line (`face_limit`) when it is trained,
on crops of scikit-image's pictures without a face. This measures, for one trained model:
- faces: youtube-faces-15's test faces (../shared/data: real faces, Kaggle's framing), and the
  validation faces of the model's own data (`--val`, e.g. data/split/val.npz);
- non-faces: new crops of those pictures (another seed than the calibration's), and every box the
  cascades find in them (false detections, the case the line exists for).
It prints each set's percentiles and, at the model's line and around it, the share of faces kept
and of non-faces dropped. Then the two filters of the photo path together: MTCNN's own score
(`photo/detect.py`'s MTCNN_MIN_SCORE; each image enlarged 3x and padded, as a photo's face) and
the model's line, each alone and both, on at most --detector-images images per set.

usage: python bench/confidence.py [--model-dir models/resnet] [--val data/split/val.npz] [--crops 400]
                                  [--detector-images 200] [--label NAME]
Writes what it prints to bench/results/confidence.json, under --label (default: the model folder).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.accuracy import machine  # noqa: E402
from stages.lib.confidence import face_score, grey_pictures, non_face_crops  # noqa: E402
from stages.lib.io import load_npz, save_json  # noqa: E402
from stages.lib.kaggle_csv import read_test_csv  # noqa: E402
from stages.lib.models import load_confidence  # noqa: E402
from stages.lib.photo.detect import detect_haar, detect_mtcnn  # noqa: E402
from stages.lib.photo.frame import Frame, crop  # noqa: E402
from stages.lib.photo.read import grey_to_rgb  # noqa: E402

FACES = ROOT.parent / "shared" / "data" / "youtube-faces-15" / "test.csv"


def false_detections() -> np.ndarray:
    """Crops of every box OpenCV's cascades find on pictures without faces: hard non-faces."""
    crops = [crop(grey, Frame.from_detection(d)) for grey in grey_pictures().values() for d in detect_haar(grey)]
    return np.stack(crops) if crops else np.zeros((0, 96, 96), np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=ROOT / "models" / "resnet")
    parser.add_argument("--val", type=Path, help="the model's validation faces (a split .npz)")
    parser.add_argument("--crops", type=int, default=400)
    parser.add_argument("--detector-images", type=int, default=200)
    parser.add_argument("--label", help="the model's name in the results file (default: --model-dir)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "confidence.json")
    args = parser.parse_args()
    confidence = load_confidence("resnet", args.model_dir)
    if confidence is None:
        sys.exit(f"{args.model_dir}: this ResNet has no trained heatmaps (head: pool, or heatmap_reg: 0)")
    sets = {}
    if FACES.exists():
        sets["faces: youtube-faces-15 test"] = read_test_csv(FACES)[1]
    else:
        print(f"skipped: {FACES} not found")
    if args.val:
        sets[f"faces: {args.val}"] = load_npz(args.val)["images"]
    sets["non-faces: new random crops"] = non_face_crops(args.crops, seed=1)
    sets["non-faces: false detections"] = false_detections()
    scores = {label: face_score(confidence.spread(images)) for label, images in sets.items()}

    line = confidence.face_limit
    record = {"line": line, "sets": {}, "machine": machine()}
    print(f"model {args.model_dir}: face score = mean keypoint spread, px of the 96x96 face; its line {line:.2f}\n")
    print(f"{'set':40s} {'n':>5s} {'p5':>6s} {'p25':>6s} {'p50':>6s} {'p75':>6s} {'p95':>6s}")
    for label, values in scores.items():
        p = np.percentile(values, [5, 25, 50, 75, 95]) if len(values) else [np.nan] * 5
        print(f"{label:40s} {len(values):5d} " + " ".join(f"{v:6.2f}" for v in p))
        record["sets"][label] = {"n": len(values), "percentiles_5_25_50_75_95": [float(v) for v in p],
                                 "kept_by_the_line": float(np.mean(values <= line)) if len(values) else None}
    print(f"\n{'line':>7s}  " + "  ".join(f"{label.split(': ')[1][:21]:>21s}" for label in scores))
    for threshold in [line - 1, line - 0.5, line, line + 0.5, line + 1]:
        cells = []
        for label, values in scores.items():
            kept = float(np.mean(values <= threshold)) if len(values) else np.nan
            face = label.startswith("faces")
            cells.append(f"{'kept' if face else 'dropped'} {100 * (kept if face else 1 - kept):5.1f}%")
        mark = "  <- the model's line" if threshold == line else ""
        print(f"{threshold:7.2f}  " + "  ".join(f"{c:>21s}" for c in cells) + mark)

    import cv2

    print("\nkept by MTCNN's score, by the model's line, and by both (what the photo path keeps)")
    for label, images in sets.items():
        images = images[:args.detector_images]
        detected = np.array([bool(detect_mtcnn(grey_to_rgb(cv2.copyMakeBorder(
            cv2.resize(image, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC), 120, 120, 120, 120,
            cv2.BORDER_CONSTANT, value=128)))) for image in images])
        model = scores[label][:len(images)] <= line
        print(f"{label:40s} {len(images):5d}   MTCNN {detected.mean():6.1%}   model {model.mean():6.1%}   "
              f"both {(detected & model).mean():6.1%}", flush=True)
        record["sets"][label]["kept_of_the_first"] = {
            "n": len(images), "mtcnn": float(detected.mean()), "model": float(model.mean()),
            "both": float((detected & model).mean())} if len(images) else None

    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    label = args.label or str(args.model_dir.relative_to(ROOT) if args.model_dir.is_relative_to(ROOT) else args.model_dir)
    results[label] = record
    save_json(args.results, dict(sorted(results.items())))
    print(f"-> {args.results}")


if __name__ == "__main__":
    main()
