"""Kaggle's two label sources, and the 38-column layout a source-aware model learns in.

Kaggle's faces come from two annotation sources: faces with all 15 keypoints, and faces with only
four (eye centres, nose tip, bottom lip) that place those four by another convention. A face's
source shows in how many values it has (training labels) or is asked for (the test lookup): more
than 8, the 15-point source; at most 8, the 4-point one.

A source-aware model learns 19 keypoints: the 15 in the 15-point convention, then the four core
ones in the 4-point convention. A 15-point face's labels fill the first 30 columns and a 4-point
face's the last 8, so no label ever trains the other source's outputs; the rest stay NaN (masked).
"""
from __future__ import annotations

import numpy as np

from .keypoints import CORE_COLUMNS, COLUMNS, FOUR_POINT_KEYPOINTS, N_COLUMNS

SOURCES = ("15-point", "4-point")
FOUR_POINT_VALUES = 8  # eye centres, nose tip, bottom lip: x and y each
CORE_INDICES = np.array([COLUMNS.index(c) for c in CORE_COLUMNS])  # their columns among the 30
SOURCE_COLUMNS = N_COLUMNS + 2 * len(FOUR_POINT_KEYPOINTS)


def face_sources(value_counts: np.ndarray) -> np.ndarray:
    """Each face's label source from how many of its 30 values are labelled (or requested)."""
    return np.where(np.asarray(value_counts) > FOUR_POINT_VALUES, SOURCES[0], SOURCES[1])


def label_sources(keypoints: np.ndarray) -> np.ndarray:
    """Each face's label source from its labels (N, 30): how many are not NaN."""
    return face_sources((~np.isnan(keypoints)).sum(axis=1))


def four_point_faces(keypoints: np.ndarray) -> np.ndarray:
    """bool (N,): the faces whose labels (N, 30) come from the 4-point source."""
    return label_sources(keypoints) == SOURCES[1]


def four_point_requests(image_ids: np.ndarray, lookup_image_ids: np.ndarray) -> np.ndarray:
    """bool (N,): the faces `image_ids` for which the lookup asks at most 8 values (4-point ones)."""
    ids, counts = np.unique(lookup_image_ids, return_counts=True)
    asked = dict(zip(ids.tolist(), counts.tolist()))
    return face_sources([asked.get(int(i), 0) for i in image_ids]) == SOURCES[1]


def to_source_layout(keypoints: np.ndarray) -> np.ndarray:
    """(N, 30) labels -> (N, 38): 15-point faces' in the first 30 columns, 4-point faces' core
    values in the last 8; everything else NaN."""
    four_point = four_point_faces(keypoints)
    out = np.full((len(keypoints), SOURCE_COLUMNS), np.nan, np.float32)
    out[~four_point, :N_COLUMNS] = keypoints[~four_point]
    out[four_point, N_COLUMNS:] = keypoints[four_point][:, CORE_INDICES]
    return out


def from_source_layout(outputs: np.ndarray, four_point: np.ndarray | None) -> np.ndarray:
    """(N, 38) outputs -> (N, 30) keypoints: the 15-point convention, with the core values of the
    faces marked `four_point` taken from the 4-point outputs."""
    keypoints = np.array(outputs[:, :N_COLUMNS], np.float32)
    if four_point is not None:
        rows = np.flatnonzero(four_point)
        keypoints[rows[:, None], CORE_INDICES] = outputs[rows, N_COLUMNS:]
    return keypoints
