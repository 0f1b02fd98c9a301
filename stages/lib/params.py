"""`params.yaml`, loaded once into typed, frozen, validated dataclasses.

`params.yaml` is the one source of every value: the dataclasses declare types and ranges, not
defaults, and every key must be set. Every error names the offending key, e.g.
`split.val_fraction: expected a number, got 'x'`.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import UserError


class ParamsError(UserError):
    """A key in params.yaml is unknown, missing, ill-typed or out of range."""


def require(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ParamsError(f"{key}: {message}")


@dataclasses.dataclass(frozen=True)
class DataParams:
    raw_dir: str


@dataclasses.dataclass(frozen=True)
class GenerateParams:
    """Sizes and seed of the embedded procedural face data set."""

    seed: int
    n_train: int
    n_test: int
    full_fraction: float

    def __post_init__(self) -> None:
        require(self.n_train >= 1, "generate.n_train", "must be >= 1")
        require(self.n_test >= 1, "generate.n_test", "must be >= 1")
        require(0.0 <= self.full_fraction <= 1.0, "generate.full_fraction", "must be in [0, 1]")


@dataclasses.dataclass(frozen=True)
class SplitParams:
    val_fraction: float
    seed: int

    def __post_init__(self) -> None:
        require(0.0 < self.val_fraction < 1.0, "split.val_fraction", "must be in (0, 1)")


class ModelParams:
    """A model's section of params.yaml: one per name of the model registry."""

    @property
    def max_epochs(self) -> int:
        """At most this many epochs (early stopping may end sooner)."""
        return 1


@dataclasses.dataclass(frozen=True)
class MeanParams(ModelParams):
    sources: bool  # a mean per label source: Kaggle's 4-point faces get their own source's mean (sources.py)


@dataclasses.dataclass(frozen=True)
class PatchParams(ModelParams):
    patch_size: int
    search_radius: int

    def __post_init__(self) -> None:
        require(self.patch_size >= 3 and self.patch_size % 2 == 1, "patch.patch_size", "must be odd and >= 3")
        require(0 <= self.search_radius <= 10, "patch.search_radius", "must be in [0, 10]")


@dataclasses.dataclass(frozen=True)
class AugmentParams:
    """On-the-fly augmentation; every amount is the half-width of a uniform draw."""

    flip: bool  # horizontal flip with left/right keypoint names swapped
    rotate: float  # degrees
    scale: float  # fraction, e.g. 0.1 for 0.9..1.1
    shift: float  # pixels
    brightness: float  # fraction of the 0..255 range
    contrast: float  # fraction
    blur: float  # probability of a Gaussian blur (sigma 0.4..1.2)

    def __post_init__(self) -> None:
        for name in ("rotate", "scale", "shift", "brightness", "contrast"):
            require(getattr(self, name) >= 0, f"augment.{name}", "must be >= 0")
        require(self.scale < 1, "augment.scale", "must be < 1")
        require(0 <= self.blur <= 1, "augment.blur", "must be a probability in [0, 1]")

    @staticmethod
    def off() -> "AugmentParams":
        return AugmentParams(flip=False, rotate=0.0, scale=0.0, shift=0.0, brightness=0.0, contrast=0.0, blur=0.0)


Loss = Literal["mse", "huber", "wing"]


