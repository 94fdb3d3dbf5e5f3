"""Active learning over a project: which waiting items to label next, how much a strategy would have
saved on the labels people already gave, and which human labels the model confidently doubts.

The engine (``labeling.engine.active_learning`` and ``label_errors``) does the math on arrays; this
module builds those arrays from the database: calibrated probabilities from each item's latest
prediction, embeddings stored by the jobs, labels from people.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.services import audit_record
from labeling.engine import FewShotHead
from labeling.engine.active_learning import STRATEGIES, UNKNOWN_STRATEGY, select, simulate_effectiveness
from labeling.engine.label_errors import cross_val_probs, find_label_issues
from labeling.inference.scoring import embedding_model_for, human_labelled, prior_logits, stored_embeddings
from labeling.lifecycle import item_label_issue_resolved
from labeling.models import HeadVersion, Item, LabelIssue
from modelship.exceptions import DomainError
from projects.models import Project
from projects.schemas import labels_validate
from projects.selectors import schema_categories, schema_current

NO_SCHEMA = "The project has no label schema yet."
NO_POOL = "No items with a prediction are waiting for review in this project."
NEEDS_EMBEDDINGS = "The strategy {name!r} needs embeddings, and the project's model {model!r} has none."
NEEDS_LABELS = ("This needs at least {need} human-labelled items with embeddings in at least two categories; "
                "the project has {have}.")
ISSUE_RESOLVED = "This label issue was already resolved."
BAD_ACTION = "Choose `keep` or `relabel`."
MIN_SIMULATION_LABELS = 20
MIN_COMMITTEE_LABELS = 6
COMMITTEE_SIZE = 3
WAITING = (Item.State.NEEDS_REVIEW, Item.State.PREDICTED)


def strategy_check(name: str) -> str:
    if name not in STRATEGIES:
        raise DomainError(UNKNOWN_STRATEGY.format(name=name, available=", ".join(STRATEGIES)), field="strategy")
    return name


@dataclass
class Pool:
    """The waiting items a strategy chooses from, as arrays in the same row order."""

    item_ids: list[int]
    probs: np.ndarray
    embeddings: np.ndarray | None
    labelled_embeddings: np.ndarray | None
    committee: np.ndarray | None
    class_names: list[str]
    sampled_from: int


def pool_build(*, project: Project, strategy: str, seed: int = 0, exclude_ids: set[int] | None = None,
               candidates: QuerySet[Item] | None = None) -> Pool:
    """The project's waiting items with a prediction under the current schema (or those of ``candidates``,
    e.g. the review queue's pool): all of them, or a uniform sample of ``ACTIVE_LEARNING_POOL_MAX`` when
    there are more (said in ``sampled_from``)."""
    schema = schema_current(project=project)
    if schema is None:
        raise DomainError(NO_SCHEMA)
    paths = [c.path for c in schema_categories(schema=schema)]
    if candidates is None:
        candidates = Item.objects.filter(project=project, state__in=WAITING)
    ids: list[int] = list(candidates.filter(prediction__schema=schema).order_by().values_list("id", flat=True))
    if exclude_ids:
        ids = [i for i in ids if i not in exclude_ids]
    total = len(ids)
    limit = settings.ACTIVE_LEARNING_POOL_MAX
    if total > limit:
        ids = random.Random(seed).sample(ids, limit)
    if not ids:
        raise DomainError(NO_POOL)
    rows = dict(Item.objects.filter(pk__in=ids).values_list("id", "prediction__probabilities"))
    item_ids = sorted(i for i in ids if rows.get(i) and len(rows[i]) == len(paths))
    if not item_ids:
        raise DomainError(NO_POOL)
    probs = np.array([rows[i] for i in item_ids], dtype=np.float64)
    spec_needs = set(STRATEGIES[strategy].requires) | set(STRATEGIES[strategy].optional)
    base = project.default_model
    embedder = embedding_model_for(project)
    if "probs" in STRATEGIES[strategy].requires:
        newest = newest_head_probs(project=project, schema=schema, embedding_model=embedder, item_ids=item_ids)
        if newest is not None:
            probs = newest
    has_embeddings = embedder is not None
    embeddings = labelled = committee = None
    if has_embeddings and spec_needs & {"embeddings", "labelled_embeddings", "committee"}:
        vectors = stored_embeddings(item_ids, embedder)
        keep = [k for k, i in enumerate(item_ids) if i in vectors]
        if "embeddings" in STRATEGIES[strategy].requires or len(keep) == len(item_ids):
            item_ids = [item_ids[k] for k in keep]
            probs = probs[keep]
            embeddings = np.stack([vectors[i] for i in item_ids]) if item_ids else None
        # else: embeddings only help this strategy, and some items have none yet: rank every item without them
        _, labelled_ids, labels, _ = human_labelled(project, schema)
        labelled_ids = labelled_ids.tolist()
        labelled_vectors = stored_embeddings(labelled_ids, embedder)
        present = [k for k, i in enumerate(labelled_ids) if i in labelled_vectors]
        if present:
            labelled = np.stack([labelled_vectors[labelled_ids[k]] for k in present])
            labels = labels[present]
        if "committee" in spec_needs and labelled is not None and len(np.unique(labels)) >= 2 \
                and len(labels) >= MIN_COMMITTEE_LABELS and embeddings is not None:
            committee = _bootstrap_committee(labelled, labels, embeddings, len(paths), seed)
    if "embeddings" in STRATEGIES[strategy].requires and embeddings is None and not has_embeddings:
        raise DomainError(NEEDS_EMBEDDINGS.format(name=strategy, model=base), field="strategy")
    if "committee" in STRATEGIES[strategy].requires and committee is None:
        # Without enough labels for bootstrap heads, the committee is the current model alone plus its
        # uncalibrated view: too weak to disagree; say what is missing instead.
        raise DomainError(NEEDS_LABELS.format(need=MIN_COMMITTEE_LABELS, have=0 if labelled is None else len(labelled)),
                          field="strategy")
    return Pool(item_ids=item_ids, probs=probs, embeddings=embeddings, labelled_embeddings=labelled,
                committee=committee, class_names=paths, sampled_from=total)


def newest_head_probs(*, project: Project, schema, embedding_model: str | None, item_ids: list[int]) -> np.ndarray | None:
    """The probabilities of the newest head trained on the project's labels, when it is newer than the one
    the items' predictions come from (a round that did not promote it): the items' stored predictions
    say what the project states, but which item to ask about next is the learner's question, and the
    newest head has learnt from every label. None when the stored predictions are the newest model's,
    or when an item has no stored embedding."""
    if embedding_model is None or not item_ids:
        return None
    newest = (HeadVersion.objects.filter(project=project, base_model=project.default_model, schema=schema)
              .order_by("-version").only("head", "is_active").first())
    if newest is None or newest.is_active:
        return None
    vectors = stored_embeddings(item_ids, embedding_model)
    if len(vectors) != len(item_ids):
        return None
    head = FewShotHead.from_bytes(bytes(newest.head))
    prior = prior_logits(item_ids, project.default_model, head.prior_dims) if head.prior_dims else None
    return head.predict_proba(np.stack([vectors[i] for i in item_ids]), prior)


def _bootstrap_committee(x: np.ndarray, y: np.ndarray, pool_x: np.ndarray, n_classes: int, seed: int) -> np.ndarray:
    """Probabilities from heads each trained on a per-class bootstrap resample of the human labels."""
    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(y == c) for c in np.unique(y)]
    members = []
    for _ in range(COMMITTEE_SIZE):
        rows = np.concatenate([rng.choice(r, size=len(r), replace=True) for r in by_class])
        members.append(FewShotHead(n_classes).fit(x[rows], y[rows]).predict_proba(pool_x))
    return np.stack(members)


def samples_suggest(*, project: Project, strategy: str, count: int, seed: int = 0,
                    exclude_ids: set[int] | None = None, candidates: QuerySet[Item] | None = None) -> list[dict]:
    """The ``count`` waiting items a strategy would have people label next, best first, with scores and reasons."""
    strategy_check(strategy)
    pool = pool_build(project=project, strategy=strategy, seed=seed, exclude_ids=exclude_ids, candidates=candidates)
    if not pool.item_ids:  # e.g. waiting items whose embeddings are not stored yet
        return []
    try:
        chosen = select(strategy, k=min(count, len(pool.item_ids)), probs=pool.probs, embeddings=pool.embeddings,
                        committee=pool.committee, labelled_embeddings=pool.labelled_embeddings,
                        class_names=pool.class_names, seed=seed)
    except ValueError as exc:
        raise DomainError(str(exc), field="strategy") from exc
    return [{"rank": rank, "item_id": pool.item_ids[s.index], "score": round(float(s.score), 6), "reason": s.reason,
             "pool_size": pool.sampled_from} for rank, s in enumerate(chosen, start=1)]


def effectiveness_analyze(*, project: Project, strategies: list[str] | None = None, seed: int = 0) -> dict:
    """Replay labelling on the project's human-labelled items: learning curves per strategy against
    random on a held-out part, and the labels each needs to reach 90% and 95% of full-training accuracy."""
    for name in strategies or []:
        strategy_check(name)
    schema = schema_current(project=project)
    if schema is None:
        raise DomainError(NO_SCHEMA)
    base, embedder = project.default_model, embedding_model_for(project)
    if embedder is None:
        raise DomainError(NEEDS_EMBEDDINGS.format(name="analyze-effectiveness", model=base))
    paths, ids, labels, _ = human_labelled(project, schema)
    ids = ids.tolist()
    vectors = stored_embeddings(ids, embedder)
    keep = [k for k, i in enumerate(ids) if i in vectors]
    if len(keep) < MIN_SIMULATION_LABELS or len(np.unique(labels[keep])) < 2:
        raise DomainError(NEEDS_LABELS.format(need=MIN_SIMULATION_LABELS, have=len(keep)))
    x = np.stack([vectors[ids[k]] for k in keep])
    y = labels[keep]
    wanted = strategies or [s for s in STRATEGIES if s != "disagreement" or len(y) >= 60]
    if "random" not in wanted:
        wanted = ["random", *wanted]
    report = simulate_effectiveness(x, y, strategies=wanted, seed=seed)
    out = report.as_dict()
    out["class_names"] = paths
    return out


def label_issues_find(*, project: Project, actor: User | None = None) -> int:
    """Flag human labels the model confidently contradicts (out-of-sample probabilities from a head on the
    embeddings), each into the label-issue queue once. Returns how many new issues were opened."""
    schema = schema_current(project=project)
    embedder = embedding_model_for(project)
    if schema is None or embedder is None:
        return 0
    paths, ids, labels, _ = human_labelled(project, schema)
    ids = ids.tolist()
    vectors = stored_embeddings(ids, embedder)
    keep = [k for k, i in enumerate(ids) if i in vectors]
    y = labels[keep]
    present = np.bincount(y)[np.unique(y)] if len(y) else np.array([], dtype=int)
    if len(keep) < MIN_SIMULATION_LABELS or len(present) < 2 or present.min() < 2:
        return 0
    x = np.stack([vectors[ids[k]] for k in keep])
    probs = cross_val_probs(x, y, folds=min(5, int(present.min())))
    issues = find_label_issues(probs, y, class_names=paths)
    open_items = set(LabelIssue.objects.filter(project=project, status=LabelIssue.Status.OPEN)
                     .values_list("item_id", flat=True))
    new = []
    for issue in issues:
        item_id = ids[keep[issue.index]]
        if item_id in open_items:
            continue
        new.append(LabelIssue(project=project, item_id=item_id, given_labels=[paths[issue.given_label]],
                              suggested_label=paths[issue.suggested_label],
                              self_confidence=round(issue.self_confidence, 6),
                              suggested_confidence=round(issue.suggested_confidence, 6), reason=issue.reason))
    LabelIssue.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        audit_record(actor=actor, organization=project.organization, action=AuditEvent.Action.LABEL_ISSUES_FLAGGED,
                     target=project, metadata={"count": len(new)})
    return len(new)


@transaction.atomic
def label_issue_resolve(*, issue: LabelIssue, actor: User, action: str, labels: list[str] | None = None) -> LabelIssue:
    """Keep the person's label, or relabel the item (validated against the current schema)."""
    issue = LabelIssue.objects.select_for_update().select_related("item", "project").get(pk=issue.pk)
    if issue.status != LabelIssue.Status.OPEN:
        raise DomainError(ISSUE_RESOLVED, status_code=409)
    if action not in ("keep", "relabel"):
        raise DomainError(BAD_ACTION, field="action")
    now = timezone.now()
    if action == "relabel":
        schema = schema_current(project=issue.project)
        clean = labels_validate(schema=schema, labels=labels if labels is not None else [issue.suggested_label])
        item = Item.objects.select_for_update().get(pk=issue.item_id)
        item_label_issue_resolved(item, labels=clean, schema=schema, user=actor, now=now)
        issue.status = LabelIssue.Status.RELABELLED
    else:
        issue.status = LabelIssue.Status.KEPT
    issue.resolved_by, issue.resolved_at = actor, now
    issue.save(update_fields=["status", "resolved_by", "resolved_at"])
    action = (AuditEvent.Action.LABEL_ISSUE_RELABELLED if issue.status == LabelIssue.Status.RELABELLED
              else AuditEvent.Action.LABEL_ISSUE_KEPT)
    audit_record(actor=actor, organization=issue.project.organization, action=action, target=issue, metadata={"item": issue.item_id, "suggested": issue.suggested_label})
    return issue
