"""The ResNet: a stem and five stages of residual blocks (32 -> 512 channels), then a head.

Stem: conv 1->32 (5x5, stride `stem_stride`) + BN + ReLU + max-pool. Stages: two residual blocks
each (32, 64, 128, 256, 512 channels; stride 2 and a 1x1 shortcut where the shape changes, see
`Block`). The backbone returns every stage's output; each head takes that list:
- `pool`: direct regression, global average pool of the last stage, Linear(512, 30);
- `soft_argmax`: integral regression, the stages of 64-512 channels (32-512 with `fine_heatmaps`)
  merged top-down into one heatmap per keypoint, each keypoint the expected position under its
  heatmap's softmax.
Outputs are in the network's target units (`Targets`): [-1, 1] or pixels.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ...keypoints import IMAGE_SIZE, N_KEYPOINTS
from ..targets import Targets

CHANNELS = (32, 64, 128, 256, 512)


class Conv3x3(nn.Conv2d):
    """A 3x3 convolution without bias, padding 1. On maps of 2x2 or less at stride 1 (the
    512-channel stage with stem stride 2) it runs as one matrix product of the unfolded input:
    the same weights and function, but oneDNN's backward pass is slow on maps that small, and the
    product makes the whole network's training step about 10% faster (bench/train.py)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__(c_in, c_out, 3, stride, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride != (1, 1) or max(x.shape[-2:]) > 2:
            return super().forward(x)
        n, _, h, w = x.shape
        columns = F.unfold(x, 3, padding=1)  # (N, C_in x 9, H x W)
        return (self.weight.flatten(1) @ columns).view(n, self.out_channels, h, w)


class Block(nn.Module):
    """Two 3x3 convolutions and a shortcut; where the shape changes the shortcut is a 1x1
    convolution, followed by BatchNorm (`shortcut="norm"`) or with a bias and no BatchNorm
    (`"plain"`, the seeds' network: with raw pixel targets it lets the outputs grow to ~48 px fast)."""

    def __init__(self, c_in: int, c_out: int, stride: int, shortcut: str = "norm"):
        super().__init__()
        self.body = nn.Sequential(
            Conv3x3(c_in, c_out, stride), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
            Conv3x3(c_out, c_out), nn.BatchNorm2d(c_out),
        )
        if stride == 1 and c_in == c_out:
            self.shortcut = nn.Identity()
        elif shortcut == "plain":
            self.shortcut = nn.Conv2d(c_in, c_out, 1, stride)
        else:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class PoolHead(nn.Module):
    def __init__(self, points: int = N_KEYPOINTS):
        super().__init__()
        self.linear = nn.Linear(CHANNELS[-1], 2 * points)

    def forward(self, stages: list[torch.Tensor]) -> torch.Tensor:
        pooled = stages[-1].mean(dim=(2, 3))
        # Float32 under bf16 autocast: bf16's 8-bit mantissa would round the [-1, 1] outputs to
        # steps of up to 0.4 px.
        with torch.autocast(pooled.device.type, enabled=False):
            return self.linear(pooled.float())


class SoftArgmaxHead(nn.Module):
    """Integral regression: each keypoint is the expectation of a softmax heatmap's cell centres.

    The heatmaps come from the stages of CHANNELS[1:] merged top-down (1x1 lateral convs, bilinear
    upsampling, sums), so they have the 64-channel stage's resolution (12x12 8-px cells with stem
    stride 2) and the deep stages' context. `fine` merges the 32-channel stage too: twice the
    resolution (24x24, 4-px cells).
    """

    WIDTH = 128

    def __init__(self, targets: Targets, points: int = N_KEYPOINTS, fine: bool = False):
        super().__init__()
        self.first = 0 if fine else 1
        self.lateral = nn.ModuleList(nn.Conv2d(c, self.WIDTH, 1, bias=False) for c in CHANNELS[self.first:])
        self.mix = nn.Sequential(nn.Conv2d(self.WIDTH, self.WIDTH, 3, 1, 1, bias=False),
                                 nn.BatchNorm2d(self.WIDTH), nn.ReLU(inplace=True))
        self.heatmaps = nn.Conv2d(self.WIDTH, points, 1)
        self.targets = targets

    def logits(self, stages: list[torch.Tensor]) -> torch.Tensor:
        """(N, K, H, W) float32 heatmap logits."""
        deepest, *shallower = reversed(stages[self.first:])
        x = self.lateral[-1](deepest)
        for tap, lateral in zip(shallower, reversed(self.lateral[:-1])):
            x = F.interpolate(x, size=tap.shape[-2:], mode="bilinear", align_corners=False) + lateral(tap)
        x = self.mix(x)
        # Logits and softmax in float32: bf16 logits would move the expectation by tenths of a pixel.
        with torch.autocast(x.device.type, enabled=False):
            return self.heatmaps(x.float())

    def forward(self, stages: list[torch.Tensor]) -> torch.Tensor:
        logits = self.logits(stages)
        with torch.autocast(logits.device.type, enabled=False):
            return soft_argmax(logits, self.targets)


