"""A label source's horizontal offset (`resnet.mirror_offsets`): labels that sit a little right
of the pixels they mark stay in their convention through mirror images, in training (the
augmentation's label_shift, the learned offsets), in flip averaging and in zoomed views."""
import numpy as np
import pytest

from conftest import params_with
from stages.lib.augment import augment_batch
from stages.lib.facegen import make_sample_data
from stages.lib.keypoints import N_KEYPOINTS
from stages.lib.models import load_predictor, train_model
from stages.lib.faces import Faces
from stages.lib.models.ensemble import averaged
from stages.lib.params import AugmentParams
from stages.lib.sources import CORE_INDICES, four_point_faces
from stages.lib.tta import mirror_offsets, with_flip_averaging, with_mirror_offsets, with_test_time_augmentation

GRID = np.arange(96, dtype=np.float64)


def blobs(points: np.ndarray) -> np.ndarray:
    """One bright Gaussian blob (2 px) per image, centred on each (x, y) of `points` (N, 2)."""
    x, y = points[:, 0, None, None], points[:, 1, None, None]
    return (255 * np.exp(-((GRID[None, None, :] - x) ** 2 + (GRID[None, :, None] - y) ** 2) / 8)).astype(np.float32)


def centroids(images: np.ndarray) -> np.ndarray:
    """(N, 2) each image's brightness-weighted centre (the blob's)."""
    weights = np.clip(images - 10, 0, None)
    total = weights.sum(axis=(1, 2))
    return np.stack([(weights.sum(axis=1) * GRID).sum(axis=1) / total,
                     (weights.sum(axis=2) * GRID).sum(axis=1) / total], axis=1)


def blob_predictor(offset: float):
    """Every keypoint at the blob's centre, `offset` px to its right: an annotator's convention."""
    def predict(images: np.ndarray, four_point=None) -> np.ndarray:
        return np.tile(centroids(images.astype(np.float32)) + (offset, 0.0), N_KEYPOINTS).astype(np.float32)

    return predict


def test_label_shift_keeps_an_offset_label_in_its_convention_through_every_augmentation():
    rng = np.random.default_rng(0)
    points = rng.uniform(35, 60, (40, 2))
    offset = 1.5  # every label sits this far right of its blob
    labels = np.tile(points + (offset, 0.0), N_KEYPOINTS).astype(np.float32)
    params = AugmentParams(flip=True, rotate=15, scale=0.1, shift=4, brightness=0, contrast=0, blur=0, reframe=None)
    images, moved, label_shift = augment_batch(blobs(points), labels, params, np.random.default_rng(1))
    where_the_source_puts_them = centroids(images) + (offset, 0.0)
    corrected = moved[:, :2] + offset * label_shift
    assert np.abs(corrected - where_the_source_puts_them).max() < 0.2
    # Mirror images are off by twice the offset without the shift: the check above can fail.
    mirrored = label_shift[:, 0] > 1
    assert 0 < mirrored.sum() < len(points)
    assert np.abs(moved[mirrored, 0] - where_the_source_puts_them[mirrored, 0]).min() > 2 * offset - 0.5
    # 1 + scale x cos(angle) for a mirror image, 1 - scale x cos(angle) for a face left unmirrored.
    assert np.allclose(label_shift[mirrored, 0], 2, atol=0.15)
    assert np.abs(label_shift[~mirrored]).max() < 0.35


def test_flip_averaging_moves_a_mirror_image_back_by_the_predictors_offsets():
    images = blobs(np.random.default_rng(2).uniform(30, 60, (6, 2)))
    predict = blob_predictor(offset=2.0)
    direct = predict(images)
    # Unaware of the offset, the mirror image's prediction lands 2 offsets left: the mean moves 1 left.
    assert np.allclose(with_flip_averaging(predict)(images)[:, 0::2], direct[:, 0::2] - 2.0, atol=0.05)
    aware = with_mirror_offsets(predict, lambda faces, four_point=None: np.full((faces, N_KEYPOINTS), 2.0, np.float32))
    assert np.allclose(with_flip_averaging(aware)(images), direct, atol=0.05)


