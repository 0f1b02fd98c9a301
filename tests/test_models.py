"""Every registered model trains on tiny data and beats the mean baseline; training is seeded."""
import dataclasses
import re

import numpy as np
import pytest

from conftest import NO_AUGMENT, ROOT, params_with
from stages.lib.facegen import make_sample_data
from stages.lib.io import load_npz, save_npz
from stages.lib.metrics import rmse
from stages.lib.models import MODELS, load_predictor, train_model, trained_models
from stages.lib.faces import Faces
from stages.lib.params import AdamPhase, AugmentParams, PoolHead, load_params

# Trains models or runs DVC: the full tier only (`make test`), not `make test-fast`.
pytestmark = pytest.mark.slow

# Enough to learn something in well under a minute per model on 2 cores.
QUICK = params_with({
    "resnet": {"epochs": 8, "batch_size": 16, "lr": 1e-3, "schedule": {"warmup_epochs": 0}, "threads": 2, "augment": NO_AUGMENT},
    "cnn": {"batch_size": 16, "threads": 2, "adam": {"epochs": 7}, "sgd": {"epochs": 1, "lr": 0.005},
            "augment": NO_AUGMENT},
    "ensemble": {"models": ["resnet", "cnn"], "weights": [0.6, 0.4]},  # two members, so averaging shows
})


@pytest.fixture(scope="module")
def faces():
    data = make_sample_data(seed=7, n_train=360, n_test=1, full_fraction=0.3)
    train = Faces(data.train_images[:300], data.train_keypoints[:300])
    val = Faces(data.train_images[300:], data.train_keypoints[300:])
    return train, val


@pytest.fixture(scope="module")
def few_faces(faces):
    """For the tests of training's mechanics (seeding, members, pseudo-labels), not of learning."""
    train, val = faces
    return Faces(train.images[:96], train.keypoints[:96]), val


@pytest.fixture(scope="module")
def trained(faces, tmp_path_factory):
    """name -> (summary, model dir, per-epoch metrics), each model trained once, side by side; the
    ensemble, which is not trained, with its validation RMSE and the folder it loads its members from."""
    train, val = faces
    models_dir = tmp_path_factory.mktemp("models")
    results = {}
    for name in trained_models():
        epochs = []
        summary = train_model(name, QUICK, train, val, models_dir / name, lambda e, m: epochs.append(m))
        results[name] = (summary, models_dir / name, epochs)
    ensemble = rmse(load_predictor("ensemble", models_dir, QUICK)(val.images), val.keypoints)
    results["ensemble"] = ({"val_rmse": ensemble}, models_dir, [])
    return results


def test_every_registered_model_has_its_params_section_and_code():
    params = load_params(ROOT / "params.yaml")
    for entry in MODELS.values():
        assert isinstance(params.model(entry.name), entry.params) and dataclasses.is_dataclass(entry.params)
        module = entry.load_module()
        assert callable(module.load) and callable(getattr(module, "train", None)) == entry.trained


def test_the_ensemble_is_not_trained(faces, tmp_path):
    with pytest.raises(ValueError, match="not trained"):
        train_model("ensemble", QUICK, *faces, tmp_path, lambda e, m: None)
    with pytest.raises(ValueError, match="loaded with its params"):
        load_predictor("ensemble", tmp_path)


@pytest.mark.parametrize("name", ["patch", "resnet", "cnn", "ensemble"])
def test_each_model_beats_the_mean_baseline(trained, name):
    mean_rmse = trained["mean"][0]["val_rmse"]
    margin = 0.97 if name == "patch" else 0.8  # the patch search is a weak baseline by design
    assert trained[name][0]["val_rmse"] < margin * mean_rmse, (name, trained[name][0], mean_rmse)


# The fold ensemble trains through the pipeline's folds: tests/test_pipeline_folds.py.
ONE_SPLIT_MODELS = [name for name in MODELS if name != "folds"]


@pytest.mark.parametrize("name", ONE_SPLIT_MODELS)
def test_saved_model_predicts_what_training_measured(trained, faces, name):
    summary, out, epochs = trained[name]
    predictions = load_predictor(name, out, QUICK)(faces[1].images)
    assert predictions.shape == (len(faces[1]), 30) and predictions.dtype == np.float32
    assert rmse(predictions, faces[1].keypoints) == pytest.approx(summary["val_rmse"], rel=1e-3)


