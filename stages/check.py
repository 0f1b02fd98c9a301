"""Stage `check`: params.yaml and the raw data it names, checked before any other stage runs.

usage: python -m stages.check RAW_DIR GENERATED_DIR OUT
  RAW_DIR: data.raw_dir; GENERATED_DIR: the embedded data's folder (stage `generate` makes it).

Every other stage starts downstream of this one, so a typo such as `predict.model=nope` or a
`data.raw_dir` without Kaggle's files stops `dvc repro` (or `dvc exp run`) in seconds, with a
message naming the key, instead of after the training or with DVC's bare "No such file". OUT
holds a fixed line: rerunning the check never makes the stages after it rerun.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .lib.cli import run
from .lib.io import atomic_file
from .lib.kaggle_csv import check_raw_dir
from .lib.params import ParamsError, load_params

CHECKED = "params.yaml and data.raw_dir checked\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Check params.yaml and data.raw_dir.")
    parser.add_argument("raw_dir", type=Path, help="data.raw_dir")
    parser.add_argument("generated", type=Path, help="the embedded data's folder, made by stage generate")
    parser.add_argument("out")
    args = parser.parse_args()
    params = load_params()  # every key and every model name (ensemble.models, predict.model)
    listed = params.split.wrong_labels
    if listed is not None and not Path(listed).is_file():
        raise ParamsError("split.wrong_labels", f"{listed}: no such file (a list of stages/lib/cleaning.py, or null)")
    if args.raw_dir.resolve() != args.generated.resolve():
        check_raw_dir(args.raw_dir)
    with atomic_file(args.out, "w") as handle:
        handle.write(CHECKED)
    print(CHECKED.strip())


if __name__ == "__main__":
    run(main)
