"""Procedural 96x96 grayscale faces with their 15 Kaggle keypoints computed from the drawing.

Each face is drawn upright in a canonical 96-px frame at 2x resolution, then one affine
warp (rotation, scale, shift) maps it into the image; the keypoints go through the same
warp, so they are exact, not estimated. Coordinates are pixel-centre based: pixel j spans
[j - 0.5, j + 0.5], and high-resolution coordinate = 2 * x + 0.5.
"""
from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from .keypoints import CORE_COLUMNS, COLUMNS, IMAGE_SIZE, N_COLUMNS

SUPERSAMPLE = 2
_HI = IMAGE_SIZE * SUPERSAMPLE


@dataclasses.dataclass(frozen=True)
class Style:
    """How much photographic nuisance to add; `Style.clean()` for feature-level tests."""

    noise: bool = True
    clutter: bool = True
    lighting: bool = True
    pose: bool = True

    @staticmethod
    def clean() -> "Style":
        return Style(noise=False, clutter=False, lighting=False, pose=False)


def _hi(points: np.ndarray) -> np.ndarray:
    return points * SUPERSAMPLE + (SUPERSAMPLE - 1) / 2


def _lo(points: np.ndarray) -> np.ndarray:
    return (points - (SUPERSAMPLE - 1) / 2) / SUPERSAMPLE


def _bend(start, end, sag: float, n: int = 24) -> np.ndarray:
    """Points on a parabola from `start` to `end` whose middle sits `sag` px below the chord."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    points = (1 - t) * np.asarray(start, float) + t * np.asarray(end, float)
    points[:, 1] += sag * 4 * t[:, 0] * (1 - t[:, 0])
    return points


def _poly(canvas: np.ndarray, points: np.ndarray, value: float) -> None:
    cv2.fillPoly(canvas, [np.round(_hi(points) * 16).astype(np.int32)], float(value),
                 lineType=cv2.LINE_AA, shift=4)


def _line(canvas: np.ndarray, points: np.ndarray, value: float, width: float) -> None:
    cv2.polylines(canvas, [np.round(_hi(points) * 16).astype(np.int32)], False, float(value),
                  thickness=max(1, int(round(width * SUPERSAMPLE))), lineType=cv2.LINE_AA, shift=4)


def _ellipse_mask(center, axes, angle: float = 0.0) -> np.ndarray:
    mask = np.zeros((_HI, _HI), np.float32)
    c = _hi(np.asarray(center, float))
    cv2.ellipse(mask, (int(round(c[0] * 16)), int(round(c[1] * 16))),
                (int(round(axes[0] * SUPERSAMPLE * 16)), int(round(axes[1] * SUPERSAMPLE * 16))),
                angle, 0, 360, 1.0, -1, cv2.LINE_AA, shift=4)
    return mask


def _blend(canvas: np.ndarray, mask: np.ndarray, value) -> None:
    canvas *= 1 - mask
    canvas += mask * value


def _shape(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random face geometry in the canonical frame: the keypoints plus drawing-only sizes."""
    cx = 48.0 + rng.normal(0, 0.8)
    eye_y = 37.5 + rng.normal(0, 1.5)
    eye_dx = 18.0 + rng.normal(0, 1.3)
    eye_w = 6.8 + rng.normal(0, 0.6)
    eye_h = eye_w * rng.uniform(0.38, 0.55)
    gaze = np.array([rng.uniform(-1.2, 1.2), rng.uniform(-0.4, 0.4)])
    brow_y = eye_y - 8.5 + rng.normal(0, 1.0)
    nose = np.array([cx + rng.normal(0, 0.8), eye_y + 25.0 + rng.normal(0, 1.8)])
    mouth_y = nose[1] + 13.5 + rng.normal(0, 1.3)
    mouth_w = 15.0 + rng.normal(0, 1.3)
    opening = rng.uniform(0.0, 7.0) if rng.random() < 0.6 else 0.0
    smile = rng.uniform(-2.0, 2.5)  # positive: corners above the lip centres
    upper, lower = rng.uniform(2.0, 3.5), rng.uniform(2.5, 4.5)

    k = {}
    for side, sign in (("left", 1.0), ("right", -1.0)):  # subject's left = image right
        white = np.array([cx + sign * eye_dx, eye_y + rng.normal(0, 0.3)])
        k[f"{side}_eye_center"] = white + gaze
        k[f"{side}_eye_inner_corner"] = white - [sign * eye_w, 0.0]
        k[f"{side}_eye_outer_corner"] = white + [sign * eye_w, 0.6]
        k[f"{side}_eyebrow_inner_end"] = np.array(
            [cx + sign * (eye_dx - 9.0 + rng.normal(0, 0.8)), brow_y + rng.normal(0, 0.5)])
        k[f"{side}_eyebrow_outer_end"] = np.array(
            [cx + sign * (eye_dx + 12.5 + rng.normal(0, 1.0)), brow_y + rng.uniform(0.0, 2.5)])
        k[f"{side}_eye_white"] = white
    k["nose_tip"] = nose
    k["mouth_left_corner"] = np.array([cx + mouth_w, mouth_y - smile + rng.normal(0, 0.4)])
    k["mouth_right_corner"] = np.array([cx - mouth_w, mouth_y - smile + rng.normal(0, 0.4)])
    k["mouth_center_top_lip"] = np.array([cx, mouth_y - opening / 2 - upper])
    k["mouth_center_bottom_lip"] = np.array([cx, mouth_y + opening / 2 + lower])
    k["mouth_middle"] = np.array([cx, mouth_y])
    k["sizes"] = np.array([eye_w, eye_h, opening, eye_dx])
    return k


