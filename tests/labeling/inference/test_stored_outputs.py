"""Reading stored outputs for a round (plain SQL, numpy from bytes in bulk) gives exactly what the ORM
reads; the round's vectorised scoring and encoding give exactly the row-by-row values; and a re-decision
writes only the accepted items whose label the re-score changed."""

import json
from datetime import UTC, datetime

import numpy as np
import pytest
from django.db.models import Max

from labeling.engine.calibration import softmax
from labeling.inference.scoring import (
    ProjectScorer,
    labels_from,
    latest_logits,
    prior_logits,
    stored_embedding_matrix,
    stored_embeddings,
)
from labeling.learning.rounds import _json_rows, items_redecide
from labeling.models import Item, ItemEmbedding, Prediction
from tests.factories import LabelSchemaFactory, ProjectFactory

pytestmark = pytest.mark.django_db
CLASSES = ["positive", "negative", "neutral"]
MODEL = "vader-sentiment"
EMBEDDER = "minilm-test"


def _orm_embeddings(item_ids, model_name):
    """How the ORM read them: one row object per item, converted one at a time."""
    return {item_id: np.frombuffer(bytes(vector), dtype=np.float16).astype(np.float32)
            for item_id, vector in ItemEmbedding.objects.filter(item_id__in=item_ids, model_name=model_name)
            .values_list("item_id", "vector")}


def _orm_prior_logits(item_ids, model_name, width):
    latest = (Prediction.objects.filter(item_id__in=item_ids, model_name=model_name)
              .values("item_id").annotate(last=Max("id")).values_list("last", flat=True))
    stored = dict(Prediction.objects.filter(id__in=list(latest)).values_list("item_id", "logits"))
    out = np.full((len(item_ids), width), np.nan)
    for row, item_id in enumerate(item_ids):
        z = stored.get(item_id)
        if z and len(z) == width:
            out[row] = z
    return out


@pytest.fixture
def stored():
    """Eight items: embeddings from two models (item 6 has none, item 7 only the other model's), and
    predictions: two from MODEL on most items (the later one counts), another model's on all, an empty
    and a wrong-width latest logits, and none at all on item 5."""
    project = ProjectFactory(default_model=MODEL)
    schema = LabelSchemaFactory(project=project, categories=CLASSES)
    items = Item.objects.bulk_create([Item(project=project, kind=Item.Kind.TEXT, text=f"t {k}",
                                           content_hash=f"h{k}") for k in range(8)])
    rng = np.random.default_rng(3)
    ItemEmbedding.objects.bulk_create(
        [ItemEmbedding(item=item, model_name=EMBEDDER, vector=rng.normal(0, 1, 16).astype(np.float16).tobytes())
         for item in items[:6]]
        + [ItemEmbedding(item=item, model_name="other-embedder",
                         vector=rng.normal(0, 1, 16).astype(np.float16).tobytes()) for item in items])
    rows = []
    for k, item in enumerate(items):
        if k == 5:
            continue
        rows.append(Prediction(item=item, model_name=MODEL, schema=schema, labels=["positive"], confidence=0.5,
                               logits=[9.0, 9.0, 9.0]))  # older: never read
        latest = {3: [], 4: [1.5, -2.0]}.get(k, rng.normal(0, 2, 3).round(5).tolist())
        rows.append(Prediction(item=item, model_name=MODEL, schema=schema, labels=["negative"], confidence=0.6,
                               logits=latest))
        rows.append(Prediction(item=item, model_name="other-model", schema=schema, labels=["neutral"],
                               confidence=0.7, logits=[7.0, 7.0, 7.0]))
    Prediction.objects.bulk_create(rows)
    return [item.pk for item in items]


