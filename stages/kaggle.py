"""`make kaggle`: from Kaggle's files to a checked `submissions/best.csv`, run as a DVC experiment.

usage: python -m stages.kaggle [FILE_OR_FOLDER ...] [--profile profiles/kaggle.yaml] [--set KEY=VALUE ...]

1. Finds Kaggle's three files (training.csv, test.csv, IdLookupTable.csv): in the paths given
   (the CSVs, a folder, or the competition's zip with its inner training.zip and test.zip), else
   already in data/raw/kaggle/, else a `facial-keypoints-detection.zip` there or here, else
   through the `kaggle` CLI when it is installed and configured. Without them it says in one line
   how to get them and touches nothing.
2. Puts them in data/raw/kaggle/ (never over a different file of that name) and `dvc add`s them,
   so their version is part of every result and queued or remote experiments see them.
3. Runs the profile (`profiles/kaggle.yaml`) as `dvc exp run`, named `kaggle-<time>`.
4. Prints the validation's leaderboard mix, the checked file, and the `kaggle competitions
   submit` line, its message naming the experiment.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from .lib.cli import run
from .lib.errors import UserError
from .lib.io import atomic_file
from .lib.kaggle_csv import RAW_FILES, check_raw_dir, read_lookup_csv
from .lib.params import parse_params, read_yaml
from .lib.profile import differences, layered, load_profile, set_flags
from .lib.submission import check_submission

COMPETITION = "facial-keypoints-detection"
RAW_DIR = Path("data/raw/kaggle")
ZIP_NAME = f"{COMPETITION}.zip"
HOW_TO_GET = (f"no Kaggle files found: accept the rules at https://www.kaggle.com/c/{COMPETITION}/rules, then "
              f"download the data there and run `make kaggle KAGGLE=~/Downloads/{ZIP_NAME}` (or put "
              f"{', '.join(RAW_FILES)} in {RAW_DIR}/), or install and configure the kaggle CLI "
              f"(pip install kaggle; ~/.kaggle/kaggle.json) and run `make kaggle` again")


def files_in_zip(archive: zipfile.ZipFile, where: str) -> dict[str, tuple[str, bytes]]:
    """Kaggle's files inside a zip, at any depth and inside its inner zips (training.zip, test.zip)."""
    found = {}
    for member in archive.namelist():
        name = Path(member).name
        if name in RAW_FILES:
            found[name] = (f"{where}:{member}", archive.read(member))
        elif name.endswith(".zip") and Path(name).stem + ".csv" in RAW_FILES:
            with zipfile.ZipFile(io.BytesIO(archive.read(member))) as inner:
                found.update(files_in_zip(inner, f"{where}:{member}"))
    return found


def files_at(path: Path) -> dict[str, tuple[str, bytes]]:
    """Kaggle's files at `path`: one CSV, a folder holding them (or the zip), or a zip."""
    if path.is_dir():
        found = {}
        for child in sorted(path.iterdir()):
            if child.name in RAW_FILES or child.name == ZIP_NAME or child.name in {Path(f).stem + ".zip" for f in RAW_FILES}:
                found.update(files_at(child))
        return found
    if not path.is_file():
        raise UserError(f"{path}: no such file or folder")
    if path.name in RAW_FILES:
        return {path.name: (str(path), path.read_bytes())}
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return files_in_zip(archive, str(path))
    raise UserError(f"{path}: neither one of {', '.join(RAW_FILES)} nor a zip of them")


def kaggle_cli_ready() -> bool:
    """The kaggle CLI is installed and has credentials (it would otherwise stop asking for them)."""
    home = Path.home()
    configured = (os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY")) or any(
        (folder / "kaggle.json").is_file()
        for folder in (Path(os.environ.get("KAGGLE_CONFIG_DIR", home / ".kaggle")), home / ".config" / "kaggle"))
    return shutil.which("kaggle") is not None and bool(configured)


def download(folder: Path) -> dict[str, tuple[str, bytes]]:
    print(f"downloading {COMPETITION} with the kaggle CLI", flush=True)
    result = subprocess.run(["kaggle", "competitions", "download", "-c", COMPETITION, "-p", str(folder)])
    if result.returncode != 0:
        raise UserError(f"`kaggle competitions download -c {COMPETITION}` failed (exit {result.returncode}); "
                        f"have you accepted the rules at https://www.kaggle.com/c/{COMPETITION}/rules?")
    return files_at(folder / ZIP_NAME)


