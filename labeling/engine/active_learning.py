"""Active learning: which unlabelled items a reviewer should label next, and proof that it saves labels.

Plain numpy / scikit-learn, no Django. A strategy scores a pool of items from their calibrated
probabilities (n x k), their embeddings (n x d) or a committee of probability matrices, and
``select`` returns the ``k`` items worth labelling first, each with a score and a reason a person
can read. ``simulate_effectiveness`` replays labelling on items whose labels are already known and
reports how many labels each strategy needs to reach the accuracy of training on all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.special import entr

UNKNOWN_STRATEGY = "Unknown strategy {name!r}; available: {available}."
MISSING_INPUT = "Strategy {name!r} needs {needs}."
BAD_SHAPE = "{what} must be {expected}, got shape {shape}."
BAD_COUNT = "k must be a positive integer, got {k!r}."
POOL_MISMATCH = "probs, embeddings and committee must describe the same pool items; got sizes {sizes}."

DUPLICATE_SIMILARITY = 0.95  # cosine similarity above which two items count as the same item in one batch
_EPS = 1e-12
_CHUNK = 65536


@dataclass(frozen=True)
class Selection:
    """One item chosen for labelling: its row in the pool, how strongly it was wanted, and why."""

    index: int
    score: float  # higher means more worth labelling, on the strategy's own scale
    reason: str


@dataclass(frozen=True)
class Strategy:
    name: str
    description: str
    requires: tuple[str, ...]
    optional: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"name": self.name, "description": self.description,
                "requires": list(self.requires), "optional": list(self.optional)}


STRATEGIES: dict[str, Strategy] = {s.name: s for s in (
    Strategy("random", "Items drawn uniformly at random: the baseline every other strategy is measured against.",
             ()),
    Strategy("uncertainty", "Least confidence: the items whose most probable label has the lowest probability.",
             ("probs",), ("embeddings",)),
    Strategy("margin", "The items with the smallest gap between their two most probable labels: nearest the "
             "decision boundary.", ("probs",), ("embeddings",)),
    Strategy("entropy", "The items whose probabilities are spread most evenly over the labels (highest entropy).",
             ("probs",), ("embeddings",)),
    Strategy("diversity", "k-center greedy over embeddings: each pick is the item farthest from everything labelled "
             "or already picked, so a batch covers the data.", ("embeddings",), ("labelled_embeddings",)),
    Strategy("weighted_diversity", "Uncertainty-weighted k-means++: among the most uncertain items (by margin), picks "
             "spread over the embedding space, each drawn with odds that grow with its uncertainty and its "
             "distance from what is labelled or picked.", ("probs", "embeddings"), ("labelled_embeddings",)),
    Strategy("disagreement", "Query by committee: the items on which several models (bootstrap heads, or zero-shot "
             "against few-shot) disagree most: by the entropy of their votes, ties broken by the members' mean KL "
             "divergence from their consensus (or by that KL alone).", ("committee",), ("embeddings",)),
)}


def list_strategies() -> list[dict]:
    """The strategies with their description and the inputs each needs, for the strategies endpoint."""
    return [s.as_dict() for s in STRATEGIES.values()]


# --- per-item measures (vectorised; fine on million-row pools) ---------------------------------

def _as_probs(probs, what: str = "probs") -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(BAD_SHAPE.format(what=what, expected="an (items x classes) array with 2+ classes",
                                          shape=p.shape))
    return p


def least_confidence(probs) -> np.ndarray:
    """1 - the top probability of each row: 0 for a certain item, up to 1 - 1/k for a flat one."""
    p = _as_probs(probs)
    return 1.0 - p.max(axis=1)


def top_two(probs) -> tuple[np.ndarray, np.ndarray]:
    """The two largest probabilities of each row, largest first, as two (n,) arrays."""
    p = _as_probs(probs)
    part = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return part[:, 1], part[:, 0]


def margin(probs) -> np.ndarray:
    """The gap between each row's two largest probabilities: small means near the boundary."""
    first, second = top_two(probs)
    return first - second


