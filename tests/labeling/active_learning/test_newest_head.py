"""Which item to ask about next is the newest head's question: a probability-based strategy ranks the
waiting items by the newest head trained on the project's labels, even one a round did not promote."""

import numpy as np
import pytest

from labeling.active_learning.services import samples_suggest
from labeling.engine import FewShotHead
from labeling.inference.scoring import EMBEDDING_DTYPE
from labeling.models import HeadVersion, ItemEmbedding
from tests.factories import ProjectFactory
from tests.review.scenario import item_waiting, schema_for

pytestmark = pytest.mark.django_db
EMBEDDER = "minilm-zero-shot"


@pytest.fixture
def waiting():
    """Two waiting items: ``sure_stored`` the stored predictions doubt but the newest head is sure of (deep
    in the cat cluster), ``boundary`` the stored predictions are sure of but that lies between cat and dog."""
    project = ProjectFactory(default_model=EMBEDDER)
    schema = schema_for(project)
    centres = np.eye(3, 16) * 4
    rng = np.random.default_rng(0)
    truth = np.arange(60) % 3
    head = FewShotHead(3).fit(centres[truth] + rng.normal(0, 0.5, (60, 16)), truth)
    items = {
        "sure_stored": item_waiting(project, schema, confidence=0.4, probabilities=[0.4, 0.35, 0.25]),
        "boundary": item_waiting(project, schema, confidence=0.9, probabilities=[0.9, 0.05, 0.05]),
    }
    vectors = {"sure_stored": centres[0], "boundary": (centres[0] + centres[1]) / 2}
    ItemEmbedding.objects.bulk_create([ItemEmbedding(item=items[k], model_name=EMBEDDER,
                                                     vector=v.astype(EMBEDDING_DTYPE).tobytes())
                                       for k, v in vectors.items()])
    return project, schema, head, items


def _head(project, schema, head, *, version, active):
    return HeadVersion.objects.create(project=project, base_model=EMBEDDER, version=version, schema=schema,
                                      head=head.to_bytes(), classes=["cat", "dog", "bird"], trained_on=60,
                                      is_active=active)


def test_margin_ranks_by_the_newest_head_when_a_round_did_not_promote_it(waiting):
    project, schema, head, items = waiting
    _head(project, schema, FewShotHead(3).fit(np.eye(3, 16) * 4, [0, 1, 2]), version=1, active=True)
    _head(project, schema, head, version=2, active=False)

    chosen = samples_suggest(project=project, strategy="margin", count=2)

    assert [c["item_id"] for c in chosen] == [items["boundary"].pk, items["sure_stored"].pk]
    assert chosen[0]["reason"].startswith("margin 0.") and "between 'cat' and 'dog'" in chosen[0]["reason"]


@pytest.mark.parametrize("newest_is_active", [True, None])  # None: no head at all
def test_margin_ranks_by_the_stored_predictions_when_they_are_the_newest_models(waiting, newest_is_active):
    project, schema, head, items = waiting
    if newest_is_active:
        _head(project, schema, head, version=1, active=True)

    chosen = samples_suggest(project=project, strategy="margin", count=2)

    assert [c["item_id"] for c in chosen] == [items["sure_stored"].pk, items["boundary"].pk]
    assert chosen[0]["reason"] == "margin 0.05 between 'cat' and 'dog'"
