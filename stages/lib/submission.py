"""Kaggle submissions (`RowId,Location`) built from, and checked against, IdLookupTable."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import UserError
from .keypoints import COLUMNS, IMAGE_SIZE

HEADER = "RowId,Location"


class SubmissionError(UserError):
    pass


def build_submission(row_ids: np.ndarray, lookup_image_ids: np.ndarray, features: np.ndarray,
                     test_image_ids: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Location for every lookup row, in the lookup's order, clipped to [0, 96].

    An ImageId with no prediction or a feature index outside the 30 columns is an error
    naming the RowId; so is a NaN prediction.
    """
    position = {int(image_id): i for i, image_id in enumerate(test_image_ids)}
    rows = np.empty(len(row_ids), np.int64)
    for i, (row_id, image_id, feature) in enumerate(zip(row_ids, lookup_image_ids, features)):
        if int(image_id) not in position:
            raise SubmissionError(f"RowId {row_id}: unknown ImageId {image_id}")
        if not 0 <= feature < len(COLUMNS):
            raise SubmissionError(f"RowId {row_id}: unknown FeatureName index {feature}")
        rows[i] = position[int(image_id)]
    values = np.asarray(predictions, np.float64)[rows, features]
    if np.isnan(values).any():
        bad = int(np.flatnonzero(np.isnan(values))[0])
        raise SubmissionError(f"RowId {row_ids[bad]}: prediction is NaN")
    return np.clip(values, 0.0, IMAGE_SIZE)


def format_submission(row_ids: np.ndarray, locations: np.ndarray) -> str:
    """Kaggle's `RowId,Location` CSV, locations to 1/10,000 px."""
    import pandas as pd

    table = pd.DataFrame({"RowId": np.asarray(row_ids, np.int64), "Location": np.asarray(locations, np.float64)})
    return table.to_csv(index=False, float_format="%.4f", lineterminator="\n")


def check_submission(path: str | Path, row_ids: np.ndarray) -> int:
    """Raise SubmissionError unless `path` answers every lookup row, in order, in [0, 96]."""
    path = Path(path)
    lines = path.read_text().splitlines()
    if not lines or lines[0].strip() != HEADER:
        raise SubmissionError(f"{path}, line 1: header must be {HEADER!r}")
    if len(lines) - 1 != len(row_ids):
        raise SubmissionError(f"{path}: {len(lines) - 1} rows, the lookup table has {len(row_ids)}")
    for number, (line, expected) in enumerate(zip(lines[1:], row_ids), start=2):
        fields = line.split(",")
        if len(fields) != 2:
            raise SubmissionError(f"{path}, line {number}: expected 2 fields, got {len(fields)}")
        try:
            row_id, value = int(fields[0]), float(fields[1])
        except ValueError:
            raise SubmissionError(f"{path}, line {number}: not a number: {line!r}") from None
        if row_id != expected:
            raise SubmissionError(f"{path}, line {number}: RowId {row_id}, expected {expected}")
        if not 0.0 <= value <= IMAGE_SIZE:  # also rejects NaN
            raise SubmissionError(f"{path}, line {number}, RowId {row_id}: Location {value} outside [0, 96]")
    return len(row_ids)
