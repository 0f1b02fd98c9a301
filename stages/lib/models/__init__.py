"""The model registry: one registration per model, for both frameworks.

A model is one module (or package) here, one section of `params.yaml` and one `Model(...)` line
below. Its module exposes `train(params, train: Faces, val: Faces, out_dir, on_epoch) -> summary
dict` and `load(model_dir) -> Predictor` (`predict(images, four_point=None)`, see
`keypoints.Predictor`); a model that predicts a distribution per keypoint also exposes
`load_confidence(model_dir) -> confidence.Confidence` (None when its options give it none). A
summary's optional `timing` entry (seconds, speed) is kept apart from the compared metrics.

The registration names the params class of its section; `params.Params` gets one field per
registration, so `params.yaml` must have the section; a trained model's section may be `null`,
which turns it off (its stages then write `off.json` and "not trained" metrics, and nothing loads it). dvc.yaml names the trained models once, in
its `vars` (tests/test_dvc_yaml.py keeps that list equal to this one); every stage iterates over
it or depends on a folder. The ensemble is trained by no stage: it averages what `models/` holds.
Params classes live in `params.py`, apart from the models' code, so that reading params never
imports a framework and each training stage depends on its own model's code only. Modules are
imported on demand, so that using the PyTorch models never loads TensorFlow and vice versa.
"""
from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from types import ModuleType

from typing import TYPE_CHECKING

from ..errors import UserError
from ..params import CnnParams, EnsembleParams, FoldsParams, MeanParams, ModelParams, Params, PatchParams, ResNetParams

if TYPE_CHECKING:  # for annotations only: reading params (which imports this registry) stays light
    from ..faces import Faces
    from ..keypoints import Predictor


@dataclasses.dataclass(frozen=True)
class Model:
    name: str  # its section of params.yaml, its stages' key in dvc.yaml
    module: str  # its code: stages/lib/models/<module>(.py)
    params: type[ModelParams]  # its section's class
    trained: bool = True  # False: it combines the trained models in models/ and has no folder of its own

    def load_module(self) -> ModuleType:
        return importlib.import_module(f"{__name__}.{self.module}")


MODELS: dict[str, Model] = {model.name: model for model in (
    Model("mean", "mean", MeanParams),
    Model("patch", "patch", PatchParams),
    Model("resnet", "resnet", ResNetParams),
    Model("cnn", "cnn", CnnParams),
    Model("ensemble", "ensemble", EnsembleParams, trained=False),  # params.ensemble's average of the others
    Model("folds", "folds", FoldsParams, trained=False),  # params.folds.model trained once per fold, averaged
)}


def entry(name: str) -> Model:
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    return MODELS[name]


def trained_models() -> list[str]:
    """The models that `train` trains, each into a folder of its own: dvc.yaml's `trained`."""
    return [name for name, model in MODELS.items() if model.trained]


def model_dir(models_dir: Path, name: str) -> Path:
    """Where model `name` is loaded from: its folder; for a combining model, the folder of them all."""
    return Path(models_dir) / name if entry(name).trained else Path(models_dir)


def with_members(name: str, params: Params) -> list[str]:
    """`name`, and for the ensembles the models they average: what loading it runs."""
    if name == "ensemble":
        return [name, *params.ensemble.models]
    return [name, params.folds.model] if name == "folds" else [name]


def loaded_modules(name: str, params: Params) -> set[str]:
    """The modules the registry imports on demand to train or load `name`."""
    return {f"{__name__}.{entry(n).module}" for n in with_members(name, params)}


# What a trained model's folder holds when params.yaml turns the model off (its section: null).
OFF_FILE = "off.json"


class ModelOffError(UserError):
    """A model was asked for whose params section is null, so no stage trained it."""


def is_off(model_dir: Path) -> bool:
    return (Path(model_dir) / OFF_FILE).exists()


def train_model(name: str, params: Params, train: Faces, val: Faces, out_dir: Path, on_epoch) -> dict:
    if not entry(name).trained:
        raise ValueError(f"model {name!r} is not trained: it combines the trained models (load_predictor)")
    if not params.trains(name):
        raise ModelOffError(f"{name}: off in params.yaml ({name}: null), so it is not trained")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return entry(name).load_module().train(params.model(name), train, val, out_dir, on_epoch)


def load_predictor(name: str, model_dir: Path, params: Params | None = None) -> Predictor:
    """A trained model from its folder; a combining one (the ensemble) from the folder of the
    trained models, as `params` (its section) says."""
    if entry(name).trained and is_off(model_dir):
        raise ModelOffError(f"{model_dir}: {name} was off when it was trained ({name}: null in params.yaml); "
                            f"set its section and run `dvc repro`, or use another model")
    module = entry(name).load_module()
    if entry(name).trained:
        return module.load(model_dir)
    if params is None:
        raise ValueError(f"model {name!r} is loaded with its params (it combines other models)")
    return module.load(model_dir, params.model(name))


def load_confidence(name: str, model_dir: Path):
    """Each keypoint's spread and the model's face line (`confidence.Confidence`) for models with a
    distribution per keypoint; None for the others (mean, patch, cnn, ensemble, a ResNet without
    trained heatmaps)."""
    loader = getattr(entry(name).load_module(), "load_confidence", None)
    return loader(model_dir) if loader else None
