"""Stage `train@<model>`: train one registered model on the split faces.

usage: python -m stages.train MODEL SPLIT_DIR OUT_DIR LOG_DIR SUMMARY_JSON
       (e.g. resnet data/split models/resnet logs/resnet metrics/train/resnet.json)

Writes model files into OUT_DIR, the summary (validation RMSE, epochs: a DVC metric) into
SUMMARY_JSON, and what changes from run to run whatever the weights, `timing.json` (training time
and speed, never compared) and `live/` (DVCLive per-epoch curves, timestamped), into LOG_DIR: so a
retrain that reproduces the weights leaves OUT_DIR byte for byte the same and nothing downstream
reruns. All are written into temp files and folders that replace the old ones only when training
has finished: a killed run leaves the previous model in place, and `dvc repro` trains again cleanly.
A model whose section is null (off) gets `off.json` in OUT_DIR and `"trained": false` as its summary.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from tqdm import tqdm

from .lib.cli import run
from .lib.io import atomic_dir, load_npz, save_json
from .lib.models import OFF_FILE, train_model, trained_models
from .lib.faces import Faces
from .lib.params import load_params


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


def write_off(name: str, out: Path, logs_dir: Path, summary: Path) -> None:
    """The outputs of a model that params.yaml turns off: a marker, no curves, "not trained"."""
    record = {"model": name, "trained": False}
    with atomic_dir(out) as tmp, atomic_dir(logs_dir) as logs:
        save_json(tmp / OFF_FILE, record)
        save_json(logs / "timing.json", {})
        curves = logs / "live" / "plots" / "metrics"
        curves.mkdir(parents=True)
        (curves / "not_trained.tsv").write_text("step\tnot_trained\n")  # an empty curve DVC can draw
        save_json(summary, record)
    print(f"{name}: off ({name}: null in params.yaml), not trained")


def main() -> None:
    parser = argparse.ArgumentParser(description="Train one model of the registry.")
    parser.add_argument("model", choices=trained_models())
    parser.add_argument("split", type=Path, help="folder with train.npz and val.npz")
    parser.add_argument("out", type=Path, help="the model's folder")
    parser.add_argument("logs", type=Path, help="folder for its timing and per-epoch curves")
    parser.add_argument("summary", type=Path, help="the training summary (JSON)")
    args = parser.parse_args()
    name = args.model
    params = load_params()
    train = Faces.from_arrays(load_npz(args.split / "train.npz"))
    val = Faces.from_arrays(load_npz(args.split / "val.npz"))
    if not params.trains(name):
        write_off(name, args.out, args.logs, args.summary)
        return
    with atomic_dir(args.out) as tmp, atomic_dir(args.logs) as logs:
        log = EpochLog(name, logs / "live", params.model(name).max_epochs)
        try:
            summary = train_model(name, params, train, val, tmp, log)
        finally:
            log.close()
        save_json(logs / "timing.json", summary.pop("timing", {}))
        # What the model learned from, for whoever uses it later (`make photos` says it).
        trained_on = {"raw_dir": params.data.raw_dir, "faces": len(train)}
        save_json(args.summary, {"model": name, "trained_on": trained_on, **summary})
    print(f"{name}: val RMSE {summary['val_rmse']:.4f} px -> {args.out}/")


if __name__ == "__main__":
    run(main)
