"""Active learning over the API: strategies, suggestions with reasons, effectiveness on a two-cluster
project, label issues, and the audit slice's top-up rule."""

import numpy as np
import pytest

from labeling.inference.jobs import audit_slice_ensure
from labeling.inference.scoring import EMBEDDING_DTYPE
from labeling.models import Item, ItemEmbedding, Job, LabelIssue, Prediction
from tests.factories import ItemFactory, LabelSchemaFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def project_with_pool(org, probabilities, *, embeddings=None, model="minilm-zero-shot"):
    project = ProjectFactory(organization=org, default_model=model, audit_slice_size=0)
    schema = LabelSchemaFactory(project=project, categories=["cat", "dog", "bird"])
    job = Job.objects.create(project=project, model_name=model, schema=schema, total=len(probabilities),
                             status="succeeded")
    items = []
    for k, probs in enumerate(probabilities):
        item = ItemFactory(project=project, state=Item.State.NEEDS_REVIEW)
        prediction = Prediction.objects.create(item=item, job=job, model_name=model, schema=schema,
                                               labels=[["cat", "dog", "bird"][int(np.argmax(probs))]],
                                               confidence=max(probs), probabilities=list(probs))
        Item.objects.filter(pk=item.pk).update(prediction=prediction, confidence=max(probs))
        if embeddings is not None:
            ItemEmbedding.objects.create(item=item, model_name=model,
                                         vector=np.asarray(embeddings[k], dtype=EMBEDDING_DTYPE).tobytes())
        items.append(item)
    return project, job, items


def test_strategies_endpoint(org, make_member, client_for):
    resp = client_for(make_member("viewer", org), org).get("/api/active-learning/strategies")
    assert resp.status_code == 200
    assert [s["name"] for s in resp.data] == ["random", "uncertainty", "margin", "entropy", "diversity",
                                              "weighted_diversity", "disagreement"]
    assert resp.data[2]["requires"] == ["probs"]


def test_suggest_samples_margin_and_entropy_pick_by_definition(org, make_member, client_for):
    pool = [[0.9, 0.05, 0.05], [0.49, 0.47, 0.04], [0.34, 0.33, 0.33], [0.6, 0.2, 0.2]]
    project, job, items = project_with_pool(org, pool, model="vader-sentiment")
    client = client_for(make_member("reviewer", org), org)
    resp = client.post(f"/api/active-learning/suggest-samples/{job.id}", {"strategy": "margin", "count": 1},
                       format="json")
    assert resp.status_code == 200, resp.data
    assert [r["item_id"] for r in resp.data] == [items[2].id]  # the smallest top-two gap: 0.34 - 0.33
    assert resp.data[0]["reason"].startswith("margin 0.01")
    resp = client.post(f"/api/active-learning/suggest-samples/{job.id}", {"strategy": "uncertainty", "count": 2},
                       format="json")
    assert [r["item_id"] for r in resp.data] == [items[2].id, items[1].id]
    assert [r["rank"] for r in resp.data] == [1, 2]
    assert resp.data[0]["pool_size"] == 4
    resp = client.post(f"/api/active-learning/suggest-samples/{job.id}", {"strategy": "entropy", "count": 1},
                       format="json")
    assert [r["item_id"] for r in resp.data] == [items[2].id]


def test_suggest_samples_errors(org, other_org, make_member, client_for):
    project, job, _ = project_with_pool(org, [[0.5, 0.3, 0.2]], model="vader-sentiment")
    client = client_for(make_member("reviewer", org), org)
    resp = client.post(f"/api/active-learning/suggest-samples/{job.id}", {"strategy": "vibes"}, format="json")
    assert resp.status_code == 400
    assert resp.data == {"strategy": ["Unknown strategy 'vibes'; available: random, uncertainty, margin, entropy, "
                                      "diversity, weighted_diversity, disagreement."]}
    resp = client.post(f"/api/active-learning/suggest-samples/{job.id}", {"strategy": "diversity"}, format="json")
    assert resp.status_code == 400
    assert resp.data == {"strategy": ["The strategy 'diversity' needs embeddings, and the project's model "
                                      "'vader-sentiment' has none."]}
    _, other_job, _ = project_with_pool(other_org, [[0.5, 0.3, 0.2]])
    resp = client.post(f"/api/active-learning/suggest-samples/{other_job.id}", {"strategy": "margin"}, format="json")
    assert resp.status_code == 404


def test_diversity_picks_the_farthest_item(org, make_member, client_for):
    embeddings = [[1, 0, 0], [0.99, 0.1, 0], [0, 0, 1]]
    project, job, items = project_with_pool(org, [[0.4, 0.3, 0.3]] * 3, embeddings=embeddings)
    labelled = ItemFactory(project=project, state="reviewed", final_labels=["cat"], final_source="import")
    ItemEmbedding.objects.create(item=labelled, model_name="minilm-zero-shot",
                                 vector=np.asarray([1, 0, 0], dtype=EMBEDDING_DTYPE).tobytes())
    client = client_for(make_member("admin", org), org)
    resp = client.post(f"/api/active-learning/suggest-samples/{job.id}", {"strategy": "diversity", "count": 1},
                       format="json")
    assert resp.status_code == 200, resp.data
    assert [r["item_id"] for r in resp.data] == [items[2].id]


