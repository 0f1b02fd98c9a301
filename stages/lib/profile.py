"""Profiles: partial `params.yaml` files (e.g. profiles/real.yaml) laid over the full one.

A profile only names the keys it changes, and may extend another (`extends: real.yaml`).
`merge` lays it over params.yaml; `set_flags` spells it as `dvc exp run -S key=value` flags, so an
experiment records every changed key.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .params import ParamsError, read_yaml


def load_profile(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict:
    """The profile's overrides; `extends: other.yaml` (beside it) lays them over that profile's."""
    path = Path(path)
    raw = read_yaml(path, missing="profile not found")
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: a profile is a mapping of params.yaml sections")
    base = raw.pop("extends", None)
    if base is None:
        return raw
    if not isinstance(base, str):
        raise ParamsError(f"{path}: extends: must name one profile file")
    parent = (path.parent / base).resolve()
    if parent in _seen or parent == path.resolve():
        raise ParamsError(f"{path}: extends: {base} leads back to this profile (a loop)")
    return merge(load_profile(parent, (*_seen, path.resolve())), raw)


def merge(base: dict, overrides: dict) -> dict:
    """`base` with `overrides` laid over it, mappings merged key by key, anything else replaced."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = merge(base[key], value)
        else:
            merged[key] = value
    return merged


def apply_to_text(text: str, overrides: dict) -> str:
    """params.yaml's text with `overrides` laid over it, comments, order and layout kept.

    A round-tripping YAML reader (ruamel.yaml, which DVC itself uses) keeps the comments that
    explain each key; a plain `yaml.safe_dump` would drop them all.
    """
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    yaml_rt = YAML()
    yaml_rt.preserve_quotes = True
    document = yaml_rt.load(text)

    def lay(target: CommentedMap, tree: dict) -> None:
        for key, value in tree.items():
            old = target.get(key)
            if isinstance(value, dict) and isinstance(old, dict):
                lay(old, value)
            elif isinstance(value, list) and isinstance(old, CommentedSeq):
                seq = CommentedSeq(value)
                if old.fa.flow_style():
                    seq.fa.set_flow_style()
                target[key] = seq
            else:
                target[key] = value

    lay(document, overrides)
    out = io.StringIO()
    yaml_rt.dump(document, out)
    return out.getvalue()


def _leaves(tree: dict, prefix: str = "") -> list[tuple[str, Any]]:
    leaves = []
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            leaves += _leaves(value, name + ".")
        else:
            leaves.append((name, value))
    return leaves


def _flag_value(key: str, value: Any) -> str:
    """A YAML scalar or flow list with no spaces, so `$(python -m stages.profile ...)` splits right."""
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_flag_value(key, item) for item in value) + "]"
    text = json.dumps(value) if isinstance(value, (bool, int, float)) or value is None else str(value)
    if not text or any(c.isspace() for c in text) or any(c in text for c in "[],'\"#"):
        raise ParamsError(f"{key}: {value!r} cannot be written as a -S flag")
    return text


def set_flags(overrides: dict) -> list[str]:
    """`-S key=value` per leaf, values as DVC parses them (YAML): true, 0.5, huber, [resnet,cnn]."""
    flags = []
    for key, value in _leaves(overrides):
        flags += ["-S", f"{key}={_flag_value(key, value)}"]
    return flags


def parse_assignment(assignment: str) -> dict:
    """`resnet.augment.rotate=0` (as `dvc exp run -S` takes it) -> {"resnet": {"augment": {"rotate": 0}}}."""
    key, separator, value = assignment.partition("=")
    if not separator or not key:
        raise ParamsError(f"{assignment!r}: expected KEY=VALUE, e.g. resnet.lr=0.001")
    override = yaml.safe_load(value)
    for part in reversed(key.split(".")):
        override = {part: override}
    return override
