"""Stage `split`: seeded, stratified train/validation split of the prepared training faces.

usage: python -m stages.split PREPARED_TRAIN_NPZ OUT_DIR   (writes OUT_DIR/train.npz, val.npz)

Stratified on "all 15 keypoints labelled", so both parts keep the fully-labelled share; copies
of one photo (near-identical faces, `lib/split.py`) land on the same side.
"""
from __future__ import annotations

import argparse

from .lib.cli import run
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
    groups = duplicate_groups(data["images"], params.split.duplicate_distance)
    train, val = split_indices(data["keypoints"], params.split, groups)
    with atomic_dir(args.out) as tmp:
        for name, rows in (("train", train), ("val", val)):
            save_npz(tmp / f"{name}.npz", images=data["images"][rows],
                     keypoints=data["keypoints"][rows], image_ids=data["image_ids"][rows],
                     names=data["names"])
    copies = len(groups) - len(set(groups.tolist()))
    print(f"split {len(train)} train / {len(val)} val faces ({copies} copies kept with their originals)")


if __name__ == "__main__":
    run(main)
