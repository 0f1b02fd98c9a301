"""End to end on the tiny profile: dvc repro of every stage, partial reruns, a killed training,
experiments, metrics diff and a DVC remote, each in its own temp git repo."""
import json
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import Project, environment, make_project
from stages.lib.io import load_npz
from stages.lib.models import MODELS, trained_models
from stages.lib.submission import check_submission

# Trains models or runs DVC: the full tier only (`make test`), not `make test-fast`.
pytestmark = pytest.mark.slow

ALL_STAGES = {"check", "generate", "prepare", "split", *(f"train@{m}" for m in trained_models()),
              *(f"evaluate@{m}" for m in trained_models()), "evaluate_ensemble", "evaluate_folds", "compare", "submit",
              "photos", "predict"}
OUTPUTS = ("data/checked.txt", "data/raw/sample", "data/prepared", "data/split", "models", "logs", "evaluation", "submissions",
           "data/photos")


def ran(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def digest(project: Project, folder: str) -> dict[str, bytes]:
    root = project.path / folder
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory) -> Project:
    project = make_project(tmp_path_factory.mktemp("base") / "project")
    out = project.dvc("repro").stdout
    assert ran(out) == ALL_STAGES
    project.commit("tiny run")
    return project


@pytest.fixture
def project(reproduced, tmp_path) -> Project:
    shutil.copytree(reproduced.path, tmp_path / "project", symlinks=True)
    return Project(tmp_path / "project")


def test_full_repro_writes_checked_submissions_and_is_then_up_to_date(project):
    assert "Data and pipelines are up to date" in project.dvc("status").stdout
    assert not ran(project.dvc("repro").stdout)
    lookup = load_npz(project.path / "data/prepared/lookup.npz")
    evaluated = [name for name in MODELS if name != "folds"]  # no folds: the fold ensemble is off
    for name in [*evaluated, "best"]:
        assert check_submission(project.path / f"submissions/{name}.csv", lookup["row_ids"]) == len(lookup["row_ids"])
    summary = json.loads((project.path / "metrics/summary.json").read_text())
    assert summary["best"] == min(summary["models"], key=lambda m: summary["models"][m]["rmse"])
    assert summary["off"] == ["folds"] and not (project.path / "submissions/folds.csv").exists()
    assert (project.path / "submissions/best.csv").read_text() == \
        (project.path / f"submissions/{summary['best']}.csv").read_text()
    for name in ("resnet", "cnn"):  # timings are kept out of the compared metrics
        summary_keys = json.loads((project.path / f"metrics/train/{name}.json").read_text()).keys()
        assert "val_rmse" in summary_keys and not {"images_per_s", "train_seconds"} & summary_keys
        assert json.loads((project.path / f"logs/{name}/timing.json").read_text())["images_per_s"] > 0
    for name in evaluated:
        metrics = json.loads((project.path / f"metrics/evaluate/{name}.json").read_text())
        assert len(metrics["per_keypoint"]) == 15 and metrics["labelled_values"] > 0
        assert (project.path / f"evaluation/{name}/faces.png").read_bytes()[:4] == b"\x89PNG"
    photo = json.loads((project.path / "evaluation/photos/astronaut.png.json").read_text())
    assert photo["model"] == "ensemble" and len(photo["faces"]) == 1
    assert len(json.loads((project.path / "evaluation/photos/pair.jpg.json").read_text())["faces"]) == 2
    assert json.loads((project.path / "evaluation/photos/chelsea_the_cat.png.json").read_text())["faces"] == []
    # A 2-epoch ResNet is unsure of any face, and its face line may drop her: kept, it says so.
    # (A model without heatmaps, which gives no face score: tests/test_photo.py.)
    project.run(sys.executable, "-m", "stages.predict", "data/photos/astronaut.png", "--model", "resnet",
                "--out", "photos-resnet", "--keep-non-faces")
    result = json.loads((project.path / "photos-resnet/astronaut.png.json").read_text())
    assert len(result["faces"]) == 1 and "face_score" in result["faces"][0]
    assert result["confidence"]["kind"] == "heatmap_spread"
    shown = project.dvc("metrics", "show").stdout
    assert all(f"metrics/evaluate/{name}.json" in shown for name in evaluated)
    assert all(f"metrics/train/{name}.json" in shown for name in trained_models())
    html = project.dvc("plots", "show", "-o", "plots-html").stdout
    assert "plots-html" in html and (project.path / "plots-html/index.html").exists()


