"""Grossly wrong training labels, by stages/lib/cleaning.py's rule on predictions of unseen faces.

Reads what `bench/accuracy.py --folds K` keeps of a model's fold run (`<model>_unseen_predictions.npz`
in its work folder: each fold's faces predicted by the network of that fold, which never trained
on them, and the hold-out by the fold ensemble), flags each label the rule calls grossly wrong,
and writes the list `split.wrong_labels` can name (data/labels/README.md says its columns).

usage: python bench/wrong_labels.py [--data kaggle-train-jpeg] [--model resnet] [--folds 5]
           [--work bench/out/accuracy] [--out data/labels/kaggle-training.csv]
Run the fold run first, with the same --folds and --work (it trains nothing that it has).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stages.lib.cleaning import GROSS_PX, GROSS_SCALES, gross_labels, label_list, write_label_list  # noqa: E402
from stages.lib.io import load_npz  # noqa: E402
from stages.lib.sources import SOURCES, label_sources  # noqa: E402
from stages.lib.cli import run  # noqa: E402


def fold_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that name a fold run of bench/accuracy.py and its work folder."""
    parser.add_argument("--data", default="kaggle-train-jpeg")
    parser.add_argument("--model", default="resnet")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "accuracy")


def unseen_predictions(args) -> dict[str, np.ndarray]:
    """What the fold run named by `fold_run_arguments` kept: every face predicted unseen, or one
    line saying which run to make first."""
    source = args.work / args.data / f"folds{args.folds}" / f"{args.model}_unseen_predictions.npz"
    if not source.exists():
        sys.exit(f"{source}: not found; run bench/accuracy.py --data {args.data} --models {args.model} "
                 f"--folds {args.folds} first")
    return load_npz(source)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    fold_run_arguments(parser)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "labels" / "kaggle-training.csv")
    args = parser.parse_args()
    saved = unseen_predictions(args)
    flagged = gross_labels(saved["predictions"], saved["labels"])
    records = label_list(saved["rows"], saved["predictions"], saved["labels"], flagged)
    faces = flagged.any(axis=1)
    sources = label_sources(saved["labels"])
    by_source = ", ".join(f"{(faces & (sources == s)).sum()} of {(sources == s).sum()} {s} faces" for s in SOURCES)
    header = (f"Grossly wrong labels of {args.data}'s training.csv (the rows and labels of Kaggle's), by "
              f"stages/lib/cleaning.py's rule:\n"
              f"the label lies over {GROSS_PX:g} px and over {GROSS_SCALES:g} times its keypoint's median residual "
              f"from the prediction of a network that never trained on the face\n"
              f"({args.model}, {args.folds} folds and the hold-out's fold ensemble: bench/wrong_labels.py).\n"
              f"{len(records)} labels on {faces.sum()} faces: {by_source}.")
    write_label_list(args.out, records, header)
    print(header)
    print(f"-> {args.out}")


if __name__ == "__main__":
    run(main)  # bad params or input: one line, not a traceback
