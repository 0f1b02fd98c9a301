"""The tables of README.md and docs/*.md that come from the project's outputs, and their check.

A generated table sits between two markers that name its source:

    <!-- table: metrics/summary.md -->                       compare's table, as it is
    <!-- table: bench/results/kaggle-train-jpeg.json RUN -->  one run of bench/accuracy.py's results file
    <!-- table: bench/results/kaggle-train-jpeg.json levers --> its runs compared fold by fold (--against)
    <!-- table: bench/results/detection.json detectors -->   bench/detection.py's (or: upright)
    <!-- table: bench/results/confidence.json MODEL -->      bench/confidence.py's, for one model
    <!-- table: bench/results/holdout-floor.json -->         bench/holdout_floor.py's
    <!-- table: bench/results/stack.json -->                 bench/stack.py's
    ...
    <!-- end table -->

usage: python docs/tables.py           rewrite every marked table from its source
       python docs/tables.py --check   exit 1, naming each table that differs from its source
(tests/test_docs.py runs the check, so text and outputs cannot drift apart.)
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
END = "<!-- end table -->"
BLOCK = re.compile(r"(<!-- table: (\S+)(?: ([^\n]+?))? -->\n)(.*?)(" + END + ")", re.S)
SOURCES = ("15-point", "4-point")


def machine_text(machine: dict) -> str:
    where = machine["gpu"] or f"{machine['cores']} cores of an {machine['cpu']} (family {machine['cpu_family']} " \
                              f"model {machine['cpu_model']}, {'with' if machine['bf16'] else 'no'} bf16)"
    return where


def spread(summary: dict) -> str:
    if summary is None or summary.get("mean") is None:
        return "-"
    return f"{summary['mean']:.3f}" + (f" ± {summary['std']:.3f}" if summary.get("std") is not None else "")


def signed_spread(summary: dict) -> str:
    if summary.get("mean") is None:
        return "-"
    return f"{summary['mean']:+.3f}" + (f" ± {summary['std']:.3f}" if summary.get("std") is not None else "")


def trimmed(folds: list[dict], held: dict | None) -> str:
    """The folds' mean and the hold-out's mix without each source's worst 1% of faces."""
    if any(f.get("mix_worst_1pct_out") is None for f in folds):
        return "-"  # a run recorded before the figure was
    hold = "-" if held is None or held.get("mix_worst_1pct_out") is None else f"{held['mix_worst_1pct_out']:.3f}"
    return f"{statistics.mean(f['mix_worst_1pct_out'] for f in folds):.3f} / {hold}"


def fold_run_table(run: dict) -> str:
    """One fold run of a results file: per model, the folds' leaderboard mix (mean ± standard
    deviation over folds), each source's, the pooled out-of-fold mix, and the fold ensemble on the
    outer hold-out with its 95% bootstrap interval. A run that leaves listed labels out of training
    (`split.wrong_labels`) also gives the mixes without those faces, beside the ones that count."""
    listed = any("mix_without_listed" in f for model in run["models"].values() for f in model["folds"])
    lines = ["| model | folds | leaderboard mix, mean ± sd over folds | 15-point faces | 4-point faces | "
             "out-of-fold mix | fold ensemble on the hold-out (95% interval) | train min per fold (median) | "
             "mix without each source's worst 1% of faces: folds / hold-out |"
             + (" without the listed faces: folds / hold-out |" if listed else ""),
             "|" + " --- |" * (10 if listed else 9)]
    for name, model in run["models"].items():
        folds = model["folds"]
        held = model.get("holdout_fold_ensemble")
        ensemble = "-" if held is None else \
            f"{held['mix']:.3f} ({held['interval_95'][0]:.3f}-{held['interval_95'][1]:.3f})"
        oof = model.get("out_of_fold")
        line = (f"| {name} | {len(folds)} of {run['folds']} | {spread(model['mix'])} | "
                f"{spread(model.get('15-point'))} | {spread(model.get('4-point'))} | "
                f"{'-' if oof is None else format(oof['mix'], '.3f')} | {ensemble} | "
                f"{statistics.median(f['train_wall_min'] for f in folds):.1f} | "
                f"{trimmed(folds, held)} |")
        if listed:
            without = statistics.mean(f["mix_without_listed"] for f in folds)
            line += f" {without:.3f} / {'-' if held is None else format(held['mix_without_listed'], '.3f')} |"
        lines.append(line)
    lines += ["", f"*{' '.join([run['profile'], *run['set']])}: {run['faces']['folds']:,} faces in {run['folds']} folds, "
              f"{run['faces']['holdout']:,} held out; seed {run['seed']}; on {machine_text(run['machine'])}.*"]
    return "\n".join(lines) + "\n"


