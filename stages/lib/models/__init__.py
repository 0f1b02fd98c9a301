"""The model registry: one registration per model, for both frameworks.

A model is one module (or package) here, one section of `params.yaml` and one `Model(...)` line
below. Its module exposes `train(params, train: Faces, val: Faces, out_dir, on_epoch) -> summary
dict` and `load(model_dir) -> Predictor` (`predict(images, four_point=None)`, see
`keypoints.Predictor`); a model that predicts a distribution per keypoint also exposes
`load_confidence(model_dir) -> confidence.Confidence` (None when its options give it none). A
summary's optional `timing` entry (seconds, speed) is kept apart from the compared metrics.

The registration names the params class of its section; `params.Params` gets one field per
registration, so `params.yaml` must have the section, and nothing else lists the models: dvc.yaml's
stages iterate over `dvc.yaml`'s `vars` list, which tests/test_dvc_yaml.py keeps equal to this one.
Params classes live in `params.py`, apart from the models' code, so that reading params never
imports a framework and each training stage depends on its own model's code only. Modules are
imported on demand, so that using the PyTorch models never loads TensorFlow and vice versa.
"""
from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from types import ModuleType

from ..params import CnnParams, EnsembleParams, MeanParams, ModelParams, Params, PatchParams, ResNetParams
from .base import Faces, Predictor


@dataclasses.dataclass(frozen=True)
class Model:
    name: str  # its section of params.yaml, its stages' key in dvc.yaml
    module: str  # its code: stages/lib/models/<module>(.py)
    params: type[ModelParams]  # its section's class

    def load_module(self) -> ModuleType:
        return importlib.import_module(f"{__name__}.{self.module}")


MODELS: dict[str, Model] = {model.name: model for model in (
    Model("mean", "mean", MeanParams),
    Model("patch", "patch", PatchParams),
    Model("resnet", "resnet", ResNetParams),
    Model("cnn", "cnn", CnnParams),
    Model("ensemble", "ensemble", EnsembleParams),  # averages trained models; listed last
)}


def entry(name: str) -> Model:
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    return MODELS[name]


def with_members(name: str, params: Params) -> list[str]:
    """`name`, and for the ensemble the models it averages: what training or loading it runs."""
    return [name, *params.ensemble.models] if name == "ensemble" else [name]


def loaded_modules(name: str, params: Params) -> set[str]:
    """The modules the registry imports on demand to train or load `name`."""
    return {f"{__name__}.{entry(n).module}" for n in with_members(name, params)}


def train_model(name: str, params: Params, train: Faces, val: Faces, out_dir: Path, on_epoch) -> dict:
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return entry(name).load_module().train(params.model(name), train, val, out_dir, on_epoch)


def load_predictor(name: str, model_dir: Path) -> Predictor:
    return entry(name).load_module().load(model_dir)


def load_confidence(name: str, model_dir: Path):
    """Each keypoint's spread and the model's face line (`confidence.Confidence`) for models with a
    distribution per keypoint; None for the others (mean, patch, cnn, ensemble, a ResNet without
    trained heatmaps)."""
    loader = getattr(entry(name).load_module(), "load_confidence", None)
    return loader(model_dir) if loader else None
