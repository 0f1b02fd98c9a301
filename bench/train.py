"""Benchmark: ResNet training speed on the CPU, the seed's setup vs this project's trainer.

Same backbone (stages.lib.models.resnet.network.ResNet) and the same data in one run:
- seed setup: a per-item torch Dataset returning `torch.tensor(...)` per sample, DataLoader
  batch 16, float32 NCHW, default threads, masked MSE on raw pixel targets, Adam 1e-4;
- this project: `stages.lib.models.resnet.train` with the params.yaml settings (batches sliced
  from contiguous arrays, batch 64, channels-last, bf16 autocast where the CPU supports it,
  normalised targets, AdamW + cosine).
Both train the same number of epochs; prints images/s, the speed ratio and validation RMSE.
Then times single levers (batch size, channels-last, bf16 autocast, threads) on one epoch each.

usage: python bench/train.py [--train 1200] [--epochs 3]   (about 6 minutes on 2 cores)
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stages.lib.facegen import make_sample_data  # noqa: E402
from stages.lib.metrics import rmse  # noqa: E402
from stages.lib.models import resnet  # noqa: E402
from stages.lib.models.base import Faces, Targets  # noqa: E402
from stages.lib.models.resnet.loop import bf16_supported  # noqa: E402
from stages.lib.models.resnet.losses import masked_loss  # noqa: E402
from stages.lib.models.resnet.network import ResNet  # noqa: E402
from stages.lib.params import AugmentParams, load_params  # noqa: E402


class PerItemFaces(Dataset):
    """The seed's data path: one sample at a time, a new tensor per item."""

    def __init__(self, faces: Faces):
        self.faces = faces

    def __len__(self) -> int:
        return len(self.faces)

    def __getitem__(self, i: int):
        image = torch.tensor(self.faces.images[i] / 255.0, dtype=torch.float32).unsqueeze(0)
        return image, torch.tensor(self.faces.keypoints[i], dtype=torch.float32)


def seed_setup(train: Faces, val: Faces, epochs: int, stem_stride: int) -> dict:
    torch.manual_seed(0)
    model = ResNet(stem_stride, "pool", Targets(normalized=False))  # the seeds' head, pixel outputs
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    loader = DataLoader(PerItemFaces(train), batch_size=16, shuffle=True)
    seconds = 0.0
    for _ in range(epochs):
        model.train()
        start = time.perf_counter()
        for x, y in loader:
            loss = masked_loss(model(x), y, "mse")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds += time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        x = torch.tensor(val.images / 255.0, dtype=torch.float32).unsqueeze(1)
        predictions = torch.cat([model(x[i:i + 256]) for i in range(0, len(x), 256)]).numpy()
    return {"images_per_s": epochs * len(train) / seconds, "val_rmse": rmse(predictions, val.keypoints)}


def project(train: Faces, val: Faces, params) -> dict:
    with tempfile.TemporaryDirectory() as out:
        summary = resnet.train(params, train, val, Path(out), lambda epoch, metrics: None)
    return {"images_per_s": summary["timing"]["images_per_s"], "val_rmse": summary["val_rmse"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1200, help="training faces")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    params = load_params(ROOT / "params.yaml").resnet
    # Same number of epochs for both, no early stop, no augmentation: a like-for-like timing.
    params = dataclasses.replace(params, epochs=args.epochs, warmup_epochs=0, patience=args.epochs,
                                 augment=AugmentParams.off())
    data = make_sample_data(seed=1, n_train=args.train + 300, n_test=1, full_fraction=0.3)
    train = Faces(data.train_images[:args.train], data.train_keypoints[:args.train])
    val = Faces(data.train_images[args.train:], data.train_keypoints[args.train:])
    print(f"{args.train} training faces, {args.epochs} epochs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads by default, bf16 supported: {bf16_supported()}")

    seed = seed_setup(train, val, args.epochs, params.stem_stride)
    ours = project(train, val, params)
    print(f"{'seed setup':34s} {seed['images_per_s']:7.1f} images/s   val RMSE {seed['val_rmse']:.3f}")
    print(f"{'this project (params.yaml)':34s} {ours['images_per_s']:7.1f} images/s   val RMSE {ours['val_rmse']:.3f}")
    print(f"speed-up {ours['images_per_s'] / seed['images_per_s']:.2f}x")

    print("\nsingle levers, one epoch each, from the params.yaml settings:")
    one = dataclasses.replace(params, epochs=1, patience=1)
    for label, change in [
        ("params.yaml", {}),
        ("batch 16", {"batch_size": 16}),
        ("batch 128", {"batch_size": 128}),
        ("channels_last off", {"channels_last": False}),
        ("bf16 autocast off", {"bf16": False}),
        ("threads 1", {"threads": 1}),
    ]:
        result = project(train, val, dataclasses.replace(one, **change))
        print(f"  {label:32s} {result['images_per_s']:7.1f} images/s")


if __name__ == "__main__":
    main()
