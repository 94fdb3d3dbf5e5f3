"""The auto-accept threshold and the precision a project states for it, from the random audit slice."""

import numpy as np
import pytest
from scipy.stats import binomtest

from labeling.engine.precision import (
    BAD_AUDIT,
    NO_THRESHOLD_STATEMENT,
    audit_top_up,
    choose_threshold,
    clopper_pearson,
    describe_precision,
    fewest_audited_for,
    precision_at,
)

# Ten audited items, most confident first: the running precision is 1, 1, 1, 1, 1, 1, 6/7, 7/8, 7/9, 7/10.
CONFIDENCES = [0.99, 0.97, 0.95, 0.93, 0.90, 0.88, 0.85, 0.80, 0.75, 0.70]
CORRECT = [1, 1, 1, 1, 1, 1, 0, 1, 0, 0]


def test_clopper_pearson_matches_hand_values():
    assert clopper_pearson(0, 10) == (0.0, pytest.approx(1 - 0.025 ** 0.1))
    assert clopper_pearson(10, 10) == (pytest.approx(0.025 ** 0.1), 1.0)
    assert clopper_pearson(5, 10) == (pytest.approx(0.187086, abs=1e-6), pytest.approx(0.812914, abs=1e-6))
    assert clopper_pearson(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("successes", "trials"), [(1, 1), (7, 20), (97, 100), (175, 180), (0, 3), (399, 400)])
def test_clopper_pearson_matches_scipy_exact_interval(successes, trials):
    expected = binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="exact")
    low, high = clopper_pearson(successes, trials)
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)
    low99, high99 = clopper_pearson(successes, trials, confidence=0.99)
    expected99 = binomtest(successes, trials).proportion_ci(confidence_level=0.99, method="exact")
    assert (low99, high99) == (pytest.approx(expected99.low, abs=1e-12), pytest.approx(expected99.high, abs=1e-12))


def test_normal_mode_picks_the_lowest_threshold_whose_audited_precision_meets_the_target():
    choice = choose_threshold(audit_confidences=CONFIDENCES, audit_correct=CORRECT, target=0.85, min_audited=1)
    assert choice.threshold == 0.80
    assert (choice.audited_above, choice.correct_above, choice.precision) == (8, 7, 0.875)
    assert choice.interval == clopper_pearson(7, 8)
    assert choice.auto_accept_fraction == pytest.approx(0.8)
    assert choose_threshold(audit_confidences=CONFIDENCES, audit_correct=CORRECT, target=0.9,
                            min_audited=1).threshold == 0.88
    # ten audited items are required by default, and all ten are only 70% correct
    assert choose_threshold(audit_confidences=CONFIDENCES, audit_correct=CORRECT, target=0.85).threshold is None


def test_a_threshold_never_splits_items_of_equal_confidence():
    choice = choose_threshold(audit_confidences=[0.9, 0.9, 0.8], audit_correct=[1, 0, 1], target=0.6,
                              min_audited=1)
    assert (choice.threshold, choice.audited_above, choice.correct_above) == (0.8, 3, 2)
    assert choose_threshold(audit_confidences=[0.9, 0.9], audit_correct=[1, 0], target=1.0,
                            min_audited=1).threshold is None


def test_auto_accept_fraction_is_measured_on_the_whole_pool():
    pool = np.r_[np.full(41, 0.95), np.full(59, 0.2)]
    choice = precision_at(0.9, audit_confidences=[0.95] * 175 + [0.91] * 5 + [0.5] * 20,
                          audit_correct=[1] * 175 + [0] * 5 + [1] * 20, pool_confidences=pool)
    assert choice.auto_accept_fraction == pytest.approx(0.41)
    assert describe_precision(choice) == (
        "auto-accepted labels: 97.2% correct (95% CI 93.6 to 99.1) on 180 audited items; 41% of items auto-accepted")
    assert choice.as_dict()["statement"] == describe_precision(choice)


