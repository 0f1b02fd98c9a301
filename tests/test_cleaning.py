"""Cleaner training labels (stages/lib/cleaning.py): copies merged, gross errors found and listed."""
import numpy as np
import pytest

from stages.lib.cleaning import (GROSS_PX, clean_training, gross_labels, label_list, merge_copies,
                                 read_label_list, write_label_list)
from stages.lib.errors import UserError
from stages.lib.faces import Faces


def faces_of(keypoints) -> Faces:
    keypoints = np.asarray(keypoints, np.float32)
    images = np.arange(len(keypoints), dtype=np.uint8)[:, None, None] * np.ones((1, 96, 96), np.uint8)
    return Faces(images, keypoints, np.arange(1, len(keypoints) + 1, dtype=np.int64))


def test_copies_are_trained_once_with_each_value_averaged_over_the_copies_that_have_it():
    first, other, copy = np.full(30, 40.0), np.full(30, 60.0), np.full(30, 44.0)
    copy[2:] = np.nan  # the copy labels only its left eye centre
    merged = merge_copies(faces_of([first, other, copy]), np.array([0, 1, 0]))
    assert len(merged) == 2 and merged.image_ids.tolist() == [1, 2]
    assert merged.images[0, 0, 0] == 0  # the group's first face's image
    assert merged.keypoints[0, :2].tolist() == [42.0, 42.0] and (merged.keypoints[0, 2:] == 40.0).all()
    assert (merged.keypoints[1] == 60.0).all() and merged.keypoints.dtype == np.float32
    alone = merge_copies(faces_of([first, other]), np.array([0, 1]))
    assert np.array_equal(alone.keypoints, faces_of([first, other]).keypoints)


def test_the_rule_flags_far_labels_measured_against_each_keypoints_own_spread():
    rng = np.random.default_rng(0)
    labels = rng.uniform(20, 76, (400, 30))
    noise = rng.normal(0, 1.0, (400, 30))
    noise[:, 28:30] *= 3.0  # the bottom lip (keypoint 14): placed three times less surely
    predictions = labels + noise
    labels[5, 0] += 20.0  # a left eye centre 20 px off: gross
    labels[9, 28] += 12.0  # a bottom lip 12 px off: within 6 of its median residuals (about 3.5 px)
    labels[11, 20] += 12.0  # a nose tip 12 px off: past both lines
    labels[13, 22:] = np.nan  # unlabelled values are never flagged
    flagged = gross_labels(predictions, labels)
    assert sorted(zip(*np.nonzero(flagged))) == [(5, 0), (11, 10)]
    assert not gross_labels(predictions, labels, gross_px=25.0).any()


def test_the_list_is_written_read_back_and_refused_for_another_training_file(tmp_path):
    rng = np.random.default_rng(1)
    faces = faces_of(rng.uniform(20, 76, (50, 30)))
    predictions = faces.keypoints + rng.normal(0, 1.0, (50, 30))
    predictions[[7, 30], 20] += 2 * GROSS_PX
    flagged = gross_labels(predictions, faces.keypoints)
    records = label_list(faces.image_ids, predictions, faces.keypoints, flagged)
    assert [(r["row"], r["keypoint"]) for r in records] == [(8, "nose_tip"), (31, "nose_tip")]
    path = tmp_path / "wrong.csv"
    write_label_list(path, records, "made by a test\nrule: cleaning.py")
    assert path.read_text().startswith("# made by a test\n# rule: cleaning.py\nrow,keypoint,")
    assert read_label_list(path, faces).tolist() == [8, 31]

    moved = Faces(faces.images, faces.keypoints.copy(), faces.image_ids)
    moved.keypoints[30, 20] += 1.0
    with pytest.raises(UserError, match=r"wrong.csv, line 3 of its table, field label_x: .* made for another"):
        read_label_list(path, moved)
    with pytest.raises(UserError, match=r"line 2 of its table, field row: row 8 is not among the training faces"):
        read_label_list(path, faces[np.arange(7)])
    path.write_text("row,keypoint\n1,nose_tip\n")
    with pytest.raises(UserError, match="the header must name row, keypoint, label_x"):
        read_label_list(path, faces)


def test_listed_faces_leave_training_and_copies_merge_after():
    faces = faces_of(np.full((5, 30), 50.0))
    groups = np.array([0, 1, 1, 3, 4])
    cleaned = clean_training(faces, groups, np.array([4]), merge=True)
    assert cleaned.image_ids.tolist() == [1, 2, 5]
    assert clean_training(faces, groups, None, merge=False).image_ids.tolist() == [1, 2, 3, 4, 5]
