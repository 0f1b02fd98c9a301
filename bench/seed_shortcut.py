"""Benchmark: why bench/accuracy.py's `seed-recipe` row (8.8) is far from the seeds' measured 1.75.

The row trains this project's ResNet with the seeds' recipe (profiles/seed-recipe.yaml: pool
head, pixel targets, Adam 1e-4, StepLR(5, 0.1), batch 16, no augmentation, and the seeds' plain
shortcuts). The difference that mattered: where a block changes shape, this project's default 1x1
shortcut convolution is followed by BatchNorm (`resnet.shortcut: norm`), the seeds' is a plain
convolution with a bias (`plain`, ../shared/reference/seed_resnet.py). This trains the recipe for
a few epochs on youtube-faces-15, with the reference's own 80/20 split (seed 42), both ways, and
prints the validation RMSE per epoch; `--reference` also runs the seeds' script for the same epochs.

usage: python bench/seed_shortcut.py [--epochs 2] [--reference]   (about 3 minutes per epoch and row on 2 cores)
"""
from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from accuracy import seed_recipe  # noqa: E402
from stages.lib.kaggle_csv import read_training_csv  # noqa: E402
from stages.lib.faces import Faces  # noqa: E402
from stages.lib.models.resnet.loop import train_network  # noqa: E402

FACES = ROOT.parent / "shared" / "data" / "youtube-faces-15"
REFERENCE = ROOT.parent / "shared" / "reference" / "seed_resnet.py"


def run(label: str, shortcut: str, epochs: int, train: Faces, val: Faces) -> None:
    recipe = dataclasses.replace(seed_recipe(), epochs=epochs, shortcut=shortcut)
    curve = []
    train_network(recipe, train, val, lambda epoch, metrics: curve.append(metrics["val/rmse"]))
    print(f"{label:44s} " + "  ".join(f"{v:6.3f}" for v in curve), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--reference", action="store_true", help="also run the seeds' own script")
    args = parser.parse_args()
    if not FACES.exists():
        sys.exit(f"skipped: {FACES} not found")
    torch.set_num_threads(2)
    images, keypoints = read_training_csv(FACES / "training.csv")
    order = np.random.default_rng(42).permutation(len(images))
    val_rows, train_rows = order[:len(images) // 5], order[len(images) // 5:]
    train, val = Faces(images[train_rows], keypoints[train_rows]), Faces(images[val_rows], keypoints[val_rows])
    print(f"youtube-faces-15, {len(train)} / {len(val)} faces; validation RMSE (px) after each epoch")
    run("this project's ResNet, BatchNorm'd shortcuts", "norm", args.epochs, train, val)
    run("the same with the seeds' plain 1x1 shortcuts", "plain", args.epochs, train, val)
    if args.reference:
        out = subprocess.run([sys.executable, str(REFERENCE), str(FACES), str(args.epochs)],
                             capture_output=True, text=True, check=True).stdout
        curve = [float(line.split()[3]) for line in out.splitlines() if line.startswith("epoch")]
        print(f"{'the seeds script (reference)':44s} " + "  ".join(f"{v:6.3f}" for v in curve))


if __name__ == "__main__":
    main()
