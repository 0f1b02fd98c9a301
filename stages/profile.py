"""Lay a profile (a partial params.yaml, e.g. profiles/real.yaml) over params.yaml.

usage: python -m stages.profile PROFILE            print its `dvc exp run -S` flags
       python -m stages.profile PROFILE --apply    merge it into params.yaml in place, comments kept

e.g. `dvc exp run $(python -m stages.profile profiles/real.yaml) -S data.raw_dir=data/raw/kaggle`
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .lib.cli import run
from .lib.io import atomic_file
from .lib.params import parse_params, read_yaml
from .lib.profile import apply_to_text, load_profile, merge, set_flags

PARAMS_FILE = "params.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description="Lay a profile over params.yaml.")
    parser.add_argument("profile")
    parser.add_argument("--apply", action="store_true", help=f"write the merged params into {PARAMS_FILE}")
    args = parser.parse_args()
    overrides = load_profile(args.profile)
    params = read_yaml(PARAMS_FILE)
    merged = merge(params, overrides)
    parse_params(merged)  # a bad key or value fails here, naming it, before anything is written
    if args.apply:
        text = apply_to_text(Path(PARAMS_FILE).read_text(), overrides)
        with atomic_file(PARAMS_FILE, "w") as handle:
            handle.write(text)
        print(f"{PARAMS_FILE}: {args.profile} applied")
    else:
        print(" ".join(set_flags(overrides, params)))


if __name__ == "__main__":
    run(main)
