"""Schemathesis over every operation of the OpenAPI schema, as a user with data (a project, items, a
finished job, an import, an export): no input gives a server error, and every answer matches the
schema (its status code documented, its body the documented shape).

Bounded in time: SCHEMA_FUZZ_EXAMPLES examples per operation (default 10), no shrinking."""

from __future__ import annotations

import io
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "10"))
WORLD: dict[str, object] = {}  # path parameter → a real id of the world below (see the hook)


def _load_schema():
    # Loaded at collection (pytest-django has set Django up by then); the schema view reads no database.
    from django.core.wsgi import get_wsgi_application

    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())

    @loaded.hook
    def before_generate_path_parameters(context, strategy):
        # Half the cases aim at objects that exist, so the code behind the 404 is exercised too.
        def real(params: dict | None) -> dict | None:
            return {name: WORLD.get(name, value) for name, value in params.items()} if params else params

        def aimed(generated):
            if hasattr(generated, "map_value"):  # a value with its generation metadata
                return generated.map_value(real)
            return real(generated)

        return st.one_of(strategy, strategy.map(aimed))

    return loaded


schema = _load_schema()


@pytest.fixture
def wsgi_in_test_transaction():
    """Requests go straight to the WSGI handler, which closes the database connection after each one;
    keep it open, as Django's own test client does, so the test's transaction (and data) lives on."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(db, org, make_member, media_root, wsgi_in_test_transaction):
    """An admin with a project, labelled and unlabelled items, a finished job with predictions, an
    import, and a finished export."""
    from exports.services import export_create, export_run
    from labeling.items.imports import UploadFile, upload_receive
    from labeling.models import LabelIssue
    from tests.factories import ItemFactory, JobFactory, LabelSchemaFactory, PredictionFactory, ProjectFactory

    admin = make_member("admin", org)
    project = ProjectFactory(organization=org, default_model="vader-sentiment", audit_slice_size=0)
    schema_version = LabelSchemaFactory(project=project, categories=["positive", "negative", "neutral"])
    items = [ItemFactory(project=project, text=f"a fine sentence number {n}") for n in range(6)]
    for item in items[:3]:
        item.state, item.final_labels, item.final_schema, item.final_source = "reviewed", ["positive"], \
            schema_version, "review"
        item.save()
    job = JobFactory(project=project, total=6, done=6)
    for item in items:
        PredictionFactory(job=job, item=item, labels=["positive"], confidence=0.9)
    data = b"text\nimported one\nimported two\n"
    imported = upload_receive(project=project, files=[UploadFile(name="a.csv", size=len(data),
                                                                 stream=io.BytesIO(data))],
                              text_mode="line", uploaded_by=admin)
    export, _ = export_create(project=project, created_by=admin, format_name="jsonl", options={})
    export_run(export_id=export.pk)
    export.refresh_from_db()
    issue = LabelIssue.objects.create(project=project, item=items[0], given_labels=["positive"],
                                      suggested_label="negative", self_confidence=0.1, suggested_confidence=0.9)
    WORLD.clear()
    WORLD.update(project_id=project.pk, job_id=job.pk, item_id=items[0].pk, import_id=imported.pk,
                 export_id=export.public_id, filename=export.download_name, org_id=org.pk, user_id=admin.pk,
                 id=admin.pk, version=schema_version.version, issue_id=issue.pk)
    return str(RefreshToken.for_user(admin).access_token)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_input_is_a_server_error_and_every_answer_matches_the_schema(case, fuzz_world):
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {fuzz_world}"}
    response = case.call()
    checks = [status_code_conformance, response_schema_conformance]
    documented = case.operation.definition.raw.get("responses", {})
    if not (response.status_code == 503 and "503" in documented):
        # A documented 503 (health with a worker down, billing while Stripe is off) is an answer, not a crash.
        checks.append(not_a_server_error)
    case.validate_response(response, checks=checks)
