import pytest
import yaml

from conftest import ROOT, params_with
from stages.lib.params import ParamsError, Params, load_params, parse_params, read_yaml


def test_the_committed_params_file_is_valid():
    params = load_params(ROOT / "params.yaml")
    assert isinstance(params, Params)
    assert params.data.raw_dir == "data/raw/sample"
    assert 0 < params.split.val_fraction < 1


def test_params_are_frozen():
    params = params_with({})
    with pytest.raises(Exception):
        params.split.seed = 3


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"split": {"val_fration": 0.2}}, "split.val_fration: unknown key"),
        ({"splitt": {}}, "splitt: unknown key"),
        ({"split": {"val_fraction": "0.2"}}, "split.val_fraction: expected a number, got '0.2'"),
        ({"split": {"seed": 1.5}}, "split.seed: expected an integer, got 1.5"),
        ({"generate": {"n_train": True}}, "generate.n_train: expected an integer, got True"),
        ({"split": {"val_fraction": 1.5}}, "split.val_fraction: must be in (0, 1)"),
        ({"generate": {"n_test": 0}}, "generate.n_test: must be >= 1"),
        ({"data": {"raw_dir": 3}}, "data.raw_dir: expected a string, got 3"),
        ({"data": []}, "data: expected a mapping"),
        ({"cnn": {"adam": {"epoch": 3}}}, "cnn.adam.epoch: unknown key"),
        ({"resnet": {"augment": {"rotate": -5}}}, "augment.rotate: must be >= 0"),
        ({"resnet": {"loss": "l1"}}, "resnet.loss: expected one of ['mse', 'huber', 'wing'], got 'l1'"),
        ({"ensemble": {"models": ["resnet"], "weights": [0.5, 0.5]}}, "ensemble.weights: needs one weight per model"),
        ({"ensemble": {"models": "resnet"}}, "ensemble.models: expected a list"),
        ({"patch": {"patch_size": 20}}, "patch.patch_size: must be odd"),
        ({"resnet": {"ema": 1.0}}, "resnet.ema: must be in [0, 1)"),
        ({"resnet": {"members": 0}}, "resnet.members: must be >= 1"),
        ({"resnet": {"head": "heatmap"}}, "resnet.head: expected one of ['pool', 'soft_argmax'], got 'heatmap'"),
        ({"resnet": {"head": "pool", "fine_heatmaps": True}}, "resnet.fine_heatmaps: needs head: soft_argmax"),
        ({"cnn": {"first_stride": 3}}, "cnn.first_stride: must be 1 or 2"),
        ({"cnn": {"last_pool": 3}}, "cnn.last_pool: must be 2 or 4"),
        ({"cnn": {"first_pool": 4}}, "cnn.first_pool: must be 1 or 2"),
        ({"cnn": {"first_stride": 1, "first_pool": 1}}, "cnn.first_pool: must be 2 when cnn.first_stride is 1"),
        ({"ensemble": {"models": ["resnet", "nope"], "weights": [0.5, 0.5]}}, "ensemble.models[1]: unknown model 'nope'"),
        ({"predict": {"model": "nope"}}, "predict.model: unknown model 'nope'"),
        ({"evaluate": {"zoom_tta": [0.95, 1.0]}}, "evaluate.zoom_tta: scales must be in [0.8, 1.25] and not 1"),
        ({"evaluate": {"zoom_tta": [0.5]}}, "evaluate.zoom_tta: scales must be in [0.8, 1.25]"),
    ],
)
def test_bad_params_name_the_key(raw, message):
    with pytest.raises(ParamsError) as error:
        params_with(raw)
    assert message in str(error.value)


@pytest.mark.parametrize("section, key", [("resnet", "bf16"), ("split", "seed"), ("cnn", "sgd")])
def test_every_key_must_be_set_in_params_yaml(section, key):
    """params.yaml is the only source of values: a key left out is an error, not a default."""
    raw = read_yaml(ROOT / "params.yaml")
    del raw[section][key]
    with pytest.raises(ParamsError, match=rf"{section}\.{key}: missing"):
        parse_params(raw)


def test_ints_are_accepted_for_floats():
    params = params_with({"generate": {"full_fraction": 1}})
    assert params.generate.full_fraction == 1.0
    assert isinstance(params.generate.full_fraction, float)


def test_load_params_reports_bad_yaml(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("split: [unclosed")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(path)
    path.write_text(yaml.safe_dump({"split": {"seed": "x"}}))
    with pytest.raises(ParamsError, match="split.seed"):
        load_params(path)