def test_the_plain_sql_readers_return_exactly_what_the_orm_reads(stored):
    ids = list(reversed(stored))  # the order asked for is the order returned
    expected = _orm_embeddings(ids, EMBEDDER)
    got = stored_embeddings(ids, EMBEDDER)
    assert sorted(got) == sorted(expected) == sorted(stored[:6])
    for item_id, vector in expected.items():
        assert got[item_id].dtype == np.float32
        np.testing.assert_array_equal(got[item_id], vector)
    order, matrix = stored_embedding_matrix(ids, EMBEDDER)
    assert order == [i for i in ids if i in expected] and matrix.shape == (6, 16) and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix, np.stack([expected[i] for i in order]))
    assert stored_embedding_matrix([], EMBEDDER)[0] == []

    np.testing.assert_array_equal(prior_logits(ids, MODEL, 3), _orm_prior_logits(ids, MODEL, 3))
    assert np.isnan(prior_logits(ids, MODEL, 3)).all(axis=1).tolist() == [False, False, True, True, True,
                                                                          False, False, False]
    latest = latest_logits(stored, MODEL)
    assert sorted(latest) == sorted(stored[:5] + stored[6:])
    assert (latest[stored[3]], latest[stored[4]]) == ([], [1.5, -2.0])
    assert latest_logits([], MODEL) == {}


def test_the_vectorised_encoding_and_labels_are_the_row_by_row_values():
    rng = np.random.default_rng(0)
    logits = np.vstack([rng.normal(0, 30, (500, 3)), [[1.0, 1.0, 0.0], [2.0, 2.0, 2.0], [-1e-7, 1e9, 0.0]]])
    rows = np.round(softmax(logits), 6).tolist() + np.round(logits, 5).tolist()
    assert _json_rows(rows) == [json.dumps(row) for row in rows]
    assert _json_rows([]) == []

    scorer = ProjectScorer.__new__(ProjectScorer)  # only what _finish reads
    scorer.paths, scorer.multi_label, scorer.temperature = CLASSES, False, 1.7
    scored = scorer._finish(logits, multi_label_logits=False)
    probabilities = softmax(logits / 1.7)
    assert [(s.labels, s.confidence) for s in scored] == [labels_from(p, CLASSES, multi_label=False)
                                                          for p in probabilities]
    assert scored[-2].labels == ["positive"]  # a tie goes to the first category, as np.argmax does


def test_a_re_decision_after_a_re_score_rewrites_only_the_accepted_items_whose_label_changed():
    project = ProjectFactory(default_model=MODEL)
    schema = LabelSchemaFactory(project=project, categories=CLASSES)
    earlier = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    items = Item.objects.bulk_create([Item(project=project, kind=Item.Kind.TEXT, text=f"t {k}", content_hash=f"h{k}",
                                           state=Item.State.AUTO_ACCEPTED, final_source=Item.FinalSource.AUTO,
                                           final_labels=["positive"], final_schema=schema, decided_at=earlier,
                                           predicted_labels=["positive"], confidence=0.99) for k in range(4)])
    for item in items:
        item.prediction = Prediction.objects.create(item=item, model_name=MODEL, schema=schema, labels=["positive"],
                                                    confidence=0.99)
    Item.objects.bulk_update(items, ["prediction"])
    # the re-score: item 1's label is new, item 2's confidence fell below the threshold, item 3's is unchanged
    Item.objects.filter(pk=items[1].pk).update(predicted_labels=["negative"])
    Item.objects.filter(pk=items[2].pk).update(confidence=0.5)

    decision = items_redecide(project=project, schema=schema, threshold=0.9, rescored=True)

    assert (decision.eligible, decision.accepted, decision.accepted_now, decision.returned_to_review) == (4, 3, 0, 1)
    after = {i.pk: i for i in Item.objects.filter(project=project)}
    kept = [after[items[0].pk], after[items[3].pk]]
    assert [(i.state, i.final_labels, i.decided_at) for i in kept] == [
        (Item.State.AUTO_ACCEPTED, ["positive"], earlier)] * 2
    relabelled = after[items[1].pk]
    assert (relabelled.state, relabelled.final_labels, relabelled.final_schema_id) == (
        Item.State.AUTO_ACCEPTED, ["negative"], schema.pk)
    assert relabelled.decided_at > earlier
    returned = after[items[2].pk]
    assert (returned.state, returned.queue_reason, returned.final_labels, returned.decided_at) == (
        Item.State.NEEDS_REVIEW, Item.QueueReason.UNCERTAIN, None, None)
