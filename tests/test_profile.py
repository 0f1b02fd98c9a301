"""Profiles laid over params.yaml: merging, `-S` flags, `stages.profile --apply`, profiles/real.yaml."""
from __future__ import annotations

import dataclasses
import subprocess
import sys

from pathlib import Path

import pytest
import yaml

from conftest import ROOT, environment
from stages.lib.params import ParamsError, parse_params
from stages.lib.profile import differences, layered, load_profile, merge, parse_assignment, set_flags


def params_yaml() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def apply_flags(base: dict, flags: list[str]) -> dict:
    """What `dvc exp run -S ...` does to params.yaml, by DVC's own code (Hydra's override grammar)."""
    import tempfile

    from dvc.utils.hydra import apply_overrides

    assert flags[::2] == ["-S"] * (len(flags) // 2)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "params.yaml"
        path.write_text(yaml.safe_dump(base, sort_keys=False))
        apply_overrides(str(path), flags[1::2])
        return yaml.safe_load(path.read_text())


def test_merge_lays_nested_keys_over_and_keeps_the_rest():
    base = {"resnet": {"lr": 0.001, "augment": {"flip": True, "rotate": 10}}, "split": {"seed": 42}}
    merged = merge(base, {"resnet": {"augment": {"rotate": 0}}, "ensemble": {"weights": [1, 2]}})
    assert merged == {"resnet": {"lr": 0.001, "augment": {"flip": True, "rotate": 0}}, "split": {"seed": 42},
                      "ensemble": {"weights": [1, 2]}}
    assert base["resnet"]["augment"]["rotate"] == 10  # the input is not changed


def test_set_flags_round_trip_through_yaml_like_dvc_parses_them():
    profile = {"resnet": {"loss": {"kind": "huber", "delta_px": 1.5}, "lr": 0.0003, "bf16": False, "patience": None,
                          "schedule": {"warmup_epochs": 0}, "augment": {"flip": True, "shift": 0}},
               "ensemble": {"models": ["resnet", "cnn"], "weights": [0.5, 0.5]}}
    base = params_yaml()
    flags = set_flags(profile, base)
    assert "ensemble.models=[resnet,cnn]" in flags and "resnet.patience=null" in flags
    # Another kind replaces the mode whole; the same kind is changed key by key.
    assert flags[flags.index("~resnet.loss") + 2] == "+resnet.loss={kind:huber,delta_px:1.5}"
    assert "resnet.schedule.warmup_epochs=0" in flags
    # A feature switched off and on again: null, then a mapping where params.yaml has null.
    off = {"resnet": {"head": {"heatmap_reg": None}}}
    assert apply_flags(base, set_flags(off, base)) == merge(base, off)
    on = {"resnet": {"head": {"heatmap_reg": {"weight": 2.0, "sigma_px": 4.0}}}}
    assert apply_flags(merge(base, off), set_flags(on, merge(base, off))) == merge(base, on)
    assert not any(" " in flag for flag in flags)  # `$(python -m stages.profile ...)` splits on spaces
    assert apply_flags(base, flags) == merge(base, profile)
    parse_params(merge(base, profile))


def test_sets_lay_over_the_profile_and_dvc_flags_make_params_yaml_into_the_result():
    """`--set` lays over params.yaml + the profile (stages.kaggle and bench/accuracy.py alike), and
    the flags of `differences` turn params.yaml into exactly that, by DVC's own code."""
    base, profile = params_yaml(), load_profile(ROOT / "profiles" / "kaggle.yaml")
    assert profile["resnet"]["head"]["heatmap_reg"] is None and base["resnet"]["head"]["heatmap_reg"]["sigma_px"] == 8.0
    cases = {
        "as it is": [],
        "a setting turned on whole": ["resnet.head.heatmap_reg={weight: 1.0, sigma_px: 4.0}"],
        "key by key, over the profile's null": ["resnet.head.heatmap_reg.weight=1.0", "resnet.head.heatmap_reg.sigma_px=4.0"],
        "another kind": ["resnet.loss={kind: wing, width_px: 4.0, curvature_px: 1.0}", "resnet.epochs=24"],
        "a key of the profile's kind": ["resnet.loss.delta_px=1.5"],
    }
    for name, sets in cases.items():
        resolved = layered(base, profile, sets)
        assert apply_flags(base, set_flags(differences(base, resolved), base)) == resolved, name
        parse_params(resolved)
    assert layered(base, profile, cases["key by key, over the profile's null"]) == layered(base, profile, cases["a setting turned on whole"])
    # Half a setting the profile turned off stays half: params.yaml's 8 px (for 12x12 heatmaps)
    # does not come back under the profile's 24x24 ones; the missing key is named instead.
    half = layered(base, profile, ["resnet.head.heatmap_reg.weight=1.0"])
    assert half["resnet"]["head"]["heatmap_reg"] == {"weight": 1.0}
    assert apply_flags(base, set_flags(differences(base, half), base)) == half
    with pytest.raises(ParamsError, match="resnet.head.heatmap_reg.sigma_px"):
        parse_params(half)
    assert differences(base, base) == {}


def test_a_value_that_cannot_be_a_flag_is_named():
    with pytest.raises(ParamsError, match="data.raw_dir"):
        set_flags({"data": {"raw_dir": "my data"}}, params_yaml())


def test_assignments_parse_like_dvc_set_flags():
    assert parse_assignment("resnet.augment.rotate=0") == {"resnet": {"augment": {"rotate": 0}}}
    assert parse_assignment("ensemble.weights=[0.7,0.3]") == {"ensemble": {"weights": [0.7, 0.3]}}
    assert parse_assignment("resnet.loss=huber") == {"resnet": {"loss": "huber"}}
    with pytest.raises(ParamsError, match="KEY=VALUE"):
        parse_assignment("resnet.lr")


@pytest.mark.slow
def test_real_profile_is_valid_and_changes_what_it_says():
    profile = load_profile(ROOT / "profiles" / "real.yaml")
    params = parse_params(merge(params_yaml(), profile))
    assert params.resnet.loss.kind == "huber" and params.resnet.head.kind == "soft_argmax" and params.resnet.pseudo_labels
    assert params.resnet.head.heatmap_reg is None
    assert params.resnet.augment.flip and params.resnet.augment.rotate == 0 and params.resnet.augment.shift == 0
    assert params.ensemble.models == ("resnet", "cnn")
    # The schedules measured on real faces are kept whatever the embedded-data defaults say.
    assert (params.resnet.epochs, params.cnn.batch_size, params.cnn.adam.epochs, params.cnn.sgd.epochs) == (30, 64, 20, 15)
    assert params.split == parse_params(params_yaml()).split


def run_profile(cwd, *args):
    return subprocess.run([sys.executable, "-m", "stages.profile", *args], cwd=cwd, env=environment(),
                          capture_output=True, text=True)


@pytest.mark.slow
def test_profile_cli_applies_atomically_and_rejects_bad_keys(tmp_path):
    (tmp_path / "stages").symlink_to(ROOT / "stages")
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    (tmp_path / "bad.yaml").write_text("resnet:\n  lrate: 0.1\n")
    bad = run_profile(tmp_path, "bad.yaml", "--apply")
    assert bad.returncode == 1 and "resnet.lrate" in bad.stderr
    assert (tmp_path / "params.yaml").read_text() == (ROOT / "params.yaml").read_text()

    flags = run_profile(tmp_path, str(ROOT / "profiles" / "real.yaml"))
    assert flags.returncode == 0, flags.stderr
    assert apply_flags(params_yaml(), flags.stdout.split()) == merge(params_yaml(), load_profile(ROOT / "profiles" / "real.yaml"))

    applied = run_profile(tmp_path, str(ROOT / "profiles" / "real.yaml"), "--apply")
    assert applied.returncode == 0, applied.stderr
    assert yaml.safe_load((tmp_path / "params.yaml").read_text()) == merge(params_yaml(), load_profile(ROOT / "profiles" / "real.yaml"))
    # Every comment of a key the profile keeps survives, and keys the profile does not touch keep their lines.
    comments = [line.split("#", 1)[1] for line in (ROOT / "params.yaml").read_text().splitlines() if "#" in line]
    applied_text = (tmp_path / "params.yaml").read_text()
    lost = [comment for comment in comments if comment not in applied_text]
    assert comments and lost == [" the Gaussian's width: one cell of the 12x12 heatmaps"]  # sigma_px goes with heatmap_reg: null


def test_applying_keeps_comments_and_flow_lists():
    from stages.lib.profile import apply_to_text

    text = "a:\n  # why b\n  b: 1  # one\n  c: [x, y]\nd: {}\n"
    out = apply_to_text(text, {"a": {"b": 2, "c": ["z"]}})
    assert out == "a:\n  # why b\n  b: 2  # one\n  c: [z]\nd: {}\n"


def test_the_kaggle_profile_extends_the_real_one(tmp_path):
    kaggle = parse_params(merge(params_yaml(), load_profile(ROOT / "profiles" / "kaggle.yaml")))
    real = parse_params(merge(params_yaml(), load_profile(ROOT / "profiles" / "real.yaml")))
    assert kaggle.resnet.sources and not real.resnet.sources and kaggle.data.raw_dir == "data/raw/kaggle"
    assert kaggle.resnet.head.fine_heatmaps and not real.resnet.head.fine_heatmaps
    assert kaggle.resnet.mirror_offsets and real.resnet.mirror_offsets
    assert kaggle.resnet.augment.rotate > 0 and real.resnet.augment.rotate == 0  # geometric augmentation back on
    assert kaggle.resnet.augment.brightness > 0 and real.resnet.augment.brightness == 0  # and photometric
    assert (kaggle.resnet.epochs, kaggle.resnet.members, kaggle.resnet.pseudo_labels) == (84, 1, False)
    assert kaggle.resnet.patience is None  # the whole schedule, no early stop
    assert kaggle.resnet.validate_every == "last"  # and its last network kept
    assert dataclasses.replace(kaggle.resnet, sources=False, head=real.resnet.head,
                               augment=real.resnet.augment, patience=real.resnet.patience,
                               validate_every=real.resnet.validate_every,
                               epochs=real.resnet.epochs, members=real.resnet.members,
                               pseudo_labels=real.resnet.pseudo_labels) == real.resnet
    # The submission is the ResNet's: the CNN is off, and the ensemble is the ResNet alone.
    assert kaggle.cnn is None and not kaggle.trains("cnn") and kaggle.ensemble.models == ("resnet",)
    assert kaggle.evaluate.zoom_tta and not real.evaluate.zoom_tta
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ParamsError, match="loop"):
        load_profile(tmp_path / "a.yaml")


