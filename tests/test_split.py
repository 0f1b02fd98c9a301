import numpy as np
import pytest

from conftest import SHARED_DATA
from stages.lib.params import SplitParams
from stages.lib.split import duplicate_groups, split_indices

DISTANCE = 0.05  # params.yaml's split.duplicate_distance
KAGGLE_IMAGES = SHARED_DATA / "kaggle-train-jpeg" / "images.npz"


def labels(n: int, full_share: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    kp = rng.uniform(0, 96, size=(n, 30)).astype(np.float32)
    partial = rng.random(n) >= full_share
    kp[partial, 4:] = np.nan
    return kp


def test_split_is_80_20_disjoint_and_complete():
    kp = labels(1000, 0.3)
    train, val = split_indices(kp, SplitParams(val_fraction=0.2, seed=1, duplicate_distance=DISTANCE, merge_copies=False, wrong_labels=None))
    assert len(val) == 200 and len(train) == 800
    assert not set(train) & set(val)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(1000))


def test_split_keeps_the_fully_labelled_share_in_both_parts():
    kp = labels(997, 0.3, seed=4)
    full = ~np.isnan(kp).any(axis=1)
    train, val = split_indices(kp, SplitParams(val_fraction=0.2, seed=3, duplicate_distance=DISTANCE, merge_copies=False, wrong_labels=None))
    assert abs(full[train].mean() - full.mean()) < 0.005
    assert abs(full[val].mean() - full.mean()) < 0.01


def test_split_is_deterministic_for_a_seed():
    kp = labels(500, 0.3)
    a = split_indices(kp, SplitParams(0.2, 7, DISTANCE, False, None))
    b = split_indices(kp, SplitParams(0.2, 7, DISTANCE, False, None))
    c = split_indices(kp, SplitParams(0.2, 8, DISTANCE, False, None))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[1], c[1])


def _old_split(keypoints, params):
    """The split before duplicates were grouped: a seeded permutation of each stratum."""
    full = ~np.isnan(keypoints).any(axis=1)
    rng = np.random.default_rng(params.seed)
    val = np.sort(np.concatenate([rng.permutation(s)[:int(round(params.val_fraction * len(s)))]
                                  for s in (np.flatnonzero(full), np.flatnonzero(~full))]))
    return np.setdiff1d(np.arange(len(keypoints)), val), val


def test_without_duplicates_the_split_is_unchanged():
    kp = labels(700, 0.3, seed=2)
    faces = np.random.default_rng(0).integers(0, 256, (700, 96, 96), dtype=np.uint8)
    groups = duplicate_groups(faces, DISTANCE)
    assert np.array_equal(groups, np.arange(700))
    for seed in (1, 42):
        new, old = split_indices(kp, SplitParams(0.2, seed, DISTANCE, False, None), groups), _old_split(kp, SplitParams(0.2, seed, DISTANCE, False, None))
        assert all(np.array_equal(a, b) for a, b in zip(new, old))


def test_re_encoded_copies_are_grouped_and_land_on_one_side():
    rng = np.random.default_rng(5)
    faces = rng.integers(0, 256, (300, 96, 96)).astype(np.uint8)
    kp = labels(300, 0.3, seed=6)
    copies = {10: 200, 11: 201, 12: 202, 50: 250, 51: 251}  # original -> copy (+-3 grey levels)
    for original, copy in copies.items():
        noise = rng.integers(-3, 4, (96, 96))
        faces[copy] = np.clip(faces[original].astype(int) + noise, 0, 255)
        kp[copy] = kp[original]
    faces[202] = faces[10]  # a third copy of face 10
    groups = duplicate_groups(faces, DISTANCE)
    assert groups[200] == groups[202] == groups[10] == 10 and groups[250] == 50
    assert len(np.unique(groups)) == 300 - len(copies)
    for seed in range(8):
        train, val = split_indices(kp, SplitParams(0.2, seed, DISTANCE, False, None), groups)
        in_val = np.isin(np.arange(300), val)
        assert all(in_val[g] == in_val[i] for i, g in enumerate(groups))
        assert 55 <= len(val) <= 65 and not set(train) & set(val)


@pytest.mark.skipif(not KAGGLE_IMAGES.exists(), reason="shared Kaggle data not present")
def test_kaggles_training_set_holds_1100_rows_with_a_twin():
    images = np.load(KAGGLE_IMAGES)["images"]
    groups = duplicate_groups(images, DISTANCE)
    in_groups = np.isin(groups, groups[groups != np.arange(len(groups))])
    assert in_groups.sum() == 1100
    assert np.array_equal(duplicate_groups(images, 0.025), groups)  # the gap: 0.025 to 0.05 finds the same


def test_folds_keep_groups_whole_balance_sources_and_repeat_for_a_seed():
    from stages.lib.folds import HOLDOUT, fold_indices
    from stages.lib.sources import label_sources

    kp = labels(1200, 0.3, seed=5)
    groups = np.arange(1200)
    groups[1::2] = groups[0::2]  # every face has a twin
    folds = fold_indices(kp, groups, folds=5, seed=0)
    assert sorted(set(folds.tolist())) == [HOLDOUT, 0, 1, 2, 3, 4]
    assert all(len(set(folds[groups == g].tolist())) == 1 for g in np.unique(groups))
    four_point = label_sources(kp) == "4-point"
    for part in (HOLDOUT, 0, 1, 2, 3, 4):
        rows = folds == part
        assert rows.sum() == pytest.approx(1200 / 6, abs=4)
        assert four_point[rows].mean() == pytest.approx(four_point.mean(), abs=0.03)
    assert np.array_equal(folds, fold_indices(kp, groups, folds=5, seed=0))
    assert not np.array_equal(folds, fold_indices(kp, groups, folds=5, seed=1))
    with pytest.raises(ValueError, match="at least 2"):
        fold_indices(kp, groups, folds=1, seed=0)
