"""Validation read like the leaderboard: label sources, the lookup's weights, per-source RMSE."""
import math

import numpy as np
import pytest

from conftest import SHARED_DATA
from stages.lib.evaluation import lookup_weights, source_metrics
from stages.lib.sources import face_sources

KAGGLE_LOOKUP = SHARED_DATA / "kaggle-train-jpeg" / "IdLookupTable.csv"


def test_a_face_with_more_than_the_four_points_is_a_15_point_face():
    assert face_sources(np.array([30, 8, 2, 12, 0])).tolist() == ["15-point", "4-point", "4-point", "15-point", "4-point"]


def test_lookup_weights_are_each_sources_share_of_requested_values():
    image_ids = np.array([1] * 30 + [2] * 8 + [3] * 8)
    assert lookup_weights(image_ids) == pytest.approx({"15-point": 30 / 46, "4-point": 16 / 46})


def _faces(n_full: int, n_partial: int, full_error: float, partial_error: float):
    truth = np.full((n_full + n_partial, 30), 48.0)
    truth[n_full:, 8:] = np.nan  # the 4-point faces: 8 values labelled
    predictions = truth.copy()
    predictions[:n_full] += full_error
    predictions[n_full:] += partial_error
    return np.nan_to_num(predictions, nan=0.0), truth


def test_per_source_rmse_and_the_leaderboard_mix():
    predictions, truth = _faces(3, 5, 1.0, 3.0)
    weights = {"15-point": 0.65, "4-point": 0.35}
    metrics = source_metrics(predictions, truth, weights)
    assert metrics["rmse_by_source"] == pytest.approx({"15-point": 1.0, "4-point": 3.0})
    assert metrics["faces_by_source"] == {"15-point": 3, "4-point": 5}
    assert metrics["rmse_leaderboard_weighted"] == pytest.approx(math.sqrt(0.65 * 1 + 0.35 * 9))
    # The plain RMSE over all values weights the sources by their share of validation values instead.
    plain = math.sqrt((3 * 30 * 1 + 5 * 8 * 9) / (3 * 30 + 5 * 8))
    assert metrics["rmse_leaderboard_weighted"] != pytest.approx(plain)


def test_a_source_without_validation_faces_leaves_the_mix_to_the_other():
    predictions, truth = _faces(4, 0, 2.0, 0.0)
    metrics = source_metrics(predictions, truth, {"15-point": 0.65, "4-point": 0.35})
    assert metrics["rmse_by_source"]["4-point"] is None
    assert metrics["rmse_leaderboard_weighted"] == pytest.approx(2.0)


@pytest.mark.skipif(not KAGGLE_LOOKUP.exists(), reason="shared Kaggle data not present")
def test_kaggles_lookup_asks_about_two_thirds_of_its_values_of_15_point_faces():
    from stages.lib.kaggle_csv import read_lookup_csv

    weights = lookup_weights(read_lookup_csv(KAGGLE_LOOKUP).image_ids)
    assert weights["15-point"] == pytest.approx(0.649, abs=0.001)