def test_an_experiment_on_resnet_params_reruns_only_the_resnet_chain_and_shows(project):
    """Queued and parallel experiments: tests/test_more_machines.py."""
    rerun = ran(project.dvc("exp", "run", "-S", "resnet.lr=0.002", "-n", "lr2").stdout)
    assert "train@resnet" in rerun and "evaluate@resnet" in rerun
    # The ensemble contains the ResNet, and the photos stage runs the ensemble; evaluate_folds
    # depends on models/ too (off, without folds: it only writes its note again).
    assert rerun <= {"train@resnet", "evaluate@resnet", "evaluate_ensemble", "evaluate_folds", "compare", "submit",
                     "predict"}
    diff = project.dvc("metrics", "diff").stdout  # the workspace now holds lr2's results
    assert "metrics/evaluate/resnet.json" in diff and "metrics/evaluate/cnn.json" not in diff
    text = json.dumps(json.loads(project.dvc("exp", "show", "--json").stdout))
    assert '"lr2"' in text and '"metrics/evaluate/resnet.json"' in text


def test_a_killed_training_keeps_the_previous_model_and_a_retrain_reproduces_it(project):
    """A SIGKILL mid-training leaves the previous model in place (the new one is written into a
    temp folder); a retrain clears what the kill left and reproduces the same weights, and as
    timings and timestamped curves live in logs/, models/ keeps its DVC hash: nothing downstream
    reruns."""
    before = digest(project, "models/resnet")
    epochs = project.params()["resnet"]["epochs"]
    # Epochs enough that the signal lands mid-training on any CPU (30 could end first with bf16).
    project.set_params({"resnet": {"epochs": 1000}})
    process = subprocess.Popen([sys.executable, "-m", "stages.train", "resnet", "data/split", "models/resnet",
                                "logs/resnet", "metrics/train/resnet.json"], cwd=project.path,
                               env=environment(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in process.stdout:
        if line.startswith("resnet epoch 1:"):
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert digest(project, "models/resnet") == before
    project.set_params({"resnet": {"epochs": epochs}})
    assert "Data and pipelines are up to date" in project.dvc("status").stdout

    assert ran(project.dvc("repro", "-f", "-s", "train@resnet").stdout) == {"train@resnet"}
    assert digest(project, "models/resnet") == before
    assert not list((project.path / "models").glob(".resnet.*"))
    assert json.loads((project.path / "logs/resnet/timing.json").read_text())["images_per_s"] > 0
    assert "Data and pipelines are up to date" in project.dvc("status").stdout
    assert not ran(project.dvc("repro").stdout)


def test_ctrl_c_in_training_is_one_line_and_keeps_the_previous_model(project):
    before = digest(project, "models/resnet")
    # Epochs enough, never stopped early, that the signal lands mid-training on any CPU.
    project.set_params({"resnet": {"epochs": 1000, "patience": None}})
    process = subprocess.Popen([sys.executable, "-m", "stages.train", "resnet", "data/split", "models/resnet",
                                "logs/resnet", "metrics/train/resnet.json"], cwd=project.path, env=environment(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               # Ctrl-C as on a terminal, even where the suite itself runs with
                               # SIGINT ignored (a background job), which the child would inherit.
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in process.stdout:
        if line.startswith("resnet epoch 1:"):
            break
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert err.strip().splitlines()[-1] == "interrupted; the last good outputs are kept" and "Traceback" not in err
    assert digest(project, "models/resnet") == before
    assert not list((project.path / "models").glob(".resnet.*"))


def test_remote_push_wipe_pull(project, tmp_path):
    project.dvc("remote", "add", "-d", "store", str(tmp_path / "remote"))
    project.dvc("push")
    shutil.rmtree(project.path / ".dvc/cache")
    for out in map(project.path.joinpath, OUTPUTS):
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    assert "deleted" in project.dvc("status").stdout
    project.dvc("pull")
    assert "Data and pipelines are up to date" in project.dvc("status").stdout
    assert np.load(project.path / "data/split/val.npz")["images"].shape[1:] == (96, 96)


TOY_MODULE = '''"""Model `toy`: every face gets the median of each keypoint's labels, moved by shift_px."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io import load_npz, save_npz
from ..metrics import rmse


def train(params, train, val, out_dir, on_epoch):
    median = (np.nanmedian(train.keypoints, axis=0) + params.shift_px).astype(np.float32)
    save_npz(Path(out_dir) / "model.npz", median=median)
    score = rmse(np.tile(median, (len(val), 1)), val.keypoints)
    on_epoch(0, {"val/rmse": score})
    return {"val_rmse": score, "epochs": 0}


def load(model_dir):
    median = load_npz(Path(model_dir) / "model.npz")["median"]
    return lambda images, four_point=None: np.tile(median, (len(images), 1))
'''

TOY_PARAMS = '''

@dataclasses.dataclass(frozen=True)
class ToyParams(ModelParams):
    shift_px: float
'''


def test_a_new_model_is_a_module_its_params_and_one_registration(project):
    """A toy model added the documented way (docs/architecture.md) is trained, evaluated, compared
    and submitted by the pipeline with no other change. Its params class in params.py, which every
    training imports, makes the other models' stages stale too; `dvc repro` would retrain them,
    and this test runs the toy's own stages alone (-s) to stay short."""
    (project.path / "stages/lib/models/toy.py").write_text(TOY_MODULE)
    params_py = project.path / "stages/lib/params.py"
    params_py.write_text(params_py.read_text() + TOY_PARAMS)
    registry = project.path / "stages/lib/models/__init__.py"
    text = registry.read_text()
    text = text.replace("ResNetParams\n", "ResNetParams, ToyParams\n", 1)
    text = text.replace('    Model("cnn", "cnn", CnnParams),\n', '    Model("cnn", "cnn", CnnParams),\n    Model("toy", "toy", ToyParams),\n')
    registry.write_text(text)
    with open(project.path / "params.yaml", "a") as handle:
        handle.write("toy:\n  shift_px: 0.5\n")
    dvc_yaml = project.path / "dvc.yaml"
    dvc_yaml.write_text(dvc_yaml.read_text().replace("      cnn: stages/lib/models/cnn\n",
                                                     "      cnn: stages/lib/models/cnn\n      toy: stages/lib/models/toy.py\n"))
    assert "toy" in registry.read_text() and "toy" in dvc_yaml.read_text()
    project.commit("a toy model")
    stale = project.dvc("status").stdout
    assert all(f"train@{name}:" in stale for name in ("toy", *trained_models()))
    out = project.dvc("repro", "-s", "train@toy", "evaluate@toy", "compare", "submit").stdout
    assert ran(out) == {"train@toy", "evaluate@toy", "compare", "submit"}
    metrics = json.loads((project.path / "metrics/evaluate/toy.json").read_text())
    assert metrics["model"] == "toy" and metrics["rmse"] > 0
    assert json.loads((project.path / "metrics/train/toy.json").read_text())["val_rmse"] > 0
    assert "toy" in json.loads((project.path / "metrics/summary.json").read_text())["ranking"]
    lookup = load_npz(project.path / "data/prepared/lookup.npz")
    assert check_submission(project.path / "submissions/toy.csv", lookup["row_ids"]) == len(lookup["row_ids"])
    # Its section is a params dependency like any model's, of its own stages only.
    project.set_params({"toy": {"shift_px": 3.0}})
    section_changed = re.compile(r"params\.yaml:\n\t+modified:\s+toy$", re.M)
    assert section_changed.search(project.dvc("status", "train@toy").stdout)
    assert not section_changed.search(project.dvc("status", "train@resnet").stdout)


def test_the_plots_page_needs_no_network_and_renders_its_charts(project, tmp_path):
    """`dvc plots show` fills .dvc/plots/offline.html, which carries Vega inline: no CDN. Where
    Chromium is installed, a headless screenshot shows the charts drawn (their purple marks)."""
    out = tmp_path / "page"
    project.dvc("plots", "show", "-o", str(out))
    page = (out / "index.html").read_text()
    assert not re.search(r"<script[^>]+src=[\"']https?:", page) and "window.vegaEmbed=" in page
    assert page.count("vegaEmbed('#") >= 8  # the curves and the bar charts, each a Vega-Lite chart
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return
    shot = tmp_path / "page.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,3000",
                    "--virtual-time-budget=15000", f"--screenshot={shot}", (out / "index.html").as_uri()],
                   capture_output=True, timeout=120)
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    vega_purple = (b > 150) & (r > 80) & (r < 200) & (g < 120)  # Vega's first colour on a rev: #945dd6-ish
    assert vega_purple.sum() > 2000, "the page's charts did not render"
