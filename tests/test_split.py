import numpy as np

from stages.lib.params import SplitParams
from stages.lib.split import split_indices


def labels(n: int, full_share: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    kp = rng.uniform(0, 96, size=(n, 30)).astype(np.float32)
    partial = rng.random(n) >= full_share
    kp[partial, 4:] = np.nan
    return kp


def test_split_is_80_20_disjoint_and_complete():
    kp = labels(1000, 0.3)
    train, val = split_indices(kp, SplitParams(val_fraction=0.2, seed=1))
    assert len(val) == 200 and len(train) == 800
    assert not set(train) & set(val)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(1000))


def test_split_keeps_the_fully_labelled_share_in_both_parts():
    kp = labels(997, 0.3, seed=4)
    full = ~np.isnan(kp).any(axis=1)
    train, val = split_indices(kp, SplitParams(val_fraction=0.2, seed=3))
    assert abs(full[train].mean() - full.mean()) < 0.005
    assert abs(full[val].mean() - full.mean()) < 0.01


def test_split_is_deterministic_for_a_seed():
    kp = labels(500, 0.3)
    a = split_indices(kp, SplitParams(0.2, 7))
    b = split_indices(kp, SplitParams(0.2, 7))
    c = split_indices(kp, SplitParams(0.2, 8))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[1], c[1])