def test_strict_mode_needs_the_lower_bound_to_clear_the_target_from_the_top_down():
    assert fewest_audited_for(0.9) == 36  # 0.025 ** (1/36) >= 0.9 > 0.025 ** (1/35)
    assert fewest_audited_for(0.97) == 122
    conf = np.linspace(0.999, 0.5, 150)
    correct = np.r_[np.ones(40), np.zeros(3), np.ones(100), np.zeros(7)].astype(bool)
    strict = choose_threshold(audit_confidences=conf, audit_correct=correct, target=0.9, strict=True)
    # 40 of 40 clears 0.9; 40 of 41 does not, and the walk stops there, even though 140 of 143 would clear it
    assert clopper_pearson(40, 41)[0] < 0.9 <= clopper_pearson(140, 143)[0]
    assert strict.threshold == conf[39]
    assert (strict.audited_above, strict.correct_above) == (40, 40)
    assert describe_precision(strict) == (
        "auto-accepted labels: 100.0% correct (95% CI 91.2 to 100.0) on 40 audited items; 27% of items auto-accepted")
    normal = choose_threshold(audit_confidences=conf, audit_correct=correct, target=0.9)
    assert (normal.threshold, normal.audited_above, normal.correct_above) == (0.5, 150, 140)
    # too few audited items for any lower bound to reach 97%: nothing is auto-accepted
    none = choose_threshold(audit_confidences=conf, audit_correct=np.ones(150, bool)[:121].tolist() + [False] * 29,
                            target=0.97, strict=True)
    assert none.threshold is None
    assert describe_precision(none) == NO_THRESHOLD_STATEMENT.format(target=97.0, strict=" (strict)", audited=150)
    assert describe_precision(none) == (
        "no threshold reaches the 97.0% target (strict) on 150 audited items; nothing is auto-accepted")


def test_mismatched_audit_arrays_are_refused():
    with pytest.raises(ValueError) as err:
        choose_threshold(audit_confidences=[0.9, 0.8], audit_correct=[1], target=0.9)
    assert str(err.value) == BAD_AUDIT


def _simulated_project(seed: int, pool: int = 10_000, audit: int = 300):
    """A pool whose confidences lean high, with a known calibration curve (P(correct) = confidence)."""
    rng = np.random.default_rng(seed)
    confidence = 0.5 + 0.5 * rng.beta(8, 1, pool)
    correct = rng.random(pool) < confidence
    audited = rng.choice(pool, audit, replace=False)
    return confidence, correct, audited


def test_over_many_projects_the_stated_interval_holds_and_strict_mode_meets_its_target():
    target = 0.95
    covered, strict_ok, strict_accepting, strict_met = [], [], 0, []
    for seed in range(400):
        confidence, correct, audited = _simulated_project(seed)
        normal = choose_threshold(audit_confidences=confidence[audited], audit_correct=correct[audited],
                                  target=target, pool_confidences=confidence)
        realised = correct[confidence >= normal.threshold].mean()
        covered.append(normal.interval[0] <= realised <= normal.interval[1])

        strict = choose_threshold(audit_confidences=confidence[audited], audit_correct=correct[audited],
                                  target=target, pool_confidences=confidence, strict=True)
        if strict.threshold is None:  # nothing auto-accepted, so no auto-accepted label is wrong
            strict_ok.append(True)
            continue
        strict_accepting += 1
        met = correct[confidence >= strict.threshold].mean() >= target
        strict_ok.append(met)
        strict_met.append(met)
    assert np.mean(covered) >= 0.95
    assert np.mean(strict_ok) >= 0.95
    # not a vacuous pass: strict mode accepts in about half the projects, and meets the target there too
    assert strict_accepting >= 150
    assert np.mean(strict_met) >= 0.95


def test_audit_top_up_rule():
    assert audit_top_up(audited=0, pool_size=1000) == 150  # a new project gets the full slice
    assert audit_top_up(audited=0, pool_size=90) == 90  # or the whole pool, if smaller
    assert audit_top_up(audited=150, pool_size=1000) == 0
    assert audit_top_up(audited=150, pool_size=1000, model_changed=True) == 10  # each new model: 10 fresh items
    # 500 new items arrive: sampled at the rate the slice already samples the pool (150 / 1000)
    assert audit_top_up(audited=150, pool_size=1500, items_added=500) == 75
    assert audit_top_up(audited=150, pool_size=1500, items_added=500, model_changed=True, per_model=20) == 95
    assert audit_top_up(audited=148, pool_size=150, model_changed=True) == 2  # never more than what is left