def _render(rng: np.random.Generator, k: dict[str, np.ndarray], style: Style) -> np.ndarray:
    """The face drawn upright at 2x resolution, float32 grey levels."""
    eye_w, eye_h, opening, eye_dx = k["sizes"]
    canvas = np.full((_HI, _HI), rng.uniform(20, 235), np.float32)
    if style.clutter:
        for _ in range(rng.integers(3, 9)):
            tone = float(rng.uniform(0, 255))
            p = rng.uniform(-10, _HI + 10, size=4).astype(int)
            kind = rng.integers(3)
            if kind == 0:
                cv2.rectangle(canvas, (p[0], p[1]), (p[2], p[3]), tone, -1)
            elif kind == 1:
                cv2.line(canvas, (p[0], p[1]), (p[2], p[3]), tone, int(rng.integers(2, 10)), cv2.LINE_AA)
            else:
                cv2.circle(canvas, (p[0], p[1]), int(rng.integers(8, 40)), tone, -1, cv2.LINE_AA)

    skin = rng.uniform(70, 215)
    cx = (k["left_eye_white"][0] + k["right_eye_white"][0]) / 2
    eye_y = (k["left_eye_white"][1] + k["right_eye_white"][1]) / 2
    center = np.array([cx, eye_y + 13.0 + rng.normal(0, 1.0)])
    axes = np.array([eye_dx + 17.0 + rng.normal(0, 1.2), (eye_dx + 17.0) * rng.uniform(1.2, 1.35)])
    face = _ellipse_mask(center, axes)
    yy, xx = (np.mgrid[0:_HI, 0:_HI] - (SUPERSAMPLE - 1) / 2) / SUPERSAMPLE
    radius2 = ((xx - center[0]) / axes[0]) ** 2 + ((yy - center[1]) / axes[1]) ** 2
    light = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.6, 0.1)])
    shading = 1.0 - 0.28 * radius2 + 0.12 * ((xx - center[0]) / axes[0] * light[0]
                                              + (yy - center[1]) / axes[1] * light[1])
    _blend(canvas, face, skin * np.clip(shading, 0.5, 1.2))

    hairline = min(k["left_eyebrow_inner_end"][1], k["right_eyebrow_inner_end"][1]) - rng.uniform(7, 13)
    hair = _ellipse_mask(center - [0, 3], axes + [3, 3]) * (yy < hairline)
    _blend(canvas, hair.astype(np.float32), rng.uniform(10, 90) if rng.random() < 0.8 else rng.uniform(150, 230))

    brow_tone = skin * rng.uniform(0.25, 0.5)
    for side in ("left", "right"):
        inner, outer = k[f"{side}_eyebrow_inner_end"], k[f"{side}_eyebrow_outer_end"]
        _line(canvas, _bend(inner, outer, -rng.uniform(1.5, 3.0)), brow_tone, rng.uniform(1.8, 3.0))

        white = k[f"{side}_eye_white"]
        corners = (k[f"{side}_eye_inner_corner"], k[f"{side}_eye_outer_corner"])
        angle = np.degrees(np.arctan2(corners[1][1] - corners[0][1], corners[1][0] - corners[0][0]))
        eye = _ellipse_mask(white + [0, 0.3], (eye_w, eye_h), angle)
        _blend(canvas, eye, min(255.0, skin * 0.5 + rng.uniform(120, 150)))
        iris_r = eye_h * rng.uniform(0.85, 1.05)
        iris = _ellipse_mask(k[f"{side}_eye_center"], (iris_r, iris_r)) * eye
        _blend(canvas, iris, rng.uniform(25, 100))
        pupil = _ellipse_mask(k[f"{side}_eye_center"], (iris_r * 0.45, iris_r * 0.45)) * eye
        _blend(canvas, pupil, rng.uniform(0, 25))
        lid = _bend(corners[0], corners[1], -eye_h * 1.9)
        _line(canvas, lid, skin * 0.35, 1.1)

    nose = k["nose_tip"]
    nostril_dx = rng.uniform(3.0, 4.5)
    _line(canvas, np.array([[cx + 2.5, eye_y + 3], [nose[0] + nostril_dx + 0.5, nose[1] - 3]]),
          skin * 0.8, 1.2)
    _line(canvas, _bend(nose - [nostril_dx + 1.5, 2.0], nose + [nostril_dx + 1.5, -2.0], 2.0),
          skin * 0.55, 1.0)
    for sign in (-1, 1):
        _blend(canvas, _ellipse_mask(nose + [sign * nostril_dx, -1.2], (1.4, 0.9)), skin * 0.3)

    left, right = k["mouth_left_corner"], k["mouth_right_corner"]
    middle = k["mouth_middle"]
    chord_mid = (left + right) / 2
    top = _bend(right, left, k["mouth_center_top_lip"][1] - chord_mid[1])
    bottom = _bend(left, right, k["mouth_center_bottom_lip"][1] - chord_mid[1])
    _poly(canvas, np.vstack([top, bottom]), skin * rng.uniform(0.45, 0.7))
    if opening > 0.5:
        inner_top = _bend(right, left, middle[1] - opening / 2 - chord_mid[1])
        inner_bottom = _bend(left, right, middle[1] + opening / 2 - chord_mid[1])
        _poly(canvas, np.vstack([inner_top, inner_bottom]), rng.uniform(5, 40))
    else:
        _line(canvas, _bend(right, left, middle[1] - chord_mid[1]), skin * 0.25, 0.8)
    return canvas