def cell_centres(cells: int, targets: Targets) -> np.ndarray:
    """The centres of `cells` equal cells across the image, in target units (pixel i's centre is i)."""
    pixels = (np.arange(cells, dtype=np.float32) + 0.5) * np.float32(IMAGE_SIZE / cells) - np.float32(0.5)
    return targets.encode(pixels)


def soft_argmax(logits: torch.Tensor, targets: Targets) -> torch.Tensor:
    """(N, K, H, W) heatmap logits over the image -> (N, 2K) expected x1, y1, x2, y2, ... in target units."""
    n, points, h, w = logits.shape
    p = torch.softmax(logits.flatten(2), dim=-1).view(n, points, h, w)
    xs = (p.sum(dim=2) * torch.from_numpy(cell_centres(w, targets)).to(p)).sum(dim=-1)
    ys = (p.sum(dim=3) * torch.from_numpy(cell_centres(h, targets)).to(p)).sum(dim=-1)
    return torch.stack([xs, ys], dim=-1).flatten(1)


def heatmap_spread(logits: torch.Tensor) -> torch.Tensor:
    """(N, K, H, W) heatmap logits -> (N, K) spread of each softmax heatmap in image pixels.

    The root mean square of its standard deviations along x and y, so on the same scale as a
    per-coordinate RMSE: 0 when all the mass is in one cell, about 28 px when it is spread evenly.
    """
    n, points, h, w = logits.shape
    p = torch.softmax(logits.flatten(2).float(), dim=-1).view(n, points, h, w)
    pixels = Targets(False)

    def variance(marginal: torch.Tensor, cells: int) -> torch.Tensor:
        centres = torch.from_numpy(cell_centres(cells, pixels)).to(marginal)
        mean = (marginal * centres).sum(dim=-1, keepdim=True)
        return (marginal * (centres - mean) ** 2).sum(dim=-1)

    return torch.sqrt((variance(p.sum(dim=2), w) + variance(p.sum(dim=3), h)) / 2)


class ResNet(nn.Module):
    """`points` keypoints out: 15, or 19 for a source-aware model (`sources.py`).

    With `mirror_offsets`, it also learns each label source's horizontal offset (target units):
    how far right of the pixels they mark that source's annotators put points. The network's
    outputs are in each source's convention already; the offsets only say where a mirror image's
    labels belong (the training loop's targets, flip averaging).
    """

    def __init__(self, stem_stride: int, head: str, targets: Targets, points: int = N_KEYPOINTS,
                 shortcut: str = "norm", fine_heatmaps: bool = False, mirror_offsets: bool = False):
        super().__init__()
        self.points = points
        sources = 2 if points > N_KEYPOINTS else 1
        self.mirror_offset = nn.Parameter(torch.zeros(sources)) if mirror_offsets else None
        # The source of each output point: the 15 first, then the 4-point source's four.
        self.register_buffer("point_source", (torch.arange(points) >= N_KEYPOINTS).long(), persistent=False)
        self.stem = nn.Sequential(nn.Conv2d(1, CHANNELS[0], 5, stem_stride, 2, bias=False),
                                  nn.BatchNorm2d(CHANNELS[0]), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        c_in, stages = CHANNELS[0], []
        for i, c_out in enumerate(CHANNELS):
            stages.append(nn.Sequential(Block(c_in, c_out, 1 if i == 0 else 2, shortcut), Block(c_out, c_out, 1)))
            c_in = c_out
        self.stages = nn.ModuleList(stages)
        self.head = SoftArgmaxHead(targets, points, fine_heatmaps) if head == "soft_argmax" else PoolHead(points)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        x, outputs = self.stem(x), []
        for stage in self.stages:
            x = stage(x)
            outputs.append(x)
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def point_offsets(self) -> torch.Tensor:
        """(points,) each output point's horizontal label offset in target units (0 without mirror_offsets)."""
        if self.mirror_offset is None:
            return torch.zeros(self.points, device=self.point_source.device)
        return self.mirror_offset[self.point_source]

    def spread(self, x: torch.Tensor) -> torch.Tensor:
        """(N, K) spread of each keypoint's heatmap in pixels (`heatmap_spread`); soft-argmax head only."""
        if not isinstance(self.head, SoftArgmaxHead):
            raise TypeError("only the soft_argmax head has a distribution per keypoint")
        return heatmap_spread(self.head.logits(self.features(x)))
