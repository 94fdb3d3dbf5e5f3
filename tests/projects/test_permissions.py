"""Who may do what to a project: the role matrix, assignments, and other organizations' 404s."""

import io

import pytest

from accounts.permissions import ROLE_REQUIRED
from labeling.items.selectors import ITEM_NOT_FOUND, USER_NOT_FOUND
from labeling.items.services import ITEM_DELETE_FORBIDDEN
from labeling.models import Item
from projects.models import LabelSchema, Project, ProjectAssignment
from projects.permissions import PROJECT_ROLE_REQUIRED
from projects.selectors import PROJECT_NOT_FOUND
from tests.factories import ItemFactory, LabelSchemaFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["admin", "labeler", "reviewer", "viewer"]
SCHEMA = {"categories": [{"name": "yes"}, {"name": "no"}]}


def text_upload(project_id):
    return {"project": project_id, "files": [io.BytesIO(b"first line\nsecond line\n")]}


def project_requests(project, item, uploader, member):
    """(method, path, body, format, expected status per role: admin, labeler, reviewer, viewer)."""
    pid = project.id
    return [
        ("get", "/api/projects/", None, "json", (200, 200, 200, 200)),
        ("get", f"/api/projects/{pid}", None, "json", (200, 200, 200, 200)),
        ("put", f"/api/projects/{pid}", {"description": "new"}, "json", (200, 403, 403, 403)),
        ("patch", f"/api/projects/{pid}", {"deadline": "2030-01-01"}, "json", (200, 403, 403, 403)),
        ("get", f"/api/projects/{pid}/label-schema", None, "json", (200, 200, 200, 200)),
        ("post", f"/api/projects/{pid}/label-schema", SCHEMA, "json", (201, 403, 403, 403)),
        ("get", f"/api/projects/{pid}/label-schema/versions", None, "json", (200, 200, 200, 200)),
        ("get", f"/api/projects/{pid}/label-schema/versions/1", None, "json", (200, 200, 200, 200)),
        ("post", f"/api/projects/{pid}/assign", {"user_id": member.id, "role": "reviewer"}, "json",
         (200, 403, 403, 403)),
        ("get", f"/api/projects/{pid}/assignments", None, "json", (200, 200, 200, 200)),
        ("delete", f"/api/projects/{pid}/assignments/{member.id}", None, "json", (204, 403, 403, 403)),
        ("get", f"/api/projects/{pid}/analytics", None, "json", (200, 200, 200, 200)),
        ("post", "/api/upload", text_upload(pid), "multipart", (201, 201, 403, 403)),
        ("get", f"/api/uploads?project={pid}", None, "json", (200, 200, 200, 200)),
        ("get", f"/api/files/{uploader.id}?project={pid}", None, "json", (200, 200, 200, 200)),
        ("get", f"/api/items/{item.id}/download", None, "json", (200, 200, 200, 200)),
        ("delete", f"/api/items/{item.id}", None, "json", (204, 403, 403, 403)),
        ("delete", f"/api/projects/{pid}", {"confirm": project.name}, "json", (204, 403, 403, 403)),
    ]


def _message(resp):
    return resp.data.get("detail") if isinstance(resp.data, dict) else None


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(role, org, make_member, client_for):
    caller = make_member(role, org)
    uploader = make_member("labeler", org)
    member = make_member("viewer", org)
    project = ProjectFactory(organization=org)
    LabelSchemaFactory(project=project)
    item = ItemFactory(project=project, uploaded_by=uploader)
    client = client_for(caller, org)
    for method, path, body, fmt, statuses in project_requests(project, item, uploader, member):
        expected = statuses[ROLES.index(role)]
        resp = getattr(client, method)(path, body, format=fmt)
        assert resp.status_code == expected, (role, method, path, resp.status_code, resp.data)
        if expected == 403:
            assert _message(resp) in (PROJECT_ROLE_REQUIRED, ITEM_DELETE_FORBIDDEN), (path, resp.data)
    created = client.post("/api/projects/", {"name": "New", "project_type": "text_classification"}, format="json")
    assert created.status_code == (201 if role == "admin" else 403)
    if role != "admin":
        assert created.data == {"detail": ROLE_REQUIRED}
    assert Project.objects.filter(pk=project.pk).exists() == (role != "admin")