def _pose(rng: np.random.Generator, style: Style) -> np.ndarray:
    """2x3 affine matrix in high-resolution pixel coordinates."""
    if not style.pose:
        return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    angle = rng.uniform(-20, 20)
    scale = rng.uniform(0.85, 1.1)
    shift = rng.uniform(-5, 5, size=2) * SUPERSAMPLE
    matrix = cv2.getRotationMatrix2D((_HI / 2 - 0.5, _HI / 2 - 0.5), angle, scale)
    matrix[:, 2] += shift
    return matrix


def draw_face(rng: np.random.Generator, style: Style = Style()) -> tuple[np.ndarray, np.ndarray]:
    """One face: uint8 (96, 96) image and float32 (30,) keypoints in Kaggle's column order."""
    k = _shape(rng)
    canonical = np.stack([k[name[:-2]] for name in COLUMNS[::2]])
    for _ in range(100):
        matrix = _pose(rng, style)
        points = _lo(_hi(canonical) @ matrix[:, :2].T + matrix[:, 2])
        if points.min() >= 1.0 and points.max() <= IMAGE_SIZE - 2.0:
            break
    canvas = _render(rng, k, style)
    canvas = cv2.warpAffine(canvas, matrix, (_HI, _HI), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REFLECT)
    image = cv2.resize(canvas, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
    if style.lighting:
        yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE] / IMAGE_SIZE - 0.5
        direction = rng.uniform(0, 2 * np.pi)
        image = image * rng.uniform(0.7, 1.15) + rng.uniform(-50, 50) * (
            np.cos(direction) * xx + np.sin(direction) * yy)
    if style.noise:
        if rng.random() < 0.3:
            image = cv2.GaussianBlur(image.astype(np.float32), (0, 0), rng.uniform(0.5, 1.2))
        image = image + rng.normal(0, rng.uniform(1.5, 7.0), image.shape)
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    return image, points.reshape(-1).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class SampleData:
    """A complete Kaggle-like data set, as arrays."""

    train_images: np.ndarray  # uint8 (N, 96, 96)
    train_keypoints: np.ndarray  # float32 (N, 30), NaN where Kaggle would leave it blank
    test_images: np.ndarray  # uint8 (M, 96, 96)
    lookup: list[tuple[int, int, str]]  # (RowId, ImageId, FeatureName)