@dataclasses.dataclass(frozen=True)
class ResNetParams(ModelParams):
    seed: int
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    optimizer: Literal["adam", "adamw"]
    schedule: Literal["step", "cosine"]
    step_size: int  # StepLR period (epochs), for schedule: step
    gamma: float  # StepLR factor, for schedule: step
    warmup_epochs: int
    patience: int  # early stopping on validation loss; the best weights are kept
    validate_every: int  # validate (and so keep the best weights, stop early) every k epochs and after the last
    ema: float  # decay per step of a moving average of the weights, used for validation and kept; 0: off
    members: int  # networks trained from seeds seed, seed + 1, ...; the model averages them
    pseudo_labels: bool  # train a first network to fill the keypoints missing from training rows
    loss: Loss
    normalize_targets: bool  # train on [-1, 1] targets instead of pixels
    stem_stride: int  # 2 halves the stem's resolution: about 4x less compute
    head: Literal["pool", "soft_argmax"]  # pool: Linear on pooled features; soft_argmax: heatmaps
    heatmap_reg: float  # soft_argmax: weight of the pull of each heatmap towards a Gaussian at its label
    fine_heatmaps: bool  # soft_argmax: merge the 32-channel stage too, for heatmaps of twice the resolution
    shortcut: Literal["norm", "plain"]  # the 1x1 shortcuts where blocks change shape: + BatchNorm, or with a bias
    sources: bool  # predict Kaggle's 4-point source's four keypoints apart (sources.py)
    mirror_offsets: bool  # learn each label source's horizontal offset, so mirror images get labels in its convention
    channels_last: bool
    bf16: bool  # bf16 autocast for training, where the CPU has native bf16
    threads: int  # 0: every core this process may use
    augment: AugmentParams

    def __post_init__(self) -> None:
        _check_training("resnet", self.epochs, self.batch_size, self.lr, self.patience, self.threads)
        require(self.weight_decay >= 0, "resnet.weight_decay", "must be >= 0")
        require(self.step_size >= 1, "resnet.step_size", "must be >= 1")
        require(self.validate_every >= 1, "resnet.validate_every", "must be >= 1")
        require(0 < self.gamma <= 1, "resnet.gamma", "must be in (0, 1]")
        require(0 <= self.warmup_epochs < self.epochs, "resnet.warmup_epochs", "must be in [0, epochs)")
        require(self.stem_stride in (1, 2), "resnet.stem_stride", "must be 1 or 2")
        require(0 <= self.ema < 1, "resnet.ema", "must be in [0, 1) (0: off)")
        require(self.members >= 1, "resnet.members", "must be >= 1")
        require(self.heatmap_reg >= 0, "resnet.heatmap_reg", "must be >= 0 (0: off)")
        require(self.head == "soft_argmax" or not self.fine_heatmaps, "resnet.fine_heatmaps",
                "needs head: soft_argmax (the pool head has no heatmaps)")

    @property
    def max_epochs(self) -> int:
        # The pseudo-labelling network and each member train one after another.
        return self.epochs * (self.members + self.pseudo_labels)


@dataclasses.dataclass(frozen=True)
class AdamPhase:
    epochs: int
    lr: float


@dataclasses.dataclass(frozen=True)
class SgdPhase:
    epochs: int
    lr: float
    momentum: float
    plateau_factor: float  # ReduceLROnPlateau
    plateau_patience: int
    patience: int  # early stopping; the best checkpoint is kept


@dataclasses.dataclass(frozen=True)
class CnnParams(ModelParams):
    seed: int
    batch_size: int
    loss: Loss
    huber_delta: float  # in pixels
    dropout: float
    first_stride: int  # 2: the first block's conv strides 2 (a quarter of its work)
    first_pool: int  # the first block's max-pool: 2 after a stride 2 runs the other blocks on 24x24 and 12x12 maps
    last_pool: int  # the third block's max-pool: 4 gives the first Dense 6x6x128 inputs instead of 12x12x128
    normalize_targets: bool
    threads: int
    adam: AdamPhase
    sgd: SgdPhase
    augment: AugmentParams

    def __post_init__(self) -> None:
        _check_training("cnn", self.max_epochs, self.batch_size, self.adam.lr,
                        self.sgd.patience, self.threads)
        require(self.sgd.lr > 0, "cnn.sgd.lr", "must be > 0")
        require(0 <= self.sgd.momentum < 1, "cnn.sgd.momentum", "must be in [0, 1)")
        require(0 < self.sgd.plateau_factor < 1, "cnn.sgd.plateau_factor", "must be in (0, 1)")
        require(0 <= self.dropout < 1, "cnn.dropout", "must be in [0, 1)")
        require(self.first_stride in (1, 2), "cnn.first_stride", "must be 1 or 2")
        require(self.first_pool in (1, 2), "cnn.first_pool", "must be 1 or 2")
        require(self.first_stride * self.first_pool > 1, "cnn.first_pool",
                "must be 2 when cnn.first_stride is 1 (the first block halves the face, by stride or pool)")
        require(self.last_pool in (2, 4), "cnn.last_pool", "must be 2 or 4")
        require(self.huber_delta > 0, "cnn.huber_delta", "must be > 0")

    @property
    def max_epochs(self) -> int:
        return self.adam.epochs + self.sgd.epochs


def _check_training(name: str, epochs: int, batch_size: int, lr: float, patience: int, threads: int) -> None:
    require(epochs >= 1, f"{name}.epochs", "must be >= 1")
    require(batch_size >= 1, f"{name}.batch_size", "must be >= 1")
    require(lr > 0, f"{name}.lr", "must be > 0")
    require(patience >= 1, f"{name}.patience", "must be >= 1")
    require(threads >= 0, f"{name}.threads", "must be >= 0 (0: all cores)")


