"""Model `resnet` (PyTorch): a ResNet of six stages, 32 -> 512 channels.

Stem conv 1->32 + BN + ReLU + max-pool, then five stages of two residual blocks (32, 64, 128,
256, 512 channels; stride 2 with a 1x1 shortcut where the shape changes). Two heads: `pool`
(direct regression: global average pool, Linear(512, 30)) and `soft_argmax` (integral
regression: a light top-down decoder back to the 64-channel stage's resolution, one heatmap per
keypoint, each keypoint the heatmap's expected position). Trained with a NaN-masked loss,
Adam/AdamW, StepLR or warm-up + cosine, an optional moving average of the weights, and early
stopping on validation loss with the best weights kept.

CPU speed comes from feeding batches sliced out of one contiguous array (no per-item Dataset),
a larger batch, channels-last memory and explicit thread settings: see bench/train.py.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..augment import augment_batch
from ..keypoints import IMAGE_SIZE
from ..metrics import rmse
from ..params import ResNetParams
from ..tta import with_flip_averaging
from .base import (TARGET_CENTER, TARGET_SCALE, EpochCallback, Faces, Predictor, cpu_threads,
                   denormalize_targets, epoch_order, normalize_targets, target_unit_px)
from .torch_losses import masked_loss

CHANNELS = (32, 64, 128, 256, 512)
_PREDICT_BATCH = 256


class Block(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out),
        )
        self.shortcut = nn.Identity() if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class SoftArgmaxHead(nn.Module):
    """Integral regression: each keypoint is the expectation of a softmax heatmap's cell centres.

    The heatmaps come from the stages of CHANNELS[1:] merged top-down (1x1 lateral convs, bilinear
    upsampling, sums), so they have the 64-channel stage's resolution (12x12 with stem stride 2)
    and the deep stages' context. Coordinates are in the model's output units: [-1, 1] or pixels.
    """

    WIDTH = 128

    def __init__(self, points: int, normalized: bool):
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, self.WIDTH, 1, bias=False) for c in CHANNELS[1:])
        self.mix = nn.Sequential(nn.Conv2d(self.WIDTH, self.WIDTH, 3, 1, 1, bias=False),
                                 nn.BatchNorm2d(self.WIDTH), nn.ReLU(inplace=True))
        self.heatmaps = nn.Conv2d(self.WIDTH, points, 1)
        self.normalized = normalized

    def forward(self, stages: list[torch.Tensor]) -> torch.Tensor:
        x = self.lateral[-1](stages[-1])
        for tap, lateral in zip(reversed(stages[:-1]), reversed(self.lateral[:-1])):
            x = F.interpolate(x, size=tap.shape[-2:], mode="bilinear", align_corners=False) + lateral(tap)
        x = self.mix(x)
        # Logits and softmax in float32: bf16 logits would move the expectation by tenths of a pixel.
        with torch.autocast(x.device.type, enabled=False):
            return soft_argmax(self.heatmaps(x.float()), self.normalized)


def soft_argmax(logits: torch.Tensor, normalized: bool) -> torch.Tensor:
    """(N, K, H, W) heatmap logits over the image -> (N, 2K) expected x1, y1, x2, y2, ...

    Cell centres are in pixels (pixel i's centre is i), or in [-1, 1] units when normalized.
    """
    n, points, h, w = logits.shape
    p = torch.softmax(logits.flatten(2), dim=-1).view(n, points, h, w)

    def centres(cells: int) -> torch.Tensor:
        px = (torch.arange(cells, device=logits.device, dtype=p.dtype) + 0.5) * (IMAGE_SIZE / cells) - 0.5
        return (px - TARGET_CENTER) / TARGET_SCALE if normalized else px

    xs = (p.sum(dim=2) * centres(w)).sum(dim=-1)
    ys = (p.sum(dim=3) * centres(h)).sum(dim=-1)
    return torch.stack([xs, ys], dim=-1).flatten(1)


class ResNet(nn.Module):
    def __init__(self, stem_stride: int = 2, outputs: int = 30, head: str = "pool", normalized: bool = True):
        super().__init__()
        layers = [nn.Conv2d(1, CHANNELS[0], 5, stem_stride, 2, bias=False), nn.BatchNorm2d(CHANNELS[0]),
                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
        c_in = CHANNELS[0]
        for i, c_out in enumerate(CHANNELS):
            stride = 1 if i == 0 else 2
            layers += [Block(c_in, c_out, stride), Block(c_out, c_out, 1)]
            c_in = c_out
        self.features = nn.Sequential(*layers)
        # The outputs of the stages after the first, which the soft-argmax head merges.
        self._taps = {len(layers) - 1 - 2 * i for i in range(len(CHANNELS) - 1)}
        self.head = SoftArgmaxHead(outputs // 2, normalized) if head == "soft_argmax" else nn.Linear(CHANNELS[-1], outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(self.head, SoftArgmaxHead):
            stages = []
            for index, layer in enumerate(self.features):
                x = layer(x)
                if index in self._taps:
                    stages.append(x)
            return self.head(stages)
        pooled = self.features(x).mean(dim=(2, 3))
        # The regression head stays float32 under bf16 autocast: bf16's 8-bit mantissa would
        # round the [-1, 1] outputs to steps of up to 0.4 px.
        with torch.autocast(x.device.type, enabled=False):
            return self.head(pooled.float())


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_input(images: np.ndarray, dev: torch.device, channels_last: bool) -> torch.Tensor:
    """uint8 or float 0..255 (N, 96, 96) -> float32 (N, 1, 96, 96) scaled to about [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).to(dev).unsqueeze(1)
    x = x.mul_(1 / 127.5).sub_(1.0)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def bf16_supported() -> bool:
    return torch.cuda.is_available() or torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def _autocast(dev: torch.device, enabled: bool):
    return torch.autocast(dev.type, dtype=torch.bfloat16, enabled=enabled)


def predict_array(model: nn.Module, images: np.ndarray, channels_last: bool) -> np.ndarray:
    """Raw model outputs (N, 30), in training units; always float32, bf16 or not in training."""
    dev = next(model.parameters()).device
    model.eval()
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(images), _PREDICT_BATCH):
            outputs.append(model(to_input(images[start:start + _PREDICT_BATCH], dev, channels_last)).cpu())
    return torch.cat(outputs).numpy() if outputs else np.zeros((0, 30), np.float32)


