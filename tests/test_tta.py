import numpy as np

from stages.lib.keypoints import flip_keypoints
from stages.lib.tta import with_flip_averaging


def lopsided_predictor(images: np.ndarray, four_point=None) -> np.ndarray:
    """Not mirror-symmetric on purpose: depends on where the bright pixels are."""
    weights = np.linspace(0, 1, 96)
    column = (images.mean(axis=1) * weights).sum(axis=1) / 255
    return (np.outer(column, np.arange(30)) % 96).astype(np.float32)


def test_flip_averaging_is_mirror_symmetric():
    images = np.random.default_rng(0).integers(0, 256, (5, 96, 96)).astype(np.uint8)
    tta = with_flip_averaging(lopsided_predictor)
    on_mirror = tta(np.ascontiguousarray(images[:, :, ::-1]))
    assert np.allclose(on_mirror, flip_keypoints(tta(images)), atol=1e-4)
    # Without averaging, this predictor is not symmetric: the test above is not trivially true.
    assert not np.allclose(lopsided_predictor(images[:, :, ::-1]), flip_keypoints(lopsided_predictor(images)))


def test_flip_averaging_leaves_an_equivariant_predictor_unchanged():
    truth = np.random.default_rng(1).uniform(10, 80, (3, 30)).astype(np.float32)
    images = np.random.default_rng(2).integers(0, 256, (3, 96, 96)).astype(np.uint8)
    mirrored = {images[i, :, ::-1].tobytes(): flip_keypoints(truth[i]) for i in range(3)}
    plain = {images[i].tobytes(): truth[i] for i in range(3)}

    def oracle(batch, four_point=None):
        return np.stack([plain.get(im.tobytes(), mirrored.get(im.tobytes())) for im in batch])

    assert np.allclose(with_flip_averaging(oracle)(images), truth, atol=1e-4)
