"""Stage `evaluate@<model>`: score a trained model on the validation split and predict the test set.

usage: python -m stages.evaluate MODEL MODEL_DIR VAL_NPZ TEST_NPZ LOOKUP_NPZ OUT_DIR METRICS_JSON
  MODEL_DIR: the model's folder (models/resnet); for the ensemble, the folder of trained models.

Writes METRICS_JSON (overall, per-axis and per-keypoint RMSE, mean pixel error, share of points
within 2 and 5 px, with and without flip averaging; RMSE per label source, 15-point and 4-point
faces, and their mix weighted as the test lookup weights them) and OUT_DIR: predictions.npz (val and test;
each face in its label source's convention, test faces' source read off the lookup),
per_keypoint.csv, faces.png (validation faces, predicted in red, truth in green) and worst.png
(the ten worst validation faces). A model whose section is null (off) gets `"trained": false` as
its metrics, no predictions and a picture that says so.

A model module's `more_figures` adds to its metrics: the fold ensemble's (`folds`: VAL_NPZ is then
the hold-out) are its out-of-fold figures, each fold's network on its own fold (VAL_NPZ's folder
holds fold<k>/val.npz), and a 95% bootstrap interval over the hold-out's faces of its mix.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .lib.cli import run
from .lib.evaluation import evaluate, lookup_weights, per_keypoint_csv, pictures, predict_test, source_metrics
from .lib.io import atomic_dir, load_npz, save_json, save_npz
from .lib.models import MODELS, load_predictor
from .lib.faces import Faces
from .lib.params import load_params
from .lib.pictures import encode_png, face_tile


def write_off(name: str, out: Path, metrics: str, because: str) -> None:
    """The outputs of a model that params.yaml turns off: no predictions, an empty chart, a note."""
    with atomic_dir(out) as tmp:
        save_npz(tmp / "predictions.npz")
        (tmp / "per_keypoint.csv").write_text("keypoint,rmse\n")
        note = encode_png(face_tile(np.zeros((96, 96), np.uint8), np.full(30, np.nan), label=f"{name}: off"))
        (tmp / "faces.png").write_bytes(note)
        (tmp / "worst.png").write_bytes(note)
    save_json(metrics, {"model": name, "trained": False})
    print(f"{name}: off ({because} in params.yaml), not evaluated")


def main() -> None:
    parser = argparse.ArgumentParser(description="Evaluate one trained model.")
    parser.add_argument("model", choices=sorted(MODELS))
    for name in ("model_dir", "val", "test", "lookup", "out", "metrics"):
        parser.add_argument(name)
    args = parser.parse_args()
    params = load_params()
    if not params.trains(args.model):
        write_off(args.model, Path(args.out), args.metrics, params.off_because(args.model))
        return
    val, test = Faces.from_arrays(load_npz(args.val)), load_npz(args.test)
    predict = load_predictor(args.model, Path(args.model_dir), params)
    metrics, val_predictions = evaluate(predict, val, params.evaluate)
    lookup_image_ids = load_npz(args.lookup)["image_ids"]
    metrics.update(source_metrics(val_predictions, val.keypoints, lookup_weights(lookup_image_ids)))
    more = getattr(MODELS[args.model].load_module(), "more_figures", None)  # the fold ensemble's
    if more is not None:
        metrics.update(more(Path(args.model_dir), Path(args.val).parent, params, val, val_predictions,
                            lookup_weights(lookup_image_ids)))
    test_predictions = predict_test(predict, test["images"], test["image_ids"], lookup_image_ids,
                                    params.evaluate.flip_tta, params.evaluate.zoom_tta)
    faces_png, worst_png = pictures(val, val_predictions, params.evaluate.n_faces)
    with atomic_dir(args.out) as tmp:
        save_npz(tmp / "predictions.npz", val=val_predictions, val_image_ids=val.image_ids,
                 test=test_predictions, test_image_ids=test["image_ids"])
        (tmp / "per_keypoint.csv").write_text(per_keypoint_csv(metrics))
        (tmp / "faces.png").write_bytes(faces_png)
        (tmp / "worst.png").write_bytes(worst_png)
    save_json(args.metrics, {"model": args.model, **metrics})
    if "out_of_fold" in metrics:
        low, high = metrics["holdout_interval_95"]
        print(f"{args.model}: out of fold RMSE {metrics['out_of_fold']['rmse']:.4f} px over {metrics['out_of_fold']['faces']} "
              f"faces; the ensemble's leaderboard mix on the hold-out {metrics['rmse_leaderboard_weighted']:.4f} "
              f"(95% {low:.4f}-{high:.4f})")
    print(f"{args.model}: val RMSE {metrics['rmse']:.4f} px (flip averaging {'on' if params.evaluate.flip_tta else 'off'}; "
          f"without {metrics['rmse_without_flip_tta']:.4f}, with {metrics['rmse_with_flip_tta']:.4f})")


if __name__ == "__main__":
    run(main)