def kept_text(kept: bool | None, incomplete: str) -> str:
    """`paired_gain`'s verdict in a table: kept, not, or what is missing for one."""
    return {True: "**kept**", False: "no", None: incomplete}[kept]


def levers_table(runs: dict) -> str:
    """Every run of a results file compared with another (`bench/accuracy.py --against`): what it
    changes, on top of which run, each fold's gain over that run (its mix minus the change's), the
    mean gain ± its standard deviation, and whether that keeps the change (`paired_gain`'s rule)."""
    lines = ["| change | compared with | model | gain per fold (px) | mean gain ± sd | "
             "out-of-fold gain | hold-out gain (fold ensemble) | kept? |", "|" + " --- |" * 8]
    for key, run in runs.items():
        for name, model in run["models"].items():
            against = model.get("against")
            if against is None:
                continue
            if not any(against["gains"]):
                continue  # the change does not touch this model (the mean baseline, under a ResNet lever)
            baseline = runs[against["run"]]
            change = [s for s in run["set"] if s not in baseline["set"]]
            if "model" in against:  # another model of the same settings
                change.append(f"{name} instead of {against['model']}")
            change = change or [f"{run['profile']} as it is"]
            if run.get("tag") and run["tag"] != baseline.get("tag"):
                change.append(f"[{run['tag']}]")
            verdict = kept_text(against["kept"], f"{len(against['gains'])} of {run['folds']} folds")
            gains = " / ".join(f"{g:+.3f}" for g in against["gains"])
            optional = [f"{against[f]:+.3f}" if f in against else "-" for f in ("out_of_fold", "holdout_fold_ensemble")]
            compared = " ".join([baseline["profile"], *baseline["set"]])
            lines.append(f"| {' '.join(change)} | {compared} | {name} | {gains} | "
                         f"{signed_spread(against)} | {' | '.join(optional)} | {verdict} |")
    return "\n".join(lines) + "\n"


def stack_table(results: dict) -> str:
    """bench/stack.py's: each member run, then each way of combining them, scored as fold runs are,
    with each combination's gain over the best member fold by fold (`paired_gain`'s rule)."""
    lines = ["| prediction | leaderboard mix, mean ± sd over folds | out-of-fold mix | fold ensemble on the hold-out "
             "(95% interval) | gain over the best member per fold (px) | mean gain ± sd | kept? |", "|" + " --- |" * 7]

    def figures(row: dict) -> str:
        held = row["holdout_fold_ensemble"]
        return (f"{spread(row['mix'])} | {row['out_of_fold']['mix']:.3f} | "
                f"{held['mix']:.3f} ({held['interval_95'][0]:.3f}-{held['interval_95'][1]:.3f})")

    for key, member in results["members"].items():
        best = " (the best)" if key == results["best_member"] else ""
        lines.append(f"| `{key}`{best}, {results['folds']} fold networks | {figures(member)} | - | - | - |")
    for how, row in results["combinations"].items():
        gain = row["against_best"]
        verdict = kept_text(gain["kept"], "folds missing")
        lines.append(f"| {how} of the {len(results['members'])} | {figures(row)} | "
                     f"{' / '.join(f'{g:+.3f}' for g in gain['gains'])} | {signed_spread(gain)} | {verdict} |")
    lines += ["", f"*{results['model']} on {results['data']}, {results['folds']} folds; "
                  f"on {machine_text(results['machine'])}.*"]
    return "\n".join(lines) + "\n"


def floor_table(results: dict) -> str:
    """bench/holdout_floor.py's figures: the hold-out's mix as the fold ensemble scores it, with
    its failures checked by eye mended, and the floor that the faces labelled wrongly set."""
    checked = results["checked"].values()
    lines = ["| the hold-out's faces predicted | leaderboard mix (px) |", "| --- | --- |",
             f"| by the fold ensemble ({results['model']}, {results['folds']} folds"
             + (f" of the run `{results['run']}`" if results.get("run") else "") + f") | {results['as_predicted']:.3f} |",
             f"| the same, its {sum(v == 'network' for v in checked)} failures checked by eye predicted exactly | "
             f"{results['network_failures_mended']:.3f} |",
             f"| every face exactly, but the {sum(v == 'label' for v in checked)} labelled wrongly, where the label's "
             f"own error stays (the floor) | {results['floor']:.3f} |"]
    return "\n".join(lines) + "\n"


