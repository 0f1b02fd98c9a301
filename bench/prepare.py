"""Benchmark: parsing a Kaggle-size training.csv, this project's parser vs the common approach.

The common approach (seen in most Kaggle notebooks) is pandas.read_csv, then per row
`np.fromstring(pixels, sep=" ")` into float64, stacked and cast to float32. Each approach runs
in a fresh subprocess, so its peak RSS (VmHWM: the whole process, interpreter, imports and
data) is its own. Prints wall time, peak memory and the ratios.

usage: python bench/prepare.py [--rows 7049] [--repeats 3]    (about 2 minutes on 2 cores)
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stages.lib.facegen import make_sample_data  # noqa: E402
from stages.lib.kaggle_csv import format_training_csv  # noqa: E402

COMMON = """
import warnings; warnings.simplefilter("ignore")
import numpy as np, pandas as pd
df = pd.read_csv(PATH)
images = np.vstack(df["Image"].apply(lambda s: np.fromstring(s, sep=" ")).values).astype(np.float32)
keypoints = df.drop(columns="Image").to_numpy(np.float32)
"""
OURS = """
from stages.lib.kaggle_csv import read_training_csv
images, keypoints = read_training_csv(PATH)
"""
MEASURE = """
import time, json
start = time.perf_counter()
{code}
seconds = time.perf_counter() - start
# VmHWM, not ru_maxrss: ru_maxrss would carry over the parent's peak across fork and exec.
hwm_kb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({{"seconds": seconds, "peak_mb": hwm_kb / 1024,
                  "shape": list(images.shape)}}))
"""


def write_kaggle_size_csv(path: Path, rows: int) -> None:
    """Procedural faces tiled with jitter to `rows` rows: Kaggle's size and digit mix."""
    base = make_sample_data(seed=0, n_train=500, n_test=1, full_fraction=0.3)
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(base.train_images), rows)
    images = base.train_images[pick].astype(np.int16) + rng.integers(-6, 7, (rows, 96, 96))
    images = np.clip(images, 0, 255).astype(np.uint8)
    path.write_text(format_training_csv(images, base.train_keypoints[pick]))


def measure(code: str, path: Path) -> dict:
    script = MEASURE.format(code=code.replace("PATH", repr(str(path))))
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=7049)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "training.csv"
        write_kaggle_size_csv(path, args.rows)
        print(f"{path.stat().st_size / 1e6:.0f} MB, {args.rows} rows")
        results = {}
        for name, code in (("common np.fromstring", COMMON), ("stages.lib.kaggle_csv", OURS)):
            runs = [measure(code, path) for _ in range(args.repeats)]
            results[name] = {"seconds": min(r["seconds"] for r in runs),
                             "peak_mb": max(r["peak_mb"] for r in runs)}
            print(f"{name:24s} {results[name]['seconds']:7.2f} s   peak RSS {results[name]['peak_mb']:7.0f} MB"
                  f"   (best of {args.repeats})")
    common, ours = results["common np.fromstring"], results["stages.lib.kaggle_csv"]
    print(f"time ratio  {ours['seconds'] / common['seconds']:.3f}  ({common['seconds'] / ours['seconds']:.1f}x faster)")
    print(f"peak memory ratio  {ours['peak_mb'] / common['peak_mb']:.3f}")


if __name__ == "__main__":
    main()
