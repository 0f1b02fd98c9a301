"""The model registry: one entry per model name, for both frameworks.

Each entry names the module (or package) that trains and loads the model; it exposes
`train(params, train: Faces, val: Faces, out_dir, on_epoch) -> summary dict` and
`load(model_dir) -> Predictor` (`predict(images, four_point=None)`, see `keypoints.Predictor`);
a model that predicts a distribution per keypoint also exposes `load_confidence(model_dir) ->
confidence.Confidence` (None when its options give it none). A summary's optional `timing` entry
(seconds, speed) is kept apart from the compared metrics. Modules are imported on demand, so that using the PyTorch
models never loads TensorFlow and vice versa. `params.yaml` has one section per name, and
`dvc.yaml` trains and evaluates every name listed here (tests keep them in step).
"""
from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from types import ModuleType

from ..params import Params
from .base import Faces, Predictor


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    module: str
    framework: str

    def load_module(self) -> ModuleType:
        return importlib.import_module(f"{__name__}.{self.module}")


MODELS: dict[str, ModelEntry] = {
    "mean": ModelEntry("mean", "numpy"),
    "patch": ModelEntry("patch", "numpy"),
    "resnet": ModelEntry("resnet", "pytorch"),
    "cnn": ModelEntry("cnn", "keras"),
    "ensemble": ModelEntry("ensemble", "any"),  # averages trained models; listed last
}


def entry(name: str) -> ModelEntry:
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    return MODELS[name]


def model_params(params: Params, name: str):
    return getattr(params, name)


def with_members(name: str, params: Params) -> list[str]:
    """`name`, and for the ensemble the models it averages: what training or loading it runs."""
    return [name, *params.ensemble.models] if name == "ensemble" else [name]


def loaded_modules(name: str, params: Params) -> set[str]:
    """The modules the registry imports on demand to train or load `name`."""
    return {f"{__name__}.{entry(n).module}" for n in with_members(name, params)}


def train_model(name: str, params: Params, train: Faces, val: Faces, out_dir: Path, on_epoch) -> dict:
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return entry(name).load_module().train(model_params(params, name), train, val, out_dir, on_epoch)


def load_predictor(name: str, model_dir: Path) -> Predictor:
    return entry(name).load_module().load(model_dir)


def load_confidence(name: str, model_dir: Path):
    """Each keypoint's spread and the model's face line (`confidence.Confidence`) for models with a
    distribution per keypoint; None for the others (mean, patch, cnn, ensemble, a ResNet without
    trained heatmaps)."""
    loader = getattr(entry(name).load_module(), "load_confidence", None)
    return loader(model_dir) if loader else None