@pytest.mark.parametrize("name", ["resnet", "cnn"])
def test_training_logs_every_epoch_and_keeps_the_best(trained, name):
    summary, _, epochs = trained[name]
    assert len(epochs) == summary["epochs"] >= 1
    assert {"train/loss", "val/loss", "val/rmse"} <= set(epochs[0])
    best = summary["networks"][-1] if name == "resnet" else summary  # the (last) kept network
    assert best["val_loss"] == pytest.approx(min(e["val/loss"] for e in epochs))


@pytest.mark.parametrize("name", ["resnet", "cnn"])
def test_predicting_leaves_float_images_as_they_were(trained, faces, name):
    images = faces[1].images[:8].astype(np.float32)
    before = images.copy()
    predict = load_predictor(name, trained[name][1])
    first = predict(images)
    assert np.array_equal(images, before)
    assert np.array_equal(predict(images), first)
    assert np.allclose(predict(faces[1].images[:8]), first, atol=1e-4)  # the same faces as uint8


def test_ensemble_averages_its_members(trained, faces):
    images = faces[1].images[:8]
    members = [load_predictor(name, trained[name][1])(images) for name in QUICK.ensemble.models]
    weights = np.array(QUICK.ensemble.weights) / sum(QUICK.ensemble.weights)
    expected = sum(w * m for w, m in zip(weights, members))
    assert np.allclose(load_predictor("ensemble", trained["ensemble"][1], QUICK)(images), expected, atol=1e-4)


def test_resnet_training_is_deterministic(few_faces, tmp_path):
    # Same seed, data and thread count: bit-identical on the CPU.
    params = dataclasses.replace(QUICK, resnet=dataclasses.replace(
        QUICK.resnet, epochs=2, augment=dataclasses.replace(AugmentParams.off(), flip=True, rotate=10, shift=3, blur=0.3)))
    runs = [train_model("resnet", params, *few_faces, tmp_path / str(i), lambda e, m: None) for i in range(2)]
    assert runs[0]["val_rmse"] == runs[1]["val_rmse"]
    # Identical weights give an identical file, so DVC sees no change downstream.
    assert (tmp_path / "0/model.pt").read_bytes() == (tmp_path / "1/model.pt").read_bytes()
    other = dataclasses.replace(params, resnet=dataclasses.replace(params.resnet, seed=1))
    assert train_model("resnet", other, *few_faces, tmp_path / "2", lambda e, m: None)["val_rmse"] != runs[0]["val_rmse"]


def test_a_diverging_resnet_stops_in_one_line_naming_the_epoch_and_lr(few_faces):
    """A NaN loss never beats the best so far: without the check training ran on and ended in KeyError."""
    from stages.lib.errors import UserError
    from stages.lib.models.resnet.loop import train_network

    train, val = few_faces
    poisoned = Faces(train.images.astype(np.float32), train.keypoints)
    poisoned.images[:, 40, 40] = np.nan  # every batch's loss is NaN from the first step
    with pytest.raises(UserError, match=r"^resnet: training diverged at epoch 1 \(loss nan\) with lr 0.001; lower resnet.lr"):
        train_network(dataclasses.replace(QUICK.resnet, epochs=2), poisoned, val, lambda epoch, metrics: None)


def test_a_diverging_cnn_stops_in_one_line_naming_the_phase_lr(few_faces, tmp_path):
    from stages.lib.errors import UserError

    train, val = few_faces
    poisoned = Faces(train.images.astype(np.float32), train.keypoints)
    poisoned.images[:, 40, 40] = np.nan
    params = dataclasses.replace(QUICK, cnn=dataclasses.replace(QUICK.cnn, adam=AdamPhase(epochs=1, lr=1e-3)))
    with pytest.raises(UserError, match=r"^cnn: training diverged at epoch 1 \(loss nan\) .*lower cnn.adam.lr"):
        train_model("cnn", params, poisoned, val, tmp_path, lambda epoch, metrics: None)


def test_resnet_validates_every_k_epochs_and_trains_the_same(few_faces):
    from stages.lib.models.resnet.loop import train_network

    params = dataclasses.replace(QUICK.resnet, epochs=5, patience=None,
                                 augment=dataclasses.replace(AugmentParams.off(), flip=True, shift=3))
    logs, results = {}, {}
    for k in (1, 2):
        logs[k] = []
        results[k] = train_network(dataclasses.replace(params, validate_every=k), *few_faces,
                                   lambda epoch, metrics, log=logs[k]: log.append(metrics))
    # Skipped validations leave training as it was, epoch for epoch.
    assert [m["train/loss"] for m in logs[2]] == [m["train/loss"] for m in logs[1]]
    assert [epoch + 1 for epoch, m in enumerate(logs[2]) if "val/loss" in m] == [2, 4, 5]  # and the last
    validated = [logs[1][epoch]["val/loss"] for epoch in (1, 3, 4)]
    assert [logs[2][epoch]["val/loss"] for epoch in (1, 3, 4)] == validated
    # The best of the validated epochs is the one kept.
    assert results[2].best_epoch == (2, 4, 5)[int(np.argmin(validated))]
    assert results[2].val_loss == min(validated)


