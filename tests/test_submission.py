import numpy as np
import pytest

from stages.lib.keypoints import COLUMNS
from stages.lib.submission import SubmissionError, build_submission, check_submission, format_submission


@pytest.fixture
def lookup():
    row_ids = np.array([1, 2, 3, 4])
    image_ids = np.array([7, 7, 3, 3])
    features = np.array([COLUMNS.index("nose_tip_x"), COLUMNS.index("nose_tip_y"), 0, 29])
    return row_ids, image_ids, features


def test_build_follows_the_lookup_order_and_clips(lookup):
    test_ids = np.array([3, 7])
    predictions = np.zeros((2, 30))
    predictions[1, 20:22] = (48.5, 100.0)   # image 7
    predictions[0, [0, 29]] = (-2.0, 60.25)  # image 3
    values = build_submission(*lookup, test_ids, predictions)
    assert values.tolist() == [48.5, 96.0, 0.0, 60.25]


def test_unknown_image_and_nan_name_the_row(lookup):
    with pytest.raises(SubmissionError, match="RowId 1: unknown ImageId 7"):
        build_submission(*lookup, np.array([3]), np.zeros((1, 30)))
    predictions = np.zeros((2, 30))
    predictions[0, 29] = np.nan
    with pytest.raises(SubmissionError, match="RowId 4: prediction is NaN"):
        build_submission(*lookup, np.array([3, 7]), predictions)
    row_ids, image_ids, features = lookup
    with pytest.raises(SubmissionError, match="RowId 2: unknown FeatureName"):
        build_submission(row_ids, image_ids, np.array([0, 30, 0, 0]), np.array([3, 7]), np.zeros((2, 30)))


def test_check_accepts_a_built_submission(tmp_path, lookup):
    path = tmp_path / "s.csv"
    values = build_submission(*lookup, np.array([3, 7]), np.full((2, 30), 40.0))
    path.write_text(format_submission(lookup[0], values))
    assert check_submission(path, lookup[0]) == 4
    assert path.read_text().splitlines()[:2] == ["RowId,Location", "1,40.0000"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("RowId,Value\n1,1\n2,1\n3,1\n4,1\n", "header"),
        ("RowId,Location\n1,1\n2,1\n3,1\n", "3 rows, the lookup table has 4"),
        ("RowId,Location\n1,1\n3,1\n2,1\n4,1\n", "line 3: RowId 3, expected 2"),
        ("RowId,Location\n1,1\n2,1\n3,97\n4,1\n", "RowId 3: Location 97.0 outside"),
        ("RowId,Location\n1,1\n2,nan\n3,1\n4,1\n", "RowId 2: Location nan outside"),
        ("RowId,Location\n1,1\n2,x\n3,1\n4,1\n", "line 3: not a number"),
    ],
)
def test_check_rejects_bad_files(tmp_path, lookup, text, message):
    path = tmp_path / "s.csv"
    path.write_text(text)
    with pytest.raises(SubmissionError, match=message):
        check_submission(path, lookup[0])
