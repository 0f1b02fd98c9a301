import math

import numpy as np
import pytest
import torch

from stages.lib.models.cnn.losses import masked_loss as keras_masked_loss
from stages.lib.models.resnet.losses import masked_loss
from stages.lib.params import HuberLoss, MseLoss, WingLoss

NAMED = {"mse": MseLoss("mse"), "huber": HuberLoss("huber", 1.0), "wing": WingLoss("wing", 4.0, 1.0)}

NAN = float("nan")


def test_masked_mse_averages_over_labelled_values_only():
    pred = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
    target = torch.tensor([[1.5, NAN, 1.0, NAN], [NAN, NAN, NAN, -1.0]])
    # Labelled diffs: -0.5, 2.0, 1.0 -> (0.25 + 4 + 1) / 3
    assert masked_loss(pred, target, NAMED["mse"]).item() == pytest.approx(5.25 / 3)


def test_a_row_with_four_labels_trains_those_four():
    pred = torch.zeros(1, 30, requires_grad=True)
    target = torch.full((1, 30), NAN)
    target[0, [0, 1, 2, 3, 20, 21, 28, 29]] = 1.0
    masked_loss(pred, target, NAMED["mse"]).backward()
    labelled = ~torch.isnan(target[0])
    assert (pred.grad[0, labelled] != 0).all() and (pred.grad[0, ~labelled] == 0).all()


def test_masked_huber_by_hand():
    pred = torch.tensor([[0.0, 0.0, 0.0]])
    target = torch.tensor([[0.5, 3.0, NAN]])
    # delta 1 px: 0.5 * 0.25 for the small error, 1 * (3 - 0.5) for the large one
    assert masked_loss(pred, target, NAMED["huber"], unit_px=1.0).item() == pytest.approx(
        (0.125 + 2.5) / 2)
    # In normalised units (48 px per unit) the threshold moves with the unit.
    scaled = masked_loss(pred / 48, target / 48, NAMED["huber"], unit_px=48.0).item()
    assert scaled == pytest.approx((0.125 + 2.5) / 2 / 48 ** 2, rel=1e-5)


def test_masked_wing_by_hand():
    w, eps = 3.0, 0.5
    c = w - w * math.log(1 + w / eps)
    pred = torch.tensor([[0.0, 0.0]])
    target = torch.tensor([[1.0, 10.0]])
    expected = (w * math.log(1 + 1.0 / eps) + (10.0 - c)) / 2
    assert masked_loss(pred, target, WingLoss("wing", w, eps)).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("kind", ["mse", "huber", "wing"])
def test_all_missing_batch_gives_zero_loss_and_zero_gradients(kind):
    pred = torch.randn(4, 30, requires_grad=True)
    loss = masked_loss(pred, torch.full((4, 30), NAN), NAMED[kind], unit_px=48.0)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.isfinite(pred.grad).all() and (pred.grad == 0).all()


@pytest.mark.parametrize("kind", ["mse", "huber", "wing"])
def test_keras_and_torch_losses_agree(kind):
    rng = np.random.default_rng(0)
    pred = rng.normal(0, 0.2, (8, 30)).astype(np.float32)
    target = rng.normal(0, 0.2, (8, 30)).astype(np.float32)
    target[rng.random((8, 30)) < 0.5] = np.nan
    expected = masked_loss(torch.from_numpy(pred), torch.from_numpy(target), NAMED[kind], unit_px=48.0).item()
    got = float(keras_masked_loss(NAMED[kind], unit_px=48.0)(target, pred))
    assert got == pytest.approx(expected, rel=1e-5)



@pytest.mark.parametrize("kind", ["mse", "huber", "wing"])
def test_keras_all_missing_batch_gives_zero_loss_and_zero_gradients(kind):
    import tensorflow as tf

    pred = tf.Variable(np.random.default_rng(1).normal(size=(4, 30)).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = keras_masked_loss(NAMED[kind], 48.0)(np.full((4, 30), np.nan, np.float32), pred)
    grad = tape.gradient(loss, pred).numpy()
    assert float(loss) == 0.0 and np.isfinite(grad).all() and (grad == 0).all()


def _gaussian_logits(xy_px: list[tuple[float, float]], sigma_px: float) -> torch.Tensor:
    centres = (np.arange(12) + 0.5) * 8 - 0.5
    maps = [-((centres[None, :] - x) ** 2 + (centres[:, None] - y) ** 2) / (2 * sigma_px ** 2) for x, y in xy_px]
    return torch.tensor(np.stack(maps)[None], dtype=torch.float32)


def test_heatmap_divergence_is_zero_on_the_target_gaussian_and_ignores_missing_labels():
    from stages.lib.models.resnet.losses import heatmap_divergence

    centres = torch.tensor((np.arange(12) + 0.5) * 8 - 0.5, dtype=torch.float32)
    target = torch.tensor([[30.0, 40.0, NAN, NAN]])
    on_target = heatmap_divergence(_gaussian_logits([(30, 40), (5, 5)], 8.0), target, centres, centres, 8.0)
    assert on_target.item() == pytest.approx(0.0, abs=1e-6)  # the unlabelled second point costs nothing
    flat = heatmap_divergence(torch.zeros(1, 2, 12, 12), target, centres, centres, 8.0)
    elsewhere = heatmap_divergence(_gaussian_logits([(80, 80), (5, 5)], 8.0), target, centres, centres, 8.0)
    assert 0.1 < flat.item() < elsewhere.item() <= math.log(2) + 1e-6
    logits = torch.zeros(1, 2, 12, 12, requires_grad=True)
    heatmap_divergence(logits, target, centres, centres, 8.0).backward()
    assert logits.grad[0, 0].abs().sum() > 0 and (logits.grad[0, 1] == 0).all()
    none = heatmap_divergence(logits, torch.full((1, 4), NAN), centres, centres, 8.0)
    assert none.item() == 0.0


def test_heatmap_spread_is_the_heatmaps_standard_deviation_in_pixels():
    from stages.lib.models.resnet.network import heatmap_spread

    peaked = torch.full((1, 1, 12, 12), -100.0)
    peaked[0, 0, 4, 6] = 0.0
    split = torch.full((1, 1, 12, 12), -100.0)
    split[0, 0, 4, 2] = split[0, 0, 4, 6] = 0.0  # two cells 32 px apart along x: std 16 px in x, 0 in y
    spreads = heatmap_spread(torch.cat([peaked, split, torch.zeros(1, 1, 12, 12)], dim=1))[0].numpy()
    uniform = np.sqrt(((np.arange(12) * 8.0 - 44) ** 2).mean())  # std of 12 cell centres 8 px apart
    np.testing.assert_allclose(spreads, [0.0, 16 / np.sqrt(2), uniform], atol=1e-3)