def _faces(seed: np.random.SeedSequence, n: int) -> tuple[np.ndarray, np.ndarray]:
    rngs = [np.random.default_rng(s) for s in seed.spawn(n)]
    faces = [draw_face(rng) for rng in rngs]
    images = np.stack([f[0] for f in faces]) if faces else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    keypoints = np.stack([f[1] for f in faces]) if faces else np.zeros((0, N_COLUMNS), np.float32)
    # Round to what the CSV stores, so that the parsed file equals these arrays exactly.
    return images, np.round(keypoints.astype(np.float64), 4).astype(np.float32)


def _lookup_features(rng: np.random.Generator) -> tuple[str, ...]:
    """The features Kaggle asks for one test image: mostly the 8 core values or all 30."""
    draw = rng.random()
    if draw < 0.66:
        return CORE_COLUMNS
    if draw < 0.98:
        return COLUMNS
    optional = [c[:-2] for c in COLUMNS[::2] if f"{c[:-2]}_x" not in CORE_COLUMNS]
    dropped = set(rng.choice(optional, size=rng.integers(1, 5), replace=False))
    return tuple(c for c in COLUMNS if c[:-2] not in dropped)


def make_sample_data(seed: int, n_train: int, n_test: int, full_fraction: float) -> SampleData:
    train_seed, test_seed, mask_seed, lookup_seed = np.random.SeedSequence(seed).spawn(4)
    train_images, train_keypoints = _faces(train_seed, n_train)
    test_images, _ = _faces(test_seed, n_test)

    full = np.random.default_rng(mask_seed).random(n_train) < full_fraction
    core = np.isin(np.array(COLUMNS), CORE_COLUMNS)
    train_keypoints[~full[:, None] & ~core[None, :]] = np.nan

    rng = np.random.default_rng(lookup_seed)
    lookup = []
    for image_id in range(1, n_test + 1):
        for feature in _lookup_features(rng):
            lookup.append((len(lookup) + 1, image_id, feature))
    return SampleData(train_images, train_keypoints, test_images, lookup)