def test_cnn_training_is_deterministic(few_faces, tmp_path):
    # TensorFlow with op determinism on: equal to within 1e-6 relative (float32 round-off).
    params = dataclasses.replace(QUICK, cnn=dataclasses.replace(
        QUICK.cnn, adam=AdamPhase(epochs=1, lr=QUICK.cnn.adam.lr), sgd=dataclasses.replace(QUICK.cnn.sgd, epochs=1),
        augment=dataclasses.replace(AugmentParams.off(), flip=True, shift=3)))
    runs = [train_model("cnn", params, *few_faces, tmp_path / str(i), lambda e, m: None) for i in range(2)]
    assert runs[0]["val_rmse"] == pytest.approx(runs[1]["val_rmse"], rel=1e-6)
    # The saved files are a function of the weights alone: no save date, no object addresses.
    saved = tmp_path / "0/weights.npz"
    save_npz(tmp_path / "again.npz", **load_npz(saved))
    assert (tmp_path / "again.npz").read_bytes() == saved.read_bytes()
    assert (tmp_path / "0/config.json").read_bytes() == (tmp_path / "1/config.json").read_bytes()


def test_cnn_options_shrink_its_work():
    import keras

    from stages.lib.models.cnn.network import build

    def shapes(**options) -> tuple[list[int], int]:
        """Each convolution's output size, and the first Dense layer's inputs."""
        model = build({"dropout": 0.1, "normalize_targets": True, **options})
        convs = [layer.output.shape[1] for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
        dense = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense)).kernel.shape[0]
        return convs, dense

    assert shapes(first_stride=1, first_pool=2, last_pool=2) == ([96, 48, 24], 12 * 12 * 128)  # the seeds' network
    assert shapes(first_stride=2, first_pool=1, last_pool=4) == ([48, 48, 24], 6 * 6 * 128)
    assert shapes(first_stride=2, first_pool=2, last_pool=2) == ([48, 24, 12], 6 * 6 * 128)
    # params.yaml's, trained by the other tests
    assert (QUICK.cnn.first_stride, QUICK.cnn.first_pool, QUICK.cnn.last_pool) == (2, 2, 2)


def test_resnet_members_average_networks_of_successive_seeds(few_faces, tmp_path):
    # With a moving average of the weights on, which is then what each network keeps.
    base = dataclasses.replace(QUICK.resnet, epochs=2, ema=0.9)
    singles = []
    for seed in (0, 1):
        params = dataclasses.replace(QUICK, resnet=dataclasses.replace(base, seed=seed))
        summary = train_model("resnet", params, *few_faces, tmp_path / f"seed{seed}", lambda e, m: None)
        singles.append((summary, load_predictor("resnet", tmp_path / f"seed{seed}")(few_faces[1].images)))
        assert rmse(singles[-1][1], few_faces[1].keypoints) == pytest.approx(summary["val_rmse"], rel=1e-5)
    assert singles[0][0]["val_rmse"] != singles[1][0]["val_rmse"]

    epochs = []
    params = dataclasses.replace(QUICK, resnet=dataclasses.replace(base, members=2))
    summary = train_model("resnet", params, *few_faces, tmp_path / "both", lambda e, m: epochs.append(e))
    assert [n["val_rmse"] for n in summary["networks"]] == [s["networks"][0]["val_rmse"] for s, _ in singles]
    assert [n["seed"] for n in summary["networks"]] == [0, 1]
    assert epochs == list(range(summary["epochs"])) and summary["epochs"] == 4
    predictions = load_predictor("resnet", tmp_path / "both")(few_faces[1].images)
    assert np.allclose(predictions, (singles[0][1] + singles[1][1]) / 2, atol=1e-4)
    assert summary["val_rmse"] == pytest.approx(rmse(predictions, few_faces[1].keypoints), rel=1e-5)


