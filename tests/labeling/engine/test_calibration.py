"""Temperature scaling and ECE (labeling/engine/calibration.py), on cases small enough to work out by hand."""

import math

import numpy as np
import pytest

from labeling.engine.calibration import (
    KEPT_NOT_BETTER,
    KEPT_TOO_FEW,
    MIN_REFIT_ITEMS,
    TEMPERATURE_BOUNDS,
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    softmax,
    temperature_update,
)


def test_ece_by_hand_over_two_bins():
    # two items at confidence 0.95 (bin 15), one right; two at 0.55 (bin 9), one right
    probs = np.array([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.45, 0.55]])
    labels = np.array([0, 1, 0, 0])
    # 2/4 * |0.5 - 0.95| + 2/4 * |0.5 - 0.55| = 0.225 + 0.025
    assert expected_calibration_error(probs, labels, n_bins=15) == pytest.approx(0.25, abs=1e-12)


def test_ece_bins_are_closed_on_the_right():
    # 0.6 sits in (8/15, 9/15] with 15 bins: a lone right answer at exactly a bin edge
    assert expected_calibration_error(np.array([[0.6, 0.4]]), np.array([0]), n_bins=15) == pytest.approx(0.4)
    assert expected_calibration_error(np.array([[0.5, 0.5]]), np.array([0]), n_bins=2) == pytest.approx(0.5)


def test_temperature_scaling_lowers_ece_by_the_amount_worked_out_by_hand():
    # Ten items, all with logits (ln 9, 0): the model says 90% every time, but is right 6 times in 10.
    logits = np.tile([math.log(9.0), 0.0], (10, 1))
    labels = np.array([0] * 6 + [1] * 4)
    # ECE before: one bin, |accuracy 0.6 - confidence 0.9| = 0.3
    assert expected_calibration_error(softmax(logits), labels) == pytest.approx(0.3, abs=1e-12)
    # NLL of identical items is minimised when the confidence equals the accuracy: sigmoid(ln 9 / T) = 0.6,
    # so T = ln 9 / ln(0.6 / 0.4) = ln 9 / ln 1.5 = 5.4190..., and then ECE = |0.6 - 0.6| = 0.
    expected_t = math.log(9.0) / math.log(1.5)

    fit = fit_temperature(logits, labels)

    assert fit.temperature == pytest.approx(expected_t, rel=1e-4)
    assert fit.n_items == 10
    assert fit.ece_before == pytest.approx(0.3, abs=1e-12)
    assert fit.ece_after == pytest.approx(0.0, abs=1e-4)
    assert fit.ece_before - fit.ece_after == pytest.approx(0.3, abs=1e-4)
    # NLL before: -(0.6 ln 0.9 + 0.4 ln 0.1); after: -(0.6 ln 0.6 + 0.4 ln 0.4)
    assert fit.nll_before == pytest.approx(-(0.6 * math.log(0.9) + 0.4 * math.log(0.1)), rel=1e-9)
    assert fit.nll_after == pytest.approx(-(0.6 * math.log(0.6) + 0.4 * math.log(0.4)), rel=1e-6)
    assert apply_temperature(logits, fit.temperature)[0, 0] == pytest.approx(0.6, abs=1e-5)


def test_temperature_undoes_a_scaling_of_the_logits():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=400)
    logits = rng.normal(size=(400, 3))
    logits[np.arange(400), labels] += 1.5
    t0 = fit_temperature(logits, labels).temperature
    # softmax(4z / 4T0) == softmax(z / T0): over-confident logits get a 4x larger temperature, and back
    assert fit_temperature(logits * 4, labels).temperature == pytest.approx(4 * t0, rel=1e-3)
    assert fit_temperature(logits / 4, labels).temperature == pytest.approx(t0 / 4, rel=1e-3)


def test_fitted_temperature_never_raises_nll_and_stays_in_bounds():
    logits = np.array([[20.0, 0.0], [20.0, 0.0], [0.0, 20.0]])
    labels = np.array([1, 1, 0])  # always wrong: the best temperature is as large as allowed
    fit = fit_temperature(logits, labels)
    assert fit.temperature == pytest.approx(TEMPERATURE_BOUNDS[1], rel=1e-3)
    assert fit.nll_after <= fit.nll_before
    assert negative_log_likelihood(logits, labels, fit.temperature) == pytest.approx(fit.nll_after)


def test_apply_temperature_multi_label_is_sigmoid_per_label():
    p = apply_temperature(np.array([[0.0, 2.0, -2.0]]), 2.0, multi_label=True)
    assert p == pytest.approx(np.array([[0.5, 1 / (1 + math.exp(-1)), 1 / (1 + math.exp(1))]]))


def test_bad_labels_are_refused():
    with pytest.raises(ValueError, match=r"labels must be 2 class indices in \[0, 2\)"):
        fit_temperature(np.zeros((2, 2)), np.array([0, 2]))
    with pytest.raises(ValueError, match="at least one labelled item"):
        fit_temperature(np.zeros((0, 2)), np.array([], dtype=int))


def _overconfident(seed: int, n: int, accuracy: float = 0.7, k: int = 3):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    predicted = np.where(rng.random(n) < accuracy, labels, (labels + 1) % k)
    logits = rng.normal(0, 0.3, (n, k))
    logits[np.arange(n), predicted] += 6.0
    return logits, labels


def test_a_fit_that_cannot_improve_on_held_out_nll_leaves_the_temperature_as_it_was():
    logits, labels = _overconfident(0, 400)
    good = fit_temperature(logits, labels).temperature
    # the previous temperature is already the best one: a refit on the same kind of data is not better
    kept = temperature_update(logits, labels, previous=good)
    assert (kept.refitted, kept.temperature, kept.fit) == (False, good, None)
    assert kept.reason == KEPT_NOT_BETTER.format(new=kept.heldout_nll_new, old=kept.heldout_nll_previous)
    assert kept.heldout_nll_new >= kept.heldout_nll_previous - 1e-4
    # a handful of items never overwrite a fit (the 4-18 items of a round without a promotion)
    few = temperature_update(logits[:12], labels[:12], previous=good)
    assert (few.refitted, few.temperature) == (False, good)
    assert few.reason == KEPT_TOO_FEW.format(n=12, need=MIN_REFIT_ITEMS)


def test_a_fit_better_on_held_out_nll_replaces_a_bad_temperature():
    logits, labels = _overconfident(1, 400)
    changed = temperature_update(logits, labels, previous=1.0)
    assert changed.refitted
    assert changed.temperature == pytest.approx(fit_temperature(logits, labels).temperature)
    assert changed.heldout_nll_new < changed.heldout_nll_previous
    assert negative_log_likelihood(logits, labels, changed.temperature) < negative_log_likelihood(logits, labels, 1.0)
    assert changed.reason.startswith("refitted: held-out NLL ")
