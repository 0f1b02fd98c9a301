"""Kaggle's two label sources: the layout a source-aware model learns in, the submission's source
rule, and a source-aware ResNet that learns both conventions from the same pixels."""
import numpy as np
import pytest

from conftest import NO_AUGMENT, SHARED_DATA, params_with
from stages.lib.evaluation import evaluate, predict_test
from stages.lib.facegen import make_sample_data
from stages.lib.kaggle_csv import read_lookup_csv
from stages.lib.keypoints import COLUMNS, flip_keypoints
from stages.lib.models import load_predictor, train_model
from stages.lib.faces import Faces
from stages.lib.sources import (CORE_INDICES, four_point_faces, four_point_requests, from_source_layout,
                                to_source_layout)

NOSE_Y, LIP_Y, LEFT_EYE_X = (COLUMNS.index(c) for c in ("nose_tip_y", "mouth_center_bottom_lip_y", "left_eye_center_x"))


def two_sources(n_full: int = 2, n_four: int = 3) -> np.ndarray:
    rng = np.random.default_rng(0)
    keypoints = rng.uniform(10, 80, (n_full + n_four, 30)).astype(np.float32)
    keypoints[n_full:] = np.nan
    keypoints[n_full:, CORE_INDICES] = rng.uniform(10, 80, (n_four, 8))
    return keypoints


def test_each_sources_labels_land_in_its_own_columns_only():
    keypoints = two_sources()
    layout = to_source_layout(keypoints)
    assert layout.shape == (5, 38) and four_point_faces(keypoints).tolist() == [False, False, True, True, True]
    assert np.array_equal(layout[:2, :30], keypoints[:2]) and np.isnan(layout[:2, 30:]).all()
    assert np.array_equal(layout[2:, 30:], keypoints[2:, CORE_INDICES]) and np.isnan(layout[2:, :30]).all()


def test_a_four_point_face_takes_its_core_values_from_the_four_point_outputs():
    outputs = np.arange(2 * 38, dtype=np.float32).reshape(2, 38)
    keypoints = from_source_layout(outputs, np.array([False, True]))
    assert np.array_equal(keypoints[0], outputs[0, :30])  # the 15-point convention, untouched
    assert np.array_equal(keypoints[1, CORE_INDICES], outputs[1, 30:])
    others = np.setdiff1d(np.arange(30), CORE_INDICES)
    assert np.array_equal(keypoints[1, others], outputs[1, others])
    assert np.array_equal(from_source_layout(outputs, None), outputs[:, :30])  # photos: 15-point


def test_mirroring_the_layout_swaps_the_four_point_eyes_too():
    layout = to_source_layout(two_sources())
    mirrored = flip_keypoints(layout)
    assert np.allclose(flip_keypoints(mirrored), layout, equal_nan=True)
    # 4-point left eye x (column 30) of the mirror is 95 - the 4-point right eye x (column 32).
    assert np.allclose(mirrored[2:, 30], 95 - layout[2:, 32]) and np.allclose(mirrored[2:, 35], layout[2:, 35])
    assert np.allclose(mirrored[:, :30], flip_keypoints(layout[:, :30]), equal_nan=True)


def test_the_submission_reads_each_test_faces_source_off_the_lookup():
    lookup_image_ids = np.array([7] * 30 + [8] * 8 + [9] * 22 + [10] * 4)
    assert four_point_requests(np.array([7, 8, 9, 10]), lookup_image_ids).tolist() == [False, True, False, True]

    def predict(images, four_point=None):  # 1 where asked for the 4-point convention
        return np.repeat(np.asarray(four_point, np.float32)[:, None], 30, axis=1)

    images = np.zeros((4, 96, 96), np.uint8)
    for flip in (False, True):
        chosen = predict_test(predict, images, np.array([7, 8, 9, 10]), lookup_image_ids, flip)
        assert chosen[:, 1].tolist() == [0, 1, 0, 1]  # a y value: the mirror leaves it