def test_pseudo_labels_fill_only_missing_keypoints_with_flip_averaged_predictions(faces):
    from stages.lib.models.resnet import pseudo_labelled
    from stages.lib.tta import with_flip_averaging

    train = Faces(faces[0].images[:20], faces[0].keypoints[:20])
    # A predictor that depends on the image, so that flip averaging changes its output.
    predict = lambda images, four_point=None: images[:, 40, :30].astype(np.float32) / 4 + 30  # noqa: E731
    filled = pseudo_labelled(train, predict)
    missing = np.isnan(train.keypoints)
    assert missing.any() and not np.isnan(filled.keypoints).any()
    assert np.array_equal(filled.keypoints[~missing], train.keypoints[~missing])
    assert np.allclose(filled.keypoints[missing], with_flip_averaging(predict)(train.images)[missing])
    assert filled.images is train.images


def test_resnet_with_pseudo_labels_trains_a_labeller_first(few_faces, tmp_path):
    params = dataclasses.replace(QUICK, resnet=dataclasses.replace(QUICK.resnet, epochs=2, pseudo_labels=True))
    epochs = []
    summary = train_model("resnet", params, *few_faces, tmp_path, lambda e, m: epochs.append(m["val/rmse"]))
    plain = train_model("resnet", dataclasses.replace(params, resnet=dataclasses.replace(params.resnet, pseudo_labels=False)),
                        *few_faces, tmp_path / "plain", lambda e, m: None)
    labeller, kept = summary["networks"]
    assert labeller["role"] == "pseudo_labeller" and kept["role"] == "member"
    assert labeller["val_rmse"] == plain["networks"][0]["val_rmse"]  # the labeller is a plain run
    assert summary["epochs"] == 4 and len(epochs) == 4 and summary["val_rmse"] != plain["val_rmse"]
    assert kept["val_rmse"] in epochs[2:]  # the kept network's own epochs
    assert summary.keys() == plain.keys()  # the same summary whatever the options
    assert rmse(load_predictor("resnet", tmp_path)(few_faces[1].images), few_faces[1].keypoints) == pytest.approx(summary["val_rmse"], rel=1e-5)


@pytest.mark.parametrize("normalized", [False, True])
def test_soft_argmax_is_the_expected_cell_centre(normalized):
    import torch

    from stages.lib.models.targets import Targets
    from stages.lib.models.resnet.network import soft_argmax

    logits = torch.zeros(2, 3, 12, 12)
    logits[0, 0, 3, 7] = 60.0  # all the mass on row 3, column 7: cells are 8 px wide
    logits[0, 1, 0, 0] = logits[0, 1, 0, 11] = 60.0  # split between two cells of row 0
    got = soft_argmax(logits, Targets(normalized)).numpy()
    expected_px = np.array([[59.5, 27.5, 47.5, 3.5, 47.5, 47.5],  # point 2 (uniform): the image centre
                            [47.5, 47.5, 47.5, 47.5, 47.5, 47.5]])
    np.testing.assert_allclose(got, Targets(normalized).encode(expected_px), atol=1e-5)

@pytest.mark.parametrize("size, stride, channels_last", [(2, 1, True), (1, 1, False), (2, 2, False), (3, 1, True)])
def test_conv3x3_computes_what_a_convolution_does_on_every_map_size(size, stride, channels_last):
    import torch

    from stages.lib.models.resnet.network import Conv3x3

    torch.manual_seed(0)
    fast = Conv3x3(16, 8, stride)
    plain = torch.nn.Conv2d(16, 8, 3, stride, 1, bias=False)
    plain.load_state_dict(fast.state_dict())  # the same parameters under the same names
    memory = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(4, 16, size, size).contiguous(memory_format=memory)
    outputs, grads = [], []
    for conv in (fast, plain):
        conv.to(memory_format=memory)
        xi = x.clone().requires_grad_(True)
        out = conv(xi)
        (out * torch.arange(out.numel()).view_as(out)).sum().backward()
        outputs.append(out.detach())
        grads.append((xi.grad, conv.weight.grad))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-5, atol=1e-4)
    for fast_grad, plain_grad in zip(*grads):
        torch.testing.assert_close(fast_grad, plain_grad, rtol=1e-5, atol=1e-3)



