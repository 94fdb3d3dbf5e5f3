"""Precision you can state: the auto-accept threshold, chosen on the random audit slice with a
finite-sample guarantee (Learn-then-Test), and the coverage it gives over the project's eligible items.

The audit slice is a uniform random sample of a project's items that reviewers label along the way;
an audited item is *correct* when the model's top label equals the human one. Items that active
learning picked are never used here: they are the hard cases, and a threshold fitted on them misses
its target. Audited items must not train the head either, or the estimate is measured in-sample.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import numpy as np

BAD_AUDIT = "Audit confidences and correctness must be two arrays of the same length."


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) two-sided binomial interval for ``successes`` out of ``trials``."""
    from scipy.stats import beta  # imported on use: scipy.stats costs half a second at start-up

    if trials <= 0:
        return 0.0, 1.0
    alpha = 1.0 - confidence
    low = 0.0 if successes <= 0 else float(beta.ppf(alpha / 2, successes, trials - successes + 1))
    high = 1.0 if successes >= trials else float(beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return low, high


def fewest_audited_for(target: float, confidence: float = 0.95) -> int:
    """The fewest audited items, all correct, whose interval's lower bound reaches ``target``."""
    return math.ceil(math.log((1.0 - confidence) / 2) / math.log(target))


def _audit_arrays(audit_confidences, audit_correct) -> tuple[np.ndarray, np.ndarray]:
    conf = np.asarray(audit_confidences, dtype=np.float64).ravel()
    correct = np.asarray(audit_correct, dtype=bool).ravel()
    if conf.shape != correct.shape:
        raise ValueError(BAD_AUDIT)
    return conf, correct


# --- Learn-then-Test ------------------------------------------------------------------------------
#
# The auto-accept threshold is chosen by Learn-then-Test (Angelopoulos, Bates, Candes, Jordan, Lei
# 2021): for each candidate threshold l, the null hypothesis "the labels accepted at l are less than
# ``target`` correct" is tested on the audited items at or above l; candidates are tested in a fixed
# order, from high thresholds to low, and the walk stops at the first that fails (fixed-sequence
# testing controls the family-wise error at delta without any correction). The threshold is the
# lowest one rejected, so with probability at least 1 - delta the accepted labels' precision is at
# least ``target``. The candidates and the order depend on confidences only, never on the audit's
# labels: they are the pool's confidence quantiles at every COVERAGE_STEP of coverage.
#
# p-values: the exact binomial tail P(Bin(n, target) >= correct) (finite-sample valid; strict mode
# uses nothing else), or, where at least PPI_MIN_AUDITED audited items sit above the threshold and the
# pool has at least as many unlabelled items there, prediction-powered inference (Angelopoulos et al.
# 2023, the power-tuned PPI++ estimator): the calibrated confidences of the unlabelled accepted items
# estimate their precision, the audited items above the threshold rectify that estimate (their
# correctness minus lambda times their confidence, lambda in [0, 1] chosen for the smallest variance),
# and a one-sided z-test decides. The binomial test needs 99 audited items above a threshold, all
# correct, for 97% at delta 5%; the prediction-powered one certifies from 70 when the confidences are
# calibrated there, which is what gives a project coverage from a hundred audit labels.
#
# Its guarantee is asymptotic and leans on the calibration where labels are few, so the test is
# guarded: the residual variance is never taken below what the calibrated model itself implies for it
# (mean c(1 - c) + (1 - lambda)^2 var(c), capped at the null's target (1 - target): a run of correct
# labels cannot shrink it to zero), nor the variance below a quarter of the classical test's; and the walk starts where PPI_START_SHARE of the audit
# slice is above (at least PPI_MIN_AUDITED), so a larger slice does not test on its few most confident
# items. tests/labeling/engine/test_precision.py measures what that gives: realised precision >= target
# in at least 1 - delta of simulated projects, label noise included, and coverage against the oracle.

DEFAULT_TARGET = 0.97
DEFAULT_DELTA = 0.05
COVERAGE_STEP = 0.005  # candidate thresholds: the pool's confidences at every half percent of coverage
PPI_MIN_AUDITED = 70  # prediction-powered p-values only where this many audited items are above
PPI_START_SHARE = 0.25  # the walk starts where this share of the audit slice (at least PPI_MIN_AUDITED) is above
PPI_TUNING = np.linspace(0.0, 1.0, 21)  # the power-tuning parameter's grid
METHOD_BINOMIAL = "binomial"
METHOD_PPI = "prediction-powered"
METHOD_MANUAL = "set by hand"

GUARANTEE_STATEMENT = (
    "auto-accepted labels are at least {target:.1f}% correct with {level:.0f}% confidence "
    "(Learn-then-Test, {method}, on {audited} audited items, {above} of them above the threshold, "
    "{correct_above} correct: {precision:.1f}%, lower bound {bound:.1f}%); "
    "{accepted} of {eligible} eligible items ({coverage:.1f}%) auto-accepted")
MANUAL_STATEMENT = (
    "threshold {threshold:.3f} set by hand {verdict} the {target:.1f}% target: {correct_above} of {above} audited items "
    "above it correct ({precision:.1f}%, {level:.0f}% lower bound {bound:.1f}%, {audited} audited in all); "
    "{accepted} of {eligible} eligible items ({coverage:.1f}%) auto-accepted")
NO_GUARANTEE_STATEMENT = (
    "no threshold is shown to reach {target:.1f}% with {level:.0f}% confidence{strict} on {audited} audited items "
    "({needed}); nothing is auto-accepted")
NEEDED_EXACT = "at least {n} audited items above a threshold, all correct, are needed"
NEEDED_PPI = ("at least {ppi} audited items above a threshold, nearly all correct and with calibrated confidences, "
              "or {n} all correct, are needed")


@functools.lru_cache(maxsize=1024)  # a pure function of three numbers, asked on every report: computed once
def fewest_for_guarantee(target: float, delta: float, errors: int = 0) -> int:
    """The fewest audited items above a threshold for ``errors`` mistakes among them to still pass the
    binomial test at level ``delta``."""
    from scipy.stats import binom

    low = errors + 1
    while True:  # in blocks, one vectorised call each (a scipy call per n costs a millisecond)
        n = np.arange(low, 2 * low + 1000)
        passing = np.flatnonzero(binom.sf(n - errors - 1, n, target) <= delta)
        if len(passing):
            return int(n[passing[0]])
        low = int(n[-1]) + 1


def fewest_to_certify(target: float, delta: float, *, strict: bool) -> int:
    """The fewest audited items above a threshold with which ``ltt_threshold`` can certify one: the
    binomial test's need (``fewest_for_guarantee``, all correct), or, unless ``strict``, the
    prediction-powered test's ``PPI_MIN_AUDITED`` where that is fewer (it passes there when those items
    are nearly all correct with calibrated confidences, and as many unlabelled items are above)."""
    binomial = fewest_for_guarantee(target, delta)
    return binomial if strict else min(binomial, PPI_MIN_AUDITED)


def binomial_p_values(correct, audited, target: float) -> np.ndarray:
    """P(Bin(n, target) >= x): how likely so many correct labels are if the precision were only ``target``."""
    from scipy.stats import binom

    x = np.asarray(correct, dtype=np.int64)
    n = np.asarray(audited, dtype=np.int64)
    return np.where(n > 0, binom.sf(x - 1, n, target), 1.0)


def ppi_p_values(*, n, sum_correct, sum_conf, sum_conf2, sum_correct_conf, big_n, sum_pool, sum_pool2,
                 target: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p-values, estimates, standard errors) of the prediction-powered (PPI++, power-tuned) test of
    precision <= target, one per threshold, from sums over the audited items above it (their count
    ``n``, correctness y and confidence c: sums of y, c, c², y·c) and over the unlabelled items above it
    (count ``big_n``, sums of their confidences and squares). Estimate: mean(y) + lambda (mean of the
    unlabelled c - mean(c)), with lambda in [0, 1] chosen for the smallest variance."""
    from scipy.stats import norm

    n = np.maximum(np.asarray(n, dtype=np.float64), 1.0)[:, None]
    big_n = np.maximum(np.asarray(big_n, dtype=np.float64), 1.0)[:, None]
    mean_y = np.asarray(sum_correct, dtype=np.float64)[:, None] / n
    mean_c = np.asarray(sum_conf, dtype=np.float64)[:, None] / n
    mean_c2 = np.asarray(sum_conf2, dtype=np.float64)[:, None] / n
    mean_yc = np.asarray(sum_correct_conf, dtype=np.float64)[:, None] / n
    mean_u = np.asarray(sum_pool, dtype=np.float64)[:, None] / big_n
    var_u = np.maximum(np.asarray(sum_pool2, dtype=np.float64)[:, None] / big_n - mean_u ** 2, 0.0)
    var_y, var_c = mean_y - mean_y ** 2, np.maximum(mean_c2 - mean_c ** 2, 0.0)
    cov = mean_yc - mean_y * mean_c
    lam = PPI_TUNING[None, :]
    residual = var_y - 2 * lam * cov + lam ** 2 * var_c  # var(y - lambda c) over the audited items
    null = target * (1 - target)  # the classical score test's variance of y
    # the residual variance if the confidences were calibrated: a run of correct labels never shrinks the
    # variance below it (nor, where the model claims more doubt than the null, below the null's)
    implied = np.minimum((mean_c - mean_c2) + (1 - lam) ** 2 * var_c, null)
    variance = np.maximum(residual, implied) / n + lam ** 2 * var_u / big_n
    variance = np.maximum(variance, null / (4 * n))  # at most a fourfold gain over the classical test
    best = np.argmin(variance, axis=1)
    rows = np.arange(len(best))
    estimate = mean_y[:, 0] + PPI_TUNING[best] * (mean_u[:, 0] - mean_c[:, 0])
    se = np.sqrt(variance[rows, best])
    return norm.sf((estimate - target) / se), estimate, se


@dataclass(frozen=True)
class Guarantee:
    """An auto-accept threshold chosen by Learn-then-Test, and what it guarantees."""

    target: float
    delta: float
    strict: bool
    threshold: float | None  # accept a prediction whose calibrated confidence is >= this; None: nothing
    method: str  # the p-value that passed at the threshold (binomial or prediction-powered)
    p_value: float | None
    audited_total: int
    audited_above: int
    correct_above: int
    precision: float | None  # correct / audited above the threshold
    bound: float | None  # a (1 - delta) lower confidence bound on the accepted labels' precision
    estimate: float | None  # the prediction-powered estimate (the binomial one where that was used)
    eligible: int  # items the threshold applies to (no person decided them)
    accepted: int  # of those, how many clear the threshold
    tested: int  # thresholds tested before the walk stopped
    needed: int  # audited items above a threshold, all correct, for the binomial test to pass

    @property
    def coverage(self) -> float:
        return self.accepted / self.eligible if self.eligible else 0.0

    def as_dict(self) -> dict:
        out = asdict(self)
        out["coverage"] = self.coverage
        out["statement"] = describe_guarantee(self)
        return out


def _lower_bound(correct: int, audited: int, delta: float) -> float:
    from scipy.stats import beta

    return 0.0 if correct <= 0 else float(beta.ppf(delta, correct, audited - correct + 1))


def candidate_thresholds(pool_confidences, step: float = COVERAGE_STEP) -> np.ndarray:
    """Distinct thresholds, high to low: the pool's confidences at every ``step`` of coverage."""
    pool = np.sort(np.asarray(pool_confidences, dtype=np.float64).ravel())[::-1]
    if not len(pool):
        return np.array([])
    ranks = np.unique(np.clip(np.ceil(np.arange(step, 1 + step / 2, step) * len(pool)).astype(np.int64), 1, len(pool)))
    return np.unique(pool[ranks - 1])[::-1]


def ltt_threshold(*, audit_confidences, audit_correct, pool_confidences=None, target: float = DEFAULT_TARGET,
                  delta: float = DEFAULT_DELTA, strict: bool = False) -> Guarantee:
    """The lowest threshold Learn-then-Test certifies for ``target`` precision at level ``delta``.

    ``pool_confidences`` are the calibrated confidences of the project's eligible items (those no
    person decided, outside the audit slice): coverage is stated over them, and the prediction-powered
    test uses them as the unlabelled items. Without a pool, the audit slice stands in for it and only
    the binomial test is used. Strict mode uses exact binomial p-values only.
    """
    conf, correct = _audit_arrays(audit_confidences, audit_correct)
    pool = conf if pool_confidences is None else np.asarray(pool_confidences, dtype=np.float64).ravel()
    needed = fewest_for_guarantee(target, delta)
    # The binomial walk starts where one mistake among the audited items above can still pass, if the
    # slice is that big: a single early error at a tiny n would otherwise stop the walk before it began.
    binomial_start = fewest_for_guarantee(target, delta, errors=1)
    binomial_start = binomial_start if len(conf) >= binomial_start else needed
    ppi_start = max(PPI_MIN_AUDITED, int(PPI_START_SHARE * len(conf)))
    candidates = candidate_thresholds(np.r_[pool, conf])
    order = np.argsort(-conf, kind="stable")
    sorted_conf, sorted_correct = conf[order], correct[order].astype(np.float64)

    def prefix(values: np.ndarray) -> np.ndarray:
        return np.r_[0.0, np.cumsum(values)]

    above = np.searchsorted(-sorted_conf, -candidates, side="right")  # audited items >= each candidate
    right = prefix(sorted_correct)[above].round().astype(np.int64)
    p_values = binomial_p_values(right, above, target)
    methods = np.full(len(candidates), METHOD_BINOMIAL, dtype=object)
    estimates = np.where(above > 0, right / np.maximum(above, 1), 0.0)
    errors = np.zeros(len(candidates))
    # which test a candidate gets depends on confidences and counts only, never on the labels
    binomial_ok = above >= binomial_start
    ppi_ok = np.zeros(len(candidates), dtype=bool)
    if not strict and pool_confidences is not None and len(candidates):
        pool_desc = -np.sort(-pool)
        big_n = np.searchsorted(-pool_desc, -candidates, side="right")  # unlabelled items >= each candidate
        ppi_ok = (above >= ppi_start) & (big_n >= above)
        p_ppi, estimate_ppi, se_ppi = ppi_p_values(
            n=above, sum_correct=right, sum_conf=prefix(sorted_conf)[above],
            sum_conf2=prefix(sorted_conf ** 2)[above], sum_correct_conf=prefix(sorted_correct * sorted_conf)[above],
            big_n=big_n, sum_pool=prefix(pool_desc)[big_n], sum_pool2=prefix(pool_desc ** 2)[big_n], target=target)
        p_values = np.where(ppi_ok, p_ppi, p_values)
        estimates = np.where(ppi_ok, estimate_ppi, estimates)
        errors = np.where(ppi_ok, se_ppi, errors)
        methods[ppi_ok] = METHOD_PPI
    # fixed-sequence testing: candidates high to low (those too few items can test are skipped), stopping
    # at the first that fails
    tested_at = np.flatnonzero(ppi_ok | binomial_ok)
    failed = np.flatnonzero(p_values[tested_at] > delta)
    passed = tested_at[:failed[0]] if len(failed) else tested_at
    tested = int(failed[0]) + 1 if len(failed) else len(tested_at)
    chosen = None
    if len(passed):
        k = int(passed[-1])
        chosen = (k, str(methods[k]), float(p_values[k]), float(estimates[k]), float(errors[k]))
    if chosen is None:
        return Guarantee(target=target, delta=delta, strict=strict, threshold=None, method=METHOD_BINOMIAL,
                         p_value=None, audited_total=len(conf), audited_above=0, correct_above=0, precision=None,
                         bound=None, estimate=None, eligible=len(pool), accepted=0, tested=tested, needed=needed)
    k, method, p, estimate, se = chosen
    threshold = float(candidates[k])
    n, x = int(above[k]), int(right[k])
    bound = _lower_bound(x, n, delta)
    if method == METHOD_PPI:  # the same z-test's one-sided lower confidence bound
        from scipy.stats import norm

        bound = max(bound, estimate - norm.isf(delta) * se)
    return Guarantee(target=target, delta=delta, strict=strict, threshold=threshold, method=method, p_value=p,
                     audited_total=len(conf), audited_above=n, correct_above=x, precision=x / n, bound=float(bound),
                     estimate=float(estimate), eligible=len(pool), accepted=int((pool >= threshold).sum()),
                     tested=tested, needed=needed)


def threshold_check(threshold: float, *, audit_confidences, audit_correct, pool_confidences=None,
                    target: float = DEFAULT_TARGET, delta: float = DEFAULT_DELTA) -> Guarantee:
    """What the audit slice says about a threshold a person set by hand: one binomial test (a single
    threshold fixed before looking needs no sequence); ``p_value <= delta`` means it is certified."""
    conf, correct = _audit_arrays(audit_confidences, audit_correct)
    pool = conf if pool_confidences is None else np.asarray(pool_confidences, dtype=np.float64).ravel()
    above = conf >= threshold
    n, x = int(above.sum()), int(correct[above].sum())
    return Guarantee(target=target, delta=delta, strict=True, threshold=float(threshold), method=METHOD_MANUAL,
                     p_value=float(binomial_p_values(x, n, target)), audited_total=len(conf), audited_above=n,
                     correct_above=x, precision=x / n if n else None, bound=_lower_bound(x, n, delta) if n else 0.0,
                     estimate=x / n if n else None, eligible=len(pool), accepted=int((pool >= threshold).sum()),
                     tested=1, needed=fewest_for_guarantee(target, delta))


def describe_guarantee(g: Guarantee) -> str:
    """The sentence a project shows: what is guaranteed, on how many audited items, and the coverage."""
    if g.method == METHOD_MANUAL:
        return MANUAL_STATEMENT.format(threshold=g.threshold, audited=g.audited_total, above=g.audited_above,
                                       correct_above=g.correct_above,
                                       precision=100 * (g.precision or 0.0), level=100 * (1 - g.delta),
                                       bound=100 * (g.bound or 0.0), accepted=f"{g.accepted:,}",
                                       eligible=f"{g.eligible:,}", coverage=100 * g.coverage,
                                       verdict="meets" if (g.p_value or 1.0) <= g.delta else "is not shown to meet",
                                       target=100 * g.target)
    if g.threshold is None:
        return NO_GUARANTEE_STATEMENT.format(target=100 * g.target, level=100 * (1 - g.delta),
                                             strict=" (strict)" if g.strict else "", audited=g.audited_total,
                                             needed=(NEEDED_EXACT if g.strict else NEEDED_PPI).format(
                                                 n=g.needed, ppi=PPI_MIN_AUDITED))
    return GUARANTEE_STATEMENT.format(target=100 * g.target, level=100 * (1 - g.delta), method=g.method,
                                      audited=g.audited_total, above=g.audited_above, correct_above=g.correct_above,
                                      precision=100 * g.precision, bound=100 * g.bound, accepted=f"{g.accepted:,}",
                                      eligible=f"{g.eligible:,}", coverage=100 * g.coverage)


def oracle_threshold(confidences, correct, target: float) -> tuple[float | None, float]:
    """(threshold, coverage) of the lowest threshold whose accepted items really are ``target`` correct
    (given every item's truth): what a perfect auditor would choose, to measure coverage against."""
    conf, right = _audit_arrays(confidences, correct)
    order = np.argsort(-conf, kind="stable")
    sorted_conf = conf[order]
    running = np.cumsum(right[order]) / np.arange(1, len(conf) + 1)
    ends = np.flatnonzero(np.r_[sorted_conf[1:] != sorted_conf[:-1], True]) if len(conf) else np.array([], int)
    ok = ends[running[ends] >= target]
    if not len(ok):
        return None, 0.0
    return float(sorted_conf[ok[-1]]), (ok[-1] + 1) / len(conf)


def audit_top_up(*, audited: int, pool_size: int, items_added: int = 0, model_changed: bool = False,
                 base_size: int = 150, per_model: int = 10) -> int:
    """How many more items to draw into the audit slice, uniformly at random from items not yet audited.

    The rule: (1) the slice holds at least ``base_size`` items (or the whole pool, if smaller);
    (2) when ``items_added`` new items arrive, it takes from them at the rate it already samples
    the rest of the pool, so every item keeps the same chance of being audited; (3) each new model
    version adds ``per_model`` fresh items, so the threshold of a model that changes keeps being
    checked on items no earlier threshold was chosen with. The result never exceeds the items left.
    """
    left = max(0, pool_size - audited)
    shortfall = max(0, min(base_size, pool_size) - audited)
    previous_pool = pool_size - items_added
    rate = min(1.0, audited / previous_pool) if previous_pool > 0 else 1.0
    arrivals = math.ceil(items_added * rate) if items_added > 0 else 0
    fresh = per_model if model_changed else 0
    return min(left, shortfall + arrivals + fresh)
