"""Benchmark: accuracy on real faces, through the pipeline's own stage functions.

For each data set of ../shared/data: parse the raw CSVs (`stages.prepare`), split 80/20
(`stages.lib.split`), train each model (`stages.lib.models.train_model`), evaluate it on the
validation split (`stages.lib.evaluation.evaluate`: with and without flip averaging) and, where a
scored test set exists, build the Kaggle submission through IdLookupTable
(`stages.lib.submission`) and score it against `solution.csv`.

- youtube-faces-15: training.csv / test.csv / IdLookupTable.csv / solution.csv as they are.
- kaggle-train-jpeg: Kaggle's training.csv, written by the folder's make_training_csv.py into
  the work folder; no test set, so validation RMSE only (the closest figure to the leaderboard).

Params: params.yaml with a profile laid over it (default: profiles/real.yaml for youtube-faces-15;
for kaggle-train-jpeg profiles/kaggle.yaml, which extends it with the two label sources). Two rows
train the ResNet with other params: `resnet-single` keeps one network (`resnet.members: 1`), for the
single-model goal; `seed-recipe` uses the seeds' settings (Adam 1e-4, StepLR(5, 0.1), batch 16,
early stopping at patience 5, masked MSE on raw pixel targets, no augmentation, full-resolution
stem, float32). Both on youtube-faces-15 only, by default. A third, `resnet-per-source`, trains
the profile's ResNet once per label source, each network on its own source's faces, when asked for
(`trained_predictor`; docs/kaggle.md, "Levers, over folds").

Prints one table: data set, model, validation and test RMSE (without / with flip averaging; the
test figure with the zoomed views too, where `evaluate.zoom_tta` names any), the validation RMSE
as the leaderboard would mix it (each label source's RMSE weighted by its share of the test
lookup's values, `stages.lib.evaluation.source_metrics`, with the evaluate stage's test-time
augmentation: flip setting and zoomed views) with each source's own figure, the same mix without
each source's worst 1% of faces (`trimmed_mix`: a few faces swing the mix), epochs and training
minutes (wall clock, and CPU time / 60, on this machine: say its cores).
Trained models and results.json stay in --work; a model is trained again only when its resolved
params, its data or the code it runs (its import closure, hashed) changed (--retrain to force),
so the table can be rebuilt or extended cheaply.

With --folds K it measures over K folds and an outer hold-out instead (`run_folds`) and writes
bench/results/<data set>.json, one run per key (the profile, the --set overrides, the folds and any
--tag). --against names another run of that file: each fold's gain over it is recorded and
printed, with the verdict of `paired_gain` (docs/kaggle.md, "Levers, over folds").

usage: python bench/accuracy.py [--data youtube-faces-15 kaggle-train-jpeg]
           [--models mean patch resnet resnet-single seed-recipe resnet-per-source cnn ensemble] [--profile PROFILE]
           [--set resnet.epochs=40 ...] [--work bench/out/accuracy] [--retrain]
           [--folds K [--tag TEXT] [--against RUN]]
Cost on 2 cores with bf16, nothing trained yet: youtube-faces-15 (profiles/real.yaml) about 65
minutes (resnet 21, resnet-single 14, seed-recipe 18); kaggle-train-jpeg was about 70 with
real.yaml's settings; profiles/kaggle.yaml trains one ResNet of 84 epochs with 24x24 heatmaps
(39.6 minutes with bf16 on 2 cores of an AMD EPYC with avx512_bf16, about 2 hours there without;
README, "Longer schedules, over seeds") and real.yaml's CNN.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stages.lib.cleaning import clean_training, read_label_list  # noqa: E402
from stages.lib.evaluation import bootstrap_interval, evaluate, lookup_weights, predict_test, source_metrics  # noqa: E402
from stages.lib.imports import ROOT as CODE_ROOT, closure_files  # noqa: E402
from stages.lib.io import atomic_file, load_npz, save_json, save_npz  # noqa: E402
from stages.lib.kaggle_csv import read_lookup_csv, read_training_csv  # noqa: E402
from stages.lib.models import (MODELS as REGISTRY, load_predictor, loaded_modules,  # noqa: E402
                               train_model, with_members)
from stages.lib.faces import Faces  # noqa: E402
from stages.lib.params import Params, ResNetParams, build, parse_params, read_yaml  # noqa: E402
from stages.lib.profile import layered, load_profile  # noqa: E402
from stages.lib.keypoints import N_KEYPOINTS, Predictor  # noqa: E402
from stages.lib.sources import SOURCES, label_sources  # noqa: E402
from stages.lib.tta import mirror_offsets, with_mirror_offsets  # noqa: E402
from stages.lib.folds import HOLDOUT, fold_indices  # noqa: E402
from stages.lib.split import duplicate_groups, split_indices  # noqa: E402
from stages.lib.submission import build_submission  # noqa: E402
from stages.prepare import prepare  # noqa: E402
from stages.lib.cli import run  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
DATASETS = ("youtube-faces-15", "kaggle-train-jpeg")
# The registry's models, then three more ResNet rows; the ensemble stays last, after its members.
EXTRA_ROWS = {"resnet-single": "resnet", "seed-recipe": "resnet", "resnet-per-source": "resnet"}
MODELS = (*(m for m in REGISTRY if m != "ensemble"), *EXTRA_ROWS, "ensemble")
# The goals (and the seeds' anchor) are on youtube-faces-15; on Kaggle's faces resnet-single and
# seed-recipe would add about 70 minutes.
# Kaggle's faces come from two label sources (stages/lib/sources.py), youtube-faces-15's from one.
PROFILES = {"youtube-faces-15": "real.yaml", "kaggle-train-jpeg": "kaggle.yaml"}
# resnet-per-source is a lever of Kaggle's two label sources, run when asked for.
DEFAULT_MODELS = {"youtube-faces-15": tuple(m for m in MODELS if m != "resnet-per-source"),
                  "kaggle-train-jpeg": tuple(m for m in MODELS if m not in EXTRA_ROWS)}
# The seeds' recipe: profiles/seed-recipe.yaml, which sets every key of the resnet section.
SEED_RECIPE = ROOT / "profiles" / "seed-recipe.yaml"
# The goals' anchor: the seeds' own run of their recipe, youtube-faces-15 test RMSE.
SEED_RECIPE_ANCHOR = 1.75
# The share of each source's validation faces, the worst predicted, that the robust companion of
# the leaderboard mix leaves out (README, "A few faces weigh most").
TRIMMED = 0.01


@dataclasses.dataclass
class DataSet:
    name: str
    train: Faces
    val: Faces
    test: dict | None  # images, image_ids, lookup arrays and solution, where scored
    lookup_weights: dict[str, float]  # each label source's share of the test lookup's values


def load_faces(name: str, folder: Path, work: Path) -> tuple[Faces, dict[str, float], dict | None]:
    """All of a data set's labelled faces, its lookup weights and its scored test set (or None).

    youtube-faces-15: its CSVs as they are, with solution.csv. kaggle-train-jpeg: Kaggle's
    training.csv, written by the folder's make_training_csv.py into `work`; no test set.
    """
    if name == "youtube-faces-15":
        arrays = prepare(folder)
        table = pd.read_csv(folder / "solution.csv")
        solution = dict(zip(table["RowId"].astype(int), table["Location"].astype(float)))
        test = {**arrays["test"], **{f"lookup_{k}": v for k, v in arrays["lookup"].items()}, "solution": solution}
        return Faces.from_arrays(arrays["train"]), lookup_weights(arrays["lookup"]["image_ids"]), test
    csv_path = work / "training.csv"
    if not csv_path.exists():
        print(f"writing {csv_path} with {folder / 'make_training_csv.py'}", flush=True)
        subprocess.run([sys.executable, str(folder / "make_training_csv.py"), str(work)], check=True)
    images, keypoints = read_training_csv(csv_path)
    return (Faces(images, keypoints, np.arange(1, len(images) + 1)),
            lookup_weights(read_lookup_csv(folder / "IdLookupTable.csv").image_ids), None)


def resolved_params(profile: str | Path, sets: list[str]) -> Params:
    """params.yaml with the profile laid over it, then each `--set` assignment."""
    return parse_params(layered(read_yaml(ROOT / "params.yaml"), load_profile(profile), sets))


def listed_rows(faces: Faces, params: Params) -> np.ndarray | None:
    """The rows `split.wrong_labels` lists (checked against these faces), or None."""
    return read_label_list(ROOT / params.split.wrong_labels, faces) if params.split.wrong_labels else None


def training_faces(faces: Faces, rows: np.ndarray, groups: np.ndarray, listed: np.ndarray | None,
                   params: Params) -> Faces:
    """The faces of `rows` cleaned as the split stage cleans its training part (lib/cleaning.py),
    `listed` the rows of `listed_rows`."""
    return clean_training(faces[rows], groups[rows], listed, params.split.merge_copies)


def split_80_20(name: str, faces: Faces, weights: dict[str, float], test: dict | None, params: Params) -> DataSet:
    groups = duplicate_groups(faces.images, params.split.duplicate_distance)
    train_rows, val_rows = split_indices(faces.keypoints, params.split, groups)
    return DataSet(name, training_faces(faces, train_rows, groups, listed_rows(faces, params), params), faces[val_rows],
                   test, weights)


def seed_recipe() -> ResNetParams:
    """The resnet section of profiles/seed-recipe.yaml, which sets every key."""
    return build(ResNetParams, load_profile(SEED_RECIPE)["resnet"], "resnet")


def variant(name: str, params: Params) -> tuple[str, Params]:
    """The registry model a bench row trains, and with which params."""
    if name == "seed-recipe":
        return "resnet", dataclasses.replace(params, resnet=seed_recipe())
    if name == "resnet-single":
        return "resnet", dataclasses.replace(params, resnet=dataclasses.replace(params.resnet, members=1))
    if name == "resnet-per-source":  # the profile's ResNet, once per label source (`trained_predictor`)
        return "resnet", params
    return name, params


def by_source(fifteen: Predictor, four: Predictor) -> Predictor:
    """One predictor from two: the faces asked in the 4-point convention by `four`, the others
    (and every face where no convention is asked) by `fifteen`."""
    def routed(call: Callable, faces: int, four_point: np.ndarray | None) -> np.ndarray:
        # call(predictor, rows, their four_point) -> that predictor's answer for those rows
        if four_point is None or not four_point.any():
            return call(fifteen, np.arange(faces), four_point)
        if four_point.all():
            return call(four, np.arange(faces), four_point)
        four_rows, fifteen_rows = np.flatnonzero(four_point), np.flatnonzero(~four_point)
        four_part = call(four, four_rows, four_point[four_rows])
        out = np.empty((faces, four_part.shape[1]), four_part.dtype)
        out[four_rows], out[fifteen_rows] = four_part, call(fifteen, fifteen_rows, four_point[fifteen_rows])
        return out

    def predict(images: np.ndarray, four_point: np.ndarray | None = None) -> np.ndarray:
        return routed(lambda p, r, fp: p(images[r], fp), len(images), four_point)

    def offsets(faces: int, four_point: np.ndarray | None = None) -> np.ndarray:
        return routed(lambda p, r, fp: mirror_offsets(p, len(r), fp, N_KEYPOINTS), faces, four_point)

    return with_mirror_offsets(predict, offsets)


def source_data(data: DataSet, source: str) -> DataSet:
    """`data` with the training faces of one label source only; validation faces as they are."""
    return dataclasses.replace(data, train=data.train[np.flatnonzero(label_sources(data.train.keypoints) == source)])


def trained_predictor(name: str, params: Params, data: DataSet, model_dir: Path, retrain: bool) -> tuple[dict, Predictor]:
    """(training record, predictor) of bench row `name`, trained into `model_dir` unless it is there.

    resnet-per-source trains one network per label source, each on its own source's faces only,
    with the profile's epochs (the two together see each training face as often as one network
    does): separate networks against the one network with a head per source."""
    registry_name, params = variant(name, params)
    if name != "resnet-per-source":
        record = train_once(registry_name, params, data, model_dir, retrain)
        return record, load_predictor(registry_name, model_dir, params)
    records, predictors = [], []
    for source in SOURCES:
        records.append(train_once(registry_name, params, source_data(data, source), model_dir / source, retrain))
        predictors.append(load_predictor(registry_name, model_dir / source, params))
    record = {"train_wall_min": sum(r["train_wall_min"] for r in records),
              "train_cpu_min": sum(r["train_cpu_min"] for r in records),
              "summary": {"epochs": records[0]["summary"].get("epochs"),
                          "networks": [n for r in records for n in r["summary"].get("networks", ())]},
              "sources": dict(zip(SOURCES, records))}
    return record, by_source(*predictors)


def trimmed_mix(predictions: np.ndarray, truth: np.ndarray, weights: dict[str, float],
                share: float = TRIMMED) -> float | None:
    """The leaderboard mix without each source's `share` of faces (at least one) with the largest
    squared error: on Kaggle's faces one profile face can carry 40% of a source's squared error, so
    two settings compare better on this figure, beside the mix itself."""
    sources = label_sources(truth)
    errors = np.nansum((np.asarray(predictions, np.float64) - truth) ** 2, axis=1)
    keep = np.ones(len(truth), bool)
    for source in SOURCES:
        rows = np.flatnonzero(sources == source)
        if len(rows):
            worst = np.argsort(errors[rows], kind="stable")[len(rows) - math.ceil(share * len(rows)):]
            keep[rows[worst]] = False
    return source_metrics(predictions[keep], truth[keep], weights)["rmse_leaderboard_weighted"]


def submission_rmse(predict, test: dict, flip_tta: bool, zoom_tta: tuple[float, ...] = ()) -> float:
    """RMSE of the Kaggle submission built through IdLookupTable, scored with solution.csv."""
    predictions = predict_test(predict, test["images"], test["image_ids"], test["lookup_image_ids"], flip_tta,
                               zoom_tta)
    locations = build_submission(test["lookup_row_ids"], test["lookup_image_ids"], test["lookup_features"],
                                 test["image_ids"], predictions)
    truth = np.array([test["solution"][int(row_id)] for row_id in test["lookup_row_ids"]])
    return float(np.sqrt(np.mean((locations - truth) ** 2)))


def syntax(source: str) -> str:
    """What code does: its syntax tree without comments and docstrings, so that editing either
    keeps the folds and models trained before (hours of CPU) valid."""
    import ast

    tree = ast.parse(textwrap.dedent(source))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def code_digest(path: Path) -> str:
    """A digest of a module's `syntax`."""
    return hashlib.sha256(syntax(path.read_text()).encode()).hexdigest()


