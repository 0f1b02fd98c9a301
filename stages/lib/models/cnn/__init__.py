"""Model `cnn` (Keras 3 on TensorFlow): three conv blocks and two Dense(500) layers.

Conv2D blocks of 32, 64 and 128 filters with LeakyReLU, max-pool and dropout, then
Dense(500) x2 and Dense(30). Two phases: Adam with a masked Huber loss, then SGD with
momentum, ReduceLROnPlateau and the best checkpoint (lowest validation loss) kept.

The seeds' network halves the face in every block by a 2x2 max-pool. Three options make an
epoch faster on the CPU (README, "Time"): `first_stride: 2` halves the first block's size by its
convolution's stride; then `first_pool: 2` halves it once more, so the second and third blocks run
on 24x24 and 12x12 maps instead of 48x48 and 24x24; without it, `last_pool: 4` pools the third
block 4x4. Either way the first Dense layer reads 6x6x128 values instead of 12x12x128. Strides
1 and pools 2, 2 give the seeds' network.

Saved as `weights.npz` (the kept weights, in a zip whose bytes depend only on their values) and
`config.json` (what `build` needs): the same weights always give the same files, which a
`.keras` archive (save date, object addresses) does not.

TensorFlow is configured (threads, determinism) before its first op, so import this module
only to train or predict with the CNN.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np

from ...augment import augment_batch
from ...errors import UserError
from ...io import load_npz, save_npz
from ...metrics import rmse
from ...params import CnnParams
from ...faces import Faces
from ...keypoints import Predictor
from ..targets import Targets
from ..training import EpochCallback, cpu_threads, epoch_order

# TensorFlow's C++ graph-optimiser messages would bury the one line per epoch; the level must
# be set before TensorFlow is first imported. Set the variable yourself to see them.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_configured = False


class DivergedError(UserError):
    """Training went to NaN or infinity: the old model is kept, and the message says what to lower."""


def configure(threads: int | str, seed: int) -> None:
    """Threads and op determinism must be set before TensorFlow runs anything."""
    global _configured
    import tensorflow as tf
    import keras

    if not _configured:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(cpu_threads(threads))
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            pass  # TensorFlow already ran an op in this process: it keeps the threads it has
        tf.config.experimental.enable_op_determinism()
        _configured = True
    keras.utils.set_random_seed(seed)


def architecture(params: CnnParams) -> dict:
    """What a saved model records (`config.json`) to rebuild its network (`build`) and decode it."""
    return {"dropout": params.dropout, "first_stride": params.first_stride, "first_pool": params.first_pool,
            "last_pool": params.last_pool, "normalize_targets": params.normalize_targets}


def build(architecture: dict):
    """The network of `architecture(params)`; keys added since read as before they existed, so
    older model files still load."""
    import keras
    from keras import layers

    first_stride = architecture.get("first_stride", 1)
    pools = (architecture.get("first_pool", 2 // first_stride), 2, architecture.get("last_pool", 2))
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


def _batches(params: CnnParams, train: Faces, targets: Targets):
    import keras

    class AugmentedBatches(keras.utils.PyDataset):
        """Shuffled, augmented batches; epoch e's content depends only on (seed, e)."""

        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)
            self.epoch = 0
            self.order = epoch_order(len(train), params.seed, 0)

        def __len__(self) -> int:
            return math.ceil(len(train) / params.batch_size)

        def __getitem__(self, index: int):
            rows = np.sort(self.order[index * params.batch_size:(index + 1) * params.batch_size])
            rng = np.random.default_rng([params.seed, self.epoch, 1, index])
            images, keypoints, _ = augment_batch(train.images[rows], train.keypoints[rows], params.augment, rng)
            return to_input(images), targets.encode(keypoints)

        def on_epoch_end(self) -> None:
            self.epoch += 1
            self.order = epoch_order(len(train), params.seed, self.epoch)

    return AugmentedBatches()


