#!/usr/bin/env python
"""How long a learning round takes on a 10,000-item text project, on PostgreSQL (goal: under 2 s).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/modelship_bench_learning python bench/learning_round.py
    python bench/learning_round.py --sizes 10000,20000 --keep

For each size, one text project from the `sentiment` template's model (VADER, whose stored logits
are the prior) with MiniLM-sized embeddings (384 dimensions) stored for every item, a labelled
audit slice of 300 and 200 other labelled items; the rest wait for review. Then, as the product runs
them (``labeling.learning.rounds.project_round``, what the worker calls):

1. the first round: a head trained from nothing (cold), promoted, every waiting item re-scored from
   its stored embedding and the prior's stored logits, the threshold chosen, every item re-decided;
2. a round after 20 more labels: the head warm-started from the previous one (incremental);
3. a settings change (target precision): the threshold chosen again and every item re-decided.

Prints, per round, its phases (head fit, re-score, threshold and bulk re-decide) and its total beside
the goal. The first round's cold head is the baseline the incremental round is measured against.
The database is dropped and created again unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import common

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/modelship_bench_learning"
CLASSES = ("positive", "negative", "neutral")
MODEL = "vader-sentiment"
DIM = 384
AUDITED, OTHERS = 300, 200
GOAL_SECONDS = 2.0


def _load_project(org, creator, size: int, seed: int = 0):
    """A text project of ``size`` items: the prior's predictions (logits), embeddings for every item,
    ``AUDITED`` audit items and ``OTHERS`` other items labelled with the truth, the rest waiting."""
    import numpy as np

    from labeling.engine.calibration import softmax
    from labeling.engine.registry import TEXT_MODEL
    from labeling.models import Item, ItemEmbedding, Prediction
    from projects.models import Category, LabelSchema, Project

    rng = np.random.default_rng(seed)
    project = Project.objects.create(organization=org, name=f"Learning bench {size}", project_type="text_classification",
                                     created_by=creator, default_model=MODEL, audit_slice_size=AUDITED)
    schema = LabelSchema.objects.create(project=project, version=1, multi_label=False, min_labels=1, max_labels=1)
    Category.objects.bulk_create([Category(schema=schema, name=n, path=n, shortcut=n[0], order=i)
                                  for i, n in enumerate(CLASSES)])
    truth = rng.integers(0, 3, size)
    logits = rng.normal(0, 1, (size, 3))
    logits[np.arange(size), truth] += rng.uniform(0.0, 3.0, size)  # a weak prior, as VADER is on reviews
    probabilities = softmax(logits)
    vectors = rng.normal(0, 1, (size, DIM))
    vectors[:, :3] += 2.5 * np.eye(3)[truth]
    order = rng.permutation(size)
    audited, others = set(order[:AUDITED].tolist()), set(order[AUDITED:AUDITED + OTHERS].tolist())
    items = Item.objects.bulk_create([Item(project=project, kind=Item.Kind.TEXT, text=f"review {k}",
                                           content_hash=f"{project.pk}-{k}", state=Item.State.PREDICTED,
                                           in_audit_slice=k in audited) for k in range(size)], batch_size=5000)
    predictions = Prediction.objects.bulk_create([
        Prediction(item=item, model_name=MODEL, schema=schema, labels=[CLASSES[int(p.argmax())]],
                   confidence=float(p.max()), probabilities=p.round(6).tolist(), logits=z.round(5).tolist())
        for item, p, z in zip(items, probabilities, logits, strict=True)], batch_size=5000)
    ItemEmbedding.objects.bulk_create([ItemEmbedding(item=item, model_name=TEXT_MODEL,
                                                     vector=v.astype(np.float16).tobytes())
                                       for item, v in zip(items, vectors, strict=True)], batch_size=5000)
    for k, (item, prediction) in enumerate(zip(items, predictions, strict=True)):
        item.prediction, item.predicted_labels, item.confidence = prediction, prediction.labels, prediction.confidence
        if k in audited or k in others:
            item.state, item.final_labels, item.final_schema = Item.State.REVIEWED, [CLASSES[truth[k]]], schema
            item.final_source, item.review_outcome = Item.FinalSource.REVIEW, Item.ReviewOutcome.APPROVED
        else:
            item.state, item.queue_reason = Item.State.NEEDS_REVIEW, Item.QueueReason.UNCERTAIN
    Item.objects.bulk_update(items, ["prediction", "predicted_labels", "confidence", "state", "final_labels",
                                     "final_schema", "final_source", "review_outcome", "queue_reason"],
                             batch_size=2000)
    return project, schema, truth, order


def _label_more(project, schema, truth, order, count: int) -> None:
    """``count`` more waiting items labelled with the truth (active-learning picks, outside the slice)."""
    from labeling.models import Item

    start = AUDITED + OTHERS + count * 10  # fresh items each time this is called
    ids = list(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True))
    chosen = [ids[k] for k in order[start:start + count]]
    for item_id, k in zip(chosen, order[start:start + count], strict=True):
        Item.objects.filter(pk=item_id).update(state=Item.State.REVIEWED, final_labels=[CLASSES[truth[k]]],
                                               final_schema=schema, final_source=Item.FinalSource.REVIEW,
                                               review_outcome=Item.ReviewOutcome.APPROVED, queue_reason="")


def _timed_phases():
    """Wrap the round's phases with timers; returns the dict they add their seconds to."""
    from labeling.learning import rounds

    spent: dict[str, float] = defaultdict(float)
    for name, phase in (("head_train", "head fit"), ("items_rescore", "re-score"),
                        ("statement_fit", "threshold"), ("items_redecide", "re-decide")):
        original = getattr(rounds, name)

        def timed(*args, _original=original, _phase=phase, **kwargs):
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_phase] += time.perf_counter() - started

        setattr(rounds, name, timed)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000", help="items per project, comma-separated")
    parser.add_argument("--keep", action="store_true", help="keep (do not recreate) the benchmark database")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    common.prepare_database(url, keep=args.keep)
    common.setup_django(url)
    from unittest import mock

    from django.core.management import call_command

    from accounts.models import Membership, Organization, User
    from labeling.learning.rounds import project_round
    from labeling.models import HeadVersion, LearningRound
    from projects.models import Project

    call_command("migrate", verbosity=0, interactive=False)
    # a worker imports these once, at its first round; a round's figure must not carry that
    import scipy.optimize  # noqa: F401
    import scipy.stats  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    org = Organization.objects.create(name=f"Learning bench {time.time():.0f}")
    owner = User.objects.create_user(email=f"owner-{org.pk}@example.com", password="bench-password-123")
    Membership.objects.create(user=owner, organization=org, role="admin")
    spent = _timed_phases()
    rows = []
    # a round enqueues the label-issue scan after commit; the benchmark has no worker
    with mock.patch("labeling.learning.rounds.current_app.send_task"):
        for size in (int(s) for s in args.sizes.split(",")):
            started = time.perf_counter()
            project, schema, truth, order = _load_project(org, owner, size)
            print(f"size {size:,}: loaded in {time.perf_counter() - started:.1f}s", flush=True)
            for label, before, learn, trigger in (
                    ("first round (cold head: baseline)", None, True, LearningRound.Trigger.SCHEDULE),
                    ("after 20 labels (warm-started head)", 20, True, LearningRound.Trigger.SCHEDULE),
                    ("settings change (re-decide only)", None, False, LearningRound.Trigger.SETTINGS)):
                if before:
                    _label_more(project, schema, truth, order, before)
                if not learn:
                    Project.objects.filter(pk=project.pk).update(target_precision=0.95)
                spent.clear()
                started = time.perf_counter()
                summary = project_round(project_id=project.pk, trigger=trigger, learn=learn)
                total = time.perf_counter() - started
                head = HeadVersion.objects.filter(project=project).order_by("-version").first()
                rows.append((size, label, spent["head fit"], spent["re-score"], spent["threshold"],
                             spent["re-decide"], total, summary.get("auto_accepted", 0),
                             f"v{head.version} {'promoted' if head.is_active else 'kept'}" if head else "-"))

    print()
    print(f"{'items':>7}  {'round':<38} {'head fit':>8} {'re-score':>8} {'threshold':>9} {'re-decide':>9} "
          f"{'total s':>7} {'goal s':>6}  {'accepted':>8}  head")
    for size, label, fit, rescore, threshold, redecide, total, accepted, head in rows:
        print(f"{size:>7,}  {label:<38} {fit:>8.2f} {rescore:>8.2f} {threshold:>9.2f} {redecide:>9.2f} "
              f"{total:>7.2f} {GOAL_SECONDS:>6.1f}  {accepted:>8,}  {head}")


if __name__ == "__main__":
    main()
