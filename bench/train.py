"""Benchmark: training speed on the CPU, the seeds' setups vs this project's trainers.

Same architectures and the same data in one run, the same number of epochs, no augmentation:
- ResNet, seed setup: a per-item torch Dataset returning `torch.tensor(...)` per sample,
  DataLoader batch 16, float32 NCHW, default threads, masked MSE on raw pixel targets, Adam 1e-4,
  on this project's network with the seeds' pooled head, and again with the seeds' full-resolution
  stem (`stem_stride: 1`, about 4x the compute: the network the seeds trained); this project:
  `resnet.train` with the params.yaml settings (batches sliced from contiguous arrays,
  channels-last, normalised targets, AdamW + cosine), with bf16 autocast where the CPU has it and
  without.
- Keras CNN, seed setup: plain `model.fit` on float64 arrays (pixels / 255, pixel targets),
  Keras' default batch 32, Adam 1e-3, the masked Huber loss; this project: `cnn.train` with the
  params.yaml settings (float32 batches from a PyDataset, normalised targets, the first block's
  stride and pool), and again with the seeds' network (2x2 pools only).
Prints images/s, the speed ratio and validation RMSE of each, then single ResNet levers
(batch size, channels-last, bf16 autocast, threads, the small-map convolutions) on one epoch
each, and `torch.compile` against eager execution on repeated training steps of one batch.

usage: python bench/train.py [--train 1200] [--epochs 3]   (10-15 minutes on 2 cores)
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stages.lib.facegen import make_sample_data  # noqa: E402
from stages.lib.metrics import rmse  # noqa: E402
from stages.lib.models import resnet  # noqa: E402
from stages.lib.faces import Faces  # noqa: E402
from stages.lib.models.targets import Targets  # noqa: E402
from stages.lib.models.resnet.loop import architecture, bf16_supported, build  # noqa: E402
from stages.lib.models.resnet.losses import masked_loss  # noqa: E402
from stages.lib.models.resnet.network import Conv3x3, ResNet  # noqa: E402
from stages.lib.params import AugmentParams, CosineSchedule, HuberLoss, MseLoss, load_params  # noqa: E402


class PerItemFaces(Dataset):
    """The seed's data path: one sample at a time, a new tensor per item."""

    def __init__(self, faces: Faces):
        self.faces = faces

    def __len__(self) -> int:
        return len(self.faces)

    def __getitem__(self, i: int):
        image = torch.tensor(self.faces.images[i] / 255.0, dtype=torch.float32).unsqueeze(0)
        return image, torch.tensor(self.faces.keypoints[i], dtype=torch.float32)


@contextlib.contextmanager
def onednn_convolutions():
    """Every 3x3 convolution through oneDNN, as plain `nn.Conv2d` layers run (`Conv3x3`'s small maps too)."""
    fast = Conv3x3.forward
    Conv3x3.forward = torch.nn.Conv2d.forward
    try:
        yield
    finally:
        Conv3x3.forward = fast


@onednn_convolutions()
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
            loss = masked_loss(model(x), y, MseLoss("mse"))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds += time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        x = torch.tensor(val.images / 255.0, dtype=torch.float32).unsqueeze(1)
        predictions = torch.cat([model(x[i:i + 256]) for i in range(0, len(x), 256)]).numpy()
    return {"images_per_s": epochs * len(train) / seconds, "val_rmse": rmse(predictions, val.keypoints)}


def seed_cnn_setup(train: Faces, val: Faces, epochs: int) -> dict:
    """Plain `model.fit` on float64 arrays, as the seeds trained their Keras CNN."""
    from stages.lib.models.cnn.loop import configure
    from stages.lib.models.cnn.network import build
    from stages.lib.models.cnn.losses import masked_loss as keras_masked_loss

    import keras

    configure(0, 0)
    model = build({"dropout": 0.1})  # the seeds' network: first_stride 1, 2x2 pools
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras_masked_loss(HuberLoss("huber", 1.0)))
    x = train.images[..., None] / 255.0  # float64
    y = train.keypoints.astype(np.float64)
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    predictions = model.predict(val.images[..., None] / 255.0, verbose=0)
    return {"images_per_s": epochs * len(train) / seconds, "val_rmse": rmse(predictions, val.keypoints)}


