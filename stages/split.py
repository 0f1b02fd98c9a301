"""Stage `split`: seeded, stratified train/validation split of the prepared training faces.

usage: python -m stages.split PREPARED_TRAIN_NPZ OUT_DIR   (writes OUT_DIR/train.npz, val.npz)

Stratified on "all 15 keypoints labelled", so both parts keep the fully-labelled share; copies
of one photo (near-identical faces, `lib/split.py`) land on the same side. The training part is
then cleaned as `split.merge_copies` and `split.wrong_labels` say (`lib/cleaning.py`); the
validation part keeps every face and label.
"""
from __future__ import annotations

import argparse

from .lib.cleaning import clean_training, read_label_list
from .lib.cli import run
from .lib.faces import Faces
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
    train, val = split_indices(faces.keypoints, params.split, groups)
    wrong = read_label_list(params.split.wrong_labels, faces) if params.split.wrong_labels else None
    parts = {"train": clean_training(faces[train], groups[train], wrong, params.split.merge_copies), "val": faces[val]}
    with atomic_dir(args.out) as tmp:
        for name, part in parts.items():
            save_npz(tmp / f"{name}.npz", images=part.images, keypoints=part.keypoints, image_ids=part.image_ids,
                     names=data["names"])
    copies = len(groups) - len(set(groups.tolist()))
    cleaned = len(train) - len(parts["train"])
    print(f"split {len(train)} train / {len(val)} val faces ({copies} copies kept with their originals)"
          + (f"; {cleaned} training faces merged or left out (split.merge_copies, split.wrong_labels)" if cleaned else ""))


if __name__ == "__main__":
    run(main)
