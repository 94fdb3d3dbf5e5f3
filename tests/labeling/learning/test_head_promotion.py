"""A candidate head is judged against the active head on the same audited items, both out of sample: a
lucky accuracy the active head had on the few items audited when it was trained never blocks a better one."""

import numpy as np
import pytest

from labeling.engine import FewShotHead
from labeling.inference.scoring import EMBEDDING_DTYPE, human_labelled
from labeling.learning.rounds import head_train
from labeling.models import HeadVersion, Item, ItemEmbedding
from tests.factories import LabelSchemaFactory, ProjectFactory

pytestmark = pytest.mark.django_db
CLASSES = ["alpha", "beta", "gamma"]
EMBEDDER = "minilm-zero-shot"


def _labelled_project(n: int = 90, seed: int = 0):
    """``n`` audited items in three well separated clusters of 16-d embeddings, each labelled with its cluster."""
    rng = np.random.default_rng(seed)
    project = ProjectFactory(default_model=EMBEDDER)
    schema = LabelSchemaFactory(project=project, categories=CLASSES)
    centres = np.eye(3, 16) * 4
    truth = np.arange(n) % 3
    x = centres[truth] + rng.normal(0, 1, (n, 16))
    items = Item.objects.bulk_create([
        Item(project=project, kind=Item.Kind.TEXT, text=f"item {k}", content_hash=f"{project.pk}-{k}",
             state=Item.State.REVIEWED, in_audit_slice=True, final_labels=[CLASSES[truth[k]]], final_schema=schema,
             final_source=Item.FinalSource.REVIEW) for k in range(n)])
    ItemEmbedding.objects.bulk_create([ItemEmbedding(item=item, model_name=EMBEDDER,
                                                     vector=x[k].astype(EMBEDDING_DTYPE).tobytes())
                                       for k, item in enumerate(items)])
    return project, schema, items, x, truth


def test_a_better_head_is_promoted_over_an_active_head_with_a_lucky_early_accuracy():
    project, schema, items, x, truth = _labelled_project()
    # The active head learnt from six items, three of them mislabelled; on the 5 items audited then it
    # happened to score 100%. It never saw the 90 audited since.
    weak = FewShotHead(3).fit(x[:6], np.array([1, 2, 0, 0, 1, 2]))
    HeadVersion.objects.create(project=project, base_model=EMBEDDER, version=1, schema=schema, head=weak.to_bytes(),
                               classes=CLASSES, trained_on=6, evaluated_on=5, heldout_accuracy=1.0, is_active=True)
    paths, ids, labels, audit = human_labelled(project, schema)

    outcome = head_train(project=project, schema=schema, embedding_model=EMBEDDER, paths=paths, ids=ids,
                         labels=labels, audit=audit)

    weak_accuracy = float((weak.decision_function(x).argmax(axis=1) == truth).mean())
    candidate = outcome.version
    assert weak_accuracy < 0.7 < candidate.heldout_accuracy
    assert (candidate.version, candidate.is_active, candidate.evaluated_on) == (2, True, 90)
    assert candidate.baseline_accuracy == pytest.approx(weak_accuracy)
    assert outcome.reason == (f"promoted: {candidate.heldout_accuracy:.1%} held-out accuracy on 90 audited items "
                              f"beats {weak_accuracy:.1%} (head v1)")
    assert list(HeadVersion.objects.filter(project=project, is_active=True).values_list("version", flat=True)) == [2]


def test_the_active_head_is_judged_on_its_stored_cross_fitted_logits_for_the_items_it_was_trained_on():
    project, schema, items, x, truth = _labelled_project()
    # Trained on every item, so its own predictions on them are in sample; its stored cross-fitted logits
    # (here: always wrong) are what it is judged on, and a candidate that is right beats it.
    strong = FewShotHead(3).fit(x, truth)
    wrong = {str(item.pk): np.roll(np.eye(3)[truth[k]] * 5, 1).tolist() for k, item in enumerate(items)}
    HeadVersion.objects.create(project=project, base_model=EMBEDDER, version=1, schema=schema,
                               head=strong.to_bytes(), classes=CLASSES, trained_on=90, evaluated_on=90,
                               heldout_accuracy=1.0, heldout_logits=wrong, is_active=True)
    paths, ids, labels, audit = human_labelled(project, schema)

    outcome = head_train(project=project, schema=schema, embedding_model=EMBEDDER, paths=paths, ids=ids,
                         labels=labels, audit=audit)

    assert outcome.version.baseline_accuracy == 0.0
    assert outcome.version.is_active is True


def test_a_candidate_no_better_on_the_same_items_is_kept_back():
    project, schema, items, x, truth = _labelled_project()
    # The active head was trained on the first 30 items and judged then (out of fold) on them: right on
    # every one; it never saw the other 60, and gets them right too. A candidate cannot beat 100%.
    early = FewShotHead(3).fit(x[:30], truth[:30])
    held = {str(item.pk): (np.eye(3)[truth[k]] * 5).tolist() for k, item in enumerate(items[:30])}
    HeadVersion.objects.create(project=project, base_model=EMBEDDER, version=1, schema=schema, head=early.to_bytes(),
                               classes=CLASSES, trained_on=30, evaluated_on=30, heldout_accuracy=0.5,
                               heldout_logits=held, is_active=True)
    paths, ids, labels, audit = human_labelled(project, schema)
    assert float((early.decision_function(x[30:]).argmax(axis=1) == truth[30:]).mean()) == 1.0

    outcome = head_train(project=project, schema=schema, embedding_model=EMBEDDER, paths=paths, ids=ids,
                         labels=labels, audit=audit)

    assert outcome.version.baseline_accuracy == 1.0
    assert outcome.version.is_active is False
    assert outcome.reason.startswith("kept head v1: ")
    assert outcome.reason.endswith("on 90 audited items does not beat 100.0%")