@dataclasses.dataclass(frozen=True)
class EnsembleParams(ModelParams):
    """Weighted average of the predictions of trained models."""

    models: tuple[str, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        require(len(self.models) >= 1, "ensemble.models", "name at least one model")
        require("ensemble" not in self.models, "ensemble.models", "an ensemble cannot contain itself")
        require(len(set(self.models)) == len(self.models), "ensemble.models", "names a model twice")
        require(len(self.weights) == len(self.models), "ensemble.weights", "needs one weight per model")
        require(all(w > 0 for w in self.weights), "ensemble.weights", "must all be > 0")


@dataclasses.dataclass(frozen=True)
class EvaluateParams:
    flip_tta: bool  # average predictions on each face and its mirror
    zoom_tta: tuple[float, ...]  # and on the face scaled by each of these about the image centre
    n_faces: int  # validation faces drawn in the overlay pictures

    def __post_init__(self) -> None:
        require(1 <= self.n_faces <= 64, "evaluate.n_faces", "must be in [1, 64]")
        require(all(0.8 <= s <= 1.25 and s != 1 for s in self.zoom_tta), "evaluate.zoom_tta",
                "scales must be in [0.8, 1.25] and not 1 (the face as it is is always a view)")


@dataclasses.dataclass(frozen=True)
class PredictParams:
    model: str  # the model the `predict` stage runs on data/photos


@dataclasses.dataclass(frozen=True)
class Params:
    data: DataParams
    generate: GenerateParams
    split: SplitParams
    mean: MeanParams
    patch: PatchParams
    resnet: ResNetParams
    cnn: CnnParams
    ensemble: EnsembleParams
    evaluate: EvaluateParams
    predict: PredictParams

    def __post_init__(self) -> None:
        models = model_names(self)
        for i, name in enumerate(self.ensemble.models):
            # (EnsembleParams has already refused the ensemble itself.)
            require(name in models, f"ensemble.models[{i}]",
                    f"unknown model {name!r}; known models: {', '.join(m for m in models if m != 'ensemble')}")
        require(self.predict.model in models, "predict.model",
                f"unknown model {self.predict.model!r}; known models: {', '.join(models)}")


def model_names(params: Params | type[Params] = Params) -> tuple[str, ...]:
    """The sections of params.yaml that configure a model, in order: the registry's names."""
    hints = typing.get_type_hints(Params)
    return tuple(f.name for f in dataclasses.fields(params)
                 if isinstance(hints[f.name], type) and issubclass(hints[f.name], ModelParams))


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, key)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value, key)
            except ParamsError as error:
                errors.append(str(error))
        raise ParamsError(errors[0] if len(errors) == 1 else f"{key}: {value!r} matches no allowed type")
    if origin is Literal:
        allowed = typing.get_args(tp)
        require(value in allowed, key, f"expected one of {list(allowed)}, got {value!r}")
        return value
    if origin is tuple:
        require(isinstance(value, (list, tuple)), key, f"expected a list, got {value!r}")
        (item_type, _ellipsis) = typing.get_args(tp)
        return tuple(_coerce(item_type, item, f"{key}[{i}]") for i, item in enumerate(value))
    if origin is dict:
        require(isinstance(value, dict), key, f"expected a mapping, got {value!r}")
        key_type, value_type = typing.get_args(tp)
        return {
            _coerce(key_type, k, f"{key}.{k}"): _coerce(value_type, v, f"{key}.{k}")
            for k, v in value.items()
        }
    if tp is bool:
        require(isinstance(value, bool), key, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        require(isinstance(value, int) and not isinstance(value, bool), key,
                f"expected an integer, got {value!r}")
        return value
    if tp is float:
        require(isinstance(value, (int, float)) and not isinstance(value, bool), key,
                f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        require(isinstance(value, str), key, f"expected a string, got {value!r}")
        return value
    raise TypeError(f"{key}: unsupported parameter type {_type_name(tp)}")


def build(cls: type, raw: Any, prefix: str = "") -> Any:
    """Build dataclass `cls` from a mapping, rejecting unknown keys and wrong types."""
    where = prefix or "params.yaml"
    if raw is None:
        raw = {}
    require(isinstance(raw, dict), where, f"expected a mapping, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in raw:
        require(name in fields, f"{prefix}.{name}" if prefix else str(name),
                f"unknown key (known keys: {', '.join(fields)})")
    hints = typing.get_type_hints(cls)
    kwargs = {
        name: _coerce(hints[name], raw[name], f"{prefix}.{name}" if prefix else name)
        for name in fields
        if name in raw
    }
    for name in fields:
        require(name in raw, f"{prefix}.{name}" if prefix else name,
                "missing: params.yaml sets every key (the committed params.yaml has them all)")
    return cls(**kwargs)


def parse_params(raw: Any) -> Params:
    return build(Params, raw)


def read_yaml(path: str | Path, missing: str = "not found; run from the project root") -> Any:
    """A YAML file's contents; a missing or malformed file is a ParamsError naming it."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ParamsError(f"{path}: {missing}") from None
    except yaml.YAMLError as error:
        raise ParamsError(f"{path}: not valid YAML: {error}") from None


def load_params(path: str | Path = "params.yaml") -> Params:
    return parse_params(read_yaml(path))