def detection_table(results: dict, part: str) -> str:
    """bench/detection.py's results: `detectors` (found and false boxes, per detector, and time)
    or `upright` (keypoint RMSE of turned faces, cropped as they lie and turned upright)."""
    detectors = sorted({key.rsplit(", ", 1)[1] for key in results["canvases"]})
    if part == "upright":
        rmse = results["upright_rmse"]
        ways = results.get("upright_ways") or list(next(iter(rmse.values())))
        lines = ["| face turned by | " + " | ".join(f"RMSE, {way} (px)" for way in ways) + " |", "|" + " --- |" * (len(ways) + 1)]
        lines += [f"| {angle} | " + " | ".join(f"{row[way]:.3f}" for way in ways) + " |" for angle, row in rmse.items()]
        lines += ["", f"*Pixels of the 96x96 face; {results.get('upright_faces', results['faces'])} faces per angle; the model: "
                      f"{results['upright_model']}; on {machine_text(results['machine'])}.*"]
        return "\n".join(lines) + "\n"
    angles = [key.rsplit(", ", 1)[0] for key in results["canvases"] if key.endswith(", " + detectors[0])]
    lines = ["| detector | " + " | ".join(f"found, turned {a}" for a in angles) + " | false boxes in canvases | "
             "small faces found | false boxes on pictures without faces | s per 640x480 | s per 12 MP |",
             "|" + " --- |" * (len(angles) + 6)]
    for detector in detectors:
        found = [results["canvases"][f"{a}, {detector}"] for a in angles]
        pictures = results["false_boxes"][detector]
        lines.append(f"| {detector} | " + " | ".join(f"{f['found']:.1%}" for f in found) +
                     f" | {sum(f['false_boxes'] for f in found)} | {results['small_faces'][detector]:.1%} | "
                     f"{sum(pictures.values())} | {results['seconds'][f'640x480, {detector}']['seconds']:.2f} | "
                     f"{results['seconds'][f'12 MP, 4 faces, {detector}']['seconds']:.2f} |")
    lines += ["", f"*{results['faces']} youtube-faces-15 test faces per angle; on {machine_text(results['machine'])}.*"]
    return "\n".join(lines) + "\n"


def confidence_table(results: dict, model: str) -> str:
    """bench/confidence.py's results for one model: per set, its face scores, what the model's
    line keeps, and what MTCNN's score, the line, and both keep of the set's first images."""
    record = results[model]
    lines = ["| set | images | face score p5 / p50 / p95 (px) | kept by the line | of the first: | "
             "kept by MTCNN | kept by the line | kept by both |", "|" + " --- |" * 8]
    for label, row in record["sets"].items():
        p5, _, p50, _, p95 = row["percentiles_5_25_50_75_95"]
        first = row.get("kept_of_the_first")
        both = ["-"] * 4 if first is None else [f"{first['n']}", f"{first['mtcnn']:.1%}", f"{first['model']:.1%}",
                                                f"{first['both']:.1%}"]
        lines.append(f"| {label} | {row['n']} | {p5:.2f} / {p50:.2f} / {p95:.2f} | {row['kept_by_the_line']:.1%} | "
                     + " | ".join(both) + " |")
    lines += ["", f"*The model: {model}, its line {record['line']:.2f} px; MTCNN on each image enlarged 3x and "
                  f"padded; on {machine_text(record['machine'])}.*"]
    return "\n".join(lines) + "\n"


def render(source: str, argument: str | None) -> str:
    path = ROOT / source
    if source.endswith(".md"):
        return path.read_text()
    if path.name == "detection.json":
        return detection_table(json.loads(path.read_text()), argument)
    if path.name == "stack.json":
        return stack_table(json.loads(path.read_text()))
    if path.name == "holdout-floor.json":
        return floor_table(json.loads(path.read_text()))
    if path.name == "confidence.json":
        return confidence_table(json.loads(path.read_text()), argument)
    runs = json.loads(path.read_text())
    if argument == "levers":
        return levers_table(runs)
    if argument not in runs:
        raise KeyError(f"{source}: no run {argument!r}; it has {', '.join(map(repr, runs))}")
    return fold_run_table(runs[argument])


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def refreshed(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + render(m.group(2), m.group(3)) + m.group(5), text)


def drifted() -> list[str]:
    """Each marked table whose text differs from what its source renders, as `file: source`."""
    out = []
    for path in documents():
        text = path.read_text()
        blocks = list(BLOCK.finditer(text))
        for match in blocks:
            if match.group(4) != render(match.group(2), match.group(3)):
                out.append(f"{path.relative_to(ROOT)}: {match.group(2)} {match.group(3) or ''}".rstrip())
        # An end marker that closes no table: a stale copy of a table left below its current one.
        if text.count(END) > len(blocks):
            out.append(f"{path.relative_to(ROOT)}: an {END} without its table marker")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        stale = drifted()
        for line in stale:
            print(f"{line}: differs from its source; run python docs/tables.py", file=sys.stderr)
        sys.exit(1 if stale else 0)
    for path in documents():
        text = path.read_text()
        if refreshed(text) != text:
            path.write_text(refreshed(text))
            print(f"rewrote the tables of {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