def entropy(probs) -> np.ndarray:
    """Shannon entropy of each row divided by log(k): 1 for a flat row, 0 for a one-hot row."""
    p = _as_probs(probs)
    return entr(np.clip(p, 0.0, 1.0)).sum(axis=1) / np.log(p.shape[1])


def _as_committee(committee) -> np.ndarray:
    c = np.asarray(committee, dtype=np.float64)
    if c.ndim != 3 or c.shape[0] < 2 or c.shape[2] < 2:
        raise ValueError(BAD_SHAPE.format(what="committee", expected="(members x items x classes), 2+ members",
                                          shape=c.shape))
    return c


def mean_kl(committee) -> np.ndarray:
    """Mean KL divergence of each member's distribution from the committee's average, per item."""
    c = _as_committee(committee)
    consensus = c.mean(axis=0)
    logs = np.log(np.clip(c, _EPS, None)) - np.log(np.clip(consensus, _EPS, None))[None]
    return np.maximum((c * logs).sum(axis=2).mean(axis=0), 0.0)


def vote_counts(committee) -> np.ndarray:
    """How many members vote for each class, per item: (n x k) integers."""
    c = _as_committee(committee)
    votes = c.argmax(axis=2)
    counts = np.zeros(c.shape[1:], dtype=np.int64)
    rows = np.arange(c.shape[1])
    for member_votes in votes:
        counts[rows, member_votes] += 1
    return counts


def vote_entropy(committee) -> np.ndarray:
    """Entropy of the members' hard votes per item, divided by its largest possible value."""
    c = _as_committee(committee)
    counts = vote_counts(c)
    most = np.log(min(c.shape[0], c.shape[2]))
    return entr(counts / c.shape[0]).sum(axis=1) / most


# --- selection --------------------------------------------------------------------------------

def _names(class_names: Sequence[str] | None, k: int) -> list[str]:
    if class_names is not None and len(class_names) == k:
        return [str(n) for n in class_names]
    return [str(i) for i in range(k)]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), _EPS)


def _ranked(priority: np.ndarray, k: int, embeddings: np.ndarray | None, duplicate_similarity: float | None,
            tiebreak: np.ndarray | None = None) -> list[int]:
    """Rows by descending priority (ties by ``tiebreak``, then row), skipping near-duplicates of earlier picks."""
    n = len(priority)
    dedupe = embeddings is not None and duplicate_similarity is not None

    def order_of(rows: np.ndarray) -> np.ndarray:
        keys = (rows, -priority[rows]) if tiebreak is None else (rows, -tiebreak[rows], -priority[rows])
        return rows[np.lexsort(keys)]

    first = min(n, k if not dedupe else max(4 * k, k + 64))
    if first < n:
        cut = np.partition(priority, n - first)[n - first]
        head = np.flatnonzero(priority >= cut)  # every row tied at the cut, so ties resolve by row
    else:
        head = np.arange(n)
    order = order_of(head)
    if not dedupe:
        return order[:k].tolist()
    chosen: list[int] = []
    chosen_unit = np.empty((0, embeddings.shape[1]))
    seen = np.zeros(n, dtype=bool)
    while True:
        for row in order:
            seen[row] = True
            u = _unit(embeddings[row])
            if len(chosen) and float((chosen_unit @ u).max()) > duplicate_similarity:
                continue
            chosen.append(int(row))
            chosen_unit = np.vstack([chosen_unit, u])
            if len(chosen) == k:
                return chosen
        if seen.all():
            return chosen
        order = order_of(np.flatnonzero(~seen))