def _schedule(optimizer: torch.optim.Optimizer, params: ResNetParams) -> torch.optim.lr_scheduler.LRScheduler:
    if params.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, params.step_size, params.gamma)

    def factor(epoch: int) -> float:
        if epoch < params.warmup_epochs:
            return (epoch + 1) / (params.warmup_epochs + 1)
        progress = (epoch - params.warmup_epochs) / max(1, params.epochs - params.warmup_epochs)
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)


def train_network(params: ResNetParams, train: Faces, val: Faces, on_epoch: EpochCallback) -> tuple[dict, dict]:
    """One network from params.seed: (its best state dict, on the CPU; a summary)."""
    seed_everything(params.seed)
    dev = device()
    bf16 = params.bf16 and bf16_supported()
    model = ResNet(params.stem_stride, head=params.head, normalized=params.normalize_targets).to(dev)
    if params.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer_class = torch.optim.AdamW if params.optimizer == "adamw" else torch.optim.Adam
    optimizer = optimizer_class(model.parameters(), lr=params.lr, weight_decay=params.weight_decay)
    scheduler = _schedule(optimizer, params)
    # An exponential moving average of the weights (and BatchNorm statistics) smooths out the
    # last steps' noise; it is what is validated and kept when resnet.ema > 0.
    averaged = torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(params.ema), use_buffers=True) if params.ema else None
    kept = averaged.module if averaged else model
    unit = target_unit_px(params.normalize_targets)
    val_targets = normalize_targets(val.keypoints, params.normalize_targets)

    best = {"val_loss": math.inf, "epoch": -1, "state": None}
    images_seen, seconds = 0, 0.0
    for epoch in range(params.epochs):
        started = time.perf_counter()
        model.train()
        order = epoch_order(len(train), params.seed, epoch)
        rng = np.random.default_rng([params.seed, epoch, 1])
        total, batches = 0.0, 0
        for start in range(0, len(order), params.batch_size):
            rows = np.sort(order[start:start + params.batch_size])
            if len(rows) < 2:  # BatchNorm needs two samples
                continue
            images, keypoints = augment_batch(train.images[rows], train.keypoints[rows], params.augment, rng)
            x = to_input(images, dev, params.channels_last)
            y = torch.from_numpy(normalize_targets(keypoints, params.normalize_targets)).to(dev)
            with _autocast(dev, bf16):
                pred = model(x)
            loss = masked_loss(pred.float(), y, params.loss, unit)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if averaged:
                averaged.update_parameters(model)
            total += float(loss.detach())
            batches += 1
            images_seen += len(rows)
        seconds += time.perf_counter() - started
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step()

        val_pred = predict_array(kept, val.images, params.channels_last)
        val_loss = float(masked_loss(torch.from_numpy(val_pred), torch.from_numpy(val_targets), params.loss, unit))
        val_rmse = rmse(denormalize_targets(val_pred, params.normalize_targets), val.keypoints)
        on_epoch(epoch, {"train/loss": total / max(batches, 1), "val/loss": val_loss, "val/rmse": val_rmse,
                         "lr": lr, "images_per_s": images_seen / max(seconds, 1e-9)})
        if val_loss < best["val_loss"]:
            best = {"val_loss": val_loss, "val_rmse": val_rmse, "epoch": epoch,
                    "state": copy.deepcopy(kept.state_dict())}
        elif epoch - best["epoch"] >= params.patience:
            break

    state = {k: v.cpu() for k, v in best["state"].items()}
    return state, {"val_rmse": best["val_rmse"], "val_loss": best["val_loss"], "best_epoch": best["epoch"] + 1,
                   "epochs": epoch + 1, "train_seconds": round(seconds, 1), "images": images_seen,
                   "device": dev.type, "bf16": bf16}


