"""Profiles: partial `params.yaml` files (e.g. profiles/real.yaml) laid over the full one.

A profile only names the keys it changes, and may extend another (`extends: real.yaml`).
`merge` lays it over params.yaml; `set_flags` spells it as `dvc exp run -S key=value` flags, so an
experiment records every changed key.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from .params import ParamsError, parse_yaml, read_yaml


def load_profile(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict:
    """The profile's overrides; `extends: other.yaml` (beside it) lays them over that profile's."""
    path = Path(path)
    raw = read_yaml(path, missing="profile not found")
    if not isinstance(raw, dict):
        raise ParamsError(str(path), "a profile is a mapping of params.yaml sections")
    base = raw.pop("extends", None)
    if base is None:
        return raw
    if not isinstance(base, str):
        raise ParamsError(str(path), "extends: must name one profile file")
    parent = (path.parent / base).resolve()
    if parent in _seen or parent == path.resolve():
        raise ParamsError(str(path), f"extends: {base} leads back to this profile (a loop)")
    return merge(load_profile(parent, (*_seen, path.resolve())), raw)


class Whole(dict):
    """A mapping that replaces params.yaml's whole rather than key by key (`differences`)."""


def switches_kind(base: Any, value: Any) -> bool:
    """`value` is a setting with modes (a mapping with a `kind`) that picks another mode than `base`:
    it replaces `base` whole, since each mode has keys of its own (params.py)."""
    return isinstance(value, dict) and "kind" in value and (not isinstance(base, dict) or base.get("kind") != value["kind"])


def merge(base: dict, overrides: dict) -> dict:
    """`base` with `overrides` laid over it, mappings merged key by key, anything else replaced
    (and a mapping that switches a setting's `kind` replaced whole)."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and not switches_kind(base[key], value):
            merged[key] = merge(base[key], value)
        else:
            merged[key] = value
    return merged


def layered(base: dict, profile: dict, assignments: Iterable[str] = ()) -> dict:
    """`base` (params.yaml's values) with the profile laid over it, then each `KEY=VALUE` in turn:
    what `--set` means to `stages.kaggle` and to `bench/accuracy.py` alike."""
    for override in (profile, *map(parse_assignment, assignments)):
        base = merge(base, override)
    return base


def differences(base: dict, resolved: dict) -> dict:
    """The keys where `resolved` differs from `base`, for `set_flags`.

    A mapping that has lost keys of base's (a setting turned off in a profile, then on again with
    fewer keys by `--set`) or switched its `kind` is marked `Whole`: merged key by key, the lost
    keys would come back from params.yaml.
    """
    changed = {}
    for key, value in resolved.items():
        old = base.get(key)
        if key in base and old == value:
            continue
        if isinstance(value, dict) and isinstance(old, dict):
            whole = switches_kind(old, value) or bool(set(old) - set(value))
            changed[key] = Whole(value) if whole else differences(old, value)
        else:
            changed[key] = value
    return changed


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
            if isinstance(value, dict) and isinstance(old, dict) and not switches_kind(old, value):
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


def _flag_value(key: str, value: Any) -> str:
    """A scalar, flow list or flow mapping with no spaces, as DVC's -S (Hydra's override grammar)
    reads it, so that `$(python -m stages.profile ...)` splits right."""
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_flag_value(key, item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_flag_value(f'{key}.{k}', v)}" for k, v in value.items()) + "}"
    text = "null" if value is None else json.dumps(value) if isinstance(value, (bool, int, float)) else str(value)
    if not text or any(c.isspace() for c in text) or any(c in text for c in "[]{},:'\"#"):
        raise ParamsError(key, f"{value!r} cannot be written as a -S flag")
    return text


def set_flags(overrides: dict, base: dict, prefix: str = "") -> list[str]:
    """`-S key=value` per leaf of `overrides`, values as DVC parses them: true, 0.5, null, [resnet,cnn].

    A mapping that switches a setting's `kind` in `base` (params.yaml's values), or is marked
    `Whole`, is removed and written whole (`-S ~key -S +key={kind:step,...}`): DVC would otherwise
    merge the old mode's keys in.
    A mapping where `base` has null is written whole too (`-S key={weight:1.0,...}`).
    """
    flags = []
    for key, value in overrides.items():
        name, old = f"{prefix}{key}", base.get(key) if isinstance(base, dict) else None
        if isinstance(value, dict) and value and not isinstance(old, dict):  # null (or a scalar) -> a mapping
            flags += ["-S", f"{name}={_flag_value(name, value)}"]
        elif switches_kind(old, value) or isinstance(value, Whole):
            flags += ["-S", f"~{name}", "-S", f"+{name}={_flag_value(name, value)}"]
        elif isinstance(value, dict) and value:
            flags += set_flags(value, old, name + ".")
        else:
            flags += ["-S", f"{name}={_flag_value(name, value)}"]
    return flags


def parse_assignment(assignment: str) -> dict:
    """`resnet.augment.rotate=0` (as `dvc exp run -S` takes it) -> {"resnet": {"augment": {"rotate": 0}}}."""
    key, separator, value = assignment.partition("=")
    if not separator or not key:
        raise ParamsError("", f"{assignment!r}: expected KEY=VALUE, e.g. resnet.lr=0.001")
    override = parse_yaml(value, key)
    for part in reversed(key.split(".")):
        override = {part: override}
    return override
