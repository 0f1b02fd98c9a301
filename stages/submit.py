"""Stage `submit`: a Kaggle submission per model, and one for the best, checked before it is kept.

`submissions/<model>.csv` and `submissions/best.csv` in Kaggle's `RowId,Location` format, built
from IdLookupTable (as prepared in data/prepared/lookup.npz): every row, in order, in [0, 96].
"""
from __future__ import annotations

import json
from pathlib import Path

from .lib.cli import run
from .lib.io import atomic_dir, load_npz
from .lib.models import MODELS
from .lib.submission import build_submission, check_submission, format_submission

LOOKUP_FILE = "data/prepared/lookup.npz"
OUT_DIR = "submissions"


def main() -> None:
    lookup = load_npz(LOOKUP_FILE)
    best = json.loads(Path("metrics/summary.json").read_text())["best"]
    with atomic_dir(OUT_DIR) as tmp:
        for name in MODELS:
            predictions = load_npz(f"evaluation/{name}/predictions.npz")
            locations = build_submission(lookup["row_ids"], lookup["image_ids"], lookup["features"],
                                         predictions["test_image_ids"], predictions["test"])
            text = format_submission(lookup["row_ids"], locations)
            for file_name in [f"{name}.csv"] + (["best.csv"] if name == best else []):
                (tmp / file_name).write_text(text)
                check_submission(tmp / file_name, lookup["row_ids"])
    print(f"wrote {len(MODELS) + 1} submissions of {len(lookup['row_ids'])} rows to {OUT_DIR}/ (best: {best})")


if __name__ == "__main__":
    run(main)
