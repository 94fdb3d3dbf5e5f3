"""Every template learns: a project from the `sentiment` template (VADER, a lexicon with no embeddings)
stores MiniLM embeddings beside it, trains and promotes a head from reviews on the real worker, and
serves diversity picks in the review queue."""

import pytest

from labeling.models import HeadVersion, Item, ItemEmbedding, Job, LearningRound
from projects.models import Project
from tests.conftest import wait_until

# Few words VADER's lexicon scores: it calls most of these neutral; the meaning is plain to MiniLM.
POSITIVE = ["I would order from them again tomorrow", "It arrived early and fits perfectly",
            "My kids use it every single day now", "Worth every penny I paid", "The battery lasts a whole week",
            "Setting it up took two minutes", "It replaced three gadgets in my kitchen", "Ten out of ten from me",
            "I bought a second one for my mother", "It still works after five years of daily use"]
NEGATIVE = ["It stopped working after two days", "Still waiting for a refund after six weeks",
            "The seller never answered my emails", "It fell apart in the first wash",
            "I returned it the same afternoon", "The screen cracked when I took it out of the box",
            "Half the parts were missing", "It drains the battery in an hour",
            "Customer service hung up on me twice", "The zip broke on the first day"]
NEUTRAL = ["The parcel came on Tuesday", "It is sold in three colours", "The manual is printed in French and German",
           "The box measures thirty centimetres across", "Delivery took four working days",
           "It runs on two AA batteries", "The model number is printed on the back", "It weighs about a kilogram",
           "The cable is one metre long", "It ships from a warehouse in Rotterdam"]
TRUTH = {**{t: "positive" for t in POSITIVE}, **{t: "negative" for t in NEGATIVE}, **{t: "neutral" for t in NEUTRAL}}


@pytest.mark.worker
@pytest.mark.slow
def test_a_sentiment_project_trains_and_promotes_a_head_from_reviews_and_serves_diversity_picks(
        worker, org, make_member, client_for):
    manager = make_member("admin", org)
    client = client_for(manager, org)
    resp = client.post("/api/projects/", {"name": "Reviews", "template": "sentiment", "audit_slice_size": 12},
                       format="json")
    assert resp.status_code == 201, resp.data
    project = Project.objects.get(pk=resp.data["id"])
    assert project.default_model == "vader-sentiment"
    texts = [f"{prefix}{t}" for prefix in ("", "Honestly, ") for t in TRUTH]
    Item.objects.bulk_create([Item(project=project, kind=Item.Kind.TEXT, text=t, content_hash=f"h{k}")
                              for k, t in enumerate(texts)])
    resp = client.post(f"/api/projects/{project.pk}/classify", {}, format="json")
    assert resp.status_code == 202, resp.data
    wait_until(lambda: Job.objects.get(pk=resp.data["id"]).status == Job.Status.SUCCEEDED, timeout=300,
               message="the classify job (VADER, and MiniLM's embeddings beside it)")
    assert ItemEmbedding.objects.filter(item__project=project, model_name="minilm-zero-shot").count() == 60

    # a reviewer who always gives the true label, through the queue, until a head is promoted
    reviewed = 0
    while reviewed < 45 and not HeadVersion.objects.filter(project=project, is_active=True).exists():
        queue = client.get("/api/review/queue", {"project": project.pk, "limit": 5})
        assert queue.status_code == 200, queue.data
        for shown in queue.data["items"]:
            truth = TRUTH[shown["text"].removeprefix("Honestly, ")]
            body = ({"item": shown["id"], "decision": "approve"} if shown["predicted_labels"] == [truth]
                    else {"item": shown["id"], "decision": "modify", "labels": [truth]})
            assert client.post("/api/review/submit", body, format="json").status_code == 201
            reviewed += 1
        if reviewed in (10, 20, 40):  # the cadence's rounds: let the worker run them
            wait_until(lambda n=reviewed: LearningRound.objects.filter(project=project, labels_used__gte=n).exists(),
                       timeout=120, message=f"the learning round after {reviewed} labels")
    head = wait_until(lambda: HeadVersion.objects.filter(project=project, is_active=True).first(), timeout=120,
                      message="a promoted head")
    assert head.base_model == "vader-sentiment"
    assert head.heldout_accuracy > head.baseline_accuracy  # it beat the prior on the same items
    promoted = LearningRound.objects.get(project=project, promoted=True)
    assert promoted.promotion_reason.startswith("promoted: ")
    assert "the prior vader-sentiment" in promoted.promotion_reason

    resp = client.get("/api/review/queue", {"project": project.pk, "limit": 6, "strategy": "diversity"})
    assert resp.status_code == 200, resp.data
    assert resp.data["strategy"] == "diversity"
    assert "diversity" in {shown["reason"] for shown in resp.data["items"]}
    learning = client.get(f"/api/projects/{project.pk}/learning")
    assert learning.status_code == 200
    assert any(r["promoted"] for r in learning.data["rounds"])
