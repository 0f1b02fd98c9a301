"""Model `resnet` (PyTorch): the recipe around the network of `network.py` and the loop of `loop.py`.

1. With `resnet.pseudo_labels`, a first network trains on the masked labels and predicts
   (flip-averaged) the keypoints each training row lacks; real labels are never changed.
2. `resnet.members` networks, from seeds seed, seed + 1, ..., train on those rows.
3. The saved model (`model.pt`) averages the members' predictions.

With `resnet.sources` every network learns in the source layout of `sources.py` (Kaggle's 4-point
faces' labels train four outputs of their own), pseudo-labels fill each source's outputs from the
first network's predictions in that source's convention, and the model predicts a face's four
core keypoints in the convention its caller asks for (`four_point`).

`train.json` has the same keys whatever the options: `val_rmse` is the saved model's validation
RMSE, `epochs` counts every network's epochs, and `networks` lists each network's own figures.
"""
from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import torch

from ...confidence import Confidence, face_limit
from ...keypoints import N_KEYPOINTS
from ...metrics import rmse
from ...params import ResNetParams
from ...sources import four_point_faces, from_source_layout, to_source_layout
from ...tta import with_flip_averaging, with_mirror_offsets
from ...faces import Faces
from ...io import atomic_file, reading
from ...keypoints import Predictor
from ..targets import Targets
from ..training import EpochCallback, cpu_threads
from .loop import NetworkResult, architecture, build, device, predict_array, spread_array, train_network
from .network import ResNet


def pseudo_labelled(train: Faces, predict: Predictor) -> Faces:
    """The missing keypoints of each row filled with predictions (flip-averaged); labels kept."""
    predicted = with_flip_averaging(predict)(train.images)
    return Faces(train.images, np.where(np.isnan(train.keypoints), predicted, train.keypoints).astype(np.float32))


def train(params: ResNetParams, train: Faces, val: Faces, out_dir: Path, on_epoch: EpochCallback) -> dict:
    torch.set_num_threads(cpu_threads(params.threads))
    scored = val  # the saved model is scored on the 30 columns; the networks learn in their layout
    if params.sources:
        train, val = (Faces(faces.images, to_source_layout(faces.keypoints)) for faces in (train, val))
    networks: list[tuple[str, int, NetworkResult]] = []

    def network(role: str, seed: int, faces: Faces) -> dict:
        offset = sum(result.epochs for _, _, result in networks)  # one curve, network after network
        result = train_network(dataclasses.replace(params, seed=seed), faces, val,
                               lambda epoch, metrics: on_epoch(offset + epoch, metrics))
        networks.append((role, seed, result))
        return result.state

    if params.pseudo_labels:
        teacher = {"state_dicts": [network("pseudo_labeller", params.seed, train)], **architecture(params)}
        train = pseudo_labelled(train, layout_predictor(teacher))
    saved = {"state_dicts": [network("member", params.seed + m, train) for m in range(params.members)],
             **architecture(params)}
    if has_confidence(saved):
        saved["face_limit"] = face_limit(spreader(saved))
    save_model(saved, Path(out_dir) / "model.pt")

    seconds = sum(result.seconds for _, _, result in networks)
    images = sum(result.images for _, _, result in networks)
    return {
        "val_rmse": rmse(predictor(saved)(scored.images, four_point_faces(scored.keypoints)), scored.keypoints),
        "epochs": sum(result.epochs for _, _, result in networks),
        "networks": [{"role": role, "seed": seed, "val_rmse": result.val_rmse, "val_loss": result.val_loss,
                      "best_epoch": result.best_epoch, "epochs": result.epochs} for role, seed, result in networks],
        "timing": {"train_seconds": round(seconds, 1), "images_per_s": round(images / max(seconds, 1e-9), 1),
                   "device": device().type, "bf16": networks[0][2].bf16},
    }


def save_model(saved: dict, path: Path) -> None:
    """torch.save through a buffer: a full disk is then the OSError of a plain write, not torch's
    RuntimeError from deep in its zip writer."""
    buffer = io.BytesIO()
    torch.save(saved, buffer)
    with atomic_file(path) as handle:
        handle.write(buffer.getvalue())


def networks(saved: dict) -> list[ResNet]:
    models = []
    for state in saved["state_dicts"]:
        model = build(saved).to(device())
        model.load_state_dict(state)
        models.append(model.eval())
    return models


def layout_predictor(saved: dict) -> Predictor:
    """images -> every output in pixels, the members' mean: (N, 30), or (N, 38) in the source layout."""
    targets = Targets(saved["normalize_targets"])
    models = networks(saved)
    # Each output point's horizontal label offset in px (mirror_offsets), the members' mean.
    offsets = np.mean([model.point_offsets().detach().cpu().numpy() for model in models], axis=0) * targets.unit_px

    def predict(images: np.ndarray, four_point: np.ndarray | None = None) -> np.ndarray:
        outputs = [predict_array(model, images, False) for model in models]
        mean = outputs[0] if len(outputs) == 1 else np.mean(outputs, axis=0, dtype=np.float64)
        return targets.decode(mean)

    return with_mirror_offsets(predict, lambda faces, four_point=None: np.tile(offsets.astype(np.float32), (faces, 1)))


def predictor(saved: dict) -> Predictor:
    predict = layout_predictor(saved)
    if not saved["sources"]:
        return predict

    def offsets(faces: int, four_point: np.ndarray | None = None) -> np.ndarray:
        # The layout's offsets as x values (y 0), through the same choice of outputs as the keypoints.
        per_point = predict.mirror_offsets(faces)
        layout = np.stack([per_point, np.zeros_like(per_point)], axis=-1).reshape(faces, -1)
        return from_source_layout(layout, four_point)[:, 0::2]

    return with_mirror_offsets(lambda images, four_point=None: from_source_layout(predict(images), four_point), offsets)


def load(model_dir: Path) -> Predictor:
    return predictor(_saved(model_dir))


def has_confidence(saved: dict) -> bool:
    """Heatmaps trained with `heatmap_reg`: without it nothing gives them a shape, and their spread
    says little (about 21 px on faces, 25 off them, whatever the error)."""
    return saved["head"] == "soft_argmax" and saved["heatmap_reg"] > 0


def spreader(saved: dict):
    """images -> (N, 15) each keypoint's heatmap spread in pixels (the 15-point convention's), the members' mean."""
    models = networks(saved)
    return lambda images: np.mean([spread_array(model, images)[:, :N_KEYPOINTS] for model in models],
                                  axis=0).astype(np.float32)


def load_confidence(model_dir: Path) -> Confidence | None:
    saved = _saved(model_dir)
    if not has_confidence(saved):
        return None
    return Confidence(spreader(saved), float(saved["face_limit"]))


# What every saved model holds (loop.architecture's keys and the weights); a file without one is
# not this version's.
SAVED_KEYS = {"stem_stride", "head", "normalize_targets", "heatmap_reg", "shortcut", "sources", "fine_heatmaps",
              "mirror_offsets", "state_dicts"}


def _saved(model_dir: Path) -> dict:
    path = Path(model_dir) / "model.pt"
    # torch raises RuntimeError, pickle's and zip's errors alike
    with reading(path, (Exception,)):
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(saved, dict) or SAVED_KEYS - saved.keys():
            raise KeyError(sorted(SAVED_KEYS - set(saved)) if isinstance(saved, dict) else "not a mapping")
    return saved
