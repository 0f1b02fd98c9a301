"""`params.yaml`, loaded once into typed, frozen, validated dataclasses.

`params.yaml` is the one source of every value: the dataclasses declare types and ranges, not
defaults, and every key must be set. Every error names the offending key in full, e.g.
`split.val_fraction: expected a number, got 'x'` or `resnet.augment.rotate: must be >= 0`.

Conventions, so that a value never means "off" by magic:
- `null` switches an optional feature off (`resnet.patience: null`: never stop early; `resnet.ema:
  null`: no moving average; `resnet.head.heatmap_reg: null`: no pull on the heatmaps).
- A setting with modes is a mapping with a `kind`, and holds only that kind's keys
  (`schedule: {kind: step, step_size: 10, gamma: 0.1}`); switching kinds replaces the mapping
  (`dvc exp run -S '~resnet.schedule' -S '+resnet.schedule={kind:step,step_size:10,gamma:0.1}'`,
  which `python -m stages.profile` writes for a profile).
- Words for the rest: `threads: all`, `validate_every: last`.

The model sections are the model registry's (`stages/lib/models/__init__.py`): `Params` is built
from it, one field per registered model, typed by the params class the registration names.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from pathlib import Path
from typing import Any, Callable, Literal

import yaml

from .errors import UserError


class ParamsError(UserError):
    """A key in params.yaml is unknown, missing, ill-typed or out of range."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}" if key else message)
        self.key, self.message = key, message

    def under(self, prefix: str) -> "ParamsError":
        """The same error with its key named from the file's top (`rotate` -> `resnet.augment.rotate`)."""
        return ParamsError(_join(prefix, self.key), self.message) if prefix else self


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix and key and not key.startswith("[") else f"{prefix}{key}"


def require(condition: bool, key: str, message: str | Callable[[], str]) -> None:
    """Raise ParamsError for `key` (relative to the section being checked) unless `condition`.

    A message that quotes the value is a callable, built only when the check fails.
    """
    if not condition:
        raise ParamsError(key, message() if callable(message) else message)


