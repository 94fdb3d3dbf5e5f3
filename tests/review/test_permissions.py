"""Who may review: the role matrix over every review endpoint and page, and other organizations' 404s."""

import pytest

from projects.models import ProjectAssignment
from projects.permissions import PROJECT_ROLE_REQUIRED
from projects.selectors import PROJECT_NOT_FOUND
from review.selectors import ITEM_NOT_FOUND
from tests.factories import PASSWORD
from tests.review.scenario import item_waiting

pytestmark = pytest.mark.django_db

ROLES = ["admin", "labeler", "reviewer", "viewer"]


def review_requests(project, item):
    """(method, path, body, expected status per role: admin, labeler, reviewer, viewer)."""
    pid = project.pk
    return [
        ("get", f"/api/review/queue?project={pid}", None, (200, 403, 200, 403)),
        ("post", "/api/review/submit", {"item": item.pk, "decision": "approve"}, (201, 403, 201, 403)),
        ("post", "/api/review/undo", {"project": pid}, (200, 403, 200, 403)),
        ("post", "/api/review/batch", {"project": pid, "decisions": [{"item": item.pk, "decision": "reject"}]},
         (201, 403, 201, 403)),
        ("post", "/api/review/release", {"project": pid, "items": [item.pk]}, (200, 403, 200, 403)),
        ("get", f"/api/review/stats?project={pid}", None, (200, 403, 200, 403)),
        ("get", f"/api/review/adjudication?project={pid}", None, (200, 403, 403, 403)),
        ("get", f"/api/review/gold?project={pid}", None, (200, 403, 403, 403)),
        ("post", "/api/review/gold", {"item": item.pk, "labels": ["cat"]}, (200, 403, 403, 403)),
        ("get", f"/api/review/settings?project={pid}", None, (200, 403, 200, 403)),
        ("put", "/api/review/settings", {"project": pid, "overlap_fraction": 0.2}, (200, 403, 403, 403)),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(role, world, org, make_member, client_for):
    caller = make_member(role, org)
    item = item_waiting(world.project, world.schema)
    client = client_for(caller)
    expected_index = ROLES.index(role)

    for method, path, body, expected in review_requests(world.project, item):
        resp = getattr(client, method)(path, body, format="json")
        assert resp.status_code == expected[expected_index], (method, path, resp.status_code, resp.data)
        if resp.status_code == 403:
            assert resp.data == {"detail": PROJECT_ROLE_REQUIRED}


def test_another_organizations_project_is_a_404(world, other_org, make_member, client_for):
    stranger = make_member("admin", other_org)
    item = item_waiting(world.project, world.schema)
    client = client_for(stranger)

    for method, path, body, _ in review_requests(world.project, item):
        resp = getattr(client, method)(path, body, format="json")
        assert resp.status_code == 404, (method, path, resp.status_code)
        assert resp.data in ({"detail": PROJECT_NOT_FOUND}, {"item": [ITEM_NOT_FOUND]}), resp.data


def test_a_project_assignment_overrides_the_organization_role(world, org, make_member, client_for):
    labeler_as_reviewer = make_member("labeler", org)
    reviewer_as_viewer = make_member("reviewer", org)
    ProjectAssignment.objects.create(project=world.project, user=labeler_as_reviewer, role="reviewer")
    ProjectAssignment.objects.create(project=world.project, user=reviewer_as_viewer, role="viewer")

    assert client_for(labeler_as_reviewer).get("/api/review/queue", {"project": world.project.pk}).status_code == 200
    assert client_for(reviewer_as_viewer).get("/api/review/queue", {"project": world.project.pk}).status_code == 403


def test_anonymous_callers_are_401(world, api):
    assert api.get("/api/review/queue", {"project": world.project.pk}).status_code == 401
    assert api.post("/api/review/submit", {"item": 1, "decision": "approve"}, format="json").status_code == 401


@pytest.mark.parametrize(("role", "review", "manage"), [
    ("admin", 200, 200), ("reviewer", 200, 403), ("labeler", 403, 403), ("viewer", 403, 403)])
def test_pages_follow_the_same_roles(role, review, manage, world, org, make_member, client):
    member = make_member(role, org)
    client.force_login(member)

    assert client.get(f"/projects/{world.project.pk}/review").status_code == review
    assert client.get(f"/projects/{world.project.pk}/manage").status_code == manage
    assert client.get("/").status_code == 200


def test_pages_of_another_organizations_project_are_404_and_anonymous_visitors_log_in(
        world, other_org, make_member, client):
    stranger = make_member("admin", other_org)
    anonymous = client.get(f"/projects/{world.project.pk}/review")
    assert (anonymous.status_code, anonymous["Location"]) == (302, f"/login/?next=/projects/{world.project.pk}/review")

    client.force_login(stranger)
    assert client.get(f"/projects/{world.project.pk}/review").status_code == 404
    assert client.get(f"/projects/{world.project.pk}/manage").status_code == 404


def test_session_api_calls_need_the_csrf_token(world, client):
    """The review page calls the API with its session; without the CSRF token a write is refused."""
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.login(username=world.reviewer.email, password=PASSWORD)
    item = item_waiting(world.project, world.schema)

    refused = strict.post("/api/review/submit", {"item": item.pk, "decision": "approve"},
                          content_type="application/json")
    page = strict.get(f"/projects/{world.project.pk}/review")
    token = page.cookies["csrftoken"].value
    accepted = strict.post("/api/review/submit", {"item": item.pk, "decision": "approve"},
                           content_type="application/json", HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert accepted.status_code == 201
