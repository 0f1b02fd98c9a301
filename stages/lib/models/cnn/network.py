"""The CNN: Conv2D blocks of 32, 64 and 128 filters with LeakyReLU, max-pool and dropout, then
Dense(500) x2 and Dense(30).

The seeds' network halves the face in every block by a 2x2 max-pool. Three options make an
epoch faster on the CPU (README, "Time"): `first_stride: 2` halves the first block's size by its
convolution's stride; then `first_pool: 2` halves it once more, so the second and third blocks run
on 24x24 and 12x12 maps instead of 48x48 and 24x24; without it, `last_pool: 4` pools the third
block 4x4. Either way the first Dense layer reads 6x6x128 values instead of 12x12x128. Strides
1 and pools 2, 2 give the seeds' network.
"""
from __future__ import annotations

import numpy as np

from ...params import CnnParams


def architecture(params: CnnParams) -> dict:
    """What a saved model records (`config.json`) to rebuild its network (`build`) and decode it."""
    return {"dropout": params.dropout, "first_stride": params.first_stride, "first_pool": params.first_pool,
            "last_pool": params.last_pool, "normalize_targets": params.normalize_targets}


def build(architecture: dict):
    """The network of `architecture(params)`."""
    import keras
    from keras import layers

    first_stride = architecture["first_stride"]
    pools = (architecture["first_pool"], 2, architecture["last_pool"])
    inputs = keras.Input((96, 96, 1))
    x = inputs
    for block, (filters, pool) in enumerate(zip((32, 64, 128), pools)):
        x = layers.Conv2D(filters, 3, strides=first_stride if block == 0 else 1, padding="same")(x)
        x = layers.LeakyReLU(0.1)(x)
        if pool > 1:
            x = layers.MaxPooling2D(pool)(x)
        x = layers.Dropout(architecture["dropout"])(x)
    x = layers.Flatten()(x)
    for _ in range(2):
        x = layers.Dense(500)(x)
        x = layers.LeakyReLU(0.1)(x)
        x = layers.Dropout(architecture["dropout"])(x)
    return keras.Model(inputs, layers.Dense(30)(x), name="cnn")


def to_input(images: np.ndarray) -> np.ndarray:
    return (np.asarray(images, np.float32)[..., None] / 127.5 - 1.0).astype(np.float32)
