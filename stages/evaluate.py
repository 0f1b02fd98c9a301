"""Stage `evaluate@<model>`: score a trained model on the validation split and predict the test set.

usage: python -m stages.evaluate MODEL

Writes `metrics/<model>.json` (overall, per-axis and per-keypoint RMSE, mean pixel error,
share of points within 2 and 5 px, with and without flip averaging) and `evaluation/<model>/`:
predictions.npz (val and test), per_keypoint.csv, faces.png (validation faces, predicted in
red, truth in green) and worst.png (the ten worst validation faces).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .lib.cli import run
from .lib.io import atomic_dir, load_npz, save_json, save_npz
from .lib.keypoints import KEYPOINTS
from .lib.metrics import keypoint_metrics, per_face_rmse, rmse
from .lib.models import MODELS, load_predictor
from .lib.overlay import draw_face, encode_png, grid
from .lib.params import EvaluateParams, load_params
from .lib.tta import flip_average, mirrored_prediction, with_flip_averaging

VAL_FILE = "data/split/val.npz"
TEST_FILE = "data/prepared/test.npz"


def evaluate(predict, val: dict, params: EvaluateParams) -> tuple[dict, np.ndarray]:
    """(metrics, chosen val predictions); both flip settings are measured, one is chosen."""
    plain = predict(val["images"])
    flipped = flip_average(plain, mirrored_prediction(predict, val["images"]))
    chosen = flipped if params.flip_tta else plain
    metrics = keypoint_metrics(chosen, val["keypoints"])
    metrics.update(flip_tta=params.flip_tta, rmse_without_flip_tta=rmse(plain, val["keypoints"]),
                   rmse_with_flip_tta=rmse(flipped, val["keypoints"]))
    return metrics, chosen


def pictures(val: dict, predictions: np.ndarray, n_faces: int) -> tuple[bytes, bytes]:
    faces = [draw_face(val["images"][i], predictions[i], val["keypoints"][i]) for i in range(min(n_faces, len(predictions)))]
    errors = per_face_rmse(predictions, val["keypoints"])
    worst = np.argsort(-errors, kind="stable")[:10]
    worst_tiles = [draw_face(val["images"][i], predictions[i], val["keypoints"][i],
                             f"id {val['image_ids'][i]}  rmse {errors[i]:.2f}") for i in worst]
    return encode_png(grid(faces)), encode_png(grid(worst_tiles, columns=5))


def per_keypoint_csv(metrics: dict) -> str:
    return "keypoint,rmse\n" + "".join(f"{k},{metrics['per_keypoint'][k]:.6f}\n" for k in KEYPOINTS)


def main() -> None:
    parser = argparse.ArgumentParser(description="Evaluate one trained model.")
    parser.add_argument("model", choices=sorted(MODELS))
    name = parser.parse_args().model
    params = load_params()
    val, test = load_npz(VAL_FILE), load_npz(TEST_FILE)
    predict = load_predictor(name, Path("models") / name)
    metrics, val_predictions = evaluate(predict, val, params.evaluate)
    test_predict = with_flip_averaging(predict) if params.evaluate.flip_tta else predict
    test_predictions = test_predict(test["images"])
    faces_png, worst_png = pictures(val, val_predictions, params.evaluate.n_faces)
    with atomic_dir(Path("evaluation") / name) as tmp:
        save_npz(tmp / "predictions.npz", val=val_predictions, val_image_ids=val["image_ids"],
                 test=test_predictions, test_image_ids=test["image_ids"])
        (tmp / "per_keypoint.csv").write_text(per_keypoint_csv(metrics))
        (tmp / "faces.png").write_bytes(faces_png)
        (tmp / "worst.png").write_bytes(worst_png)
    save_json(Path("metrics") / f"{name}.json", {"model": name, **metrics})
    print(f"{name}: val RMSE {metrics['rmse']:.4f} px (flip averaging {'on' if params.evaluate.flip_tta else 'off'}; "
          f"without {metrics['rmse_without_flip_tta']:.4f}, with {metrics['rmse_with_flip_tta']:.4f})")


if __name__ == "__main__":
    run(main)
