"""The auto-accept threshold (Learn-then-Test) and what a project states for it, from the random audit slice."""

import functools

import numpy as np
import pytest
from scipy.stats import binomtest

from labeling.engine.calibration import apply_temperature, fit_temperature
from labeling.engine.precision import (
    BAD_AUDIT,
    METHOD_BINOMIAL,
    METHOD_PPI,
    NEEDED_PPI,
    NO_GUARANTEE_STATEMENT,
    audit_top_up,
    binomial_p_values,
    clopper_pearson,
    describe_guarantee,
    fewest_for_guarantee,
    fewest_to_certify,
    ltt_threshold,
    oracle_threshold,
    threshold_check,
)


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


def test_ltt_tests_thresholds_from_high_to_low_and_stops_at_the_first_failure():
    # 400 audited items; the 300 most confident are all correct, the rest are half right
    conf = np.linspace(0.999, 0.5, 400)
    correct = np.r_[np.ones(300), np.tile([1, 0], 50)].astype(bool)
    g = ltt_threshold(audit_confidences=conf, audit_correct=correct, target=0.97, delta=0.05, strict=True)
    assert g.method == METHOD_BINOMIAL
    assert g.threshold is not None
    # every tested threshold passed up to the chosen one, and the next one down fails the binomial test
    assert g.p_value <= 0.05
    assert binomial_p_values(g.correct_above, g.audited_above, 0.97) == pytest.approx(g.p_value)
    assert g.audited_above >= 300 and g.correct_above >= 300
    next_n = g.audited_above + 3
    next_x = int(correct[:next_n].sum())
    assert binomial_p_values(next_x, next_n, 0.97) > 0.05 or next_n > 400
    assert g.bound == pytest.approx(clopper_pearson(g.correct_above, g.audited_above, confidence=0.9)[0])
    assert g.eligible == 400 and g.accepted == int((conf >= g.threshold).sum())


def test_one_early_mistake_does_not_stop_the_walk_when_the_slice_is_big_enough():
    # the single mistake is the most confident item: the walk starts where one mistake can still pass
    conf = np.linspace(0.999, 0.6, 300)
    correct = np.ones(300, bool)
    correct[0] = False
    assert fewest_for_guarantee(0.97, 0.05) == 99  # 0.97 ** 99 <= 0.05 < 0.97 ** 98
    start = fewest_for_guarantee(0.97, 0.05, errors=1)
    assert binomial_p_values(start - 1, start, 0.97) <= 0.05 < binomial_p_values(start - 2, start - 1, 0.97)
    g = ltt_threshold(audit_confidences=conf, audit_correct=correct, target=0.97, strict=True)
    assert g.threshold is not None and g.audited_above >= start


def test_too_few_audited_items_accept_nothing_and_say_how_many_are_needed():
    g = ltt_threshold(audit_confidences=np.linspace(0.99, 0.9, 80), audit_correct=np.ones(80, bool),
                      pool_confidences=np.linspace(0.99, 0.5, 1000), target=0.97)
    assert (g.threshold, g.accepted, g.eligible, g.coverage) == (None, 0, 1000, 0.0)
    assert describe_guarantee(g) == NO_GUARANTEE_STATEMENT.format(
        target=97.0, level=95, strict="", audited=80, needed=NEEDED_PPI.format(ppi=70, n=99))
    assert describe_guarantee(g) == (
        "no threshold is shown to reach 97.0% with 95% confidence on 80 audited items (at least 70 audited items "
        "above a threshold, nearly all correct and with calibrated confidences, or 99 all correct, are needed); "
        "nothing is auto-accepted")
    strict = ltt_threshold(audit_confidences=np.linspace(0.99, 0.9, 80), audit_correct=np.ones(80, bool),
                           pool_confidences=np.linspace(0.99, 0.5, 1000), target=0.97, strict=True)
    assert describe_guarantee(strict) == (
        "no threshold is shown to reach 97.0% with 95% confidence (strict) on 80 audited items (at least 99 audited "
        "items above a threshold, all correct, are needed); nothing is auto-accepted")


def test_seventy_calibrated_audited_items_above_a_threshold_certify_it_where_the_exact_test_needs_99():
    # 100 audited items: 80 above 0.99, all correct, 20 below 0.9, all wrong; 4,000 unlabelled items alike
    rng = np.random.default_rng(7)
    pool = np.r_[rng.uniform(0.99, 0.9999, 3200), rng.uniform(0.5, 0.9, 800)]
    conf = np.r_[rng.uniform(0.99, 0.9999, 80), rng.uniform(0.5, 0.9, 20)]
    correct = np.r_[np.ones(80), np.zeros(20)].astype(bool)
    g = ltt_threshold(audit_confidences=conf, audit_correct=correct, pool_confidences=pool, target=0.97)
    assert g.method == METHOD_PPI and g.threshold is not None and g.threshold > conf[80:].max()
    assert (g.audited_above, g.correct_above) == (80, 80)
    assert g.p_value <= 0.05 and 0.97 < g.bound < g.estimate
    assert g.accepted == int((pool >= g.threshold).sum()) and g.accepted >= 2800
    exact = ltt_threshold(audit_confidences=conf, audit_correct=correct, pool_confidences=pool, target=0.97,
                          strict=True)
    assert (exact.threshold, exact.accepted) == (None, 0)
    # one mistake among them and the same walk certifies nothing
    correct[0] = False
    assert ltt_threshold(audit_confidences=conf, audit_correct=correct, pool_confidences=pool,
                         target=0.97).threshold is None