def _min_sq_dist(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance from each point to its nearest center, in chunks to bound memory."""
    out = np.full(len(points), np.inf)
    if len(centers) == 0:
        return out
    c_sq = (centers ** 2).sum(axis=1)
    for start in range(0, len(points), _CHUNK):
        block = points[start:start + _CHUNK]
        d = (block ** 2).sum(axis=1)[:, None] + c_sq[None, :] - 2.0 * block @ centers.T
        out[start:start + _CHUNK] = np.maximum(d.min(axis=1), 0.0)
    return out


def _k_center(embeddings: np.ndarray, labelled: np.ndarray | None, k: int, duplicate_similarity: float | None,
              weights: np.ndarray | None = None, rng: np.random.Generator | None = None) -> list[tuple[int, float]]:
    """Greedy k-center (or, given ``weights`` and ``rng``, weighted k-means++ draws) over ``embeddings``.

    Returns (row, distance to the nearest labelled-or-picked item at pick time); the distance is NaN
    for a first pick made with nothing labelled.
    """
    x = embeddings
    n = len(x)
    d2 = _min_sq_dist(x, labelled) if labelled is not None and len(labelled) else np.full(n, np.inf)
    excluded = np.zeros(n, dtype=bool)
    x_norm = np.linalg.norm(x, axis=1)
    picks: list[tuple[int, float]] = []
    while len(picks) < min(k, n):
        open_rows = ~excluded
        if not open_rows.any():
            break
        if np.isinf(d2[open_rows]).all():  # nothing labelled or picked yet
            if weights is None:
                centre = x.mean(axis=0)
                dist = ((x - centre) ** 2).sum(axis=1)
                row = int(np.argmin(np.where(open_rows, dist, np.inf)))
            else:
                w = np.where(open_rows, weights, 0.0)
                row = int(rng.choice(n, p=w / w.sum())) if w.sum() > 0 else int(np.flatnonzero(open_rows)[0])
            picked_distance = float("nan")
        elif weights is None:
            row = int(np.argmax(np.where(open_rows, d2, -1.0)))
            picked_distance = float(np.sqrt(d2[row]))
        else:
            w = np.where(open_rows, weights * d2, 0.0)
            total = w.sum()
            row = int(rng.choice(n, p=w / total)) if total > 0 else int(np.argmax(np.where(open_rows, d2, -1.0)))
            picked_distance = float(np.sqrt(d2[row]))
        picks.append((row, picked_distance))
        excluded[row] = True
        dots = x @ x[row]
        d2 = np.minimum(d2, np.maximum(x_norm ** 2 + x_norm[row] ** 2 - 2.0 * dots, 0.0))
        if duplicate_similarity is not None:
            cos = dots / np.maximum(x_norm * x_norm[row], _EPS)
            excluded |= cos > duplicate_similarity
    return picks


def select(strategy: str, *, k: int, probs=None, embeddings=None, committee=None, labelled_embeddings=None,
           class_names: Sequence[str] | None = None, seed: int = 0,
           duplicate_similarity: float | None = DUPLICATE_SIMILARITY, measure: str = "vote_entropy",
           candidates_per_pick: int = 10, pool_size: int | None = None) -> list[Selection]:
    """The ``k`` pool items ``strategy`` would have a person label next, best first.

    Row ``i`` of ``probs`` / ``embeddings`` / each committee member is pool item ``i``; pass only
    items still waiting for a label. When embeddings are given, an item whose cosine similarity to
    one already in the batch exceeds ``duplicate_similarity`` is skipped (``None`` turns that off),
    so a batch may hold fewer than ``k`` items. ``measure`` is ``"vote_entropy"`` (ties broken by
    KL) or ``"kl"`` for ``disagreement``: on bootstrap heads, KL alone chases outliers; ``candidates_per_pick`` bounds ``weighted_diversity`` to the
    ``k * candidates_per_pick`` most uncertain items. ``random`` needs only the pool's size: from
    any array given, or ``pool_size``.
    """
    if strategy not in STRATEGIES:
        raise ValueError(UNKNOWN_STRATEGY.format(name=strategy, available=", ".join(STRATEGIES)))
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(BAD_COUNT.format(k=k))
    given = {"probs": probs, "embeddings": embeddings, "committee": committee}
    missing = [need for need in STRATEGIES[strategy].requires if given[need] is None]
    if missing:
        raise ValueError(MISSING_INPUT.format(name=strategy, needs=" and ".join(missing)))
    emb = None if embeddings is None else np.asarray(embeddings, dtype=np.float64)
    if emb is not None and emb.ndim != 2:
        raise ValueError(BAD_SHAPE.format(what="embeddings", expected="an (items x dims) array", shape=emb.shape))
    labelled = None if labelled_embeddings is None else np.asarray(labelled_embeddings, dtype=np.float64)
    sizes = {len(a) for a in (probs, emb) if a is not None} | ({np.shape(committee)[1]} if committee is not None else set())
    if len(sizes) > 1:
        raise ValueError(POOL_MISMATCH.format(sizes=sorted(sizes)))

    if strategy == "random":
        n = pool_size if pool_size is not None else (sizes.pop() if sizes else 0)
        priority = np.random.default_rng(seed).random(n)
        rows = _ranked(priority, k, emb, duplicate_similarity)
        return [Selection(r, 0.0, f"drawn uniformly at random (seed {seed})") for r in rows]

    if strategy in ("uncertainty", "margin", "entropy"):
        p = _as_probs(probs)
        names = _names(class_names, p.shape[1])
        if strategy == "uncertainty":
            priority = least_confidence(p)
        elif strategy == "margin":
            priority = 1.0 - margin(p)
        else:
            priority = entropy(p)
        rows = _ranked(priority, k, emb, duplicate_similarity)
        return [Selection(r, float(priority[r]), _probability_reason(strategy, p[r], names)) for r in rows]

    if strategy == "disagreement":
        c = _as_committee(committee)
        names = _names(class_names, c.shape[2])
        kl = mean_kl(c)
        if measure == "kl":
            priority, tiebreak = kl, None
        elif measure == "vote_entropy":
            priority, tiebreak = vote_entropy(c), kl
        else:
            raise ValueError(f"Unknown disagreement measure {measure!r}; use 'kl' or 'vote_entropy'.")
        rows = _ranked(priority, k, emb, duplicate_similarity, tiebreak)
        counts = vote_counts(c[:, rows])
        return [Selection(r, float(priority[r]), _committee_reason(counts[i], kl[r], names))
                for i, r in enumerate(rows)]

    if strategy == "diversity":
        picks = _k_center(emb, labelled, k, duplicate_similarity)
        return [Selection(r, 0.0 if np.isnan(d) else d,
                          "the most central item (nothing labelled yet)" if np.isnan(d) else
                          f"farthest from anything labelled or already picked (distance {d:.2f})")
                for r, d in picks]

    # weighted_diversity
    p = _as_probs(probs)
    names = _names(class_names, p.shape[1])
    uncertainty = 1.0 - margin(p)
    pool = np.asarray(_ranked(uncertainty, min(len(p), k * max(1, candidates_per_pick)), None, None))
    picks = _k_center(emb[pool], labelled, k, duplicate_similarity, weights=uncertainty[pool] ** 2,
                      rng=np.random.default_rng(seed))
    out = []
    for r, d in picks:
        row = int(pool[r])
        where = "" if np.isnan(d) else f", {d:.2f} from the nearest labelled or picked item"
        out.append(Selection(row, float(uncertainty[row]), _probability_reason("margin", p[row], names) + where))
    return out


def _probability_reason(strategy: str, row: np.ndarray, names: list[str]) -> str:
    top = np.argsort(-row, kind="stable")
    a, b = int(top[0]), int(top[1])
    if strategy == "margin":
        return f"margin {row[a] - row[b]:.2f} between '{names[a]}' and '{names[b]}'"
    if strategy == "uncertainty":
        return f"least confident: top label '{names[a]}' at only {row[a]:.2f}"
    shown = ", ".join(f"'{names[i]}' {row[i]:.2f}" for i in top[:3])
    return f"entropy {entropy(row[None])[0]:.2f} of the maximum: {shown}"


def _committee_reason(counts: np.ndarray, kl: float, names: list[str]) -> str:
    votes = ", ".join(f"{int(counts[j])} for '{names[j]}'" for j in np.argsort(-counts, kind="stable")
                      if counts[j] > 0)
    return f"committee split ({votes}); mean KL {kl:.2f} from the consensus"


# --- effectiveness simulation -----------------------------------------------------------------

@dataclass
class LearningCurve:
    """Held-out accuracy after training on ``labels[i]`` labels chosen by ``strategy``."""

    strategy: str
    labels: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    labels_to_reach: dict[str, int | None] = field(default_factory=dict)  # "0.9" -> labels, None if never


@dataclass
class EffectivenessReport:
    n_train: int
    n_test: int
    n_classes: int
    full_accuracy: float  # accuracy on the held-out part after training on every other labelled item
    targets: list[float]
    seed: int
    curves: list[LearningCurve]

    def labels_to_reach(self, strategy: str, target: float) -> int | None:
        curve = next(c for c in self.curves if c.strategy == strategy)
        return curve.labels_to_reach[str(target)]

    def as_dict(self) -> dict:
        out = asdict(self)
        random_curve = next((c for c in self.curves if c.strategy == "random"), None)
        for c in out["curves"]:
            c["ratio_to_random"] = {}
            for t, n in c["labels_to_reach"].items():
                base = None if random_curve is None else random_curve.labels_to_reach.get(t)
                c["ratio_to_random"][t] = None if n is None or not base else round(n / base, 3)
        return out


def label_schedule(start: int, total: int, growth: float = 1.2, min_step: int = 5) -> list[int]:
    """Label counts at which a simulated learner is evaluated: geometric from ``start`` up to ``total``."""
    counts = [min(start, total)]
    while counts[-1] < total:
        counts.append(min(total, max(counts[-1] + min_step, int(round(counts[-1] * growth)))))
    return counts


def _fit_head(x: np.ndarray, y: np.ndarray, C: float, head=None):
    from sklearn.linear_model import LogisticRegression

    if head is None:
        head = LogisticRegression(C=C, max_iter=300, warm_start=True)
    head.fit(x, y)
    return head


def _proba(head, x: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((len(x), n_classes))
    out[:, head.classes_] = head.predict_proba(x)
    return out


def simulate_effectiveness(embeddings, labels, *, strategies: Sequence[str] | None = None,
                           test_fraction: float = 0.25, initial: int | None = None, max_labels: int | None = None,
                           growth: float = 1.2, targets: Sequence[float] = (0.9, 0.95), seed: int = 0,
                           committee_size: int = 3, C: float = 1.0, stop_when_reached: bool = True,
                           duplicate_similarity: float | None = DUPLICATE_SIMILARITY) -> EffectivenessReport:
    """Replay labelling on items with known labels: learning curves per strategy on a held-out part.

    A seeded ``test_fraction`` of the items is held out; each strategy starts from the same random
    seed set (one item per class, then random), trains a logistic-regression head, queries the next
    batch from the rest and records held-out accuracy, with batches growing by ``growth``. For each
    target ``t`` it reports the first label count whose accuracy reaches ``t`` times the accuracy of
    training on every non-held-out item. With ``stop_when_reached`` a curve ends once all targets are met.
    """
    from threadpoolctl import threadpool_limits

    # Threaded BLAS makes each small L-BFGS step of the head ~30x slower on a few cores.
    with threadpool_limits(limits=1, user_api="blas"):
        return _simulate(embeddings, labels, strategies=strategies, test_fraction=test_fraction, initial=initial,
                         max_labels=max_labels, growth=growth, targets=targets, seed=seed,
                         committee_size=committee_size, C=C, stop_when_reached=stop_when_reached,
                         duplicate_similarity=duplicate_similarity)


def _simulate(embeddings, labels, *, strategies, test_fraction, initial, max_labels, growth, targets, seed,
              committee_size, C, stop_when_reached, duplicate_similarity) -> EffectivenessReport:
    x = np.asarray(embeddings, dtype=np.float64)
    classes, y = np.unique(np.asarray(labels), return_inverse=True)
    n_classes = len(classes)
    if n_classes < 2:
        raise ValueError("The simulation needs labelled items of at least two classes.")
    names = list(strategies) if strategies is not None else list(STRATEGIES)
    for name in names:
        if name not in STRATEGIES:
            raise ValueError(UNKNOWN_STRATEGY.format(name=name, available=", ".join(STRATEGIES)))
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(seed)
    train_idx, test_idx = train_test_split(np.arange(len(y)), test_size=test_fraction, random_state=seed,
                                           stratify=y if np.bincount(y).min() >= 2 else None)
    x_train, y_train, x_test, y_test = x[train_idx], y[train_idx], x[test_idx], y[test_idx]
    full = _fit_head(x_train, y_train, C)
    full_accuracy = float((_proba(full, x_test, n_classes).argmax(axis=1) == y_test).mean())

    total = len(y_train) if max_labels is None else min(max_labels, len(y_train))
    start = initial if initial is not None else max(2 * n_classes, 10)
    seed_set = [int(rng.choice(np.flatnonzero(y_train == c))) for c in range(n_classes) if (y_train == c).any()]
    rest = rng.permutation(np.setdiff1d(np.arange(len(y_train)), seed_set))
    seed_set += rest[:max(0, start - len(seed_set))].tolist()
    schedule = label_schedule(len(seed_set), total, growth)
    goals = {str(t): t * full_accuracy for t in targets}

    curves = []
    for name in names:
        curve = LearningCurve(strategy=name, labels_to_reach=dict.fromkeys(goals))
        labelled = list(seed_set)
        is_labelled = np.zeros(len(y_train), dtype=bool)
        is_labelled[labelled] = True
        head = None
        strategy_rng = np.random.default_rng(seed + 1)
        for count in schedule:
            if count > len(labelled):
                pool = np.flatnonzero(~is_labelled)
                chosen = _query(name, count - len(labelled), pool, head, x_train, y_train, labelled, n_classes,
                                committee_size, C, strategy_rng, duplicate_similarity)
                labelled += chosen
                is_labelled[chosen] = True
            head = _fit_head(x_train[labelled], y_train[labelled], C, head)
            accuracy = float((_proba(head, x_test, n_classes).argmax(axis=1) == y_test).mean())
            curve.labels.append(len(labelled))
            curve.accuracy.append(round(accuracy, 4))
            for key, goal in goals.items():
                if curve.labels_to_reach[key] is None and accuracy >= goal:
                    curve.labels_to_reach[key] = len(labelled)
            if stop_when_reached and all(v is not None for v in curve.labels_to_reach.values()):
                break
        curves.append(curve)
    return EffectivenessReport(n_train=len(y_train), n_test=len(y_test), n_classes=n_classes,
                               full_accuracy=round(full_accuracy, 4), targets=list(targets), seed=seed,
                               curves=curves)


def _query(name: str, batch: int, pool: np.ndarray, head, x: np.ndarray, y: np.ndarray, labelled: list[int],
           n_classes: int, committee_size: int, C: float, rng: np.random.Generator,
           duplicate_similarity: float | None) -> list[int]:
    """The next ``batch`` rows of ``x`` that strategy ``name`` picks from ``pool`` (global row numbers)."""
    xp = x[pool]
    kwargs: dict = {"k": batch, "seed": int(rng.integers(2 ** 31)), "embeddings": xp,
                    "duplicate_similarity": None if name == "random" else duplicate_similarity}
    if name in ("uncertainty", "margin", "entropy", "weighted_diversity"):
        kwargs["probs"] = _proba(head, xp, n_classes)
    if name in ("diversity", "weighted_diversity"):
        kwargs["labelled_embeddings"] = x[labelled]
    if name == "disagreement":
        kwargs["committee"] = _bootstrap_committee(x[labelled], y[labelled], xp, n_classes, committee_size, C, rng)
    picked = [pool[s.index] for s in select(name, **kwargs)]
    if len(picked) < batch:  # near-duplicates were skipped: fill up with random items so budgets match
        left = np.setdiff1d(pool, picked)
        picked += rng.choice(left, size=min(batch - len(picked), len(left)), replace=False).tolist()
    return [int(r) for r in picked]


def _bootstrap_committee(x: np.ndarray, y: np.ndarray, pool_x: np.ndarray, n_classes: int, size: int, C: float,
                         rng: np.random.Generator) -> np.ndarray:
    """Probabilities from ``size`` heads, each trained on a per-class bootstrap resample of the labels."""
    members = []
    by_class = [np.flatnonzero(y == c) for c in np.unique(y)]
    for _ in range(size):
        rows = np.concatenate([rng.choice(r, size=len(r), replace=True) for r in by_class])
        members.append(_proba(_fit_head(x[rows], y[rows], C), pool_x, n_classes))
    return np.stack(members)