def test_the_quick_profile_is_the_real_one_with_fewer_networks_and_the_faster_cnn():
    quick = parse_params(merge(params_yaml(), load_profile(ROOT / "profiles" / "real-quick.yaml")))
    real = parse_params(merge(params_yaml(), load_profile(ROOT / "profiles" / "real.yaml")))
    defaults = parse_params(params_yaml())
    assert (quick.resnet.members, quick.resnet.pseudo_labels) == (1, False)
    assert dataclasses.replace(quick.resnet, members=real.resnet.members,
                               pseudo_labels=real.resnet.pseudo_labels) == real.resnet
    # The CNN's network is the strided one its figures were measured with, at params.yaml's batch
    # size, on a schedule shorter than real.yaml's.
    assert (quick.cnn.first_stride, quick.cnn.first_pool, quick.cnn.last_pool) == (2, 1, 4)
    assert (real.cnn.first_stride, real.cnn.first_pool, real.cnn.last_pool) == (1, 2, 2)
    assert quick.cnn.batch_size == defaults.cnn.batch_size
    assert quick.cnn.adam.epochs + quick.cnn.sgd.epochs < real.cnn.adam.epochs + real.cnn.sgd.epochs
    assert quick.cnn.augment == real.cnn.augment and quick.ensemble == real.ensemble


def test_the_kaggle_folds_profile_is_the_kaggle_one_in_five_folds():
    kaggle = parse_params(merge(params_yaml(), load_profile(ROOT / "profiles" / "kaggle.yaml")))
    folds = parse_params(merge(params_yaml(), load_profile(ROOT / "profiles" / "kaggle-folds.yaml")))
    assert folds.folds.ids == (0, 1, 2, 3, 4) and folds.trains("folds") and not kaggle.trains("folds")
    assert dataclasses.replace(folds, folds=kaggle.folds) == kaggle  # nothing else changes