@pytest.mark.parametrize("strict", [False, True])
def test_the_fewest_audited_items_said_to_be_needed_are_exactly_what_the_walk_needs(strict):
    # 97% / δ 5%: 70 audited items for the prediction-powered test, 99 all correct for the binomial one
    need = fewest_to_certify(0.97, 0.05, strict=strict)
    assert need == (99 if strict else 70)
    assert (fewest_to_certify(0.9, 0.1, strict=False), fewest_to_certify(0.9, 0.1, strict=True)) == (22, 22)
    assert (fewest_to_certify(0.97, 0.1, strict=False), fewest_to_certify(0.97, 0.1, strict=True)) == (70, 76)

    def walk(audited: int):  # every audited item correct, confidences calibrated, many unlabelled items alike
        return ltt_threshold(audit_confidences=np.full(audited, 0.995), audit_correct=np.ones(audited, bool),
                             pool_confidences=np.full(1000, 0.995), target=0.97, delta=0.05, strict=strict)

    enough, one_short = walk(need), walk(need - 1)
    assert (enough.threshold, enough.method, enough.audited_above) == (
        0.995, METHOD_BINOMIAL if strict else METHOD_PPI, need)
    assert (one_short.threshold, one_short.accepted) == (None, 0)


def test_the_statement_says_what_is_guaranteed_on_how_many_items_and_the_coverage_of_the_eligible_items():
    rng = np.random.default_rng(3)
    pool = rng.uniform(0.5, 1.0, 5000)
    audited = rng.choice(5000, 400, replace=False)
    correct = rng.random(5000) < np.where(pool > 0.8, 0.999, 0.8)
    g = ltt_threshold(audit_confidences=pool[audited], audit_correct=correct[audited], pool_confidences=pool,
                      target=0.97, delta=0.05)
    assert g.threshold is not None and g.eligible == 5000
    assert g.accepted == int((pool >= g.threshold).sum())
    out = g.as_dict()
    assert out["coverage"] == pytest.approx(g.accepted / 5000)
    assert out["statement"] == describe_guarantee(g)
    assert out["statement"].startswith("auto-accepted labels are at least 97.0% correct with 95% confidence "
                                       f"(Learn-then-Test, {g.method}, on 400 audited items, {g.audited_above} of them")
    assert out["statement"].endswith(f"{g.accepted:,} of 5,000 eligible items ({100 * g.coverage:.1f}%) auto-accepted")


def test_a_threshold_set_by_hand_is_checked_by_one_binomial_test():
    conf = np.r_[np.full(200, 0.95), np.full(50, 0.5)]
    correct = np.r_[np.ones(199), np.zeros(1), np.ones(50)].astype(bool)
    g = threshold_check(0.9, audit_confidences=conf, audit_correct=correct, target=0.97)
    assert (g.audited_above, g.correct_above, g.accepted, g.eligible) == (200, 199, 200, 250)
    assert g.p_value == pytest.approx(binomial_p_values(199, 200, 0.97)) and g.p_value <= 0.05
    assert describe_guarantee(g).startswith("threshold 0.900 set by hand meets the 97.0% target: 199 of 200 audited")
    bad = threshold_check(0.4, audit_confidences=conf, audit_correct=np.r_[np.ones(200), np.zeros(50)].astype(bool))
    assert describe_guarantee(bad).startswith("threshold 0.400 set by hand is not shown to meet the 97.0% target")


def test_mismatched_audit_arrays_are_refused():
    with pytest.raises(ValueError) as err:
        ltt_threshold(audit_confidences=[0.9, 0.8], audit_correct=[1], target=0.9)
    assert str(err.value) == BAD_AUDIT