# Two modules every model imports stay out of its key, so that a new registration or params key
# keeps the models (hours of CPU) trained before: the registry, which only dispatches to the
# model's module, and the params module, which holds every section's class and stands in the key
# for the classes of the model's own sections (`section_code`).
UNKEYED_MODULES = ("stages/lib/models/__init__.py", "stages/lib/params.py")


def section_code(section) -> list[str]:
    """The source of a params section's class (and its bases of the params module) and of the
    classes of the sections nested in it."""
    import inspect

    sources = [syntax(inspect.getsource(c)) for c in type(section).__mro__ if c.__module__ == type(section).__module__]
    for field in dataclasses.fields(section):
        value = getattr(section, field.name)
        if dataclasses.is_dataclass(value):
            sources += section_code(value)
    return sources


def fingerprint(params: Params, name: str, data: DataSet) -> str:
    """What a trained model depends on: its resolved params section (an ensemble: its members'
    too) and its class's code, the data (sizes and a digest of the labels) and the source of every
    other module it runs."""
    members = with_members(name, params)
    sections = {n: dataclasses.asdict(params.model(n)) for n in members}
    classes = sorted({source for n in members for source in section_code(params.model(n))})
    labels = hashlib.sha256(np.nan_to_num(data.train.keypoints, nan=-1).tobytes()).hexdigest()
    code = {path: code_digest(CODE_ROOT / path) for path in closure_files(loaded_modules(name, params))
            if path not in UNKEYED_MODULES}
    text = json.dumps([sections, len(data.train), len(data.val), labels, code, classes], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def epoch_line(name: str):
    def log(epoch: int, metrics: dict) -> None:
        print(f"  {name} epoch {epoch + 1}: " + "  ".join(f"{k} {v:.4g}" for k, v in metrics.items()), flush=True)
    return log


def train_once(name: str, params: Params, data: DataSet, model_dir: Path, retrain: bool) -> dict:
    """Train `name` into model_dir unless a run with the same params is already there."""
    record_file = model_dir / "bench.json"
    key = fingerprint(params, name, data)
    if not retrain and record_file.exists():
        record = json.loads(record_file.read_text())
        if record.get("fingerprint") == key:
            print(f"{data.name} {name}: trained before with these params, reused", flush=True)
            return record
    print(f"{data.name} {name}: training on {len(data.train)} faces", flush=True)
    wall, cpu = time.perf_counter(), time.process_time()
    summary = train_model(name, params, data.train, data.val, model_dir, epoch_line(name))
    record = {"fingerprint": key, "train_wall_min": (time.perf_counter() - wall) / 60,
              "train_cpu_min": (time.process_time() - cpu) / 60, "summary": summary}
    save_json(record_file, record)
    return record


def measure(name: str, params: Params, data: DataSet, work: Path, retrain: bool) -> dict:
    registry_name, params = variant(name, params)
    if REGISTRY[registry_name].trained:
        record, predict = trained_predictor(name, params, data, work / data.name / name, retrain)
    else:  # the ensemble: no training, its members from the folder of this data set's models
        record = {"summary": {"epochs": 0}, "train_wall_min": 0.0, "train_cpu_min": 0.0}
        predict = load_predictor(registry_name, work / data.name, params)
    metrics, chosen = evaluate(predict, data.val, params.evaluate)
    sources = source_metrics(chosen, data.val.keypoints, data.lookup_weights)
    row = {"data": data.name, "model": name, "val": metrics["rmse_without_flip_tta"],
           "val_flip": metrics["rmse_with_flip_tta"], "val_leaderboard": sources["rmse_leaderboard_weighted"],
           "val_15_point": sources["rmse_by_source"]["15-point"], "val_4_point": sources["rmse_by_source"]["4-point"],
           "val_leaderboard_trimmed": trimmed_mix(chosen, data.val.keypoints, data.lookup_weights),
           "test": None, "test_flip": None,
           "epochs": record["summary"].get("epochs"), "best_epoch": kept_epochs(record["summary"]),
           "networks": sum(n["role"] == "member" for n in record["summary"].get("networks", ())) or 1,
           "train_wall_min": record["train_wall_min"], "train_cpu_min": record["train_cpu_min"],
           "per_keypoint_flip": metrics["per_keypoint"] if params.evaluate.flip_tta else None}
    if data.test is not None:
        row["test"] = submission_rmse(predict, data.test, flip_tta=False)
        row["test_flip"] = submission_rmse(predict, data.test, flip_tta=True, zoom_tta=params.evaluate.zoom_tta)
    return row


def machine() -> dict:
    """What a figure ran on: the CPU as lscpu names it, whether it has bf16, the cores, any GPU."""
    import torch

    fields = {}
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    except OSError:
        pass
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return {"cpu": fields.get("Model name"), "cpu_family": fields.get("CPU family"), "cpu_model": fields.get("Model"),
            "bf16": "avx512_bf16" in flags or "amx_bf16" in flags, "cores": os.cpu_count(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def run_key(profile, sets: list[str], folds: int, tag: str | None = None) -> str:
    """How a run is named in its results file: the profile, the overrides, the split, and a tag
    that tells apart two runs of the same settings (another machine, say)."""
    return " ".join([Path(profile).name, *sets, f"folds={folds}" if folds else "80/20", *([f"[{tag}]"] if tag else [])])


def paired_gain(baseline: list[dict], lever: list[dict]) -> dict:
    """A lever's gain over its baseline on the same folds (same faces), fold by fold: the
    baseline's leaderboard mix minus the lever's. The folds differ much more from each other than
    a lever moves them (fold 0 has been the hardest in every run), so the per-fold gains, not
    the two runs' means, carry the comparison. Kept only when every fold of both runs is done and
    the mean gain exceeds the gains' standard deviation: a gain that one fold's noise could undo
    is not one (docs/kaggle.md, "Levers, over folds")."""
    before = {f["fold"]: f["mix"] for f in baseline}
    gains = [before[f["fold"]] - f["mix"] for f in lever if f["fold"] in before]
    spread = mean_std(gains) if gains else {"mean": None, "std": None}
    complete = len(gains) == len(baseline) == len(lever) and len(gains) > 1
    return {"gains": gains, **spread, "kept": (spread["mean"] > 0 and spread["mean"] > spread["std"]) if complete else None}


def compare_with(run: dict, key: str, baseline_key: str, baseline: dict) -> None:
    """Records in `run` (named `key`), per model, its paired gain over the same model's folds in
    the baseline run, or, for a bench row the baseline lacks (resnet-per-source), over its
    registry model's, as within the baseline run itself (a row added to it); and the gains of the
    out-of-fold mix and the hold-out's fold ensemble where both have them."""
    for name, model in run["models"].items():
        same_run = key == baseline_key
        other_name = name if name in baseline["models"] and not same_run else EXTRA_ROWS.get(name)
        other = baseline["models"].get(other_name)
        if other is None:
            continue
        against = {"run": baseline_key, **({"model": other_name} if other_name != name else {}),
                   **paired_gain(other["folds"], model["folds"])}
        for figure in ("out_of_fold", "holdout_fold_ensemble"):
            if figure in model and figure in other:
                against[figure] = other[figure]["mix"] - model[figure]["mix"]
        model["against"] = against


def slug(tag: str | None) -> list[str]:
    """A tag as one folder-name part (empty without a tag)."""
    return ["".join(c if c.isalnum() else "-" for c in tag.lower()).strip("-")] if tag else []


def results_file(args, data: str) -> Path:
    return args.results / f"{data}.json"


def record_run(path: Path, key: str, run: dict) -> None:
    """Writes `run` under `key` into the results file `path`, keeping its other runs."""
    runs = json.loads(path.read_text()) if path.exists() else {}
    runs[key] = run
    path.parent.mkdir(parents=True, exist_ok=True)
    save_json(path, dict(sorted(runs.items())))


def fold_key(name: str, params: Params, data: DataSet, holdout: Faces) -> str:
    """A fold's predictions depend on the trained model (`fingerprint`), the evaluate params
    (test-time views) and which faces they are of."""
    faces = [f.image_ids.tolist() if f.image_ids is not None else len(f) for f in (data.val, holdout)]
    text = json.dumps([fingerprint(params, name, data), dataclasses.asdict(params.evaluate), faces],
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclasses.dataclass
class FoldLayout:
    """K folds and an outer hold-out of a data set's faces (`folds.fold_indices`), as a fold run
    of `params` cuts them."""
    groups: np.ndarray  # duplicate group of each face
    parts: np.ndarray  # each face's fold, or HOLDOUT
    listed: np.ndarray | None  # the rows of `split.wrong_labels`, left out of training
    k: int

    @classmethod
    def of(cls, faces: Faces, params: Params, k: int) -> "FoldLayout":
        groups = duplicate_groups(faces.images, params.split.duplicate_distance)
        return cls(groups, fold_indices(faces.keypoints, groups, k, params.split.seed), listed_rows(faces, params), k)

    def holdout(self, faces: Faces) -> Faces:
        return faces[np.flatnonzero(self.parts == HOLDOUT)]

    def fold_data(self, name: str, faces: Faces, weights: dict[str, float], params: Params, fold: int) -> DataSet:
        """Fold `fold`'s data: its training faces (the other folds, cleaned) and its validation faces."""
        train_rows = np.flatnonzero((self.parts != fold) & (self.parts != HOLDOUT))
        val_rows = np.flatnonzero(self.parts == fold)
        return DataSet(name, training_faces(faces, train_rows, self.groups, self.listed, params), faces[val_rows],
                       None, weights)


def fold_predictions(model: str, params: Params, data: DataSet, holdout: Faces, model_dir: Path, saved_dir: Path,
                     retrain: bool) -> tuple[dict, np.ndarray, np.ndarray, str]:
    """(training record, chosen predictions on the fold's validation faces, on the hold-out, the
    name of the file that keeps them).

    Kept in `saved_dir` (bench/results/fold-predictions/, committed) under the fold's key, so that
    a fresh clone carries on from the folds an earlier run finished and trains only the rest; the
    trained model itself stays in the work folder."""
    registry_name, variant_params = variant(model, params)
    path = saved_dir / f"{model}-{fold_key(registry_name, variant_params, data, holdout)}.npz"
    if path.exists() and not retrain:
        saved = load_npz(path)
        return json.loads(str(saved["record"])), saved["val"], saved["holdout"], path.name
    record, predict = trained_predictor(model, params, data, model_dir, retrain)
    _, val = evaluate(predict, data.val, params.evaluate)
    _, held = evaluate(predict, holdout, params.evaluate)
    with atomic_file(path) as handle:  # compressed: the mean baseline's predictions repeat
        np.savez_compressed(handle, record=np.array(json.dumps(record)), val=val, holdout=held)
    return record, val, held, path.name


def mean_std(values: list[float]) -> dict:
    return {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)) if len(values) > 1 else None}


def source_row(predictions: np.ndarray, truth: np.ndarray, weights: dict[str, float]) -> dict:
    """The mix, each source's RMSE, and the mix without each source's worst 1% of faces: on
    Kaggle's faces a handful of faces (some labelled wrongly) carry most of a part's squared error."""
    sources = source_metrics(predictions, truth, weights)
    return {"faces": len(truth), "mix": sources["rmse_leaderboard_weighted"], **sources["rmse_by_source"],
            "mix_worst_1pct_out": trimmed_mix(predictions, truth, weights)}


def pooled_figures(oof: np.ndarray, ensemble: np.ndarray, keypoints: np.ndarray, parts: np.ndarray,
                   weights: dict[str, float]) -> dict:
    """The out-of-fold figures (each fold's faces by its own fold's network; hold-out rows of `oof`
    unused) and the fold ensemble's on the hold-out, with a 95% bootstrap interval over its faces."""
    pooled, held = parts != HOLDOUT, parts == HOLDOUT
    return {"out_of_fold": source_row(oof[pooled], keypoints[pooled], weights),
            "holdout_fold_ensemble": {**source_row(ensemble, keypoints[held], weights),
                                      "interval_95": bootstrap_interval(ensemble, keypoints[held], weights)}}


def run_folds(name: str, faces: Faces, weights: dict[str, float], params: Params, models: list[str], k: int,
              work: Path, retrain: bool, results: Path, saved: Path, profile: str, sets: list[str],
              tag: str | None = None, against: str | None = None) -> None:
    """K folds with an outer hold-out (`folds.fold_indices`), each fold a resumable unit: a model
    is trained once per fold and its predictions kept under `saved` (`fold_predictions`), so a
    killed run, or a fresh clone, keeps the finished folds. Written to the results file after
    every fold; with `against` (another run's key in that file), each model's paired gain over
    that run's folds (`paired_gain`) too."""
    key = run_key(profile, sets, k, tag)
    recorded = json.loads(results.read_text()) if results.exists() else {}
    baseline = recorded.get(against) if against else None
    if against and baseline is None:
        raise SystemExit(f"{results}: no run {against!r} to compare with (--against)")
    # Models of the same settings run at another time join their run; a run's figures are of one
    # kind of machine, so another kind's are kept apart (--tag).
    earlier, here = recorded.get(key, {}), machine()
    if earlier and earlier["machine"] != here:
        raise SystemExit(f"{results}: run {key!r} was measured on {earlier['machine']}, this machine is {here}; "
                         f"give this run a --tag of its own")
    layout = FoldLayout.of(faces, params, k)
    parts, listed, holdout = layout.parts, layout.listed, layout.holdout(faces)
    run = {"profile": Path(profile).name, "set": list(sets), **({"tag": tag} if tag else {}), "folds": k,
           "seed": params.split.seed, "faces": {"folds": int((parts != HOLDOUT).sum()), "holdout": len(holdout)},
           "machine": here, "models": {m: v for m, v in earlier.get("models", {}).items() if m not in models}}
    for model in models:
        folds, oof, members = [], np.full_like(faces.keypoints, np.nan), []
        for fold in range(k):
            data = layout.fold_data(name, faces, weights, params, fold)
            record, val, held, kept_in = fold_predictions(model, params, data, holdout,
                                                          work / f"folds{k}" / f"fold{fold}" / model, saved / f"fold{fold}",
                                                          retrain)
            oof[parts == fold], members = val, members + [held]
            folds.append({"fold": fold, **source_row(val, data.val.keypoints, weights),
                          "holdout": source_row(held, holdout.keypoints, weights)["mix"],
                          "epochs": record["summary"].get("epochs"), "train_wall_min": record["train_wall_min"],
                          "predictions": kept_in})  # the file of `saved`'s fold folder (bench/stack.py reads it)
            if listed is not None:  # the same figure without the listed faces, beside the one that counts
                unlisted = ~np.isin(data.val.image_ids, listed)
                folds[-1]["mix_without_listed"] = source_row(val[unlisted], data.val.keypoints[unlisted], weights)["mix"]
            print(f"{name} {model} fold {fold}: mix {folds[-1]['mix']:.4f} (15-pt {folds[-1]['15-point']:.4f} / "
                  f"4-pt {folds[-1]['4-point'] or float('nan'):.4f}), hold-out {folds[-1]['holdout']:.4f}, "
                  f"{record['train_wall_min']:.1f} train min", flush=True)
            summary = {"folds": folds, "mix": mean_std([f["mix"] for f in folds]),
                       **{source: mean_std([f[source] for f in folds if f[source] is not None]) for source in SOURCES}}
            if len(folds) == k:
                pooled = parts != HOLDOUT
                ensemble = np.mean(members, axis=0)
                # Every face predicted by networks that never trained on it: the folds' faces by
                # their own fold's network, the hold-out by the fold ensemble (bench/wrong_labels.py).
                unseen = np.array(oof, copy=True)
                unseen[~pooled] = ensemble
                save_npz(work / f"folds{k}" / f"{model}_unseen_predictions.npz", rows=faces.image_ids,
                         predictions=unseen, labels=faces.keypoints, holdout=~pooled, run=np.array(key))
                summary.update(pooled_figures(oof, ensemble, faces.keypoints, parts, weights))
                if listed is not None:  # beside the figures that count, never in their place
                    kept = ~np.isin(faces.image_ids, listed)
                    summary["out_of_fold"]["mix_without_listed"] = \
                        source_row(oof[pooled & kept], faces.keypoints[pooled & kept], weights)["mix"]
                    summary["holdout_fold_ensemble"]["mix_without_listed"] = \
                        source_row(ensemble[kept[~pooled]], holdout.keypoints[kept[~pooled]], weights)["mix"]
            run["models"][model] = summary
            # The folds' training, as each was timed when it ran (a rerun that reuses them adds nothing).
            run["train_minutes"] = sum(f["train_wall_min"] for m in run["models"].values() for f in m["folds"])
            if baseline is not None:
                compare_with(run, key, against, baseline)
            record_run(results, key, run)
        mix = run["models"][model]["mix"]
        print(f"{name} {model}: {k} folds, mix {mix['mean']:.4f} +- {mix['std'] or 0:.4f}; fold ensemble on the "
              f"hold-out {run['models'][model]['holdout_fold_ensemble']['mix']:.4f} "
              f"(95% {run['models'][model]['holdout_fold_ensemble']['interval_95'][0]:.4f}-"
              f"{run['models'][model]['holdout_fold_ensemble']['interval_95'][1]:.4f})", flush=True)
        gain = run["models"][model].get("against")
        if gain is not None:
            verdict = {True: "kept", False: "not kept", None: "folds missing"}[gain["kept"]]
            print(f"{name} {model} against {against!r}: gain per fold " + " ".join(f"{g:+.4f}" for g in gain["gains"])
                  + f"; mean {gain['mean']:+.4f} +- {gain['std'] or 0:.4f}: {verdict}", flush=True)


def kept_epochs(summary: dict) -> int | str | None:
    """The epoch whose weights a model kept: the CNN's, or each kept ResNet network's ("30/28" for
    two members; a pseudo-labeller's is not the model's). None where nothing was kept by epoch."""
    if summary.get("best_epoch"):
        return summary["best_epoch"]
    members = [str(n["best_epoch"]) for n in summary.get("networks", ()) if n.get("role") == "member"]
    return "/".join(members) or None


def table(rows: list[dict]) -> str:
    def number(value, fmt="{:.3f}"):
        return "-" if value is None else fmt.format(value)

    lines = ["| data set | model | val RMSE | val, flip avg | val, leaderboard mix (15-pt / 4-pt) | "
             f"mix, worst {TRIMMED:.0%} out | test RMSE | test, flip avg | epochs (best) | train min | CPU min |",
             "|" + " --- |" * 11]
    for r in rows:
        epochs = "-" if not r["epochs"] else f"{r['epochs']} ({r['best_epoch'] or '-'})"
        mix = f"{number(r.get('val_leaderboard'))} ({number(r.get('val_15_point'))} / {number(r.get('val_4_point'))})"
        lines.append(f"| {r['data']} | {r['model']} | {number(r['val'])} | {number(r['val_flip'])} | {mix} | "
                     f"{number(r.get('val_leaderboard_trimmed'))} | {number(r['test'])} | {number(r['test_flip'])} | "
                     f"{epochs} | "
                     f"{number(r['train_wall_min'], '{:.1f}')} | {number(r['train_cpu_min'], '{:.1f}')} |")
    return "\n".join(lines)


def goals(rows: list[dict]) -> str:
    """The issue's goals on youtube-faces-15's test set, against the seeds' anchor and our replica."""
    yt = {r["model"]: r for r in rows if r["data"] == "youtube-faces-15" and r["test"] is not None}
    singles = [r for name, r in yt.items() if name not in ("mean", "ensemble", "seed-recipe") and r["networks"] == 1]
    if not singles:
        return ""
    best_single = min(singles, key=lambda r: r["test"])
    best_overall = min((r for name, r in yt.items() if name not in ("mean", "seed-recipe")), key=lambda r: r["test_flip"])
    anchors = [("seeds' anchor", SEED_RECIPE_ANCHOR)]
    if "seed-recipe" in yt:
        anchors.append(("seed-recipe row", yt["seed-recipe"]["test"]))
    lines = []
    for label, anchor in anchors:
        lines.append(f"vs {label} {anchor:.3f}: best single ({best_single['model']}) {best_single['test']:.3f} = "
                     f"{best_single['test'] / anchor:.2f}x (goal <= 0.80x); best overall ({best_overall['model']}, "
                     f"flip avg) {best_overall['test_flip']:.3f} = {best_overall['test_flip'] / anchor:.2f}x (goal <= 0.70x)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--models", nargs="+", choices=MODELS,
                        help="default: all; seed-recipe on youtube-faces-15 only")
    parser.add_argument("--profile", help="default: each data set's own (%s)" % ", ".join(
        f"{name}: profiles/{profile}" for name, profile in PROFILES.items()))
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="extra overrides after the profile, as `dvc exp run -S` takes them")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "accuracy")
    parser.add_argument("--retrain", action="store_true", help="train again even where params are unchanged")
    parser.add_argument("--folds", type=int, default=0, metavar="K",
                        help="K folds and an outer hold-out (grouped, stratified by label source) instead of 80/20")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results",
                        help="folder of the results files (one per data set; fold runs)")
    parser.add_argument("--tag", help="with --folds: a run of the same settings kept apart from the others "
                        "(its key ends in [TAG], its fold predictions in their own folder), e.g. another machine")
    parser.add_argument("--against", metavar="RUN",
                        help="with --folds: the key of a run in the results file to compare with, fold by fold")
    args = parser.parse_args()

    rows = []
    for name in args.data:
        folder = SHARED / name
        if not folder.is_dir():
            print(f"{folder}: not found, skipped", flush=True)
            continue
        profile = args.profile or ROOT / "profiles" / PROFILES[name]
        params = resolved_params(profile, args.set)
        print(f"{name}: {os.cpu_count()} cores; profile {profile} {' '.join(args.set)}", flush=True)
        work = args.work / name
        work.mkdir(parents=True, exist_ok=True)
        faces, weights, test = load_faces(name, folder, work)
        models = [m for m in args.models or DEFAULT_MODELS[name] if params.trains(variant(m, params)[0])]
        if args.folds:
            saved = args.results / "fold-predictions" / name / "-".join([f"folds{args.folds}", *slug(args.tag)])
            run_folds(name, faces, weights, params, models, args.folds, work, args.retrain, results_file(args, name),
                      saved, profile, args.set, args.tag, args.against)
            continue
        data = split_80_20(name, faces, weights, test, params)
        for model in models:
            rows.append(measure(model, params, data, args.work, args.retrain))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    if not rows:
        return
    save_json(args.work / "results.json", rows)
    print()
    print(table(rows))
    print(goals(rows))


if __name__ == "__main__":
    run(main)  # bad params or input: one line, not a traceback
