"""Stage `generate`: write the embedded procedural data set in Kaggle's exact file format.

usage: python -m stages.generate OUT_DIR   (writes OUT_DIR/{training,test,IdLookupTable}.csv)

Deterministic for `generate.seed`.
"""
from __future__ import annotations

import argparse

import numpy as np

from .lib.cli import run
from .lib.facegen import make_sample_data
from .lib.io import atomic_dir
from .lib.kaggle_csv import format_lookup_csv, format_test_csv, format_training_csv
from .lib.params import GenerateParams, load_params


def write_sample_data(out_dir: str, params: GenerateParams) -> None:
    data = make_sample_data(params.seed, params.n_train, params.n_test, params.full_fraction)
    test_ids = np.arange(1, len(data.test_images) + 1)
    with atomic_dir(out_dir) as tmp:
        (tmp / "training.csv").write_text(format_training_csv(data.train_images, data.train_keypoints))
        (tmp / "test.csv").write_text(format_test_csv(test_ids, data.test_images))
        (tmp / "IdLookupTable.csv").write_text(format_lookup_csv(data.lookup))


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the embedded face data set.")
    parser.add_argument("out", help="folder for the three CSV files")
    out = parser.parse_args().out
    params = load_params()
    write_sample_data(out, params.generate)
    print(f"wrote {params.generate.n_train} training and {params.generate.n_test} test faces to {out}")


if __name__ == "__main__":
    run(main)
