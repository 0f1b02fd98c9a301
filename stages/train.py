"""Stage `train@<model>`: train one registered model on `data/split` into `models/<model>/`.

usage: python -m stages.train MODEL

Writes model files, `train.json` (summary) and `live/` (DVCLive per-epoch curves) into a
temp folder that replaces `models/<model>/` only when training has finished: a killed run
leaves the previous model in place, and `dvc repro` trains again cleanly.
"""
from __future__ import annotations

import argparse
import math
import sys

from tqdm import tqdm

from .lib.cli import run
from .lib.io import atomic_dir, load_npz, save_json
from .lib.models import MODELS, model_params, train_model
from .lib.models.base import Faces
from .lib.params import load_params

SPLIT_DIR = "data/split"


class EpochLog:
    """One line per epoch on stdout, a tqdm bar on terminals, and DVCLive curves."""

    def __init__(self, name: str, live_dir, total_epochs: int):
        from dvclive import Live

        self.name = name
        self.live = Live(dir=str(live_dir), dvcyaml=False, save_dvc_exp=False, report=None)
        self.bar = tqdm(total=total_epochs, desc=name, unit="epoch", disable=None, file=sys.stderr)

    def __call__(self, epoch: int, metrics: dict[str, float]) -> None:
        for key, value in metrics.items():
            if not math.isnan(value):
                self.live.log_metric(key, value)
        self.live.next_step()
        self.bar.update(1)
        shown = "  ".join(f"{k} {v:.4g}" for k, v in metrics.items())
        tqdm.write(f"{self.name} epoch {epoch + 1}: {shown}", file=sys.stdout)
        sys.stdout.flush()

    def close(self) -> None:
        self.bar.close()
        self.live.end()


def total_epochs(params) -> int:
    """At most this many epochs (early stopping may end sooner): the bar's length."""
    if hasattr(params, "members"):  # the ResNet's networks train one after another
        return params.epochs * (params.members + params.pseudo_labels)
    if hasattr(params, "epochs"):
        return params.epochs
    if hasattr(params, "adam"):
        return params.adam.epochs + params.sgd.epochs
    return 1


def main() -> None:
    parser = argparse.ArgumentParser(description="Train one model of the registry.")
    parser.add_argument("model", choices=sorted(MODELS))
    name = parser.parse_args().model
    params = load_params()
    train = Faces.from_arrays(load_npz(f"{SPLIT_DIR}/train.npz"))
    val = Faces.from_arrays(load_npz(f"{SPLIT_DIR}/val.npz"))
    with atomic_dir(f"models/{name}") as tmp:
        log = EpochLog(name, tmp / "live", total_epochs(model_params(params, name)))
        try:
            summary = train_model(name, params, train, val, tmp, log)
        finally:
            log.close()
        save_json(tmp / "train.json", {"model": name, **summary})
    print(f"{name}: best val RMSE {summary['val_rmse']:.4f} px -> models/{name}/")


if __name__ == "__main__":
    run(main)
