"""Inputs that were once answered with a 500, each now a 4xx with its message."""

import json

import pytest
from django.db.utils import ConnectionHandler

from accounts.selectors import ORGANIZATION_NOT_FOUND
from labeling.active_learning.services import NEEDS_EMBEDDINGS
from labeling.engine import MODELS
from labeling.inference.jobs import NO_ITEMS, UNKNOWN_MODEL
from modelship.parsers import JSON_TOO_DEEP, JSON_TOO_LARGE
from projects.models import Project
from tests.factories import ItemFactory, JobFactory, LabelSchemaFactory, ProjectFactory

pytestmark = pytest.mark.django_db

HUGE = 2**64
NESTED = "[" * 5000 + "]" * 5000


@pytest.fixture
def admin_client(org, make_member, client_for):
    return client_for(make_member("admin", org), org)


@pytest.fixture
def sentiment_project(org):
    project = ProjectFactory(organization=org, default_model="vader-sentiment", audit_slice_size=0)
    LabelSchemaFactory(project=project, categories=["positive", "negative", "neutral"])
    return project


def test_deeply_nested_json_is_400_naming_the_limit_even_before_login(api, admin_client, settings):
    resp = api.post("/api/auth/login", NESTED, content_type="application/json")
    assert resp.status_code == 400
    assert resp.json() == {"detail": JSON_TOO_DEEP.format(limit=settings.JSON_MAX_DEPTH)}
    resp = admin_client.post("/api/projects/", json.dumps({"name": json.loads("[" * 65 + "]" * 65)}),
                             content_type="application/json")
    assert resp.status_code == 400
    assert resp.json() == {"detail": JSON_TOO_DEEP.format(limit=64)}
    just_deep_enough = {"name": "x", "schema": json.loads("[" * 62 + "]" * 62)}
    resp = admin_client.post("/api/projects/", json.dumps(just_deep_enough), content_type="application/json")
    assert resp.status_code == 400  # parsed; refused by the serializer, not the parser
    assert "schema" in resp.json()


def test_a_json_body_over_the_size_limit_is_400_naming_it(api, settings):
    settings.JSON_MAX_BYTES = 1000
    body = json.dumps({"email": "a@example.com", "password": "x" * 1000})
    resp = api.post("/api/auth/login", body, content_type="application/json")
    assert resp.status_code == 400
    assert resp.json() == {"detail": JSON_TOO_LARGE.format(limit=1000)}


def test_classify_with_categories_the_model_cannot_predict_is_400(admin_client, org):
    resp = admin_client.post("/api/classify/text", {"text": "great", "model": "vader-sentiment",
                                                    "categories": ["cat", "dog"]}, format="json")
    assert resp.status_code == 400
    assert resp.json()["categories"][0].startswith("The model 'vader-sentiment' can't predict 'cat', 'dog'")
    project = ProjectFactory(organization=org, default_model="vader-sentiment", audit_slice_size=0)
    LabelSchemaFactory(project=project, categories=["cat", "dog"])
    resp = admin_client.post("/api/classify/text", {"text": "great", "project": project.id}, format="json")
    assert resp.status_code == 400
    assert resp.json()["project"][0].startswith("The model 'vader-sentiment' can't predict 'cat', 'dog'")


def test_text_batch_that_is_not_an_object_is_400(admin_client):
    resp = admin_client.post("/api/classify/text/batch", [None, None], format="json")
    assert resp.status_code == 400
    assert resp.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_an_unknown_default_model_is_refused_on_update_and_on_create(admin_client, sentiment_project):
    expected = UNKNOWN_MODEL.format(name="no-such-model", available=", ".join(sorted(MODELS)))
    resp = admin_client.patch(f"/api/projects/{sentiment_project.id}", {"default_model": "no-such-model"},
                              format="json")
    assert resp.status_code == 400
    assert resp.json() == {"default_model": [expected]}
    assert Project.objects.get(pk=sentiment_project.pk).default_model == "vader-sentiment"
    resp = admin_client.post("/api/projects/", {"name": "P", "project_type": "text_classification",
                                                "default_model": "no-such-model"}, format="json")
    assert resp.status_code == 400
    assert resp.json() == {"default_model": [expected]}
    resp = admin_client.patch(f"/api/projects/{sentiment_project.id}", {"default_model": "minilm-zero-shot"},
                              format="json")
    assert resp.status_code == 200
    assert resp.json()["default_model"] == "minilm-zero-shot"


def test_a_project_whose_stored_model_is_unknown_answers_4xx_not_500(admin_client, sentiment_project):
    Project.objects.filter(pk=sentiment_project.pk).update(default_model="no-such-model")
    resp = admin_client.post(f"/api/projects/{sentiment_project.id}/label-issues/scan")
    assert resp.status_code == 200
    assert resp.json() == {"opened": 0}
    job = JobFactory(project=sentiment_project)
    resp = admin_client.post(f"/api/active-learning/analyze-effectiveness/{job.id}", {}, format="json")
    assert resp.status_code == 400
    assert resp.json() == {"detail": NEEDS_EMBEDDINGS.format(name="analyze-effectiveness", model="no-such-model")}


def test_huge_integers_are_404_or_400_on_every_database(admin_client, sentiment_project, org, client_for):
    resp = client_for(org.memberships.get().user).get("/api/projects/", HTTP_X_ORGANIZATION=str(HUGE))
    assert resp.status_code == 404
    assert resp.json() == {"detail": ORGANIZATION_NOT_FOUND}
    ItemFactory(project=sentiment_project)
    resp = admin_client.post(f"/api/projects/{sentiment_project.id}/classify", {"item_ids": [HUGE, -HUGE]},
                             format="json")
    assert resp.status_code == 400
    assert resp.json() == {"detail": NO_ITEMS}
    assert admin_client.get(f"/api/projects/{HUGE}").status_code == 404
    assert admin_client.get(f"/api/jobs/{HUGE}").status_code == 404


def test_the_sqlite_backend_binds_numbers_beyond_64_bits_as_matching_nothing(tmp_path):
    connection = ConnectionHandler({"default": {"ENGINE": "modelship.sqlite", "NAME": str(tmp_path / "t.sqlite3")}})[
        "default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE t (id integer PRIMARY KEY)")
            cursor.execute("INSERT INTO t VALUES (%s), (%s)", [1, 2**63 - 1])
            cursor.execute("SELECT id FROM t WHERE id IN (%s, %s, %s) ORDER BY id", [HUGE, 1, -HUGE])
            assert cursor.fetchall() == [(1,)]
            cursor.execute("SELECT count(*) FROM t WHERE id < %s", [HUGE])
            assert cursor.fetchall() == [(2,)]
    finally:
        connection.close()