def test_zoomed_views_map_back_onto_the_face_in_the_labels_convention():
    images = blobs(np.random.default_rng(4).uniform(35, 60, (5, 2)))
    predict = with_mirror_offsets(blob_predictor(offset=2.0), lambda faces, four_point=None:
                                  np.full((faces, N_KEYPOINTS), 2.0, np.float32))
    direct = predict(images)
    views = with_test_time_augmentation(predict, flip=True, scales=(0.9, 1.1))(images)
    assert np.allclose(views, direct, atol=0.05)
    # Mapped back without the offset, the 0.9 view lands 2 x (1 - 1/0.9) px off, the 1.1 view the
    # other way, by different amounts: the mean moves, which the check above rules out.
    unaware = with_test_time_augmentation(blob_predictor(offset=2.0), flip=False, scales=(0.9,))(images)
    assert np.allclose(unaware[:, 0::2] - direct[:, 0::2], 0.5 * 2.0 * (1 / 0.9 - 1), atol=0.05)


@pytest.mark.slow
def test_an_ensemble_mirrors_each_member_by_its_own_offsets():
    members = {"resnet": with_mirror_offsets(blob_predictor(2.0), lambda faces, four_point=None:
                                              np.full((faces, N_KEYPOINTS), 2.0, np.float32)),
               "cnn": blob_predictor(-1.0)}  # a member without offsets: its mirror image is left as it is
    ensemble = averaged([members["resnet"], members["cnn"]], [0.75, 0.25])
    images = blobs(np.random.default_rng(3).uniform(30, 60, (4, 2)))
    assert np.allclose(mirror_offsets(ensemble, 4, None, N_KEYPOINTS), 0.75 * 2.0)
    expected = 0.75 * members["resnet"](images) + 0.25 * with_flip_averaging(members["cnn"])(images)
    assert np.allclose(with_flip_averaging(ensemble)(images), expected, atol=0.05)


@pytest.fixture(scope="module")
def offset_sources(tmp_path_factory):
    """A source-aware ResNet trained with mirror images on faces whose 15-point labels sit 2 px
    right of their points and whose 4-point labels 1.5 px left."""
    data = make_sample_data(seed=3, n_train=320, n_test=1, full_fraction=0.4)
    keypoints = data.train_keypoints.copy()
    four = four_point_faces(keypoints)
    keypoints[~four, 0::2] += 2.0
    keypoints[four, 0::2] -= 1.5
    train, val = Faces(data.train_images[:256], keypoints[:256]), Faces(data.train_images[256:], keypoints[256:])
    flips = {"flip": True, "rotate": 0, "scale": 0, "shift": 0, "brightness": 0, "contrast": 0, "blur": 0}
    params = params_with({"resnet": {"epochs": 8, "batch_size": 16, "schedule": {"warmup_epochs": 0}, "threads": 2,
                                     "head": {"heatmap_reg": None}, "sources": True, "mirror_offsets": True, "augment": flips}})
    log = []
    out = tmp_path_factory.mktemp("offsets")
    train_model("resnet", params, train, val, out, lambda epoch, metrics: log.append(metrics))
    return val, load_predictor("resnet", out), log


@pytest.mark.slow
def test_a_resnet_learns_each_sources_offset_and_saves_it(offset_sources):
    val, predict, log = offset_sources
    learned = log[-1]["mirror_offset_px/15-point"], log[-1]["mirror_offset_px/4-point"]
    assert learned[0] > 1.0 and learned[1] < -0.75, learned  # from 0, most of the way to 2 and -1.5
    four = np.array([False, True])
    offsets = mirror_offsets(predict, 2, four, N_KEYPOINTS)
    assert np.allclose(offsets[0], learned[0], atol=1e-4)  # the 15-point convention throughout
    assert np.allclose(offsets[1, CORE_INDICES[0::2] // 2], learned[1], atol=1e-4)  # a 4-point face's four
    others = np.setdiff1d(np.arange(N_KEYPOINTS), CORE_INDICES[0::2] // 2)
    assert np.allclose(offsets[1, others], learned[0], atol=1e-4)


@pytest.mark.slow
def test_flip_averaging_keeps_each_source_in_its_convention(offset_sources):
    val, predict, _ = offset_sources
    four = four_point_faces(val.keypoints)
    averaged = with_flip_averaging(predict)(val.images, four)
    unaware = with_flip_averaging(lambda images, four_point=None: predict(images, four_point))(val.images, four)

    def x_bias(predictions, rows):
        return float(np.nanmean((val.keypoints - predictions)[rows][:, 0::2]))

    for rows, planted in ((~four, 2.0), (four, -1.5)):
        # Without the offsets, averaging with the mirror image undoes most of the convention.
        assert abs(x_bias(averaged, rows)) < abs(x_bias(unaware, rows)) - 0.5 * abs(planted)