def two_clusters(n_per=60, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal([2, 0, 0, 0], 0.9, (n_per, 4))
    b = rng.normal([-2, 0, 0, 0], 0.9, (n_per, 4))
    return np.vstack([a, b]), np.array([0] * n_per + [1] * n_per)


def labelled_project(org, x, y, names=("cat", "dog")):
    import hashlib

    project = ProjectFactory(organization=org, default_model="minilm-zero-shot", audit_slice_size=0)
    schema = LabelSchemaFactory(project=project, categories=list(names))
    job = Job.objects.create(project=project, model_name="minilm-zero-shot", schema=schema, total=0, status="succeeded")
    items = Item.objects.bulk_create([
        Item(project=project, kind="text", text=f"item {k}", content_hash=hashlib.sha256(f"item {k}".encode()).hexdigest(),
             state="reviewed", final_labels=[names[label]], final_source="review")
        for k, label in enumerate(y)
    ])
    items = list(Item.objects.filter(project=project).order_by("id"))
    ItemEmbedding.objects.bulk_create([
        ItemEmbedding(item=item, model_name="minilm-zero-shot", vector=np.asarray(vector, dtype=EMBEDDING_DTYPE).tobytes())
        for item, vector in zip(items, x, strict=True)
    ])
    return project, job, items


def hidden_clusters(seed: int, n: int = 1000, d: int = 50):
    """Two tight clusters along one axis, hidden in noisy dimensions: few random labels mislead a head."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, d)) * 2.0
    x[:, 0] = rng.normal(size=n) * 0.3 + np.where(y == 1, 1.0, -1.0)
    return x, y


def test_analyze_effectiveness_on_two_clusters(org, make_member, client_for):
    x, y = hidden_clusters(0)
    project, job, _ = labelled_project(org, x, y)
    resp = client_for(make_member("admin", org), org).post(
        f"/api/active-learning/analyze-effectiveness/{job.id}", {"strategies": ["uncertainty"], "seed": 0},
        format="json")
    assert resp.status_code == 200, resp.data
    assert (resp.data["n_train"], resp.data["n_test"]) == (750, 250)
    curves = {c["strategy"]: c for c in resp.data["curves"]}
    assert set(curves) == {"random", "uncertainty"}
    assert resp.data["class_names"] == ["cat", "dog"]
    assert curves["uncertainty"]["labels_to_reach"]["0.95"] < curves["random"]["labels_to_reach"]["0.95"]
    assert curves["uncertainty"]["ratio_to_random"]["0.95"] < 1.0


def test_analyze_effectiveness_needs_labels(org, make_member, client_for):
    x, y = two_clusters(5)
    project, job, _ = labelled_project(org, x, y)
    resp = client_for(make_member("admin", org), org).post(f"/api/active-learning/analyze-effectiveness/{job.id}",
                                                            {}, format="json")
    assert resp.status_code == 400
    assert resp.data == {"detail": "This needs at least 20 human-labelled items with embeddings in at least two "
                                   "categories; the project has 10."}


def test_label_issues_flagged_listed_and_resolved(org, make_member, client_for):
    x, y = two_clusters(40, seed=3)
    flipped = [0, 1, 2, 45, 46]
    y = y.copy()
    y[flipped] = 1 - y[flipped]
    project, job, items = labelled_project(org, x, y)
    client = client_for(make_member("reviewer", org), org)
    resp = client.post(f"/api/projects/{project.id}/label-issues/scan")
    assert resp.status_code == 200
    flagged = set(LabelIssue.objects.filter(project=project).values_list("item_id", flat=True))
    assert {items[i].id for i in flipped} <= flagged
    assert len(flagged) <= len(flipped) + 1
    assert client.post(f"/api/projects/{project.id}/label-issues/scan").data == {"opened": 0}  # once per item
    listing = client.get("/api/active-learning/label-issues", {"project": project.id})
    assert listing.status_code == 200
    assert listing.data["count"] == len(flagged)
    first = listing.data["results"][0]
    relabel = client.post(f"/api/active-learning/label-issues/{first['id']}/resolve", {"action": "relabel"},
                          format="json")
    assert relabel.status_code == 200
    assert relabel.data["status"] == "relabelled"
    item = Item.objects.get(pk=first["item_id"])
    assert item.final_labels == [first["suggested_label"]]
    assert (item.final_source, item.review_outcome) == ("review", "modified")
    again = client.post(f"/api/active-learning/label-issues/{first['id']}/resolve", {"action": "keep"}, format="json")
    assert (again.status_code, again.data) == (409, {"detail": "This label issue was already resolved."})
    second = listing.data["results"][1]
    bad = client.post(f"/api/active-learning/label-issues/{second['id']}/resolve",
                      {"action": "relabel", "labels": ["horse"]}, format="json")
    assert bad.status_code == 400
    assert "horse" in str(bad.data)
    viewer = client_for(make_member("viewer", org), org)
    assert viewer.post(f"/api/active-learning/label-issues/{second['id']}/resolve", {"action": "keep"},
                       format="json").status_code == 403


def test_audit_slice_tops_up_by_the_rule():
    project = ProjectFactory(audit_slice_size=10)
    for _ in range(40):
        ItemFactory(project=project)
    assert audit_slice_ensure(project=project, seed=1) == 10
    assert audit_slice_ensure(project=project, seed=1) == 0
    for _ in range(40):
        ItemFactory(project=project)  # the pool doubles: new arrivals are sampled at the slice's rate (1/4)
    assert audit_slice_ensure(project=project, seed=1) == 10
    assert audit_slice_ensure(project=project, model_changed=True, seed=1) == 10
    assert Item.objects.filter(project=project, in_audit_slice=True).count() == 30


def test_a_pool_without_stored_embeddings_suggests_nothing_rather_than_failing(org, make_member, client_for):
    project, job, items = project_with_pool(org, [[0.4, 0.3, 0.3]] * 3)  # minilm, but no embeddings stored
    client = client_for(make_member("admin", org), org)
    resp = client.post(f"/api/active-learning/suggest-samples/{job.id}", {"strategy": "diversity", "count": 2},
                       format="json")
    assert (resp.status_code, resp.data) == (200, [])
