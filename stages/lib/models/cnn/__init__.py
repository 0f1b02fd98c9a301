"""Model `cnn` (Keras 3 on TensorFlow): three conv blocks and two Dense(500) layers.

The network is `network.py`'s, trained by `loop.py` (Adam, then SGD with ReduceLROnPlateau), its
loss `losses.py`'s. This module trains and saves the model, and loads it.

Saved as `weights.npz` (the kept weights, in a zip whose bytes depend only on their values) and
`config.json` (what `build` needs): the same weights always give the same files, which a
`.keras` archive (save date, object addresses) does not.

TensorFlow is configured (threads, determinism) before its first op, so import this module
only to train or predict with the CNN.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

# TensorFlow's C++ graph-optimiser messages would bury the one line per epoch; the level must
# be set before TensorFlow is first imported. Set the variable yourself to see them.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ...faces import Faces  # noqa: E402
from ...io import load_npz, reading, save_npz  # noqa: E402
from ...keypoints import Predictor  # noqa: E402
from ...params import CnnParams  # noqa: E402
from ..targets import Targets  # noqa: E402
from ..training import EpochCallback  # noqa: E402
from .loop import train_network  # noqa: E402
from .network import architecture, build, to_input  # noqa: E402


def train(params: CnnParams, train: Faces, val: Faces, out_dir: Path, on_epoch: EpochCallback) -> dict:
    weights, summary = train_network(params, train, val, on_epoch)
    save_npz(Path(out_dir) / "weights.npz", **{f"w{i:03d}": w for i, w in enumerate(weights)})
    (Path(out_dir) / "config.json").write_text(json.dumps(architecture(params), sort_keys=True))
    return summary


def load(model_dir: Path) -> Predictor:
    model_dir = Path(model_dir)
    path = model_dir / "config.json"
    with reading(path, (ValueError, KeyError, TypeError)):  # not JSON, or a key missing
        config = json.loads(path.read_text())
        model = build(config)
    weights = load_npz(model_dir / "weights.npz")
    with reading(model_dir / "weights.npz", (ValueError,)):  # arrays of other shapes than the network's
        model.set_weights([weights[name] for name in sorted(weights)])
    targets = Targets(config["normalize_targets"])
    return lambda images, four_point=None: targets.decode(model.predict(to_input(images), batch_size=256, verbose=0))
