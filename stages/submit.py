"""Stage `submit`: a Kaggle submission per model, and one for the best, checked before it is kept.

usage: python -m stages.submit LOOKUP_NPZ SUMMARY_JSON EVALUATION_DIR OUT_DIR

`OUT_DIR/<model>.csv` for every model of the summary (from EVALUATION_DIR/<model>/predictions.npz)
and `OUT_DIR/best.csv`, in Kaggle's `RowId,Location` format, built from IdLookupTable (as
prepared in LOOKUP_NPZ): every row, in order, in [0, 96].
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .lib.cli import run
from .lib.io import atomic_dir, load_npz
from .lib.submission import build_submission, check_submission, format_submission


def main() -> None:
    parser = argparse.ArgumentParser(description="Write Kaggle submissions.")
    for name in ("lookup", "summary", "evaluation", "out"):
        parser.add_argument(name, type=Path)
    args = parser.parse_args()
    lookup = load_npz(args.lookup)
    summary = json.loads(args.summary.read_text())
    best, models = summary["best"], summary["ranking"]
    with atomic_dir(args.out) as tmp:
        for name in models:
            predictions = load_npz(args.evaluation / name / "predictions.npz")
            locations = build_submission(lookup["row_ids"], lookup["image_ids"], lookup["features"],
                                         predictions["test_image_ids"], predictions["test"])
            text = format_submission(lookup["row_ids"], locations)
            for file_name in [f"{name}.csv"] + (["best.csv"] if name == best else []):
                (tmp / file_name).write_text(text)
                check_submission(tmp / file_name, lookup["row_ids"])
    print(f"wrote {len(models) + 1} submissions of {len(lookup['row_ids'])} rows to {args.out}/ (best: {best})")


if __name__ == "__main__":
    run(main)