def test_an_assignment_overrides_the_organization_role(org, make_member, client_for):
    labeler = make_member("labeler", org)
    viewer = make_member("viewer", org)
    project = ProjectFactory(organization=org)
    LabelSchemaFactory(project=project)
    ProjectAssignment.objects.create(project=project, user=viewer, role="manager")
    ProjectAssignment.objects.create(project=project, user=labeler, role="viewer")

    as_manager = client_for(viewer, org)
    resp = as_manager.post(f"/api/projects/{project.id}/label-schema", SCHEMA, format="json")
    assert resp.status_code == 201
    assert as_manager.get(f"/api/projects/{project.id}").data["my_role"] == "manager"

    as_viewer = client_for(labeler, org)
    resp = as_viewer.post("/api/upload", text_upload(project.id), format="multipart")
    assert resp.status_code == 403
    assert resp.data == {"detail": PROJECT_ROLE_REQUIRED}
    assert as_viewer.get(f"/api/projects/{project.id}").data["my_role"] == "viewer"
    # Elsewhere in the organization the labeler is still a labeler.
    other = ProjectFactory(organization=org)
    assert as_viewer.post("/api/upload", text_upload(other.id), format="multipart").status_code == 201


def test_a_labeler_deletes_only_items_they_uploaded(org, make_member, client_for):
    labeler = make_member("labeler", org)
    project = ProjectFactory(organization=org)
    own = ItemFactory(project=project, uploaded_by=labeler)
    theirs = ItemFactory(project=project, uploaded_by=make_member("labeler", org))
    client = client_for(labeler, org)
    resp = client.delete(f"/api/items/{theirs.id}")
    assert resp.status_code == 403
    assert resp.data == {"detail": ITEM_DELETE_FORBIDDEN}
    assert client.delete(f"/api/items/{own.id}").status_code == 204
    assert list(Item.objects.values_list("id", flat=True)) == [theirs.id]


@pytest.mark.parametrize("role", ROLES)
def test_another_organizations_project_is_404_for_every_endpoint(role, org, other_org, make_member, client_for):
    caller = make_member(role, org)
    stranger = make_member("labeler", other_org)
    member = make_member("viewer", other_org)
    project = ProjectFactory(organization=other_org)
    schema = LabelSchemaFactory(project=project)
    item = ItemFactory(project=project, uploaded_by=stranger)
    client = client_for(caller, org)
    not_found = {"detail": PROJECT_NOT_FOUND}
    for method, path, body, fmt, _ in project_requests(project, item, stranger, member):
        if path == "/api/projects/":
            continue  # the list is the caller's own organization's
        resp = getattr(client, method)(path, body, format=fmt)
        assert resp.status_code == 404, (method, path, resp.status_code, resp.data)
        by_item = path.startswith("/api/items/")
        expected = {"detail": ITEM_NOT_FOUND} if by_item else not_found
        assert resp.data == expected, (method, path, resp.data)
    # A user of another organization, and filtering your own files by its project, are 404s too.
    resp = client.get(f"/api/files/{stranger.id}")
    assert (resp.status_code, resp.data) == (404, {"detail": USER_NOT_FOUND})
    resp = client.get(f"/api/files/{caller.id}?project={project.id}")
    assert (resp.status_code, resp.data) == (404, not_found)
    assert client.get("/api/projects/").data["results"] == []
    # Nothing changed over there.
    assert Project.objects.filter(pk=project.pk, description="").exists()
    assert list(LabelSchema.objects.filter(project=project).values_list("id", flat=True)) == [schema.id]
    assert list(Item.objects.filter(project=project).values_list("id", flat=True)) == [item.id]
    assert not ProjectAssignment.objects.exists()


def test_only_members_of_the_organization_can_be_assigned(org, other_org, make_member, client_for):
    from projects.services import ASSIGNEE_NOT_MEMBER

    client = client_for(make_member("admin", org), org)
    project = ProjectFactory(organization=org)
    outsider = make_member("admin", other_org, email="outsider@example.com")
    nobody = UserFactory(email="nobody@example.com")
    for body, field, who in [
        ({"email": "outsider@example.com", "role": "labeler"}, "email", "outsider@example.com"),
        ({"email": "nobody@example.com", "role": "labeler"}, "email", "nobody@example.com"),
        ({"user_id": outsider.id, "role": "labeler"}, "user_id", f"User {outsider.id}"),
        ({"user_id": nobody.id, "role": "labeler"}, "user_id", f"User {nobody.id}"),
    ]:
        resp = client.post(f"/api/projects/{project.id}/assign", body, format="json")
        assert resp.status_code == 400
        assert resp.data == {field: [ASSIGNEE_NOT_MEMBER.format(who=who)]}
    assert not ProjectAssignment.objects.exists()

    member = make_member("labeler", org, email="member@example.com")
    resp = client.post(f"/api/projects/{project.id}/assign",
                       {"email": "Member@example.com", "role": "reviewer", "daily_target": 200}, format="json")
    assert resp.status_code == 200
    assert {k: resp.data[k] for k in ("user_id", "email", "role", "daily_target")} == {
        "user_id": member.id, "email": "member@example.com", "role": "reviewer", "daily_target": 200}
    resp = client.post(f"/api/projects/{project.id}/assign", {"user_id": member.id, "role": "manager"}, format="json")
    assert resp.status_code == 200
    assert list(ProjectAssignment.objects.values_list("user_id", "role", "daily_target")) == [
        (member.id, "manager", None)]