def find_files(paths: list[Path], scratch: Path) -> dict[str, tuple[str, bytes]] | None:
    """Kaggle's three files as (where from, contents), or None when none of the ways has them."""
    if paths:
        found = {}
        for path in paths:
            found.update(files_at(path))
    elif all((RAW_DIR / name).is_file() for name in RAW_FILES):
        return {name: (str(RAW_DIR / name), (RAW_DIR / name).read_bytes()) for name in RAW_FILES}
    elif (RAW_DIR / ZIP_NAME).is_file() or Path(ZIP_NAME).is_file():
        found = files_at(RAW_DIR / ZIP_NAME if (RAW_DIR / ZIP_NAME).is_file() else Path(ZIP_NAME))
    elif kaggle_cli_ready():
        found = download(scratch)
    else:
        return None
    missing = [name for name in RAW_FILES if name not in found]
    if missing:
        raise UserError(f"{', '.join(str(p) for p in paths) or ZIP_NAME}: missing {', '.join(missing)}; "
                        "give all three files, or the competition's zip")
    return found


def put_in_place(found: dict[str, tuple[str, bytes]]) -> None:
    """Writes the files into data/raw/kaggle/, refusing before writing anything if one there differs."""
    for name, (source, data) in found.items():
        target = RAW_DIR / name
        if target.exists() and target.read_bytes() != data:
            raise UserError(f"{target}: already there and different from {source}; move it away first "
                            "(nothing was changed)")
    RAW_DIR.mkdir(parents=True, exist_ok=True)
    for name, (source, data) in found.items():
        target = RAW_DIR / name
        if not target.exists():
            with atomic_file(target) as handle:
                handle.write(data)
            print(f"{target} <- {source}", flush=True)


def command(*args: str) -> None:
    print("$ " + " ".join(args), flush=True)
    result = subprocess.run(args)
    if result.returncode != 0:
        raise UserError(f"`{' '.join(args)}` failed (exit {result.returncode}); its output is above")


def main() -> None:
    parser = argparse.ArgumentParser(description="Kaggle's files -> a checked submissions/best.csv.")
    parser.add_argument("paths", nargs="*", type=Path, help="the three CSVs, a folder, or the competition's zip")
    parser.add_argument("--profile", default="profiles/kaggle.yaml")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="overrides after the profile")
    args = parser.parse_args()

    base = read_yaml("params.yaml")
    resolved = layered(base, load_profile(args.profile), args.set)
    params = parse_params(resolved)  # a bad key fails here, before anything is written
    if Path(params.data.raw_dir) != RAW_DIR:
        raise UserError(f"{args.profile}: data.raw_dir is {params.data.raw_dir}, not {RAW_DIR}")
    with tempfile.TemporaryDirectory() as scratch:
        found = find_files(args.paths, Path(scratch))
        if found is None:
            raise UserError(HOW_TO_GET)
        put_in_place(found)
    check_raw_dir(RAW_DIR)
    targets = [str(RAW_DIR / name) for name in RAW_FILES]
    command("dvc", "add", "--quiet", *targets)
    # Staged, the .dvc files are part of the experiment; committing them is the user's call.
    command("git", "add", *(f"{t}.dvc" for t in targets), str(RAW_DIR / ".gitignore"))

    name = time.strftime("kaggle-%Y%m%d-%H%M%S")
    started = time.perf_counter()
    command("dvc", "exp", "run", "--name", name, *set_flags(differences(base, resolved), base))
    minutes = (time.perf_counter() - started) / 60

    summary = json.loads(Path("metrics/summary.json").read_text())
    best = summary["best"]
    mix = summary["models"][best]["rmse_leaderboard_weighted"]
    rows = check_submission("submissions/best.csv", read_lookup_csv(RAW_DIR / "IdLookupTable.csv").row_ids)
    message = f"{name}: {best}, validation leaderboard mix {mix:.4f} px"
    print(f"\nexperiment {name}: {minutes:.1f} minutes; best model {best}, validation leaderboard mix {mix:.4f} px")
    print(f"submissions/best.csv: {rows} rows, checked against {RAW_DIR / 'IdLookupTable.csv'}")
    print(f'kaggle competitions submit -c {COMPETITION} -f submissions/best.csv -m "{message}"')


if __name__ == "__main__":
    run(main)
