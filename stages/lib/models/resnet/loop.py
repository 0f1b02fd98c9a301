"""One network's training loop: AdamW/Adam, warm-up + cosine or StepLR, bf16 autocast where the
CPU has it, an optional moving average of the weights, early stopping with the best weights kept.

CPU speed comes from feeding batches sliced out of one contiguous array (no per-item Dataset),
a larger batch, channels-last memory and explicit thread settings: see bench/train.py.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import time

import numpy as np
import torch

from ...augment import augment_batch
from ...keypoints import N_COLUMNS
from ...metrics import rmse
from ...params import ResNetParams
from ...sources import SOURCE_COLUMNS, SOURCES
from ...faces import Faces
from ..targets import Targets
from ..training import DivergedError, EpochCallback, epoch_order
from .losses import heatmap_divergence, masked_loss
from .network import ResNet, cell_centres, soft_argmax

_PREDICT_BATCH = 256


@dataclasses.dataclass(frozen=True)
class NetworkResult:
    """One trained network: its best weights (on the CPU) and how it got there."""

    state: dict[str, torch.Tensor]
    val_rmse: float  # px, at the best epoch
    val_loss: float
    best_epoch: int  # 1-based
    epochs: int  # epochs run (early stopping may end before params.epochs)
    seconds: float  # training time, validation excluded
    images: int  # training images seen
    bf16: bool  # whether bf16 autocast was used


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def architecture(params: ResNetParams) -> dict:
    """What a saved model records to rebuild its networks (`build`) and to know its head's shape."""
    soft_argmax = params.head.kind == "soft_argmax"
    return {"stem_stride": params.stem_stride, "head": params.head.kind, "normalize_targets": params.normalize_targets,
            "heatmap_reg": params.head.heatmap_reg.weight if soft_argmax and params.head.heatmap_reg else 0.0,
            "shortcut": params.shortcut, "sources": params.sources,
            "fine_heatmaps": soft_argmax and params.head.fine_heatmaps, "mirror_offsets": params.mirror_offsets}


def build(architecture: dict) -> ResNet:
    """A network from `architecture(params)`."""
    return ResNet(architecture["stem_stride"], architecture["head"], Targets(architecture["normalize_targets"]),
                  points(architecture["sources"]), architecture["shortcut"], architecture["fine_heatmaps"],
                  architecture["mirror_offsets"])


def points(sources: bool) -> int:
    """The keypoints the network predicts: the 15, and with `sources` the 4-point source's four."""
    return (SOURCE_COLUMNS if sources else N_COLUMNS) // 2


def to_input(images: np.ndarray, dev: torch.device, channels_last: bool) -> torch.Tensor:
    """uint8 or float 0..255 (N, 96, 96) -> float32 (N, 1, 96, 96) scaled to about [-1, 1]."""
    # Not in place: float32 images come in without a copy, and are the caller's.
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).to(dev).unsqueeze(1) * (1 / 127.5) - 1.0
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def label_correction(point_offsets: torch.Tensor, label_shift: torch.Tensor) -> torch.Tensor:
    """(N, 2 x points) what to add to augmented targets so each stays in its source's convention:
    each point's horizontal offset (points,) times each face's label_shift (N, 2) (`augment_batch`)."""
    return (label_shift[:, None, :] * point_offsets[None, :, None]).flatten(1)


def mirror_offsets_px(model: ResNet, targets: Targets) -> list[float]:
    """Each label source's learned horizontal offset in pixels (empty without mirror_offsets)."""
    if model.mirror_offset is None:
        return []
    return [float(v) * targets.unit_px for v in model.mirror_offset.detach().cpu()]


def bf16_supported() -> bool:
    return torch.cuda.is_available() or torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def predict_array(model: ResNet, images: np.ndarray, channels_last: bool) -> np.ndarray:
    """Raw network outputs (N, 2 x points), in target units; always float32, bf16 or not in training."""
    return _batched(model, model, images, channels_last, 2 * model.points)


def spread_array(model: ResNet, images: np.ndarray) -> np.ndarray:
    """(N, points) spread of each keypoint's heatmap in pixels (soft-argmax head only)."""
    return _batched(model, model.spread, images, False, model.points)


def _batched(model: ResNet, function, images: np.ndarray, channels_last: bool, width: int) -> np.ndarray:
    dev = next(model.parameters()).device
    model.eval()
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(images), _PREDICT_BATCH):
            outputs.append(function(to_input(images[start:start + _PREDICT_BATCH], dev, channels_last)).cpu())
    return torch.cat(outputs).numpy() if outputs else np.zeros((0, width), np.float32)


