"""`params.yaml`, loaded once into typed, frozen, validated dataclasses.

Every error names the offending key, e.g. `split.val_fraction: expected a number, got 'x'`.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml


class ParamsError(ValueError):
    """A key in params.yaml is unknown, missing, ill-typed or out of range."""


def require(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ParamsError(f"{key}: {message}")


@dataclasses.dataclass(frozen=True)
class DataParams:
    raw_dir: str = "data/raw/sample"


@dataclasses.dataclass(frozen=True)
class GenerateParams:
    """Sizes and seed of the embedded procedural face data set."""

    seed: int = 2024
    n_train: int = 3000
    n_test: int = 500
    full_fraction: float = 0.3

    def __post_init__(self) -> None:
        require(self.n_train >= 1, "generate.n_train", "must be >= 1")
        require(self.n_test >= 1, "generate.n_test", "must be >= 1")
        require(0.0 <= self.full_fraction <= 1.0, "generate.full_fraction", "must be in [0, 1]")


@dataclasses.dataclass(frozen=True)
class SplitParams:
    val_fraction: float = 0.2
    seed: int = 42

    def __post_init__(self) -> None:
        require(0.0 < self.val_fraction < 1.0, "split.val_fraction", "must be in (0, 1)")


@dataclasses.dataclass(frozen=True)
class Params:
    data: DataParams = DataParams()
    generate: GenerateParams = GenerateParams()
    split: SplitParams = SplitParams()


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
    return cls(**kwargs)


def parse_params(raw: Any) -> Params:
    return build(Params, raw)


def load_params(path: str | Path = "params.yaml") -> Params:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ParamsError(f"{path}: not found; run from the project root") from None
    except yaml.YAMLError as error:
        raise ParamsError(f"{path}: not valid YAML: {error}") from None
    return parse_params(raw)
