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
        ({"generate": {"n_test": 0}}, "generate.n_test: must be in [1, 1000000]"),
        ({"data": {"raw_dir": 3}}, "data.raw_dir: expected a string, got 3"),
        ({"data": []}, "data: expected a mapping"),
        ({"cnn": {"adam": {"epoch": 3}}}, "cnn.adam.epoch: unknown key"),
        # Errors raised by a nested section's own checks name the key from the file's top.
        ({"resnet": {"augment": {"rotate": -5}}}, "resnet.augment.rotate: must be >= 0"),
        ({"cnn": {"augment": {"blur": 2}}}, "cnn.augment.blur: must be a probability"),
        ({"resnet": {"augment": {"reframe": {"share": 0, "scale": 0.5, "shift": 24}}}},
         "resnet.augment.reframe.share: must be a probability in (0, 1]"),
        ({"resnet": {"augment": {"reframe": {"share": 0.1, "scale": 0.5}}}}, "resnet.augment.reframe.shift: missing"),
        ({"cnn": {"adam": {"epochs": -1}}}, "cnn.adam.epochs: must be in [0, 100000]"),
        ({"cnn": {"adam": {"lr": 0}}}, "cnn.adam.lr: must be in (0, 10]"),
        ({"cnn": {"adam": {"epochs": 0}, "sgd": {"epochs": 0}}}, "cnn.adam.epochs: cnn.adam.epochs + cnn.sgd.epochs must be >= 1"),
        ({"resnet": {"loss": "l1"}}, "resnet.loss: expected a mapping with a kind (one of ['mse', 'huber', 'wing']), got 'l1'"),
        ({"resnet": {"loss": {"kind": "l1"}}}, "resnet.loss.kind: expected one of ['mse', 'huber', 'wing'], got 'l1'"),
        ({"resnet": {"loss": {"kind": "huber"}}}, "resnet.loss.delta_px: missing"),
        ({"cnn": {"loss": {"delta_px": -1.0}}}, "cnn.loss.delta_px: must be > 0"),
        ({"ensemble": {"models": ["resnet"], "weights": [0.5, 0.5]}}, "ensemble.weights: needs one weight per model"),
        ({"ensemble": {"models": "resnet"}}, "ensemble.models: expected a list"),
        ({"patch": {"patch_size": 20}}, "patch.patch_size: must be odd"),
        ({"resnet": {"ema": 1.0}}, "resnet.ema: must be in (0, 1), or null (off)"),
        ({"resnet": {"ema": 0.0}}, "resnet.ema: must be in (0, 1), or null (off)"),
        ({"resnet": {"members": 0}}, "resnet.members: must be in [1, 64]"),
        ({"resnet": {"head": {"kind": "heatmap"}}}, "resnet.head.kind: expected one of ['soft_argmax', 'pool'], got 'heatmap'"),
        # A mode holds its own keys only: the pool head has no heatmaps, a step schedule no warm-up.
        ({"resnet": {"head": {"kind": "pool", "fine_heatmaps": True}}}, "resnet.head.fine_heatmaps: unknown key"),
        ({"resnet": {"schedule": {"kind": "step", "step_size": 5, "gamma": 0.1, "warmup_epochs": 1}}},
         "resnet.schedule.warmup_epochs: unknown key"),
        ({"resnet": {"schedule": {"warmup_epochs": 8}}}, "resnet.schedule.warmup_epochs: must be < resnet.epochs"),
        ({"resnet": {"head": {"heatmap_reg": {"weight": 0.0}}}}, "resnet.head.heatmap_reg.weight: must be > 0 (heatmap_reg: null"),
        ({"resnet": {"patience": 0}}, "resnet.patience: must be >= 1, or null (never stop early)"),
        ({"resnet": {"validate_every": "never"}}, "resnet.validate_every: expected an integer or 'last', got 'never'"),
        ({"resnet": {"validate_every": 0}}, "resnet.validate_every: must be >= 1 or 'last'"),
        ({"resnet": {"epochs": None}}, "resnet.epochs: expected an integer, got None"),
        ({"resnet": {"schedule": None}}, "resnet.schedule: must be set (null is not allowed here)"),
        ({"cnn": {"first_stride": 3}}, "cnn.first_stride: must be 1 or 2"),
        ({"cnn": {"last_pool": 3}}, "cnn.last_pool: must be 2 or 4"),
        ({"cnn": {"first_pool": 4}}, "cnn.first_pool: must be 1 or 2"),
        ({"cnn": {"first_stride": 1, "first_pool": 1}}, "cnn.first_pool: must be 2 when cnn.first_stride is 1"),
        ({"ensemble": {"models": ["resnet", "nope"], "weights": [0.5, 0.5]}}, "ensemble.models[1]: unknown model 'nope'"),
        ({"predict": {"model": "nope"}}, "predict.model: unknown model 'nope'"),
        ({"folds": {"ids": [1, 2]}}, "folds.ids: must be [] (no folds: the 80/20 split) or 0 .. K-1 for K >= 2 folds"),
        ({"folds": {"ids": [0]}}, "folds.ids: must be [] (no folds"),
        ({"folds": {"model": "ensemble"}}, "folds.model: must be a trained model (mean, patch, resnet, cnn), got 'ensemble'"),
        ({"folds": {"ids": [0, 1]}, "resnet": None, "ensemble": {"models": ["cnn"], "weights": [1.0]}}, "folds.model: names resnet, which is off (resnet: null)"),
        ({"predict": {"model": "folds"}}, "predict.model: names folds, which is off (folds.ids: [], no folds)"),
        ({"ensemble": {"models": ["folds"], "weights": [1.0]}}, "ensemble.models[0]: unknown model 'folds'; the ensemble averages trained models"),
        ({"split": {"wrong_labels": "labels.txt"}}, "split.wrong_labels: must be a .csv list"),
        ({"evaluate": {"zoom_tta": [0.95, 1.0]}}, "evaluate.zoom_tta: scales must be in [0.8, 1.25] and not 1"),
        ({"evaluate": {"zoom_tta": [0.5]}}, "evaluate.zoom_tta: scales must be in [0.8, 1.25]"),
        # Not finite, out of range: refused here, not by a framework later with a traceback.
        ({"resnet": {"lr": float("inf")}}, "resnet.lr: expected a finite number, got inf"),
        ({"resnet": {"lr": float("nan")}}, "resnet.lr: expected a finite number, got nan"),
        ({"ensemble": {"weights": [0.9, float("inf")]}}, "ensemble.weights[1]: expected a finite number, got inf"),
        ({"split": {"seed": -1}}, "split.seed: must be in [0, 2**32 - 1], got -1"),
        ({"generate": {"seed": -1}}, "generate.seed: must be in [0, 2**32 - 1]"),
        ({"cnn": {"seed": 2 ** 33}}, "cnn.seed: must be in [0, 2**32 - 1], got 8589934592"),
        ({"resnet": {"seed": 10 ** 30}}, "resnet.seed: 1000000000000000000000000000000 is out of range"),
        ({"resnet": {"threads": 1e20}}, "resnet.threads: expected an integer or 'all', got 1e+20"),
        ({"resnet": {"threads": 100000}}, "resnet.threads: must be 'all' (every core this process may use) or in [1, 1024]"),
        ({"cnn": {"threads": 0}}, "cnn.threads: must be 'all'"),
    ],
)
def test_bad_params_name_the_key(raw, message):
    with pytest.raises(ParamsError) as error:
        params_with(raw)
    assert message in str(error.value)


