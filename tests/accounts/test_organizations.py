"""Organizations, members, the role matrix, cross-organization 404s and the audit log."""

import pytest

from accounts.models import AuditEvent, Membership
from accounts.permissions import ROLE_REQUIRED
from accounts.selectors import ORGANIZATION_NOT_FOUND
from accounts.services import ALREADY_MEMBER, LAST_ADMIN, NO_SUCH_USER
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["admin", "labeler", "reviewer", "viewer"]


def org_requests(org_id, target_id, newcomer_email):
    """(method, path, body, status for admin, status for other roles)."""
    return [
        ("get", f"/api/organizations/{org_id}", None, 200, 200),
        ("get", f"/api/organizations/{org_id}/members", None, 200, 403),
        ("post", f"/api/organizations/{org_id}/members", {"email": newcomer_email, "role": "viewer"}, 201, 403),
        ("patch", f"/api/organizations/{org_id}/members/{target_id}", {"role": "reviewer"}, 200, 403),
        ("delete", f"/api/organizations/{org_id}/members/{target_id}", None, 204, 403),
        ("get", "/api/audit-events", None, 200, 403),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(role, org, make_member, client_for):
    caller = make_member(role, org)
    target = make_member("labeler", org)
    newcomer = UserFactory()
    client = client_for(caller, org)
    for method, path, body, admin_status, other_status in org_requests(org.id, target.id, newcomer.email):
        resp = getattr(client, method)(path, body, format="json")
        expected = admin_status if role == "admin" else other_status
        assert resp.status_code == expected, (method, path, resp.status_code, resp.data)
        if expected == 403:
            assert resp.data["detail"] == ROLE_REQUIRED
    assert client.get("/api/organizations").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_other_organization_is_404_for_every_object(role, org, other_org, make_member, client_for):
    caller = make_member(role, org)
    outsider = make_member("admin", other_org)
    client = client_for(caller, org)
    for method, path, body, *_ in org_requests(other_org.id, outsider.id, UserFactory().email):
        if path == "/api/audit-events":
            resp = client_for(caller, other_org).get(path)
        else:
            resp = getattr(client, method)(path, body, format="json")
        assert resp.status_code == 404, (method, path, resp.data)
        assert resp.data == {"detail": ORGANIZATION_NOT_FOUND}
    # Nothing changed in the other organization.
    assert list(Membership.objects.filter(organization=other_org).values_list("user_id", "role")) == [(outsider.id, "admin")]


def test_org_list_shows_only_own_organizations_with_roles(org, other_org, make_member, client_for):
    caller = make_member("reviewer", org)
    make_member("admin", other_org)
    resp = client_for(caller).get("/api/organizations")
    assert resp.status_code == 200
    assert [(o["id"], o["role"]) for o in resp.data] == [(org.id, "reviewer")]


def test_create_organization_makes_caller_admin(make_member, client_for):
    caller = make_member("viewer")
    resp = client_for(caller).post("/api/organizations", {"name": "Lab"}, format="json")
    assert resp.status_code == 201
    assert resp.data["name"] == "Lab"
    assert resp.data["role"] == "admin"
    assert Membership.objects.get(user=caller, organization_id=resp.data["id"]).role == "admin"


def test_member_add_errors(org, make_member, client_for):
    admin = make_member("admin", org)
    member = make_member("viewer", org)
    client = client_for(admin, org)
    resp = client.post(f"/api/organizations/{org.id}/members", {"email": "nobody@example.com", "role": "viewer"}, format="json")
    assert resp.status_code == 400
    assert resp.data == {"email": [NO_SUCH_USER]}
    resp = client.post(f"/api/organizations/{org.id}/members", {"email": member.email, "role": "viewer"}, format="json")
    assert resp.status_code == 400
    assert resp.data == {"email": [ALREADY_MEMBER]}
    resp = client.post(f"/api/organizations/{org.id}/members", {"email": member.email, "role": "owner"}, format="json")
    assert resp.status_code == 400
    assert resp.data == {"role": ['"owner" is not a valid choice.']}


def test_last_admin_cannot_be_demoted_or_removed(org, make_member, client_for):
    admin = make_member("admin", org)
    client = client_for(admin, org)
    resp = client.patch(f"/api/organizations/{org.id}/members/{admin.id}", {"role": "viewer"}, format="json")
    assert resp.status_code == 400
    assert resp.data == {"role": [LAST_ADMIN]}
    resp = client.delete(f"/api/organizations/{org.id}/members/{admin.id}")
    assert resp.status_code == 400
    assert resp.data == {"detail": LAST_ADMIN}
    assert Membership.objects.get(user=admin, organization=org).role == "admin"

    second = make_member("admin", org)
    assert client.patch(f"/api/organizations/{org.id}/members/{admin.id}", {"role": "viewer"}, format="json").status_code == 200
    # Now `second` is the last admin.
    resp = client_for(second, org).delete(f"/api/organizations/{org.id}/members/{second.id}")
    assert resp.status_code == 400


def test_audit_log_records_changes_and_filters(org, make_member, client_for):
    admin = make_member("admin", org)
    target = make_member("viewer", org)
    client = client_for(admin, org)
    client.patch(f"/api/organizations/{org.id}/members/{target.id}", {"role": "reviewer"}, format="json")
    newcomer = UserFactory()
    client.post(f"/api/organizations/{org.id}/members", {"email": newcomer.email, "role": "labeler"}, format="json")

    resp = client.get("/api/audit-events")
    assert resp.status_code == 200
    assert [e["action"] for e in resp.data["results"]] == ["member.added", "member.role_changed"]
    changed = resp.data["results"][1]
    assert changed["actor"] == admin.email
    assert changed["metadata"] == {"user": target.email, "from": "viewer", "to": "reviewer"}

    only = client.get("/api/audit-events", {"action": "member.added"})
    assert [e["metadata"]["user"] for e in only.data["results"]] == [newcomer.email]
    by_actor = client.get("/api/audit-events", {"actor": target.id})
    assert by_actor.data["results"] == []
    future = client.get("/api/audit-events", {"since": "2999-01-01T00:00:00Z"})
    assert future.data["count"] == 0
    bad = client.get("/api/audit-events", {"since": "yesterday"})
    assert bad.status_code == 400
    assert "since" in bad.data


def test_audit_events_are_append_only(org, make_member):
    from accounts.services import audit_record

    event = audit_record(actor=None, organization=org, action="test.event")
    event.action = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


def test_unknown_organization_header_is_404(org, make_member, client_for):
    caller = make_member("admin", org)
    client = client_for(caller)
    client.credentials(HTTP_X_ORGANIZATION="999999")
    resp = client.get("/api/audit-events")
    assert resp.status_code == 404
    client.credentials(HTTP_X_ORGANIZATION="abc")
    assert client.get("/api/audit-events").status_code == 404
