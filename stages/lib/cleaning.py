"""Cleaner training labels: each photo once, and grossly wrong labels left out of training.

Both change only what the models train on. Validation and test faces keep every label, so the
figures that count still see them.

- Copies: Kaggle's training set holds 576 pairs of near-identical photos (`split.py`), often
  labelled twice by hand. `merge_copies` keeps each group's first face, with each value averaged
  over the copies that have it.
- Gross errors: `gross_labels` flags a keypoint whose out-of-fold prediction (by a network that
  never trained on the face) lies more than GROSS_PX from its label, and more than GROSS_SCALES
  times that keypoint's median residual. The flagged keypoints are listed in a CSV a user can
  read and check (`write_label_list`); `split.wrong_labels` names it, and the faces it lists are
  left out of training (`read_label_list` checks that the list belongs to the training file).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .errors import UserError
from .faces import Faces
from .io import atomic_file
from .keypoints import KEYPOINTS
from .metrics import point_errors

# A label is grossly wrong when its out-of-fold residual is over both lines: GROSS_PX pixels of the
# 96x96 face (an eye's width: no labelling style moves a point that far), and GROSS_SCALES times
# the keypoint's median residual (a mouth's bottom lip is placed less surely than a pupil).
GROSS_PX = 10.0
GROSS_SCALES = 6.0
# The list's columns: the training file's row (1-based, its ImageId in the prepared faces), the
# keypoint, its label and the out-of-fold prediction (96x96 face pixels), and their distance.
LIST_COLUMNS = ("row", "keypoint", "label_x", "label_y", "predicted_x", "predicted_y", "residual_px")
# A listed label matches the training file's within this (the list's rounding is 0.001 px).
LABEL_MATCH_PX = 0.01


def merge_copies(faces: Faces, groups: np.ndarray) -> Faces:
    """One face per group of near-identical faces (`split.duplicate_groups`, any group labels):
    the group's first face, each of its 30 values the mean over the copies that have it."""
    groups = np.asarray(groups)
    _, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
    labelled = ~np.isnan(faces.keypoints)
    sums = np.zeros((len(first), faces.keypoints.shape[1]))
    counts = np.zeros_like(sums)
    np.add.at(sums, inverse, np.where(labelled, faces.keypoints, 0.0))
    np.add.at(counts, inverse, labelled)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / counts, np.nan).astype(faces.keypoints.dtype)
    order = np.argsort(first)  # groups in the order of their first face
    kept = faces[first[order]]
    return Faces(kept.images, means[order], kept.image_ids)


def gross_labels(predictions: np.ndarray, labels: np.ndarray,
                 gross_px: float = GROSS_PX, scales: float = GROSS_SCALES) -> np.ndarray:
    """(N, 15) bool: the labels the rule calls grossly wrong, given out-of-fold `predictions`."""
    distance = point_errors(predictions, labels)
    with np.errstate(invalid="ignore"):
        median = np.nanmedian(np.where(np.isnan(distance).all(axis=0), 0.0, distance), axis=0)
        return (distance > gross_px) & (distance > scales * median)


def label_list(rows: np.ndarray, predictions: np.ndarray, labels: np.ndarray, flagged: np.ndarray) -> list[dict]:
    """The flagged labels as the list's records, by row then keypoint."""
    distance = point_errors(predictions, labels)
    records = []
    for face, point in zip(*np.nonzero(flagged)):
        records.append({"row": int(rows[face]), "keypoint": KEYPOINTS[point],
                        "label_x": round(float(labels[face, 2 * point]), 3),
                        "label_y": round(float(labels[face, 2 * point + 1]), 3),
                        "predicted_x": round(float(predictions[face, 2 * point]), 3),
                        "predicted_y": round(float(predictions[face, 2 * point + 1]), 3),
                        "residual_px": round(float(distance[face, point]), 3)})
    return sorted(records, key=lambda r: (r["row"], KEYPOINTS.index(r["keypoint"])))


def write_label_list(path: Path, records: list[dict], header: str) -> None:
    """The list as CSV, after comment lines (`header`: what made it, under which rule)."""
    with atomic_file(path, "w") as out:
        for line in header.splitlines():
            out.write(f"# {line}\n")
        writer = csv.DictWriter(out, LIST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)


def read_label_list(path: Path, faces: Faces) -> np.ndarray:
    """The sorted rows (1-based image ids) the list at `path` names, after checking that each
    listed label is the one `faces` holds there: a list made for another training file is refused,
    in one line naming the list's line and field."""
    if faces.image_ids is None:
        raise UserError(f"{path}: the faces have no row numbers to match the list against")
    row_of = {int(i): n for n, i in enumerate(faces.image_ids)}
    try:
        lines = [line for line in Path(path).read_text().splitlines() if line and not line.startswith("#")]
    except OSError as error:
        raise UserError(f"{path}: cannot be read ({error.strerror or error})") from None
    reader = csv.DictReader(lines)
    if reader.fieldnames is None or not set(LIST_COLUMNS) <= set(reader.fieldnames):
        raise UserError(f"{path}: the header must name {', '.join(LIST_COLUMNS)}")
    rows = set()
    for line, record in enumerate(reader, start=2):
        where = f"{path}, line {line} of its table"
        try:
            row = int(record["row"])
        except ValueError:
            raise UserError(f"{where}, field row: {record['row']!r} is not a row number") from None
        if row not in row_of:
            raise UserError(f"{where}, field row: row {row} is not among the training faces")
        if record["keypoint"] not in KEYPOINTS:
            raise UserError(f"{where}, field keypoint: {record['keypoint']!r} is no keypoint name")
        point = KEYPOINTS.index(record["keypoint"])
        for axis, field in enumerate(("label_x", "label_y")):
            try:
                listed = float(record[field])
            except ValueError:
                raise UserError(f"{where}, field {field}: {record[field]!r} is not a number") from None
            held = float(faces.keypoints[row_of[row], 2 * point + axis])
            if not abs(held - listed) <= LABEL_MATCH_PX:
                raise UserError(f"{where}, field {field}: the list says {listed}, the training file's row {row} "
                                f"says {held}: the list was made for another training file")
        rows.add(row)
    return np.array(sorted(rows), np.int64)


def clean_training(train: Faces, groups: np.ndarray, wrong_rows: np.ndarray | None, merge: bool) -> Faces:
    """The training faces as the models see them: without the faces of `wrong_rows` (image ids,
    from `read_label_list`), then with each group of copies merged (`merge`)."""
    groups = np.asarray(groups)
    if wrong_rows is not None and len(wrong_rows):
        keep = ~np.isin(train.image_ids, wrong_rows)
        train, groups = train[keep], groups[keep]
    return merge_copies(train, groups) if merge else train