@pytest.mark.skipif(not (SHARED_DATA / "kaggle-train-jpeg").exists(), reason="../shared/data/kaggle-train-jpeg absent")
def test_kaggles_lookup_marks_the_faces_asked_8_or_6_values_as_four_point():
    lookup = read_lookup_csv(SHARED_DATA / "kaggle-train-jpeg" / "IdLookupTable.csv")
    faces, asked = np.unique(lookup.image_ids, return_counts=True)
    four_point = four_point_requests(faces, lookup.image_ids)
    assert len(faces) == 1783 and four_point.sum() == 1192  # 1,190 asked 8 values, 2 asked 6
    assert set(asked[four_point]) == {6, 8} and asked[~four_point].min() == 18


def test_validation_faces_are_predicted_in_their_labels_source():
    keypoints = two_sources()
    seen = []

    def predict(images, four_point=None):
        seen.append(np.asarray(four_point).tolist())
        return np.zeros((len(images), 30), np.float32)

    evaluate(predict, Faces(np.zeros((5, 96, 96), np.uint8), keypoints), params_with({}).evaluate)
    assert seen == [[False, False, True, True, True]] * 2  # the face and its mirror


def test_pseudo_labels_fill_each_source_from_its_own_outputs():
    from stages.lib.models.resnet import pseudo_labelled

    layout = to_source_layout(two_sources())
    outputs = np.arange(38, dtype=np.float32) + 1000  # a different value per column, mirror-proof below

    def predict(images, four_point=None):
        return np.broadcast_to(outputs, (len(images), 38)).copy()

    filled = pseudo_labelled(Faces(np.zeros((5, 96, 96), np.uint8), layout), predict)
    labelled = ~np.isnan(layout)
    assert np.array_equal(filled.keypoints[labelled], layout[labelled])  # labels never change
    expected = (outputs + flip_keypoints(outputs)) / 2  # flip-averaged, each source's columns among themselves
    assert np.allclose(filled.keypoints[~labelled], np.broadcast_to(expected, (5, 38))[~labelled])


@pytest.mark.slow
def test_a_source_aware_resnet_learns_both_conventions_from_the_same_faces(tmp_path):
    """The 4-point rows' nose is 6 px lower and bottom lip 6 px higher, as in Kaggle's data: the
    source-aware network predicts each face's points in the convention it is asked for."""
    data = make_sample_data(seed=3, n_train=320, n_test=1, full_fraction=0.4)
    keypoints = data.train_keypoints.copy()
    four = four_point_faces(keypoints)
    keypoints[four, NOSE_Y] += 6
    keypoints[four, LIP_Y] -= 6
    train, val = Faces(data.train_images[:256], keypoints[:256]), Faces(data.train_images[256:], keypoints[256:])
    params = params_with({"resnet": {"epochs": 6, "batch_size": 32, "schedule": {"warmup_epochs": 0}, "threads": 2, "head": {"heatmap_reg": None},
                                     "sources": True, "augment": NO_AUGMENT}})
    train_model("resnet", params, train, val, tmp_path, lambda e, m: None)
    predict = load_predictor("resnet", tmp_path)
    as_15 = predict(val.images, np.zeros(len(val), bool))
    as_4 = predict(val.images, np.ones(len(val), bool))
    assert np.array_equal(predict(val.images), as_15)  # photos: the 15-point convention
    difference = (as_4 - as_15).mean(axis=0)
    assert difference[NOSE_Y] > 3 and difference[LIP_Y] < -3
    assert abs(difference[LEFT_EYE_X]) < 1.5


@pytest.mark.slow
def test_the_mean_baseline_with_sources_gives_each_source_its_own_mean(tmp_path):
    keypoints = two_sources()
    faces = Faces(np.zeros((5, 96, 96), np.uint8), keypoints)
    params = params_with({"mean": {"sources": True}})
    train_model("mean", params, faces, faces, tmp_path, lambda e, m: None)
    predicted = load_predictor("mean", tmp_path)(faces.images, four_point_faces(keypoints))
    assert np.allclose(predicted[:2], keypoints[:2].mean(axis=0))  # 15-point faces: the 15-point rows' mean
    assert np.allclose(predicted[2:, CORE_INDICES], keypoints[2:, CORE_INDICES].mean(axis=0))
    assert np.allclose(load_predictor("mean", tmp_path)(faces.images)[2:], keypoints[:2].mean(axis=0))
