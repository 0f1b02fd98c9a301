"""The README's one-command jobs, run as a newcomer would: `make kaggle` and `make photos`."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import YOUTUBE_FACES, Project, make_project

needs_faces = pytest.mark.skipif(not YOUTUBE_FACES.exists(), reason="shared real data not present")


def small_kaggle_files(train_rows: int = 160, test_images: int = 12) -> dict[str, bytes]:
    """A cut of youtube-faces-15 in Kaggle's three formats: the first training rows, the first
    test images and their lookup rows (RowIds renumbered)."""
    training = (YOUTUBE_FACES / "training.csv").read_text().splitlines(keepends=True)
    test = (YOUTUBE_FACES / "test.csv").read_text().splitlines(keepends=True)
    kept = {line.split(",", 1)[0] for line in test[1:test_images + 1]}
    lookup = [line for line in (YOUTUBE_FACES / "IdLookupTable.csv").read_text().splitlines()[1:]
              if line.split(",")[1] in kept]
    lookup_text = "RowId,ImageId,FeatureName,Location\n" + "".join(
        f"{number}," + line.split(",", 1)[1] + "\n" for number, line in enumerate(lookup, start=1))
    return {"training.csv": "".join(training[:train_rows + 1]).encode(),
            "test.csv": "".join(test[:test_images + 1]).encode(), "IdLookupTable.csv": lookup_text.encode()}


def competition_zip(path: Path, files: dict[str, bytes]) -> Path:
    """The competition's download: training.zip and test.zip inside, the lookup table beside them."""
    with zipfile.ZipFile(path, "w") as outer:
        for name in ("training", "test"):
            inner = io.BytesIO()
            with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(f"{name}.csv", files[f"{name}.csv"])
            outer.writestr(f"{name}.zip", inner.getvalue())
        outer.writestr("IdLookupTable.csv", files["IdLookupTable.csv"])
        outer.writestr("SampleSubmission.csv", "RowId,Location\n")
    return path


def kaggle(project: Project, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env_path = f"{Path(sys.executable).parent}"  # no kaggle CLI on this PATH
    result = subprocess.run([sys.executable, "-m", "stages.kaggle", *args], cwd=project.path, text=True,
                            capture_output=True, env={"PATH": f"{env_path}:/usr/bin:/bin", "HOME": str(project.path)})
    if check and result.returncode != 0:
        raise AssertionError(f"stages.kaggle failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.mark.slow
@needs_faces
def test_make_kaggle_goes_from_the_competition_zip_to_a_checked_submission(tmp_path):
    project = make_project(tmp_path / "project")
    files = small_kaggle_files()
    download = competition_zip(tmp_path / "facial-keypoints-detection.zip", files)
    result = kaggle(project, str(download), "--set", "resnet.epochs=2")
    raw = project.path / "data" / "raw" / "kaggle"
    assert {name: (raw / name).read_bytes() for name in files} == files
    assert all((raw / f"{name}.dvc").exists() for name in files)
    assert "train@cnn" not in result.stdout or "cnn: off" in result.stdout  # the profile does not train it
    last = result.stdout.strip().splitlines()
    command = last[-1]
    assert command.startswith("kaggle competitions submit -c facial-keypoints-detection -f submissions/best.csv -m ")
    name = last[-3].split()[1].rstrip(":")
    best = json.loads((project.path / "metrics" / "summary.json").read_text())["best"]
    assert name.startswith("kaggle-") and f'-m "{name}: {best}, validation leaderboard mix' in command
    rows = sum(1 for _ in files["IdLookupTable.csv"].decode().splitlines()) - 1
    assert (project.path / "submissions" / "best.csv").read_text().count("\n") == rows + 1
    assert f"{rows} rows, checked" in last[-2]
    assert name in project.dvc("exp", "list", "--name-only").stdout.split()
    summary = (project.path / "metrics" / "summary.md").read_text()
    assert "| cnn (off) |" in summary and "resnet" in summary

    # Keypoints on photos with the model just trained, which says what it learned from.
    make = ["make", f"VENV={sys.prefix}"]  # this environment: no install
    photos = project.run(*make, "photos", "PHOTOS=data/photos/astronaut.png data/photos/pair.jpg", "OUT=mine")
    assert f"model {best}" in photos.stdout and "of Kaggle's training faces (data/raw/kaggle)" in photos.stdout
    assert sorted(p.name for p in (project.path / "mine").iterdir()) == \
        ["astronaut.png.json", "astronaut.png.overlay.png", "pair.jpg.json", "pair.jpg.overlay.png"]
    # Without OUT, the results go to results/ (the command as make would run it).
    assert "--out results" in project.run(*make, "-n", "photos", "PHOTOS=data/photos/").stdout
    usage = project.run(*make, "photos", check=False)
    assert usage.returncode != 0 and 'usage: make photos PHOTOS="a.jpg dir/"' in usage.stderr

    # Run again with the files in place: nothing to copy, the same data; a different file of
    # the same name is refused before anything is written.
    (raw / "test.csv").write_bytes(files["test.csv"] + b"1,2\n")
    refused = kaggle(project, str(download), check=False)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "data/raw/kaggle/test.csv: already there and different" in refused.stderr
    assert (raw / "test.csv").read_bytes() == files["test.csv"] + b"1,2\n"


def test_make_kaggle_without_files_says_how_to_get_them_and_touches_nothing(tmp_path):
    project = Project(tmp_path)
    shutil.copytree(Path(__file__).resolve().parents[1] / "stages", tmp_path / "stages",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(Path(__file__).resolve().parents[1] / "params.yaml", tmp_path)
    shutil.copytree(Path(__file__).resolve().parents[1] / "profiles", tmp_path / "profiles")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = kaggle(project, check=False)
    assert result.returncode == 1 and result.stdout == "" and result.stderr.count("\n") == 1
    assert "no Kaggle files found" in result.stderr and "kaggle.com/c/facial-keypoints-detection/rules" in result.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "__pycache__" not in str(p)) == \
        [p for p in before if "__pycache__" not in str(p)]

    (tmp_path / "half.zip").write_bytes(b"")
    with zipfile.ZipFile(tmp_path / "half.zip", "w") as archive:
        archive.writestr("training.csv", "x")
    partial = kaggle(project, "half.zip", check=False)
    assert partial.returncode == 1 and "half.zip: missing test.csv, IdLookupTable.csv" in partial.stderr
    assert not (tmp_path / "data").exists()


def test_photos_say_what_their_model_learned_from():
    from stages.lib.provenance import training_data

    assert training_data("data/raw/sample", 2400).startswith("2,400 procedural drawings of faces")
    assert "not photos" in training_data("data/raw/sample", 2400)
    assert training_data("data/raw/kaggle", 5639) == "5,639 of Kaggle's training faces (data/raw/kaggle)"
    assert training_data("/data/yt", 10) == "10 real faces from /data/yt"