def _simulated_project(seed: int, n_classes: int, noise: float, audit: int, label_noise: float = 0.0,
                       pool: int = 4000):
    """A project: true classes, a model whose logits are a scaled, noisy view of the truth, people's
    labels of which ``label_noise`` disagree with the model's evidence (ambiguous or mislabelled items, so
    no confidence reaches 100% precision), a random audit slice on which the temperature is fitted, and
    the calibrated confidences of every item."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, pool)
    z = rng.normal(0, 1, (pool, n_classes))
    z[np.arange(pool), truth] += rng.uniform(1.5, 5)
    logits = z * rng.uniform(0.5, 3) + rng.normal(0, noise, (pool, n_classes))
    flipped = rng.random(pool) < label_noise
    truth = np.where(flipped, (truth + 1) % n_classes, truth)
    correct = logits.argmax(axis=1) == truth
    audited = rng.choice(pool, audit, replace=False)
    temperature = fit_temperature(logits[audited], truth[audited]).temperature
    return apply_temperature(logits, temperature).max(axis=1), correct, audited


AUDIT_SIZES = (100, 200, 300, 600)
LABEL_NOISE = (0.0, 0.02)


@functools.cache
def _simulation(strict: bool) -> list[dict]:
    """240 simulated projects (class counts 2-10, logit noise, label noise 0 or 2%, audit slices of 100 to
    600 items): for each, whether the realised precision of the auto-accepted items (everything outside
    the audit slice that clears the threshold) reaches 97%, its coverage, and the oracle threshold's."""
    target, delta = 0.97, 0.05
    rows = []
    for seed in range(240):
        n_classes, noise = (2, 3, 5, 10)[seed % 4], (0.0, 1.0, 2.0)[seed // 4 % 3]
        label_noise, audit = LABEL_NOISE[seed // 12 % 2], AUDIT_SIZES[seed // 24 % 4]
        confidence, correct, audited = _simulated_project(seed, n_classes, noise, audit, label_noise)
        eligible = np.ones(len(confidence), bool)
        eligible[audited] = False
        g = ltt_threshold(audit_confidences=confidence[audited], audit_correct=correct[audited],
                          pool_confidences=confidence[eligible], target=target, delta=delta, strict=strict)
        accepted = eligible & (confidence >= g.threshold) if g.threshold is not None else np.zeros_like(eligible)
        assert g.accepted == accepted.sum() and g.eligible == eligible.sum()
        rows.append({"audit": audit, "label_noise": label_noise, "method": g.method,
                     "met": not accepted.any() or correct[accepted].mean() >= target,
                     "coverage": g.coverage,
                     "oracle": oracle_threshold(confidence[eligible], correct[eligible], target)[1]})
    return rows


def _coverage_ratio(rows: list[dict], audit: int, label_noise: float = 0.0) -> float:
    """The method's coverage summed over the projects, over the oracle's summed over the same projects."""
    chosen = [r for r in rows if r["audit"] == audit and r["label_noise"] == label_noise]
    return sum(r["coverage"] for r in chosen) / sum(r["oracle"] for r in chosen)


@pytest.mark.parametrize("strict", [False, True])
def test_over_240_simulated_projects_auto_accepted_labels_meet_the_target_in_at_least_1_minus_delta(strict):
    """Several class counts, logit and label noise levels and audit sizes: the realised precision of the
    auto-accepted items reaches the target in at least 95% of projects, at every audit size."""
    rows = _simulation(strict)
    assert np.mean([r["met"] for r in rows]) >= 0.95
    for audit in AUDIT_SIZES:
        assert np.mean([r["met"] for r in rows if r["audit"] == audit]) >= 0.9  # 60 projects each: no size far off
    methods = {r["method"] for r in rows}
    assert methods == ({METHOD_BINOMIAL} if strict else {METHOD_BINOMIAL, METHOD_PPI})


def test_a_few_hundred_audited_items_give_most_of_the_oracle_coverage():
    """Coverage against the oracle threshold's (a perfect auditor's), summed over the 30 simulated projects
    with clean labels at each audit size: the prediction-powered walk reaches these floors where the exact
    binomial test (strict mode) needs 99 audited items above a threshold, all correct, and stays near zero
    on a hundred."""
    rows, exact = _simulation(False), _simulation(True)
    ratio = {audit: round(_coverage_ratio(rows, audit), 3) for audit in AUDIT_SIZES}
    strict = {audit: round(_coverage_ratio(exact, audit), 3) for audit in AUDIT_SIZES}
    print("coverage / oracle coverage, clean labels:", ratio, "strict:", strict)
    print("with 2% label noise:", {audit: round(_coverage_ratio(rows, audit, 0.02), 3) for audit in AUDIT_SIZES})
    assert ratio[100] >= FLOOR[100] and ratio[200] >= FLOOR[200] and ratio[300] >= FLOOR[300]
    assert ratio[100] > strict[100] + 0.2


FLOOR = {100: 0.5, 200: 0.8, 300: 0.85}  # measured: 0.520, 0.816, 0.877 (strict: 0.146, 0.629, 0.780)


def test_audit_top_up_rule():
    assert audit_top_up(audited=0, pool_size=1000) == 150  # a new project gets the full slice
    assert audit_top_up(audited=0, pool_size=90) == 90  # or the whole pool, if smaller
    assert audit_top_up(audited=150, pool_size=1000) == 0
    assert audit_top_up(audited=150, pool_size=1000, model_changed=True) == 10  # each new model: 10 fresh items
    # 500 new items arrive: sampled at the rate the slice already samples the pool (150 / 1000)
    assert audit_top_up(audited=150, pool_size=1500, items_added=500) == 75
    assert audit_top_up(audited=150, pool_size=1500, items_added=500, model_changed=True, per_model=20) == 95
    assert audit_top_up(audited=148, pool_size=150, model_changed=True) == 2  # never more than what is left
