"""Stage `compare`: all models side by side in a summary JSON and a Markdown table.

usage: python -m stages.compare METRICS_DIR_OR_JSON... --json SUMMARY_JSON --markdown SUMMARY_MD
                                 --per-keypoint PER_KEYPOINT_CSV

Each metrics file is one model's (written by `evaluate`, naming its model); a folder stands for
the JSON files in it (metrics/evaluate: every evaluated model). The best model, the
one `submit` sends, is the one with the lowest validation RMSE as the leaderboard would mix it (each
label source's RMSE weighted by its share of the test lookup's values), or over all values where a
model has no such figure.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .lib.cli import run
from .lib.io import atomic_file, save_json

COLUMNS = (("rmse_leaderboard_weighted", "leaderboard mix (px)", "{:.4f}"),
           ("rmse_15_point", "15-point faces", "{:.4f}"), ("rmse_4_point", "4-point faces", "{:.4f}"),
           ("rmse", "val RMSE (px)", "{:.4f}"), ("rmse_without_flip_tta", "no flip TTA", "{:.4f}"),
           ("mean_error_px", "mean error (px)", "{:.3f}"), ("within_2px", "within 2 px", "{:.1%}"),
           ("within_5px", "within 5 px", "{:.1%}"))


def _row(record: dict) -> dict:
    by_source = record.get("rmse_by_source") or {}
    flat = dict(record, rmse_15_point=by_source.get("15-point"), rmse_4_point=by_source.get("4-point"))
    return {key: flat.get(key) for key, _, _ in COLUMNS}


def summarise(metrics: dict[str, dict]) -> dict:
    """Models that params.yaml turns off (`"trained": false`) are listed as such and never ranked."""
    off = sorted(name for name, record in metrics.items() if record.get("trained") is False)
    rows = {name: _row(record) for name, record in metrics.items() if name not in off}
    # One criterion for all models, so a model without the mix is never ranked against one with it.
    key = "rmse_leaderboard_weighted" if all(r["rmse_leaderboard_weighted"] is not None for r in rows.values()) \
        else "rmse"
    ranked = sorted(rows, key=lambda name: rows[name][key])
    # The fold ensemble's other figures (stages/evaluate.py): its members out of fold, its interval.
    folds = {name: {"out_of_fold": record["out_of_fold"], "holdout_interval_95": record["holdout_interval_95"]}
             for name, record in metrics.items() if "out_of_fold" in record}
    return {"best": ranked[0], "ranked_by": key, "ranking": ranked, "models": rows, "off": off, **(
        {"folds": folds} if folds else {})}


def per_keypoint_table(metrics: dict[str, dict], models: list[str]) -> str:
    """`model,keypoint,rmse`: every model's validation RMSE per keypoint, best model first (the
    `dvc plots` bar chart of all models, .dvc/plots/bars_by_model.json)."""
    import pandas as pd

    rows = [(name, keypoint, value) for name in models for keypoint, value in metrics[name]["per_keypoint"].items()]
    return pd.DataFrame(rows, columns=["model", "keypoint", "rmse"]).to_csv(index=False, float_format="%.6f",
                                                                              lineterminator="\n")


def markdown(summary: dict) -> str:
    header = "| model | " + " | ".join(title for _, title, _ in COLUMNS) + " |"
    lines = [header, "|" + " --- |" * (len(COLUMNS) + 1)]
    for name in summary["ranking"]:
        row = summary["models"][name]
        mark = " (best)" if name == summary["best"] else ""
        cells = ("-" if row[key] is None else fmt.format(row[key]) for key, _, fmt in COLUMNS)
        lines.append(f"| {name}{mark} | " + " | ".join(cells) + " |")
    lines += [f"| {name} (off) | " + " | ".join("-" for _ in COLUMNS) + " |" for name in summary.get("off", ())]
    for name, figures in summary.get("folds", {}).items():
        oof, (low, high) = figures["out_of_fold"], figures["holdout_interval_95"]
        mix = oof["rmse_leaderboard_weighted"]
        lines += ["", f"*{name}: its networks out of fold, each on the fold it did not train on: RMSE {oof['rmse']:.4f} px"
                      + (f", leaderboard mix {mix:.4f}" if mix is not None else "") + f" over {oof['faces']} faces; "
                      f"the ensemble's leaderboard mix on the hold-out (its row), 95% bootstrap interval {low:.4f}-{high:.4f}.*"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Compare the evaluated models.")
    parser.add_argument("metrics", nargs="+", type=Path)
    parser.add_argument("--json", required=True)
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--per-keypoint", required=True, help="every model's RMSE per keypoint (CSV)")
    args = parser.parse_args()
    metrics = {}
    paths = [file for path in args.metrics for file in (sorted(path.glob("*.json")) if path.is_dir() else [path])]
    for path in paths:
        record = json.loads(path.read_text())
        metrics[record["model"]] = record
    summary = summarise(metrics)
    save_json(args.json, summary)
    with atomic_file(args.markdown, "w") as handle:
        handle.write(markdown(summary))
    with atomic_file(args.per_keypoint, "w") as handle:
        handle.write(per_keypoint_table(metrics, summary["ranking"]))
    print(markdown(summary), end="")


if __name__ == "__main__":
    run(main)
