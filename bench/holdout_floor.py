"""What a fold ensemble could score on the outer hold-out at best, given its wrongly labelled faces.

The hold-out's figure counts every label, wrong ones too (that is the leaderboard's way), so a
model that marks a face's true points is still charged the label's error there. This reads the
predictions of a fold run (`bench/accuracy.py --folds K` keeps `<model>_unseen_predictions.npz`:
the hold-out predicted by the fold ensemble), the list of grossly wrong labels
(`split.wrong_labels`' list, stages/lib/cleaning.py's rule) and the hold-out faces of that list
checked by eye (`--checked`: `row,verdict,note`, verdict `label` where the label is wrong and the
prediction right, `network` where the prediction is wrong), and prints the hold-out's mix:

- as the fold ensemble scores it;
- with the ensemble's gross failures mended: each face checked `network` predicted exactly;
- the floor: every face predicted exactly except those checked `label`, which keep the ensemble's
  error, the distance between the label and where the face's points are (the ensemble was checked
  right there). No model that marks the faces' true points scores below it.

It writes the figures to bench/results/holdout-floor.json and draws the listed hold-out faces
(labels green, the ensemble's points red) into docs/listed-holdout.jpg.

usage: python bench/holdout_floor.py [--data kaggle-train-jpeg] [--model resnet] [--folds 5]
           [--work bench/out/accuracy] [--list data/labels/kaggle-training.csv]
           [--checked data/labels/kaggle-holdout-checked.csv]
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stages.lib.cleaning import read_label_list  # noqa: E402
from stages.lib.evaluation import lookup_weights, per_face_rmse, source_metrics  # noqa: E402
from stages.lib.faces import Faces  # noqa: E402
from stages.lib.io import atomic_file, save_json  # noqa: E402
from stages.lib.kaggle_csv import read_lookup_csv, read_training_csv  # noqa: E402
from stages.lib.pictures import face_tile, grid  # noqa: E402
from bench.wrong_labels import fold_run_arguments, unseen_predictions  # noqa: E402
from stages.lib.cli import run  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
VERDICTS = ("label", "network")


def read_checked(path: Path, listed: np.ndarray) -> dict[int, str]:
    """The by-eye verdicts, row -> `label` or `network`; each row must be on the list."""
    verdicts = {}
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    for line, record in enumerate(csv.DictReader(lines), start=2):
        row, verdict = record["row"], record["verdict"]
        if not row.isdigit():
            sys.exit(f"{path}, line {line} of its table, field row: {row!r} is not a row number")
        row = int(row)
        if verdict not in VERDICTS:
            sys.exit(f"{path}, line {line} of its table, field verdict: {verdict!r} is not one of {', '.join(VERDICTS)}")
        if row not in listed:
            sys.exit(f"{path}, line {line} of its table, field row: row {row} is not on the list of wrong labels")
        verdicts[row] = verdict
    return verdicts


def fold_run_faces(args) -> Faces:
    """The faces of the fold run's training.csv (it writes one into its work folder), numbered as
    Kaggle's rows; or one line saying which run to make first."""
    path = args.work / args.data / "training.csv"
    if not path.exists():
        sys.exit(f"{path}: not found; run bench/accuracy.py --data {args.data} --folds {args.folds} "
                 f"--work {args.work} first")
    images, keypoints = read_training_csv(path)
    return Faces(images, keypoints, np.arange(1, len(images) + 1))


def floors(predictions: np.ndarray, labels: np.ndarray, rows: np.ndarray, verdicts: dict[int, str],
           weights: dict[str, float]) -> dict[str, float]:
    """The mix as predicted, with the faces checked `network` predicted exactly, and the floor
    (every face exact but those checked `label`)."""
    def mix(predicted):
        return source_metrics(predicted, labels, weights)["rmse_leaderboard_weighted"]

    network = np.isin(rows, [r for r, v in verdicts.items() if v == "network"])
    label = np.isin(rows, [r for r, v in verdicts.items() if v == "label"])
    return {"as_predicted": mix(predictions),
            "network_failures_mended": mix(np.where(network[:, None], labels, predictions)),
            "floor": mix(np.where(label[:, None], predictions, labels))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    fold_run_arguments(parser)
    parser.add_argument("--list", type=Path, default=ROOT / "data" / "labels" / "kaggle-training.csv")
    parser.add_argument("--checked", type=Path, default=ROOT / "data" / "labels" / "kaggle-holdout-checked.csv")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "holdout-floor.json")
    parser.add_argument("--picture", type=Path, default=ROOT / "docs" / "listed-holdout.jpg")
    args = parser.parse_args()
    saved = unseen_predictions(args)
    faces = fold_run_faces(args)
    listed = read_label_list(args.list, faces)
    verdicts = read_checked(args.checked, listed)
    held = saved["holdout"]
    rows, predictions, labels = saved["rows"][held], saved["predictions"][held], saved["labels"][held]
    weights = lookup_weights(read_lookup_csv(SHARED / args.data / "IdLookupTable.csv").image_ids)
    figures = floors(predictions, labels, rows, verdicts, weights)
    on_list = np.flatnonzero(np.isin(rows, listed))
    unchecked = [int(r) for r in rows[on_list] if int(r) not in verdicts]
    # The run whose fold ensemble is scored (older work folders' files do not name it).
    run = str(saved["run"]) if "run" in saved else None
    result = {"data": args.data, "model": args.model, "folds": args.folds, "run": run, "holdout_faces": int(held.sum()),
              "listed_holdout_rows": [int(r) for r in rows[on_list]],
              "checked": {str(r): v for r, v in sorted(verdicts.items())}, "unchecked": unchecked, **figures}
    save_json(args.results, result)
    errors = per_face_rmse(predictions, labels)
    tiles = [face_tile(faces.images[int(r) - 1], predictions[i], labels[i],
                       f"row {int(r)}  {errors[i]:.1f} px  {verdicts.get(int(r), 'unchecked')}")
             for i, r in zip(on_list, rows[on_list])]
    ok, picture = cv2.imencode(".jpg", grid(tiles), [cv2.IMWRITE_JPEG_QUALITY, 85])
    with atomic_file(args.picture) as handle:
        handle.write(picture.tobytes())
    print(f"{args.data} hold-out ({held.sum()} faces), {args.model} fold ensemble: mix {figures['as_predicted']:.4f}; "
          f"its failures checked by eye mended {figures['network_failures_mended']:.4f}; the floor, every face "
          f"exact but the {sum(v == 'label' for v in verdicts.values())} labelled wrongly, {figures['floor']:.4f}")
    print(f"-> {args.results}, {args.picture}")


if __name__ == "__main__":
    run(main)  # bad params or input: one line, not a traceback