def pseudo_labelled(train: Faces, predict: Predictor) -> Faces:
    """The missing keypoints of each row filled with predictions (flip-averaged); labels kept."""
    predicted = with_flip_averaging(predict)(train.images)
    return Faces(train.images, np.where(np.isnan(train.keypoints), predicted, train.keypoints).astype(np.float32))


def train(params: ResNetParams, train: Faces, val: Faces, out_dir: Path, on_epoch: EpochCallback) -> dict:
    """resnet.members networks, seeds seed, seed + 1, ...; the saved model averages them.

    With resnet.pseudo_labels a first network is trained as usual and labels the keypoints
    missing from training rows; the kept networks then train on those rows, filled in.
    """
    torch.set_num_threads(cpu_threads(params.threads))
    summaries, first_epoch = [], 0

    def network(seed: int, faces: Faces) -> dict:
        nonlocal first_epoch
        offset = first_epoch  # one continuous curve, network after network
        state, summary = train_network(dataclasses.replace(params, seed=seed), faces, val,
                                       lambda epoch, metrics: on_epoch(offset + epoch, metrics))
        summaries.append(summary)
        first_epoch += summary["epochs"]
        return state

    architecture = {"stem_stride": params.stem_stride, "head": params.head, "normalize_targets": params.normalize_targets}
    teacher = None
    if params.pseudo_labels:
        teacher = {"state_dicts": [network(params.seed, train)], **architecture}
        train = pseudo_labelled(train, _predictor(teacher))
    states = [network(params.seed + member, train) for member in range(params.members)]
    saved = {"state_dicts": states, **architecture}
    torch.save(saved, Path(out_dir) / "model.pt")

    images = sum(s.pop("images") for s in summaries)
    seconds = sum(s["train_seconds"] for s in summaries)
    kept = summaries[1:] if teacher else summaries
    result = {**kept[0], "train_seconds": round(seconds, 1), "images_per_s": round(images / max(seconds, 1e-9), 1)}
    if teacher:
        result["pseudo_labeller"] = {k: summaries[0][k] for k in ("val_rmse", "best_epoch", "epochs")}
    if len(summaries) > 1:
        result["epochs"] = first_epoch
    if params.members > 1:  # the figures of the average, and each member's
        del result["val_loss"], result["best_epoch"]
        result.update(val_rmse=rmse(_predictor(saved)(val.images), val.keypoints),
                      members=[{k: s[k] for k in ("val_rmse", "best_epoch", "epochs")} for s in kept])
    return result


def _predictor(saved: dict) -> Predictor:
    models = []
    for state in saved.get("state_dicts") or [saved["state_dict"]]:
        model = ResNet(saved["stem_stride"], head=saved.get("head", "pool"),
                       normalized=saved["normalize_targets"]).to(device())
        model.load_state_dict(state)
        models.append(model.eval())

    def predict(images: np.ndarray) -> np.ndarray:
        outputs = [predict_array(model, images, False) for model in models]
        mean = outputs[0] if len(outputs) == 1 else np.mean(outputs, axis=0, dtype=np.float64)
        return denormalize_targets(mean, saved["normalize_targets"])

    return predict


def load(model_dir: Path) -> Predictor:
    return _predictor(torch.load(Path(model_dir) / "model.pt", map_location="cpu", weights_only=True))
