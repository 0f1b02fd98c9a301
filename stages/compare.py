"""Stage `compare`: all models side by side in a summary JSON and a Markdown table.

usage: python -m stages.compare METRICS_JSON... --json SUMMARY_JSON --markdown SUMMARY_MD

Each METRICS_JSON is one model's (written by `evaluate`, naming its model). The best model is
the one with the lowest validation RMSE.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .lib.cli import run
from .lib.io import atomic_file, save_json

COLUMNS = (("rmse", "val RMSE (px)", "{:.4f}"), ("rmse_without_flip_tta", "no flip TTA", "{:.4f}"),
           ("mean_error_px", "mean error (px)", "{:.3f}"), ("within_2px", "within 2 px", "{:.1%}"),
           ("within_5px", "within 5 px", "{:.1%}"))


def summarise(metrics: dict[str, dict]) -> dict:
    ranked = sorted(metrics, key=lambda name: metrics[name]["rmse"])
    return {"best": ranked[0], "ranking": ranked,
            "models": {name: {key: metrics[name][key] for key, _, _ in COLUMNS} for name in metrics}}


def markdown(summary: dict) -> str:
    header = "| model | " + " | ".join(title for _, title, _ in COLUMNS) + " |"
    lines = [header, "|" + " --- |" * (len(COLUMNS) + 1)]
    for name in summary["ranking"]:
        row = summary["models"][name]
        mark = " (best)" if name == summary["best"] else ""
        lines.append(f"| {name}{mark} | " + " | ".join(fmt.format(row[key]) for key, _, fmt in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Compare the evaluated models.")
    parser.add_argument("metrics", nargs="+", type=Path)
    parser.add_argument("--json", required=True)
    parser.add_argument("--markdown", required=True)
    args = parser.parse_args()
    metrics = {}
    for path in args.metrics:
        record = json.loads(path.read_text())
        metrics[record["model"]] = record
    summary = summarise(metrics)
    save_json(args.json, summary)
    with atomic_file(args.markdown, "w") as handle:
        handle.write(markdown(summary))
    print(markdown(summary), end="")


if __name__ == "__main__":
    run(main)