def train(params: CnnParams, train: Faces, val: Faces, out_dir: Path, on_epoch: EpochCallback) -> dict:
    configure(params.threads, params.seed)
    import keras

    from .losses import masked_loss

    targets = Targets(params.normalize_targets)
    model = build(architecture(params))
    loss = masked_loss(params.loss, targets.unit_px)
    batches = _batches(params, train, targets)
    val_x = to_input(val.images)
    val_y = targets.encode(val.keypoints)
    state = {"epoch": 0, "seconds": 0.0, "images": 0, "best_val_loss": math.inf, "best_val_rmse": math.nan}

    class Log(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            state["seconds"] += time.perf_counter() - self.started
            if not math.isfinite(logs["loss"]):
                raise DivergedError(f"cnn: training diverged at epoch {state['epoch'] + 1} (loss {logs['loss']}) with lr "
                                    f"{float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)):.3g}; lower "
                                    f"cnn.{'adam' if state['epoch'] < params.adam.epochs else 'sgd'}.lr "
                                    "(the old model is kept)")
            state["images"] += len(train)
            # One pass over the validation faces gives both figures; `logs` is the dict the
            # callbacks after this one (ReduceLROnPlateau, EarlyStopping) read val_loss from.
            raw = model.predict(val_x, batch_size=256, verbose=0)
            logs["val_loss"] = float(keras.ops.convert_to_numpy(loss(val_y, raw)))
            val_rmse = rmse(targets.decode(raw), val.keypoints)
            if logs["val_loss"] < state["best_val_loss"]:  # the best checkpoint, kept in memory
                state.update(best_val_loss=float(logs["val_loss"]), best_val_rmse=val_rmse,
                             best_epoch=state["epoch"] + 1, best_weights=model.get_weights())
            on_epoch(state["epoch"], {"train/loss": float(logs["loss"]), "val/loss": float(logs["val_loss"]),
                                      "val/rmse": val_rmse,
                                      "lr": float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)),
                                      "images_per_s": state["images"] / max(state["seconds"], 1e-9)})
            state["epoch"] += 1

    log = Log()
    if params.adam.epochs:
        model.compile(optimizer=keras.optimizers.Adam(params.adam.lr), loss=loss)
        model.fit(batches, epochs=params.adam.epochs, verbose=0, callbacks=[log])
    if params.sgd.epochs:
        model.compile(optimizer=keras.optimizers.SGD(params.sgd.lr, momentum=params.sgd.momentum), loss=loss)
        stopping = [] if params.sgd.patience is None else [
            keras.callbacks.EarlyStopping("val_loss", patience=params.sgd.patience)]
        model.fit(batches, epochs=params.sgd.epochs, verbose=0, callbacks=[
            log,
            keras.callbacks.ReduceLROnPlateau("val_loss", factor=params.sgd.plateau_factor,
                                              patience=params.sgd.plateau_patience),
            *stopping,
        ])
    save_npz(Path(out_dir) / "weights.npz", **{f"w{i:03d}": w for i, w in enumerate(state["best_weights"])})
    (Path(out_dir) / "config.json").write_text(json.dumps(architecture(params), sort_keys=True))
    return {"val_rmse": state["best_val_rmse"], "val_loss": state["best_val_loss"],
            "best_epoch": state.get("best_epoch", 0), "epochs": state["epoch"],
            "timing": {"train_seconds": round(state["seconds"], 1),
                       "images_per_s": round(state["images"] / max(state["seconds"], 1e-9), 1), "device": device()}}


def device() -> str:
    """Where TensorFlow runs the CNN: it takes a GPU by itself when its CUDA build finds one."""
    import tensorflow as tf

    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


def load(model_dir: Path) -> Predictor:
    model_dir = Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    weights = load_npz(model_dir / "weights.npz")
    model = build(config)
    model.set_weights([weights[name] for name in sorted(weights)])
    targets = Targets(config["normalize_targets"])
    return lambda images, four_point=None: targets.decode(model.predict(to_input(images), batch_size=256, verbose=0))
