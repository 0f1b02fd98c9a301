"""Stage `split`: seeded, stratified train/validation split of the prepared training faces.

usage: python -m stages.split PREPARED_TRAIN_NPZ OUT_DIR   (writes OUT_DIR/train.npz, val.npz)

With `folds.ids` (K folds, `lib/folds.py`), the faces are cut into K folds and an outer hold-out of
a (K+1)th instead: val.npz is the hold-out, train.npz every fold, and OUT_DIR/fold<k>/ holds fold
k's own train.npz (the other folds) and val.npz (fold k), for stage `train_fold@k`.

Stratified on "all 15 keypoints labelled", so both parts keep the fully-labelled share; copies
of one photo (near-identical faces, `lib/split.py`) land on the same side. The training part is
then cleaned as `split.merge_copies` and `split.wrong_labels` say (`lib/cleaning.py`); the
validation part keeps every face and label.
"""
from __future__ import annotations

import argparse

import numpy as np

from .lib.cleaning import clean_training, read_label_list
from .lib.cli import run
from .lib.faces import Faces
from .lib.folds import HOLDOUT, fold_indices
from .lib.io import atomic_dir, load_npz, save_npz
from .lib.params import load_params
from .lib.split import duplicate_groups, split_indices


def main() -> None:
    parser = argparse.ArgumentParser(description="Split the prepared training faces 80/20.")
    parser.add_argument("prepared", help="the prepared training faces (train.npz)")
    parser.add_argument("out", help="folder for train.npz and val.npz")
    args = parser.parse_args()
    params = load_params()
    data = load_npz(args.prepared)
    faces = Faces.from_arrays(data)
    groups = duplicate_groups(faces.images, params.split.duplicate_distance)
    wrong = read_label_list(params.split.wrong_labels, faces) if params.split.wrong_labels else None

    def training(rows):
        return clean_training(faces[rows], groups[rows], wrong, params.split.merge_copies)

    if params.folds.on:
        fold_of = fold_indices(faces.keypoints, groups, len(params.folds.ids), params.split.seed)
        train, val = np.flatnonzero(fold_of != HOLDOUT), np.flatnonzero(fold_of == HOLDOUT)
        parts = {f"fold{k}/{name}": part for k in params.folds.ids for name, part in (
            ("train", training(np.flatnonzero((fold_of != k) & (fold_of != HOLDOUT)))),
            ("val", faces[np.flatnonzero(fold_of == k)]))}
    else:
        train, val = split_indices(faces.keypoints, params.split, groups)
        parts = {}
    parts = {"train": training(train), "val": faces[val], **parts}
    with atomic_dir(args.out) as tmp:
        for name, part in parts.items():
            (tmp / name).parent.mkdir(exist_ok=True)
            save_npz(tmp / f"{name}.npz", images=part.images, keypoints=part.keypoints, image_ids=part.image_ids,
                     names=data["names"])
    copies = len(groups) - len(set(groups.tolist()))
    cleaned = len(train) - len(parts["train"])
    held = f" (the hold-out), {len(params.folds.ids)} folds of the rest" if params.folds.on else ""
    print(f"split {len(train)} train / {len(val)} val faces{held} ({copies} copies kept with their originals)"
          + (f"; {cleaned} training faces merged or left out (split.merge_copies, split.wrong_labels)" if cleaned else ""))


if __name__ == "__main__":
    run(main)
