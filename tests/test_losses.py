import math

import numpy as np
import pytest
import torch

from stages.lib.models.cnn.losses import masked_loss as keras_masked_loss
from stages.lib.models.resnet.losses import WING_EPS_PX, WING_W_PX, masked_loss

NAN = float("nan")


def test_masked_mse_averages_over_labelled_values_only():
    pred = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
    target = torch.tensor([[1.5, NAN, 1.0, NAN], [NAN, NAN, NAN, -1.0]])
    # Labelled diffs: -0.5, 2.0, 1.0 -> (0.25 + 4 + 1) / 3
    assert masked_loss(pred, target, "mse").item() == pytest.approx(5.25 / 3)


def test_a_row_with_four_labels_trains_those_four():
    pred = torch.zeros(1, 30, requires_grad=True)
    target = torch.full((1, 30), NAN)
    target[0, [0, 1, 2, 3, 20, 21, 28, 29]] = 1.0
    masked_loss(pred, target, "mse").backward()
    labelled = ~torch.isnan(target[0])
    assert (pred.grad[0, labelled] != 0).all() and (pred.grad[0, ~labelled] == 0).all()


def test_masked_huber_by_hand():
    pred = torch.tensor([[0.0, 0.0, 0.0]])
    target = torch.tensor([[0.5, 3.0, NAN]])
    # delta 1 px: 0.5 * 0.25 for the small error, 1 * (3 - 0.5) for the large one
    assert masked_loss(pred, target, "huber", unit_px=1.0, huber_delta_px=1.0).item() == pytest.approx(
        (0.125 + 2.5) / 2)
    # In normalised units (48 px per unit) the threshold moves with the unit.
    scaled = masked_loss(pred / 48, target / 48, "huber", unit_px=48.0, huber_delta_px=1.0).item()
    assert scaled == pytest.approx((0.125 + 2.5) / 2 / 48 ** 2, rel=1e-5)


def test_masked_wing_by_hand():
    w, eps = WING_W_PX, WING_EPS_PX
    c = w - w * math.log(1 + w / eps)
    pred = torch.tensor([[0.0, 0.0]])
    target = torch.tensor([[1.0, 10.0]])
    expected = (w * math.log(1 + 1.0 / eps) + (10.0 - c)) / 2
    assert masked_loss(pred, target, "wing").item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("kind", ["mse", "huber", "wing"])
def test_all_missing_batch_gives_zero_loss_and_zero_gradients(kind):
    pred = torch.randn(4, 30, requires_grad=True)
    loss = masked_loss(pred, torch.full((4, 30), NAN), kind, unit_px=48.0)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.isfinite(pred.grad).all() and (pred.grad == 0).all()


@pytest.mark.parametrize("kind", ["mse", "huber", "wing"])
def test_keras_and_torch_losses_agree(kind):
    rng = np.random.default_rng(0)
    pred = rng.normal(0, 0.2, (8, 30)).astype(np.float32)
    target = rng.normal(0, 0.2, (8, 30)).astype(np.float32)
    target[rng.random((8, 30)) < 0.5] = np.nan
    expected = masked_loss(torch.from_numpy(pred), torch.from_numpy(target), kind, unit_px=48.0).item()
    got = float(keras_masked_loss(kind, unit_px=48.0)(target, pred))
    assert got == pytest.approx(expected, rel=1e-5)



@pytest.mark.parametrize("kind", ["mse", "huber", "wing"])
def test_keras_all_missing_batch_gives_zero_loss_and_zero_gradients(kind):
    import tensorflow as tf

    pred = tf.Variable(np.random.default_rng(1).normal(size=(4, 30)).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = keras_masked_loss(kind, 48.0)(np.full((4, 30), np.nan, np.float32), pred)
    grad = tape.gradient(loss, pred).numpy()
    assert float(loss) == 0.0 and np.isfinite(grad).all() and (grad == 0).all()
