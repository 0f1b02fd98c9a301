"""The CNN's training: Adam with the masked loss, then SGD with momentum, ReduceLROnPlateau and
early stopping, the best checkpoint (lowest validation loss) kept in memory; one line per epoch.

TensorFlow is configured (threads, determinism) before its first op.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ...augment import augment_batch
from ...faces import Faces
from ...metrics import rmse
from ...params import CnnParams
from ..targets import Targets
from ..training import DivergedError, EpochCallback, cpu_threads, epoch_order
from .network import architecture, build, to_input

_configured = False


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


def train_network(params: CnnParams, train: Faces, val: Faces, on_epoch: EpochCallback) -> tuple[list, dict]:
    """The kept (best) weights and the run's summary."""
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
    return state["best_weights"], {"val_rmse": state["best_val_rmse"], "val_loss": state["best_val_loss"],
            "best_epoch": state.get("best_epoch", 0), "epochs": state["epoch"],
            "timing": {"train_seconds": round(state["seconds"], 1),
                       "images_per_s": round(state["images"] / max(state["seconds"], 1e-9), 1), "device": device()}}


def device() -> str:
    """Where TensorFlow runs the CNN: it takes a GPU by itself when its CUDA build finds one."""
    import tensorflow as tf

    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


