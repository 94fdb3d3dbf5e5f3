"""Precision you can state: the auto-accept threshold, chosen on the random audit slice, with an exact interval.

The audit slice is a uniform random sample of a project's items that reviewers label along the way;
an audited item is *correct* when the model's top label equals the human one. Items that active
learning picked are never used here: they are the hard cases, and a threshold fitted on them misses
its target. Audited items must not train the head either, or the estimate is measured in-sample.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

PRECISION_STATEMENT = ("auto-accepted labels: {precision:.1f}% correct ({level:.0f}% CI {low:.1f} to {high:.1f}) "
                       "on {audited} audited items; {accepted:.0f}% of items auto-accepted")
NO_THRESHOLD_STATEMENT = ("no threshold reaches the {target:.1f}% target{strict} on {audited} audited items; "
                          "nothing is auto-accepted")
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


def _lower_bounds(successes: np.ndarray, trials: np.ndarray, confidence: float) -> np.ndarray:
    from scipy.stats import beta

    alpha = 1.0 - confidence
    safe = np.maximum(successes, 1)
    return np.where(successes > 0, beta.ppf(alpha / 2, safe, trials - successes + 1), 0.0)


def fewest_audited_for(target: float, confidence: float = 0.95) -> int:
    """The fewest audited items, all correct, whose interval's lower bound reaches ``target``."""
    return math.ceil(math.log((1.0 - confidence) / 2) / math.log(target))


@dataclass(frozen=True)
class ThresholdChoice:
    """An auto-accept threshold and what the audit slice says about the labels it accepts."""

    target: float
    strict: bool
    threshold: float | None  # accept a prediction whose confidence is >= this; None accepts nothing
    precision: float | None  # correct / audited among audited items at or above the threshold
    interval: tuple[float, float] | None  # exact binomial interval of that precision
    audited_above: int
    correct_above: int
    audited_total: int
    auto_accept_fraction: float  # share of the pool (or, without one, of the audit slice) accepted
    confidence: float = 0.95

    def as_dict(self) -> dict:
        out = asdict(self)
        out["interval"] = None if self.interval is None else list(self.interval)
        out["statement"] = describe_precision(self)
        return out


def _audit_arrays(audit_confidences, audit_correct) -> tuple[np.ndarray, np.ndarray]:
    conf = np.asarray(audit_confidences, dtype=np.float64).ravel()
    correct = np.asarray(audit_correct, dtype=bool).ravel()
    if conf.shape != correct.shape:
        raise ValueError(BAD_AUDIT)
    return conf, correct


def precision_at(threshold: float | None, *, audit_confidences, audit_correct, pool_confidences=None,
                 target: float = 0.0, strict: bool = False, confidence: float = 0.95) -> ThresholdChoice:
    """What the audit slice says about a given threshold (e.g. one a project set by hand)."""
    conf, correct = _audit_arrays(audit_confidences, audit_correct)
    population = conf if pool_confidences is None else np.asarray(pool_confidences, dtype=np.float64).ravel()
    if threshold is None:
        return ThresholdChoice(target, strict, None, None, None, 0, 0, len(conf), 0.0, confidence)
    above = conf >= threshold
    n, x = int(above.sum()), int(correct[above].sum())
    accepted = float((population >= threshold).mean()) if len(population) else 0.0
    return ThresholdChoice(target=target, strict=strict, threshold=float(threshold),
                           precision=x / n if n else None, interval=clopper_pearson(x, n, confidence) if n else None,
                           audited_above=n, correct_above=x, audited_total=len(conf),
                           auto_accept_fraction=accepted, confidence=confidence)


def choose_threshold(*, audit_confidences, audit_correct, target: float, pool_confidences=None,
                     strict: bool = False, min_audited: int = 10, confidence: float = 0.95) -> ThresholdChoice:
    """The lowest auto-accept threshold that the audit slice supports for ``target`` precision.

    Candidates are the audited confidences. Normal mode: the lowest one whose audited items at or
    above it are at least ``target`` correct (and number at least ``min_audited``). Strict mode: the
    exact interval's lower bound must reach ``target``, tested from the highest candidate down and
    stopping at the first that fails (fixed-sequence testing), starting where enough items are
    audited for a pass to be possible at all. Taking the lowest pass anywhere would test many
    thresholds at once and miss the target more often than the interval allows; stopping at the
    first failure keeps the chance of accepting below ``target`` under (1 - confidence) / 2.
    """
    conf, correct = _audit_arrays(audit_confidences, audit_correct)
    order = np.argsort(-conf, kind="stable")
    sorted_conf = conf[order]
    trials = np.arange(1, len(conf) + 1)
    successes = np.cumsum(correct[order])
    # a threshold sits at the last item of each run of equal confidences
    ends = np.flatnonzero(np.r_[sorted_conf[1:] != sorted_conf[:-1], True]) if len(conf) else np.array([], int)
    chosen = None
    if strict:
        tested = ends[trials[ends] >= max(min_audited, fewest_audited_for(target, confidence))]
        passed = _lower_bounds(successes[tested], trials[tested], confidence) >= target
        failures = np.flatnonzero(~passed)
        run = len(passed) if not len(failures) else failures[0]
        if run > 0:
            chosen = tested[run - 1]
    else:
        ok = ends[(trials[ends] >= min_audited) & (successes[ends] >= target * trials[ends])]
        if len(ok):
            chosen = ok[-1]
    threshold = None if chosen is None else float(sorted_conf[chosen])
    return precision_at(threshold, audit_confidences=conf, audit_correct=correct, pool_confidences=pool_confidences,
                        target=target, strict=strict, confidence=confidence)


def describe_precision(choice: ThresholdChoice) -> str:
    """The sentence a project shows, e.g. 'auto-accepted labels: 97.4% correct (95% CI 95.1 to 98.8) ...'."""
    if choice.threshold is None or choice.precision is None:
        return NO_THRESHOLD_STATEMENT.format(target=100 * choice.target, audited=choice.audited_total,
                                             strict=" (strict)" if choice.strict else "")
    low, high = choice.interval
    return PRECISION_STATEMENT.format(precision=100 * choice.precision, level=100 * choice.confidence,
                                      low=100 * low, high=100 * high, audited=choice.audited_above,
                                      accepted=100 * choice.auto_accept_fraction)


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
