import dataclasses

import numpy as np

from stages.lib.augment import affine_matrix, augment_batch, warp_keypoints
from stages.lib.facegen import Style, draw_face
from stages.lib.keypoints import KEYPOINTS
from stages.lib.params import AugmentParams


def faces(n: int, seed: int = 0):
    drawn = [draw_face(np.random.default_rng(seed + i), Style.clean()) for i in range(n)]
    return np.stack([d[0] for d in drawn]), np.stack([d[1] for d in drawn])


def at(keypoints: np.ndarray, name: str) -> np.ndarray:
    i = KEYPOINTS.index(name)
    return keypoints[..., 2 * i:2 * i + 2]


def pupil_darkness(images: np.ndarray, keypoints: np.ndarray, name: str) -> np.ndarray:
    """Grey level at the named eye centre minus that of the cheek below it: negative on a pupil."""
    eye = np.round(at(keypoints, name)).astype(int)
    cheek = np.round((at(keypoints, name) + at(keypoints, "nose_tip")) / 2).astype(int)
    rows = np.arange(len(images))
    return images[rows, eye[:, 1], eye[:, 0]] - images[rows, cheek[:, 1], cheek[:, 0]]


def test_flip_swaps_left_and_right_names():
    images, keypoints = faces(8)
    out_images, out_kp, _ = augment_batch(images, keypoints, dataclasses.replace(AugmentParams.off(), flip=True), np.random.default_rng(0))
    flipped = (out_images != images).any(axis=(1, 2))
    assert 0 < flipped.sum() < len(images)
    # Kaggle's "left" eye stays on the image's right, and still sits on a pupil.
    assert (at(out_kp, "left_eye_center")[:, 0] > at(out_kp, "right_eye_center")[:, 0]).all()
    assert (at(out_kp, "mouth_left_corner")[:, 0] > at(out_kp, "mouth_right_corner")[:, 0]).all()
    for name in ("left_eye_center", "right_eye_center"):
        assert (pupil_darkness(out_images, out_kp, name) < -20).all()
    # A flip that forgot the swap would put "left" on the image's left: this is what we rule out.
    naive = keypoints[flipped].copy()
    naive[:, 0::2] = 95 - naive[:, 0::2]
    assert (at(naive, "left_eye_center")[:, 0] < at(naive, "right_eye_center")[:, 0]).all()


def test_geometric_augmentation_keeps_points_on_their_features():
    images, keypoints = faces(12, seed=20)
    params = AugmentParams(flip=False, rotate=20, scale=0.1, shift=5, brightness=0.1, contrast=0.1, blur=0.5, reframe=None)
    out_images, out_kp, _ = augment_batch(images, keypoints, params, np.random.default_rng(1))
    assert not np.allclose(out_kp, keypoints)
    for name in ("left_eye_center", "right_eye_center"):
        kept = ~np.isnan(at(out_kp, name)).any(axis=1)
        assert kept.all()
        assert (pupil_darkness(out_images[kept], out_kp[kept], name) < -15).all()


def test_points_pushed_off_the_image_become_missing():
    keypoints = np.full(30, 50.0, np.float32)
    keypoints[:2] = (90.0, 10.0)
    moved = warp_keypoints(keypoints, affine_matrix(0.0, 1.0, 10.0, 0.0))
    assert np.isnan(moved[:2]).all()
    assert np.allclose(moved[2:], np.tile([60.0, 50.0], 14))


def test_augmentation_is_seeded():
    images, keypoints = faces(4)
    params = dataclasses.replace(AugmentParams.off(), flip=True, rotate=10, shift=3, brightness=0.1)
    a = augment_batch(images, keypoints, params, np.random.default_rng(5))
    b = augment_batch(images, keypoints, params, np.random.default_rng(5))
    assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b))


def test_no_augmentation_returns_the_input():
    images, keypoints = faces(2)
    out_images, out_kp, label_shift = augment_batch(images, keypoints, AugmentParams.off(), np.random.default_rng(0))
    assert np.array_equal(out_images, images) and np.array_equal(out_kp, keypoints)
    assert not label_shift.any()


def test_reframed_faces_are_drawn_smaller_and_further_off_centre_with_their_points_on_their_features():
    from stages.lib.params import Reframe

    images, keypoints = faces(40, seed=21)
    usual = AugmentParams(flip=False, rotate=0, scale=0.05, shift=2, brightness=0.1, contrast=0.1, blur=0, reframe=None)
    reframed = dataclasses.replace(usual, reframe=Reframe(share=0.5, scale=0.5, shift=20))
    plain_images, plain_kp, _ = augment_batch(images, keypoints, usual, np.random.default_rng(3))
    out_images, out_kp, _ = augment_batch(images, keypoints, reframed, np.random.default_rng(3))

    def eye_distance(points):
        return np.linalg.norm(at(points, "left_eye_center") - at(points, "right_eye_center"), axis=1)

    ratio = eye_distance(out_kp) / eye_distance(keypoints)
    moved = ~np.isclose(out_kp, plain_kp, equal_nan=True).all(axis=1)
    # The faces not drawn for reframing are augmented exactly as without it (its draws come last).
    assert 10 < moved.sum() < 30
    assert np.array_equal(out_images[~moved], plain_images[~moved])
    # Reframed faces: at 0.5..1 of their size, some far smaller or further off than the usual draw allows.
    assert (ratio[moved] >= 0.5 - 1e-3).all() and (ratio[moved] <= 1 + 1e-3).all() and (ratio[moved] < 0.9).any()
    centre = np.nanmean(out_kp.reshape(len(out_kp), -1, 2), axis=1) - np.nanmean(keypoints.reshape(len(keypoints), -1, 2), axis=1)
    assert (np.abs(centre[moved]) > 8).any() and (np.abs(centre[~moved]) < 8).all()
    for name in ("left_eye_center", "right_eye_center"):
        kept = moved & ~np.isnan(at(out_kp, name)).any(axis=1)
        assert kept.sum() > 5 and (pupil_darkness(out_images[kept], out_kp[kept], name) < -15).all()
