"""Stage `split`: seeded, stratified train/validation split of `data/prepared/train.npz`.

Stratified on "all 15 keypoints labelled", so both parts keep the fully-labelled share.
"""
from __future__ import annotations

import numpy as np

from .lib.cli import run
from .lib.io import atomic_dir, load_npz, save_npz
from .lib.params import SplitParams, load_params

IN_FILE = "data/prepared/train.npz"
OUT_DIR = "data/split"


def split_indices(keypoints: np.ndarray, params: SplitParams) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, val) row indices; each stratum gives round(val_fraction * size) to val."""
    full = ~np.isnan(keypoints).any(axis=1)
    rng = np.random.default_rng(params.seed)
    val = []
    for stratum in (np.flatnonzero(full), np.flatnonzero(~full)):
        n_val = int(round(params.val_fraction * len(stratum)))
        val.append(rng.permutation(stratum)[:n_val])
    val = np.sort(np.concatenate(val))
    train = np.setdiff1d(np.arange(len(keypoints)), val)
    return train, val


def main() -> None:
    params = load_params()
    data = load_npz(IN_FILE)
    train, val = split_indices(data["keypoints"], params.split)
    with atomic_dir(OUT_DIR) as tmp:
        for name, rows in (("train", train), ("val", val)):
            save_npz(tmp / f"{name}.npz", images=data["images"][rows],
                     keypoints=data["keypoints"][rows], image_ids=data["image_ids"][rows],
                     names=data["names"])
    print(f"split {len(train)} train / {len(val)} val faces")


if __name__ == "__main__":
    run(main)
