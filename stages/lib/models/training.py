"""What the training loops of both frameworks share: the epoch callback, threads, shuffling, and
the error a diverged run stops with."""
from __future__ import annotations

import os
from typing import Callable

import numpy as np

from ..errors import UserError

# Called once per epoch with that epoch's metrics (train/loss, val/loss, val/rmse, lr, ...).
EpochCallback = Callable[[int, dict[str, float]], None]


class DivergedError(UserError):
    """Training went to NaN or infinity: the old model is kept, and the message says what to lower."""


def cpu_threads(requested: int | str) -> int:
    """`requested`, or with "all" every core this process may run on."""
    if requested != "all":
        return int(requested)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled order of epoch `epoch`: a function of the seed and the epoch only."""
    return np.random.default_rng([seed, epoch]).permutation(n)
