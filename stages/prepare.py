"""Stage `prepare`: parse the raw Kaggle CSVs of `data.raw_dir` into cached arrays.

usage: python -m stages.prepare RAW_DIR OUT_DIR   (RAW_DIR: data.raw_dir, from dvc.yaml)

- train.npz: images uint8 (N, 96, 96), keypoints float32 (N, 30) NaN where missing,
  image_ids int64 (1-based row numbers), names (the 30 column names).
- test.npz: images, image_ids (test.csv's ImageId).
- lookup.npz: row_ids, image_ids, features (index into names) of IdLookupTable.csv.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .lib.cli import run
from .lib.io import atomic_dir, save_npz
from .lib.kaggle_csv import check_raw_dir, read_lookup_csv, read_test_csv, read_training_csv
from .lib.keypoints import COLUMNS
from .lib.params import load_params

def prepare(raw_dir: Path) -> dict[str, dict[str, np.ndarray]]:
    """Parse and cross-check the three raw files; returns the arrays of each .npz."""
    check_raw_dir(raw_dir)
    images, keypoints = read_training_csv(raw_dir / "training.csv")
    test_ids, test_images = read_test_csv(raw_dir / "test.csv")
    lookup = read_lookup_csv(raw_dir / "IdLookupTable.csv", test_ids)
    names = np.array(COLUMNS)
    return {
        "train": {"images": images, "keypoints": keypoints,
                  "image_ids": np.arange(1, len(images) + 1, dtype=np.int64), "names": names},
        "test": {"images": test_images, "image_ids": test_ids},
        "lookup": {"row_ids": lookup.row_ids, "image_ids": lookup.image_ids,
                   "features": lookup.features, "names": names},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Parse the raw Kaggle CSVs.")
    parser.add_argument("raw_dir", type=Path, help="data.raw_dir")
    parser.add_argument("out", help="folder for train.npz, test.npz and lookup.npz")
    args = parser.parse_args()
    load_params()  # a bad params.yaml stops here, naming the key
    arrays = prepare(args.raw_dir)
    with atomic_dir(args.out) as tmp:
        for name, contents in arrays.items():
            save_npz(tmp / f"{name}.npz", **contents)
    train = arrays["train"]["keypoints"]
    full = int((~np.isnan(train).any(axis=1)).sum())
    print(f"prepared {len(train)} training faces ({full} fully labelled), "
          f"{len(arrays['test']['images'])} test faces, {len(arrays['lookup']['row_ids'])} lookup rows")


if __name__ == "__main__":
    run(main)
