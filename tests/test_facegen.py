import numpy as np
import pytest

from stages.lib.facegen import Style, draw_face, make_sample_data
from stages.lib.keypoints import COLUMNS, CORE_COLUMNS, KEYPOINTS, flip_keypoints


def point(keypoints: np.ndarray, name: str) -> np.ndarray:
    i = KEYPOINTS.index(name)
    return keypoints[2 * i:2 * i + 2]


def grey(image: np.ndarray, xy: np.ndarray) -> float:
    x, y = np.round(xy).astype(int)
    return float(image[y, x])


@pytest.mark.parametrize("seed", range(10))
def test_keypoints_land_on_the_drawn_features(seed):
    image, kp = draw_face(np.random.default_rng(seed), Style.clean())
    left, right = point(kp, "left_eye_center"), point(kp, "right_eye_center")
    cheek = (point(kp, "nose_tip") + point(kp, "left_eye_center")) / 2 + [4, 4]
    skin = grey(image, cheek)
    # The eye centre is the pupil: darker than the skin and than the eye white beside it.
    for eye, inner in ((left, "left_eye_inner_corner"), (right, "right_eye_inner_corner")):
        assert grey(image, eye) < skin - 20
        assert grey(image, eye) < grey(image, (eye + point(kp, inner)) / 2) + 1
    # Eyebrows are dark strokes; the lips between the lip centres are darker than the skin.
    for name in ("left_eyebrow_inner_end", "right_eyebrow_outer_end"):
        assert grey(image, point(kp, name)) < skin - 10
    lips = (point(kp, "mouth_center_top_lip") + point(kp, "mouth_center_bottom_lip")) / 2
    assert grey(image, lips) < skin - 10
    # Kaggle semantics: the subject's left lies on the image's right.
    assert left[0] > right[0]
    assert point(kp, "mouth_left_corner")[0] > point(kp, "mouth_right_corner")[0]
    assert point(kp, "left_eye_outer_corner")[0] > point(kp, "left_eye_inner_corner")[0]


@pytest.mark.parametrize("seed", range(5))
def test_flipped_face_with_swapped_names_is_consistent(seed):
    image, kp = draw_face(np.random.default_rng(seed), Style.clean())
    flipped_image, flipped_kp = image[:, ::-1], flip_keypoints(kp)
    # The mirrored face still has its "left" eye on the image's right, on a dark pupil.
    assert point(flipped_kp, "left_eye_center")[0] > point(flipped_kp, "right_eye_center")[0]
    for name in ("left_eye_center", "right_eye_center"):
        assert grey(flipped_image, point(flipped_kp, name)) == grey(
            image, point(kp, "right_eye_center" if name.startswith("left") else "left_eye_center"))
    assert np.allclose(flip_keypoints(flipped_kp), kp)
    # Flipping without swapping names would put "left" on the image's left.
    unswapped = kp.copy()
    unswapped[0::2] = 95 - unswapped[0::2]
    assert point(unswapped, "left_eye_center")[0] < point(unswapped, "right_eye_center")[0]


def test_keypoints_stay_inside_the_image_under_random_pose():
    data = make_sample_data(seed=3, n_train=200, n_test=1, full_fraction=1.0)
    assert np.nanmin(data.train_keypoints) >= 0 and np.nanmax(data.train_keypoints) <= 95


def test_missing_pattern_matches_kaggle():
    data = make_sample_data(seed=1, n_train=1000, n_test=50, full_fraction=0.3)
    kp = data.train_keypoints
    full = ~np.isnan(kp).any(axis=1)
    assert 0.25 < full.mean() < 0.35
    core = np.isin(np.array(COLUMNS), CORE_COLUMNS)
    assert not np.isnan(kp[:, core]).any(), "the 4 core keypoints are always labelled"
    assert np.isnan(kp[~full][:, ~core]).all(), "partial rows have only the 4 core keypoints"
    assert data.train_images.dtype == np.uint8 and data.train_images.shape == (1000, 96, 96)


def test_lookup_asks_kaggle_like_feature_subsets():
    data = make_sample_data(seed=1, n_train=2, n_test=300, full_fraction=0.3)
    per_image = {}
    for _, image_id, feature in data.lookup:
        per_image.setdefault(image_id, []).append(feature)
    assert sorted(per_image) == list(range(1, 301))
    sizes = np.array([len(v) for v in per_image.values()])
    assert 0.55 < (sizes == 8).mean() < 0.77 and 0.2 < (sizes == 30).mean() < 0.42
    assert all(set(v) <= set(COLUMNS) for v in per_image.values())
    assert [row_id for row_id, _, _ in data.lookup] == list(range(1, len(data.lookup) + 1))


def test_same_seed_same_data_and_different_seed_different_data():
    a = make_sample_data(seed=5, n_train=20, n_test=5, full_fraction=0.3)
    b = make_sample_data(seed=5, n_train=20, n_test=5, full_fraction=0.3)
    c = make_sample_data(seed=6, n_train=20, n_test=5, full_fraction=0.3)
    assert np.array_equal(a.train_images, b.train_images)
    assert np.array_equal(a.train_keypoints, b.train_keypoints, equal_nan=True)
    assert a.lookup == b.lookup
    assert not np.array_equal(a.train_images, c.train_images)