def project_cnn(train: Faces, val: Faces, params, epochs: int) -> dict:
    from stages.lib.models import cnn

    params = dataclasses.replace(params, augment=AugmentParams.off(),
                                 adam=dataclasses.replace(params.adam, epochs=epochs),
                                 sgd=dataclasses.replace(params.sgd, epochs=0))
    with tempfile.TemporaryDirectory() as out:
        summary = cnn.train(params, train, val, Path(out), lambda epoch, metrics: None)
    return {"images_per_s": summary["timing"]["images_per_s"], "val_rmse": summary["val_rmse"]}


def row(label: str, result: dict, reference: dict | None = None, full_stem: dict | None = None) -> None:
    ratio = f"   {result['images_per_s'] / reference['images_per_s']:.2f}x the seed" if reference else ""
    if full_stem:  # the seed setup on the seeds' own network
        ratio += f" ({result['images_per_s'] / full_stem['images_per_s']:.2f}x the seeds' network)"
    print(f"  {label:34s} {result['images_per_s']:7.1f} images/s   val RMSE {result['val_rmse']:.3f}{ratio}")


def project(train: Faces, val: Faces, params) -> dict:
    with tempfile.TemporaryDirectory() as out:
        summary = resnet.train(params, train, val, Path(out), lambda epoch, metrics: None)
    return {"images_per_s": summary["timing"]["images_per_s"], "val_rmse": summary["val_rmse"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1200, help="training faces")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    all_params = load_params(ROOT / "params.yaml")
    # Same number of epochs for both, no early stop, no augmentation: a like-for-like timing.
    params = dataclasses.replace(all_params.resnet, epochs=args.epochs, schedule=CosineSchedule("cosine", 0), patience=None,
                                 augment=AugmentParams.off())
    data = make_sample_data(seed=1, n_train=args.train + 300, n_test=1, full_fraction=0.3)
    train = Faces(data.train_images[:args.train], data.train_keypoints[:args.train])
    val = Faces(data.train_images[args.train:], data.train_keypoints[args.train:])
    print(f"{args.train} training faces, {args.epochs} epochs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads by default, bf16 supported: {bf16_supported()}")

    print("ResNet")
    seed = seed_setup(train, val, args.epochs, params.stem_stride)
    row("seed setup", seed)
    full_stem = seed_setup(train, val, args.epochs, stem_stride=1)
    row("seed setup, its stem at stride 1", full_stem)
    row("this project, bf16 where supported", project(train, val, params), seed, full_stem)
    row("this project, bf16 off", project(train, val, dataclasses.replace(params, bf16=False)), seed, full_stem)

    print("Keras CNN")
    seed_cnn = seed_cnn_setup(train, val, args.epochs)
    row("seed setup (fit on float64 arrays)", seed_cnn)
    row("this project", project_cnn(train, val, all_params.cnn, args.epochs), seed_cnn)
    seeds_network = dataclasses.replace(all_params.cnn, first_stride=1, first_pool=2, last_pool=2)
    row("this project, the seeds' network", project_cnn(train, val, seeds_network, args.epochs), seed_cnn)

    print("\nsingle levers, one epoch each, from the params.yaml settings:")
    one = dataclasses.replace(params, epochs=1)
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
    with onednn_convolutions():
        result = project(train, val, one)
    print(f"  {'2x2 maps through oneDNN':32s} {result['images_per_s']:7.1f} images/s")
    compiled_steps(params)


def compiled_steps(params, steps: int = 15) -> None:
    """torch.compile (inductor, which needs a C++ compiler) against eager: one batch of random
    faces, repeated forward and backward steps after a warm-up, and the first step's time."""
    print(f"\ntorch.compile, {steps} training steps of one batch of {params.batch_size} after 3 warm-up steps:")
    x = torch.randn(params.batch_size, 1, 96, 96).contiguous(memory_format=torch.channels_last)
    y = torch.randn(params.batch_size, 30)
    for label in ("eager", "torch.compile"):
        torch.manual_seed(0)
        model = build(architecture(params)).to(memory_format=torch.channels_last)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        forward = torch.compile(model) if label == "torch.compile" else model

        def step() -> None:
            loss = masked_loss(forward(x), y, MseLoss("mse"))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        start = time.perf_counter()
        step()
        first = time.perf_counter() - start
        for _ in range(3):
            step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        images_per_s = steps * params.batch_size / (time.perf_counter() - start)
        print(f"  {label:32s} {images_per_s:7.1f} images/s   first step {first:.1f} s")


if __name__ == "__main__":
    main()
