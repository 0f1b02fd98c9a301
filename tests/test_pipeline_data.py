"""End to end: the data stages under `dvc repro`, in a temp git repo copy of the project."""
import hashlib

import numpy as np
import pytest

from conftest import YOUTUBE_FACES, make_project
from stages.lib.io import load_npz

# Trains models or runs DVC: the full tier only (`make test`), not `make test-fast`.
pytestmark = pytest.mark.slow

DATA_STAGES = ("generate", "prepare", "split")


def digests(project, folder: str) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((project.path / folder).iterdir())}


def test_repro_builds_the_data_then_is_up_to_date(tiny_project):
    out = tiny_project.dvc("repro", *DATA_STAGES).stdout
    assert "split 64 train / 16 val faces" in out
    assert "Data and pipelines are up to date" in tiny_project.dvc("status", *DATA_STAGES).stdout
    again = tiny_project.dvc("repro", *DATA_STAGES).stdout
    assert "Running stage" not in again

    train = load_npz(tiny_project.path / "data/split/train.npz")
    val = load_npz(tiny_project.path / "data/split/val.npz")
    assert train["images"].dtype == np.uint8 and train["images"].shape == (64, 96, 96)
    assert train["keypoints"].dtype == np.float32 and train["keypoints"].shape == (64, 30)
    assert not set(train["image_ids"]) & set(val["image_ids"])

    # Same inputs and params: byte-identical outputs.
    before = digests(tiny_project, "data/split") | digests(tiny_project, "data/prepared")
    tiny_project.dvc("repro", "--force", "prepare", "split")
    assert digests(tiny_project, "data/split") | digests(tiny_project, "data/prepared") == before


def test_missing_kaggle_files_give_a_clear_error_and_keep_the_last_outputs(tiny_project):
    tiny_project.dvc("repro", *DATA_STAGES)
    before = digests(tiny_project, "data/prepared")
    tiny_project.set_params({"data": {"raw_dir": "data/raw/kaggle"}})
    result = tiny_project.dvc("repro", "prepare", check=False)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "data/raw/kaggle: missing training.csv, test.csv, IdLookupTable.csv" in message
    assert "kaggle competitions download -c facial-keypoints-detection" in message
    assert digests(tiny_project, "data/prepared") == before


@pytest.mark.parametrize("overrides, message", [
    ({"predict": {"model": "nope"}}, "predict.model: unknown model 'nope'"),
    ({"data": {"raw_dir": "data/raw/nowhere"}}, "data.raw_dir: data/raw/nowhere: no such folder; put Kaggle's"),
])
def test_a_bad_name_or_path_in_params_stops_repro_first_naming_the_key(tiny_project, overrides, message):
    tiny_project.set_params(overrides)
    result = tiny_project.dvc("repro", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"error: {message}" in output and "Errno 2" not in output
    assert "Running stage 'check'" in output and "Running stage 'generate'" not in output


def test_bad_raw_data_fails_cleanly_and_repro_recovers(tiny_project):
    tiny_project.dvc("repro", *DATA_STAGES)
    before = digests(tiny_project, "data/prepared")
    raw = tiny_project.path / "data/raw/bad"
    raw.mkdir()
    for name in ("training.csv", "test.csv", "IdLookupTable.csv"):
        (raw / name).write_bytes((tiny_project.path / "data/raw/sample" / name).read_bytes())
    text = (raw / "training.csv").read_text().split("\n")
    text[3] = text[3].replace(" ", " x", 1)
    (raw / "training.csv").write_text("\n".join(text))
    tiny_project.set_params({"data": {"raw_dir": "data/raw/bad"}})
    result = tiny_project.dvc("repro", "prepare", check=False)
    assert result.returncode != 0
    assert "data/raw/bad/training.csv, line 4, column 'Image': non-numeric pixel value" in result.stderr + result.stdout
    assert digests(tiny_project, "data/prepared") == before
    tiny_project.set_params({"data": {"raw_dir": "data/raw/sample"}})
    tiny_project.dvc("repro", *DATA_STAGES)
    assert "Data and pipelines are up to date" in tiny_project.dvc("status", *DATA_STAGES).stdout


@pytest.mark.skipif(not YOUTUBE_FACES.exists(), reason="shared real data not present")
def test_data_stages_on_real_faces(tmp_path):
    project = make_project(tmp_path / "project", {"data": {"raw_dir": str(YOUTUBE_FACES)}})
    out = project.dvc("repro", "prepare", "split").stdout
    assert "prepared 3147 training faces" in out and "300 test faces, 9000 lookup rows" in out
    train = load_npz(project.path / "data/split/train.npz")
    val = load_npz(project.path / "data/split/val.npz")
    assert len(train["images"]) + len(val["images"]) == 3147
    assert abs(len(val["images"]) / 3147 - 0.2) < 0.005
    full_share = [(~np.isnan(part["keypoints"]).any(axis=1)).mean() for part in (train, val)]
    assert abs(full_share[0] - full_share[1]) < 0.01


def test_a_list_of_wrong_labels_leaves_training_only_and_a_foreign_list_is_refused(tiny_project):
    from stages.lib.cleaning import write_label_list

    tiny_project.dvc("repro", *DATA_STAGES)
    prepared = load_npz(tiny_project.path / "data/prepared/train.npz")
    train_id = int(load_npz(tiny_project.path / "data/split/train.npz")["image_ids"][3])
    val_id = int(load_npz(tiny_project.path / "data/split/val.npz")["image_ids"][0])

    def record(row: int, shift: float = 0.0) -> dict:
        x, y = prepared["keypoints"][row - 1, :2]
        return {"row": row, "keypoint": "left_eye_center", "label_x": round(float(x) + shift, 3),
                "label_y": round(float(y), 3), "predicted_x": 0.0, "predicted_y": 0.0, "residual_px": 99.0}

    write_label_list(tiny_project.path / "data/labels/test.csv", [record(train_id), record(val_id)], "a test's list")
    tiny_project.set_params({"split": {"wrong_labels": "data/labels/test.csv"}})
    out = tiny_project.dvc("repro", *DATA_STAGES).stdout
    assert "split 64 train / 16 val faces" in out and "1 training faces merged or left out" in out
    assert train_id not in load_npz(tiny_project.path / "data/split/train.npz")["image_ids"]
    assert val_id in load_npz(tiny_project.path / "data/split/val.npz")["image_ids"]  # validation keeps every face

    before = digests(tiny_project, "data/split")
    write_label_list(tiny_project.path / "data/labels/test.csv", [record(train_id, shift=1.0)], "another file's")
    result = tiny_project.dvc("repro", *DATA_STAGES, check=False)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "error: data/labels/test.csv, line 2 of its table, field label_x:" in message and "Traceback" not in message
    assert digests(tiny_project, "data/split") == before

    tiny_project.set_params({"split": {"wrong_labels": "data/labels/none.csv"}})
    result = tiny_project.dvc("repro", *DATA_STAGES, check=False)
    assert "error: split.wrong_labels: data/labels/none.csv: no such file" in result.stdout + result.stderr