def _schedule(optimizer: torch.optim.Optimizer, params: ResNetParams) -> torch.optim.lr_scheduler.LRScheduler:
    schedule = params.schedule
    if schedule.kind == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, schedule.step_size, schedule.gamma)

    def factor(epoch: int) -> float:
        if epoch < schedule.warmup_epochs:
            return (epoch + 1) / (schedule.warmup_epochs + 1)
        progress = (epoch - schedule.warmup_epochs) / max(1, params.epochs - schedule.warmup_epochs)
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train_network(params: ResNetParams, train: Faces, val: Faces, on_epoch: EpochCallback) -> NetworkResult:
    """One network from params.seed, validated on `val` every `params.validate_every` epochs and after the last.

    A loss that turns NaN or infinite stops training with a DivergedError naming the epoch and the lr.
    """
    torch.manual_seed(params.seed)
    np.random.seed(params.seed)
    dev = device()
    bf16 = params.bf16 and bf16_supported()
    targets = Targets(params.normalize_targets)
    model = build(architecture(params)).to(dev)
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
    val_targets = torch.from_numpy(targets.encode(val.keypoints))
    # The heatmaps' shape term (DSNT), where resnet.head.heatmap_reg is set.
    heatmap_reg = params.head.heatmap_reg if params.head.kind == "soft_argmax" else None
    shaped = heatmap_reg is not None
    loss_of = lambda pred, y: masked_loss(pred, y, params.loss, targets.unit_px)  # noqa: E731

    best = {"val_loss": math.inf, "epoch": -1}
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
            images, keypoints, label_shift = augment_batch(train.images[rows], train.keypoints[rows], params.augment, rng)
            x = to_input(images, dev, params.channels_last)
            y = torch.from_numpy(targets.encode(keypoints)).to(dev)
            if params.mirror_offsets:  # the offsets learn from these targets' gradient
                y = y + label_correction(model.point_offsets(), torch.from_numpy(label_shift).to(dev))
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                if shaped:
                    logits = model.head.logits(model.features(x))
                    pred = soft_argmax(logits, targets)
                else:
                    pred = model(x)
            loss = loss_of(pred.float(), y)
            if shaped:
                h, w = logits.shape[-2:]
                xs, ys = (torch.from_numpy(cell_centres(cells, targets)).to(dev) for cells in (w, h))
                loss = loss + heatmap_reg.weight * heatmap_divergence(logits, y, xs, ys,
                                                                      heatmap_reg.sigma_px / targets.unit_px)
            if not torch.isfinite(loss):
                raise DivergedError(f"resnet: training diverged at epoch {epoch + 1} (loss {float(loss)}) with lr "
                                    f"{optimizer.param_groups[0]['lr']:.3g}; lower resnet.lr (the old model is kept)")
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

        metrics = {"train/loss": total / max(batches, 1)}
        # Validation only reads the network (no randomness, no BatchNorm update), so skipping it
        # changes nothing in training: only which epochs can be kept or end it early.
        validate = (epoch + 1) % params.validate_interval == 0 or epoch + 1 == params.epochs
        if validate:
            val_pred = predict_array(kept, val.images, params.channels_last)
            val_loss = float(loss_of(torch.from_numpy(val_pred), val_targets))
            if not math.isfinite(val_loss):
                raise DivergedError(f"resnet: validation loss {val_loss} at epoch {epoch + 1} with lr {lr:.3g}: "
                                    "the network diverged; lower resnet.lr (the old model is kept)")
            val_rmse = rmse(targets.decode(val_pred), val.keypoints)
            metrics.update({"val/loss": val_loss, "val/rmse": val_rmse})
        offsets = mirror_offsets_px(kept, targets)
        offsets = dict(zip(SOURCES, offsets)) if len(offsets) > 1 else {"": v for v in offsets}
        on_epoch(epoch, {**metrics, "lr": lr, "images_per_s": images_seen / max(seconds, 1e-9),
                         **{f"mirror_offset_px/{source}".rstrip("/"): value for source, value in offsets.items()}})
        if not validate:
            continue
        if val_loss < best["val_loss"]:
            best = {"val_loss": val_loss, "val_rmse": val_rmse, "epoch": epoch,
                    "state": copy.deepcopy(kept.state_dict())}
        elif params.patience is not None and epoch - best["epoch"] >= params.patience:
            break

    return NetworkResult(state={k: v.cpu() for k, v in best["state"].items()}, val_rmse=best["val_rmse"],
                         val_loss=best["val_loss"], best_epoch=best["epoch"] + 1, epochs=epoch + 1,
                         seconds=seconds, images=images_seen, bf16=bf16)