def test_explicit_off_values_are_read_as_off():
    params = params_with({"resnet": {"patience": None, "validate_every": "last", "ema": None, "threads": 3,
                                     "head": {"heatmap_reg": None}}, "cnn": {"sgd": {"patience": None}}})
    assert params.resnet.patience is None and params.resnet.ema is None and params.resnet.threads == 3
    assert params.resnet.validate_interval == params.resnet.epochs  # "last": the last epoch only
    assert params.resnet.head.heatmap_reg is None and params.cnn.sgd.patience is None


def test_switching_a_mode_replaces_its_keys():
    """A mapping with another kind is laid over params.yaml's whole, so no key of the old mode stays."""
    params = params_with({"resnet": {"schedule": {"kind": "step", "step_size": 4, "gamma": 0.5},
                                     "head": {"kind": "pool"}, "loss": {"kind": "wing", "width_px": 3.0, "curvature_px": 0.5}}})
    assert (params.resnet.schedule.kind, params.resnet.schedule.step_size, params.resnet.schedule.gamma) == ("step", 4, 0.5)
    assert params.resnet.head.kind == "pool" and not hasattr(params.resnet.head, "fine_heatmaps")
    assert params.resnet.loss.width_px == 3.0


def test_the_model_sections_are_the_registrys():
    from stages.lib.models import MODELS

    params = params_with({})
    for name, entry in MODELS.items():
        assert isinstance(params.model(name), entry.params)


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


def test_load_params_reports_bad_yaml_in_one_line(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("split:\n  seed: 1\n  val_fraction: [unclosed\n")
    with pytest.raises(ParamsError) as error:
        load_params(path)
    assert str(error.value).startswith(f"{path}: line 4, column 1: not valid YAML (")
    assert "\n" not in str(error.value)
    path.write_text(yaml.safe_dump({"split": {"seed": "x"}}))
    with pytest.raises(ParamsError, match="split.seed"):
        load_params(path)


def test_a_key_set_twice_is_refused_naming_both_lines(tmp_path):
    """DVC refuses such a file too; silently taking the last value would hide a typo."""
    path = tmp_path / "params.yaml"
    text = (ROOT / "params.yaml").read_text().replace("split:\n", "split:\n  seed: 7\n", 1)
    path.write_text(text)
    with pytest.raises(ParamsError, match=r"key 'seed' is set twice \(first on line \d+\)"):
        load_params(path)


def test_an_alias_bomb_is_refused_without_expanding_it(tmp_path):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(8)]
    path = tmp_path / "params.yaml"
    path.write_text("\n".join(lines) + "\n")  # 10**9 values once expanded, a few hundred bytes
    with pytest.raises(ParamsError, match="aliases expand to over 100000 values"):
        read_yaml(path)
    path.write_text("base: &base {flip: true}\nother: *base\n")  # a small alias is fine
    assert read_yaml(path) == {"base": {"flip": True}, "other": {"flip": True}}


def test_a_long_bad_value_is_cut_in_the_message():
    with pytest.raises(ParamsError) as error:
        params_with({"data": {"raw_dir": ["x" * 10_000]}})
    assert len(str(error.value)) < 200


def test_messages_are_built_only_when_a_check_fails(monkeypatch):
    """A valid file costs no repr() of its values (a large list would otherwise be printed for nothing)."""
    import stages.lib.params as module

    calls = []
    monkeypatch.setattr(module, "shown", lambda value, limit=60: calls.append(value) or "")
    params_with({"evaluate": {"zoom_tta": [0.95, 1.05]}})
    assert calls == []
