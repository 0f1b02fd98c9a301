import numpy as np
import pytest

from stages.lib.metrics import keypoint_metrics, per_face_rmse, point_errors, rmse

NAN = np.nan


def test_rmse_skips_missing_labels():
    pred = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    truth = np.array([[1.0, NAN, 5.0], [NAN, 8.0, NAN]])
    # errors 0, -2, -3 -> sqrt(13 / 3)
    assert rmse(pred, truth) == pytest.approx(np.sqrt(13 / 3))
    assert np.isnan(rmse(pred, np.full_like(truth, NAN)))


def test_keypoint_metrics_by_hand():
    truth = np.full((2, 30), NAN)
    pred = np.zeros((2, 30))
    truth[0, 0:2] = (3.0, 4.0)      # left_eye_center off by (3, 4): 5 px
    truth[1, 0:2] = (0.0, 1.0)      # off by 1 px
    truth[0, 20:22] = (0.0, 0.0)    # nose_tip exact
    pred[1, 20:22] = (6.0, 8.0)     # unlabelled there: ignored
    m = keypoint_metrics(pred, truth)
    assert m["rmse"] == pytest.approx(np.sqrt((9 + 16 + 0 + 1 + 0 + 0) / 6))
    assert m["rmse_x"] == pytest.approx(np.sqrt((9 + 0 + 0) / 3))
    assert m["rmse_y"] == pytest.approx(np.sqrt((16 + 1 + 0) / 3))
    assert m["per_keypoint"]["left_eye_center"] == pytest.approx(np.sqrt((9 + 16 + 0 + 1) / 4))
    assert m["per_keypoint"]["nose_tip"] == 0.0
    assert np.isnan(m["per_keypoint"]["mouth_left_corner"])
    assert m["mean_error_px"] == pytest.approx((5 + 1 + 0) / 3)
    assert m["within_2px"] == pytest.approx(2 / 3) and m["within_5px"] == 1.0
    assert m["labelled_values"] == 6


def test_point_errors_and_per_face_rmse():
    truth = np.zeros((2, 30))
    truth[1, 4:] = NAN
    pred = np.ones((2, 30))
    assert point_errors(pred, truth)[0] == pytest.approx(np.full(15, np.sqrt(2)))
    assert np.isnan(point_errors(pred, truth)[1, 2:]).all()
    assert per_face_rmse(pred, truth) == pytest.approx([1.0, 1.0])