def test_resnet_pool_head_learns_and_reloads(trained, faces, tmp_path):
    assert QUICK.resnet.head.kind == "soft_argmax"  # params.yaml's, trained by the fixture
    params = dataclasses.replace(QUICK, resnet=dataclasses.replace(QUICK.resnet, head=PoolHead("pool")))
    summary = train_model("resnet", params, *faces, tmp_path, lambda e, m: None)
    assert summary["val_rmse"] < 0.8 * trained["mean"][0]["val_rmse"]
    predictions = load_predictor("resnet", tmp_path)(faces[1].images)
    assert rmse(predictions, faces[1].keypoints) == pytest.approx(summary["val_rmse"], rel=1e-3)
    from stages.lib.models import load_confidence
    assert load_confidence("resnet", tmp_path) is None  # no heatmaps, no spread


def test_fine_heatmaps_have_twice_the_resolution_learn_and_reload(trained, faces, tmp_path):
    import torch

    from stages.lib.models.resnet import networks

    assert not QUICK.resnet.head.fine_heatmaps  # params.yaml's 12x12, trained by the fixture
    # Half the fixture's epochs: this head learns fast (0.32x the mean baseline's RMSE after 4 of 8).
    params = dataclasses.replace(QUICK, resnet=dataclasses.replace(
        QUICK.resnet, head=dataclasses.replace(QUICK.resnet.head, fine_heatmaps=True), epochs=4))
    summary = train_model("resnet", params, *faces, tmp_path, lambda e, m: None)
    assert summary["val_rmse"] < 0.8 * trained["mean"][0]["val_rmse"]
    assert rmse(load_predictor("resnet", tmp_path)(faces[1].images), faces[1].keypoints) == pytest.approx(summary["val_rmse"], rel=1e-5)
    x = torch.zeros(1, 1, 96, 96)
    for model_dir, cells in ((tmp_path, 24), (trained["resnet"][1], 12)):
        (network,) = networks(torch.load(model_dir / "model.pt", weights_only=True))
        assert network.head.logits(network.features(x)).shape == (1, 15, cells, cells)


def test_max_epochs_counts_every_network_the_resnet_trains():
    resnet = dataclasses.replace(QUICK.resnet, epochs=30)
    assert resnet.max_epochs == 30
    assert dataclasses.replace(resnet, pseudo_labels=True, members=2).max_epochs == 90
    assert dataclasses.replace(QUICK.cnn, adam=AdamPhase(epochs=20, lr=1e-3),
                               sgd=dataclasses.replace(QUICK.cnn.sgd, epochs=15)).max_epochs == 35
    assert QUICK.mean.max_epochs == QUICK.patch.max_epochs == 1


def test_only_the_heatmap_resnet_reports_a_spread_and_it_grows_off_faces(trained, faces, tmp_path):
    """The ResNet's keypoint spreads (px) are larger on crops of pictures with no face than on
    faces, and its face line, measured at training, keeps its faces."""
    import torch

    from stages.lib.confidence import face_score, non_face_crops
    from stages.lib.models import load_confidence

    assert all(load_confidence(name, trained[name][1]) is None for name in ONE_SPLIT_MODELS if name != "resnet")
    assert QUICK.resnet.head.heatmap_reg is not None  # params.yaml's; without it the heatmaps have no trained shape...
    saved = torch.load(trained["resnet"][1] / "model.pt", weights_only=True)
    torch.save({**saved, "heatmap_reg": 0.0}, tmp_path / "model.pt")
    assert load_confidence("resnet", tmp_path) is None  # ...and no spread is reported
    confidence = load_confidence("resnet", trained["resnet"][1])
    on_faces = confidence.spread(faces[1].images)
    assert on_faces.shape == (len(faces[1].images), 15) and (on_faces > 0).all()
    off_faces = face_score(confidence.spread(non_face_crops(60, seed=1)))  # not the calibration's crops
    assert np.median(off_faces) > np.percentile(face_score(on_faces), 95)
    assert np.mean(face_score(on_faces) <= confidence.face_limit) > 0.95
    assert np.mean(off_faces > confidence.face_limit) > 0.8


@pytest.mark.parametrize("name, file", [("resnet", "model.pt"), ("cnn", "weights.npz"), ("cnn", "config.json"),
                                        ("mean", "model.npz")])
def test_a_damaged_model_file_is_named_with_what_to_do(trained, name, file, tmp_path):
    import shutil

    from stages.lib.errors import UserError

    folder = tmp_path / name
    shutil.copytree(trained[name][1], folder)
    data = (folder / file).read_bytes()
    for damage in (data[:len(data) // 2], b"garbage" * 10):  # truncated, overwritten
        (folder / file).write_bytes(damage)
        with pytest.raises(UserError, match=rf"^{re.escape(str(folder / file))}: cannot be read .*rerun `dvc repro`"):
            load_predictor(name, folder)