def shown(value: Any, limit: int = 60) -> str:
    """`repr(value)`, cut to `limit` characters: an error line never carries a whole file."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


# Seeds reach numpy, torch and Keras; Keras takes them below 2**32.
SEED_RANGE = (0, 2 ** 32 - 1)
# Integers beyond this are typos (and overflow the frameworks' C integers).
INT_LIMIT = 2 ** 53
MAX_THREADS = 1024


def require_seed(seed: int) -> None:
    require(SEED_RANGE[0] <= seed <= SEED_RANGE[1], "seed", f"must be in [0, 2**32 - 1], got {seed}")


Threads = int | Literal["all"]


def require_threads(threads: Threads) -> None:
    require(threads == "all" or 1 <= threads <= MAX_THREADS, "threads",
            f"must be 'all' (every core this process may use) or in [1, {MAX_THREADS}]")


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
        require_seed(self.seed)
        require(1 <= self.n_train <= 1_000_000, "n_train", "must be in [1, 1000000]")
        require(1 <= self.n_test <= 1_000_000, "n_test", "must be in [1, 1000000]")
        require(0.0 <= self.full_fraction <= 1.0, "full_fraction", "must be in [0, 1]")


@dataclasses.dataclass(frozen=True)
class SplitParams:
    val_fraction: float
    seed: int
    # RMS difference of two faces' standardised 24x24 thumbnails below which they are one photo
    # (lib/split.py says how it was measured).
    duplicate_distance: float
    # Training faces only (lib/cleaning.py): each group of copies trained on once, its labels
    # averaged; and a list of grossly wrong labels whose faces are left out (null: none).
    merge_copies: bool
    wrong_labels: str | None

    def __post_init__(self) -> None:
        require(0.0 < self.val_fraction < 1.0, "val_fraction", "must be in (0, 1)")
        require_seed(self.seed)
        require(0.0 <= self.duplicate_distance <= 1.0, "duplicate_distance", "must be in [0, 1] (0: exact copies only)")
        require(self.wrong_labels is None or self.wrong_labels.endswith(".csv"), "wrong_labels",
                lambda: f"must be a .csv list (lib/cleaning.py), or null (none), got {shown(self.wrong_labels)}")


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
        require(3 <= self.patch_size <= 95 and self.patch_size % 2 == 1, "patch_size", "must be odd and in [3, 95]")
        require(0 <= self.search_radius <= 10, "search_radius", "must be in [0, 10]")


@dataclasses.dataclass(frozen=True)
class Reframe:
    """A share of the faces drawn far smaller or further off-centre than `scale` and `shift` draw
    them: a few of Kaggle's crops hold a face small in the frame, low or high in it (docs/kaggle.md,
    "Reframed faces")."""

    share: float  # probability that a face takes this draw instead of the usual scale and shift
    scale: float  # the smallest scale: a reframed face is drawn at scale..1 of its size
    shift: float  # pixels, the half-width of its shift's draw

    def __post_init__(self) -> None:
        require(0 < self.share <= 1, "share", "must be a probability in (0, 1] (reframe: null switches it off)")
        require(0 < self.scale <= 1, "scale", "must be in (0, 1]")
        require(self.shift >= 0, "shift", "must be >= 0")


@dataclasses.dataclass(frozen=True)
class AugmentParams:
    """On-the-fly augmentation; every amount is the half-width of a uniform draw (0: none)."""

    flip: bool  # horizontal flip with left/right keypoint names swapped
    rotate: float  # degrees
    scale: float  # fraction, e.g. 0.1 for 0.9..1.1
    shift: float  # pixels
    brightness: float  # fraction of the 0..255 range
    contrast: float  # fraction
    blur: float  # probability of a Gaussian blur (sigma 0.4..1.2)
    reframe: Reframe | None  # null: every face takes the scale and shift above

    def __post_init__(self) -> None:
        for name in ("rotate", "scale", "shift", "brightness", "contrast"):
            require(getattr(self, name) >= 0, name, "must be >= 0")
        require(self.rotate <= 180, "rotate", "must be <= 180 (degrees)")
        require(self.scale < 1, "scale", "must be < 1")
        require(0 <= self.blur <= 1, "blur", "must be a probability in [0, 1]")

    @staticmethod
    def off() -> "AugmentParams":
        return AugmentParams(flip=False, rotate=0.0, scale=0.0, shift=0.0, brightness=0.0, contrast=0.0, blur=0.0,
                             reframe=None)


# --- losses: one kind each, with its own widths (in pixels, whatever units the network learns in) ---
@dataclasses.dataclass(frozen=True)
class MseLoss:
    kind: Literal["mse"]


@dataclasses.dataclass(frozen=True)
class HuberLoss:
    kind: Literal["huber"]
    delta_px: float  # quadratic within this error, linear beyond

    def __post_init__(self) -> None:
        require(self.delta_px > 0, "delta_px", "must be > 0")


@dataclasses.dataclass(frozen=True)
class WingLoss:
    kind: Literal["wing"]
    width_px: float  # logarithmic within this error, linear beyond (Feng et al. 2018's w)
    curvature_px: float  # the logarithm's curvature (their epsilon)

    def __post_init__(self) -> None:
        require(self.width_px > 0, "width_px", "must be > 0")
        require(self.curvature_px > 0, "curvature_px", "must be > 0")


Loss = MseLoss | HuberLoss | WingLoss


# --- the ResNet's modes ---
@dataclasses.dataclass(frozen=True)
class CosineSchedule:
    kind: Literal["cosine"]
    warmup_epochs: int  # linear warm-up, then cosine decay to 1% of lr

    def __post_init__(self) -> None:
        require(self.warmup_epochs >= 0, "warmup_epochs", "must be >= 0")


@dataclasses.dataclass(frozen=True)
class StepSchedule:
    kind: Literal["step"]
    step_size: int  # StepLR period (epochs)
    gamma: float  # StepLR factor

    def __post_init__(self) -> None:
        require(self.step_size >= 1, "step_size", "must be >= 1")
        require(0 < self.gamma <= 1, "gamma", "must be in (0, 1]")


@dataclasses.dataclass(frozen=True)
class HeatmapReg:
    """The pull of each heatmap towards a Gaussian at its label (DSNT's regularizer): it gives the
    heatmaps a shape, so their spread is a confidence (photos' face score)."""

    weight: float
    sigma_px: float  # the Gaussian's width; 8 px is one cell of the 12x12 heatmaps

    def __post_init__(self) -> None:
        require(self.weight > 0, "weight", "must be > 0 (heatmap_reg: null switches it off)")
        require(self.sigma_px > 0, "sigma_px", "must be > 0")


@dataclasses.dataclass(frozen=True)
class SoftArgmaxHead:
    """Heatmaps; each keypoint at its heatmap's expected position (integral regression)."""

    kind: Literal["soft_argmax"]
    heatmap_reg: HeatmapReg | None  # null: no pull (and no confidence for photos)
    fine_heatmaps: bool  # merge the 32-channel stage too: 24x24 heatmaps of 4 px cells instead of 12x12


@dataclasses.dataclass(frozen=True)
class PoolHead:
    """A Linear layer on globally pooled features."""

    kind: Literal["pool"]


@dataclasses.dataclass(frozen=True)
class ResNetParams(ModelParams):
    seed: int
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    optimizer: Literal["adam", "adamw"]
    schedule: CosineSchedule | StepSchedule
    validate_every: int | Literal["last"]  # validate every k epochs and after the last; last: after the last only
    patience: int | None  # epochs without a better validation loss before stopping; null: never stop early
    ema: float | None  # decay per step of a moving average of the weights, validated and kept; null: off
    members: int  # networks trained from seeds seed, seed + 1, ...; the model averages them
    pseudo_labels: bool  # train a first network to fill the keypoints missing from training rows
    loss: Loss
    normalize_targets: bool  # train on [-1, 1] targets instead of pixels
    stem_stride: int  # 2 halves the stem's resolution: about 4x less compute
    head: SoftArgmaxHead | PoolHead
    shortcut: Literal["norm", "plain"]  # the 1x1 shortcuts where blocks change shape: + BatchNorm, or with a bias
    sources: bool  # predict Kaggle's 4-point source's four keypoints apart (sources.py)
    mirror_offsets: bool  # learn each label source's horizontal offset, so mirror images get labels in its convention
    channels_last: bool
    bf16: bool  # bf16 autocast for training, where the CPU has native bf16
    threads: Threads
    augment: AugmentParams

    def __post_init__(self) -> None:
        require_seed(self.seed)
        require_epochs(self.epochs, "epochs")
        require_batch_size(self.batch_size)
        require_lr(self.lr, "lr")
        require_threads(self.threads)
        require(self.weight_decay >= 0, "weight_decay", "must be >= 0")
        require(self.validate_every == "last" or self.validate_every >= 1, "validate_every", "must be >= 1 or 'last'")
        require(self.patience is None or self.patience >= 1, "patience", "must be >= 1, or null (never stop early)")
        if isinstance(self.schedule, CosineSchedule):
            require(self.schedule.warmup_epochs < self.epochs, "schedule.warmup_epochs", "must be < resnet.epochs")
        require(self.stem_stride in (1, 2), "stem_stride", "must be 1 or 2")
        require(self.ema is None or 0 < self.ema < 1, "ema", "must be in (0, 1), or null (off)")
        require(1 <= self.members <= 64, "members", "must be in [1, 64]")

    @property
    def max_epochs(self) -> int:
        # The pseudo-labelling network and each member train one after another.
        return self.epochs * (self.members + self.pseudo_labels)

    @property
    def validate_interval(self) -> int:
        """Epochs between validations (the last epoch is always validated)."""
        return self.epochs if self.validate_every == "last" else self.validate_every


def require_epochs(epochs: int, key: str, low: int = 1) -> None:
    require(low <= epochs <= 100_000, key, f"must be in [{low}, 100000]")


def require_batch_size(batch_size: int) -> None:
    require(2 <= batch_size <= 65_536, "batch_size", "must be in [2, 65536] (BatchNorm needs two faces)")


def require_lr(lr: float, key: str) -> None:
    require(0 < lr <= 10, key, "must be in (0, 10]")


@dataclasses.dataclass(frozen=True)
class AdamPhase:
    epochs: int  # 0: no Adam phase
    lr: float

    def __post_init__(self) -> None:
        require_epochs(self.epochs, "epochs", low=0)
        require_lr(self.lr, "lr")


@dataclasses.dataclass(frozen=True)
class SgdPhase:
    epochs: int  # 0: no SGD phase
    lr: float
    momentum: float
    plateau_factor: float  # ReduceLROnPlateau
    plateau_patience: int
    patience: int | None  # early stopping, the best checkpoint kept; null: never stop early

    def __post_init__(self) -> None:
        require_epochs(self.epochs, "epochs", low=0)
        require_lr(self.lr, "lr")
        require(0 <= self.momentum < 1, "momentum", "must be in [0, 1)")
        require(0 < self.plateau_factor < 1, "plateau_factor", "must be in (0, 1)")
        require(self.plateau_patience >= 1, "plateau_patience", "must be >= 1")
        require(self.patience is None or self.patience >= 1, "patience", "must be >= 1, or null (never stop early)")


@dataclasses.dataclass(frozen=True)
class CnnParams(ModelParams):
    seed: int
    batch_size: int
    loss: Loss
    dropout: float
    first_stride: int  # 2: the first block's conv strides 2 (a quarter of its work)
    first_pool: int  # the first block's max-pool: 2 after a stride 2 runs the other blocks on 24x24 and 12x12 maps
    last_pool: int  # the third block's max-pool: 4 gives the first Dense 6x6x128 inputs instead of 12x12x128
    normalize_targets: bool
    threads: Threads
    adam: AdamPhase
    sgd: SgdPhase
    augment: AugmentParams

    def __post_init__(self) -> None:
        require_seed(self.seed)
        require_batch_size(self.batch_size)
        require_threads(self.threads)
        require(self.max_epochs >= 1, "adam.epochs", "cnn.adam.epochs + cnn.sgd.epochs must be >= 1")
        require(0 <= self.dropout < 1, "dropout", "must be in [0, 1)")
        require(self.first_stride in (1, 2), "first_stride", "must be 1 or 2")
        require(self.first_pool in (1, 2), "first_pool", "must be 1 or 2")
        require(self.first_stride * self.first_pool > 1, "first_pool",
                "must be 2 when cnn.first_stride is 1 (the first block halves the face, by stride or pool)")
        require(self.last_pool in (2, 4), "last_pool", "must be 2 or 4")

    @property
    def max_epochs(self) -> int:
        return self.adam.epochs + self.sgd.epochs


@dataclasses.dataclass(frozen=True)
class EnsembleParams(ModelParams):
    """Weighted average of the predictions of trained models."""

    models: tuple[str, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        require(len(self.models) >= 1, "models", "name at least one model")
        require("ensemble" not in self.models, "models", "an ensemble cannot contain itself")
        require(len(set(self.models)) == len(self.models), "models", "names a model twice")
        require(len(self.weights) == len(self.models), "weights", "needs one weight per model")
        require(all(w > 0 for w in self.weights), "weights", "must all be > 0")


@dataclasses.dataclass(frozen=True)
class FoldsParams(ModelParams):
    """A fold ensemble: `model` trained once per fold, on the other folds, and averaged (docs/kaggle.md)."""

    ids: tuple[int, ...]  # the folds, 0 .. K-1; (): none, the 80/20 split
    model: str  # the trained model of each fold; its section holds its params

    def __post_init__(self) -> None:
        require(self.ids == () or (len(self.ids) >= 2 and self.ids == tuple(range(len(self.ids)))), "ids",
                lambda: f"must be [] (no folds: the 80/20 split) or 0 .. K-1 for K >= 2 folds, e.g. [0, 1, 2, 3, 4]; "
                        f"got {shown(list(self.ids))}")

    @property
    def on(self) -> bool:
        return bool(self.ids)


@dataclasses.dataclass(frozen=True)
class EvaluateParams:
    flip_tta: bool  # average predictions on each face and its mirror
    zoom_tta: tuple[float, ...]  # and on the face scaled by each of these about the image centre
    n_faces: int  # validation faces drawn in the overlay pictures

    def __post_init__(self) -> None:
        require(1 <= self.n_faces <= 64, "n_faces", "must be in [1, 64]")
        require(all(0.8 <= s <= 1.25 and s != 1 for s in self.zoom_tta), "zoom_tta",
                "scales must be in [0.8, 1.25] and not 1 (the face as it is is always a view)")


@dataclasses.dataclass(frozen=True)
class PredictParams:
    model: str  # the model that `stages.predict` (and the `predict` stage) runs on photos


@dataclasses.dataclass(frozen=True)
class Params:
    """The sections every project has; `params_class()` adds one per registered model."""

    data: DataParams
    generate: GenerateParams
    split: SplitParams
    evaluate: EvaluateParams
    predict: PredictParams

    def __post_init__(self) -> None:
        models, trained = model_names(), trained_names()
        for i, name in enumerate(self.ensemble.models):
            # (EnsembleParams has already refused the ensemble itself.)
            require(name in trained, f"ensemble.models[{i}]",
                    lambda: f"unknown model {shown(name)}; the ensemble averages trained models: {', '.join(trained)}")
            require(self.trains(name), f"ensemble.models[{i}]", lambda: f"names {name}, which is off ({name}: null)")
        require(self.predict.model in models, "predict.model",
                lambda: f"unknown model {shown(self.predict.model)}; known models: {', '.join(models)}")
        require(self.trains(self.predict.model), "predict.model",
                lambda: f"names {self.predict.model}, which is off ({self.off_because(self.predict.model)})")
        require(self.folds.model in trained, "folds.model",
                lambda: f"must be a trained model ({', '.join(trained)}), got {shown(self.folds.model)}")
        require(not self.folds.on or self.trains(self.folds.model), "folds.model",
                lambda: f"names {self.folds.model}, which is off ({self.folds.model}: null)")

    def model(self, name: str) -> ModelParams | None:
        """The section of model `name`; None for a trained model that params.yaml turns off."""
        return getattr(self, name)

    def trains(self, name: str) -> bool:
        """Whether model `name` is on: its section is not null (and the fold ensemble has folds)."""
        section = self.model(name)
        return section is not None and getattr(section, "on", True)

    def off_because(self, name: str) -> str:
        """What turns model `name` off, in params.yaml's words."""
        return "folds.ids: [], no folds" if self.model(name) is not None else f"{name}: null"


def model_names() -> tuple[str, ...]:
    """The sections of params.yaml that configure a model, in order: the registry's names."""
    from .models import MODELS  # the registry imports this module for the sections' classes

    return tuple(MODELS)


def trained_names() -> tuple[str, ...]:
    """The registry's trained models: those with a folder of their own."""
    from .models import MODELS

    return tuple(name for name, entry in MODELS.items() if entry.trained)


def params_class() -> type[Params]:
    """`Params` with one more field per registered model, typed by its registration's params class."""
    from .models import MODELS

    # A trained model's section may be null: that model is off, its stages write "not trained".
    return _with_models(tuple((name, entry.params | None if entry.trained else entry.params)
                              for name, entry in MODELS.items()))


@functools.lru_cache(maxsize=None)
def _with_models(models: tuple[tuple[str, type], ...]) -> type[Params]:
    cls = dataclasses.make_dataclass("Params", list(models), bases=(Params,), frozen=True)
    cls.__module__ = __name__
    return cls


# --- building dataclasses from YAML values ---
def _kind_of(tp: Any) -> Any:
    """The `kind` a mode's dataclass declares (Literal["step"] -> "step"), or None."""
    hints = typing.get_type_hints(tp) if dataclasses.is_dataclass(tp) else {}
    return typing.get_args(hints["kind"])[0] if "kind" in hints else None


_SCALARS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _fits(tp: Any, value: Any) -> bool:
    """Whether `value` has the shape of a scalar option of a union (anything else: try it)."""
    if typing.get_origin(tp) is Literal:
        return any(value == allowed and type(value) is type(allowed) for allowed in typing.get_args(tp))
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, tp) and (tp is bool or not isinstance(value, bool)) if tp in _SCALARS else True


def _describe(tp: Any) -> str:
    if typing.get_origin(tp) is Literal:
        return " or ".join(repr(word) for word in typing.get_args(tp))
    return _SCALARS.get(tp, getattr(tp, "__name__", str(tp)))


def _coerce(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, key)
    if origin in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(tp) if option is not type(None)]
        if value is None:
            require(len(options) < len(typing.get_args(tp)), key, "must be set (null is not allowed here)")
            return None
        modes = {_kind_of(option): option for option in options if _kind_of(option) is not None}
        if modes:  # a setting with modes: its `kind` picks the dataclass
            require(isinstance(value, dict) and "kind" in value, key,
                    lambda: f"expected a mapping with a kind (one of {list(modes)}), got {shown(value)}")
            require(value["kind"] in modes, _join(key, "kind"),
                    lambda: f"expected one of {list(modes)}, got {shown(value['kind'])}")
            return build(modes[value["kind"]], value, key)
        if len(options) == 1:
            return _coerce(options[0], value, key)
        for option in options:
            if _fits(option, value):
                return _coerce(option, value, key)
        raise ParamsError(key, f"expected {' or '.join(_describe(option) for option in options)}, got {shown(value)}")
    if origin is tuple:
        require(isinstance(value, (list, tuple)), key, lambda: f"expected a list, got {shown(value)}")
        (item_type, _ellipsis) = typing.get_args(tp)
        return tuple(_coerce(item_type, item, f"{key}[{i}]") for i, item in enumerate(value))
    if origin is Literal or tp in _SCALARS:
        require(_fits(tp, value), key, lambda: f"expected {_describe(tp)}, got {shown(value)}")
        if tp in (int, float):
            require(math.isfinite(value) and abs(value) <= INT_LIMIT, key,
                    lambda: f"expected a finite number, got {shown(value)}" if tp is float
                    else f"{shown(value)} is out of range")
        return float(value) if tp is float else value
    raise TypeError(f"{key}: unsupported parameter type {getattr(tp, '__name__', tp)}")


def build(cls: type, raw: Any, prefix: str = "") -> Any:
    """Build dataclass `cls` from a mapping, rejecting unknown, missing and ill-typed keys."""
    require(isinstance(raw, dict), prefix or "params.yaml", lambda: f"expected a mapping, got {shown(raw)}")
    fields = [f.name for f in dataclasses.fields(cls)]
    for name in raw:
        require(name in fields, _join(prefix, str(name)), lambda: f"unknown key (known keys: {', '.join(fields)})")
    hints = typing.get_type_hints(cls)
    kwargs = {name: _coerce(hints[name], raw[name], _join(prefix, name)) for name in fields if name in raw}
    for name in fields:
        require(name in raw, _join(prefix, name),
                "missing: params.yaml sets every key (the committed params.yaml has them all)")
    try:
        return cls(**kwargs)
    except ParamsError as error:
        raise error.under(prefix) from None


def parse_params(raw: Any) -> Params:
    return build(params_class(), raw)


# --- reading YAML: one line per error, no duplicate keys, no alias bombs ---
# A params file has a few hundred values; aliases that expand past this are refused, not built.
MAX_YAML_NODES = 100_000


class _StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key set twice in one mapping (as DVC does)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {shown(key)} is set twice (first on line {seen[key] + 1})", key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document holds with every alias expanded, counted without expanding."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        if id(node) not in sizes:
            sizes[id(node)] = 0  # a recursive alias counts once (SafeLoader builds it as a cycle)
            children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) \
                else node.value if isinstance(node, yaml.SequenceNode) else []
            sizes[id(node)] = min(1 + sum(size(child) for child in children), 10 * MAX_YAML_NODES)
        return sizes[id(node)]

    return size(root)


def parse_yaml(text: str, where: str) -> Any:
    """A YAML document's contents; a malformed one is a ParamsError in one line naming `where`."""
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        if _expanded_size(root) > MAX_YAML_NODES:
            raise ParamsError(where, f"its aliases expand to over {MAX_YAML_NODES} values; write the values out")
        return loader.construct_document(root)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ParamsError(where, f"{at}not valid YAML ({problem})") from None
    finally:
        loader.dispose()


def read_yaml(path: str | Path, missing: str = "not found; run from the project root") -> Any:
    """A YAML file's contents; a missing or malformed file is a ParamsError naming it."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ParamsError(str(path), missing) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ParamsError(str(path), f"cannot be read ({error.__class__.__name__})") from None
    return parse_yaml(text, str(path))


def load_params(path: str | Path = "params.yaml") -> Params:
    return parse_params(read_yaml(path))
