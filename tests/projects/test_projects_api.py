"""Project CRUD, deletion with confirmation and file removal, audit events (analytics: tests/analytics)."""

import io

import pytest
from PIL import Image

from accounts.models import AuditEvent
from labeling.models import Item
from projects.models import Project
from projects.services import DELETE_CONFIRM_REQUIRED, PROJECT_NAME_TAKEN, PROJECT_TYPE_FIXED, PROJECT_TYPE_REQUIRED
from tests.conftest import stored_files
from tests.factories import ItemFactory, LabelSchemaFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org, make_member):
    return make_member("admin", org)


@pytest.fixture
def client(admin, org, client_for):
    return client_for(admin, org)


def png_bytes(color=(255, 0, 0)):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), color).save(buffer, "PNG")
    return buffer.getvalue()


def test_create_read_update_list(client, org, admin):
    resp = client.post("/api/projects/", {
        "name": "Reviews", "project_type": "text_classification", "description": "Product reviews",
        "deadline": "2030-06-30", "auto_accept_threshold": 0.9, "review_policy": "below_threshold_plus_qa",
        "qa_sample_rate": 0.05,
    }, format="json")
    assert resp.status_code == 201, resp.data
    pid = resp.data["id"]
    assert {k: resp.data[k] for k in ("organization", "name", "project_type", "status", "deadline", "default_model",
                                      "auto_accept_threshold", "review_policy", "qa_sample_rate", "audit_slice_size",
                                      "schema_version", "item_count", "my_role", "created_by", "template")} == {
        "organization": org.id, "name": "Reviews", "project_type": "text_classification", "status": "active",
        "deadline": "2030-06-30", "default_model": "minilm-zero-shot", "auto_accept_threshold": 0.9,
        "review_policy": "below_threshold_plus_qa", "qa_sample_rate": 0.05, "audit_slice_size": 150,
        "schema_version": None, "item_count": 0, "my_role": "manager", "created_by": admin.email, "template": ""}

    resp = client.put(f"/api/projects/{pid}", {"name": "Reviews 2024", "status": "archived",
                                               "auto_accept_threshold": None}, format="json")
    assert resp.status_code == 200
    assert (resp.data["name"], resp.data["status"], resp.data["auto_accept_threshold"]) == (
        "Reviews 2024", "archived", None)
    assert resp.data["description"] == "Product reviews"

    ProjectFactory(organization=org, name="Images")
    ProjectFactory(name="Elsewhere")
    resp = client.get("/api/projects/")
    assert [p["name"] for p in resp.data["results"]] == ["Images", "Reviews 2024"]
    assert [p["name"] for p in client.get("/api/projects/?status=archived").data["results"]] == ["Reviews 2024"]
    assert [p["name"] for p in client.get("/api/projects/?search=imag").data["results"]] == ["Images"]

    actions = list(AuditEvent.objects.filter(organization=org).order_by("id").values_list("action", "metadata"))
    assert actions == [
        ("project.created", {"name": "Reviews", "project_type": "text_classification", "template": ""}),
        ("project.updated", {"fields": ["auto_accept_threshold", "name", "status"]}),
    ]


@pytest.mark.parametrize("body, status, data", [
    ({"name": "X"}, 400, {"project_type": [PROJECT_TYPE_REQUIRED]}),
    ({"name": "taken", "project_type": "text_classification"}, 400,
     {"name": [PROJECT_NAME_TAKEN.format(name="taken")]}),
    ({"name": "X", "project_type": "text_classification", "auto_accept_threshold": 1.5}, 400,
     {"auto_accept_threshold": ["Ensure this value is less than or equal to 1.0."]}),
    ({"name": "X", "project_type": "audio"}, 400, {"project_type": ['"audio" is not a valid choice.']}),
])
def test_create_validation(body, status, data, client, org):
    ProjectFactory(organization=org, name="Taken")
    resp = client.post("/api/projects/", body, format="json")
    assert (resp.status_code, resp.data) == (status, data)
    assert Project.objects.count() == 1


def test_the_type_cannot_change_and_names_stay_unique(client, org):
    project = ProjectFactory(organization=org, name="A")
    ProjectFactory(organization=org, name="B")
    resp = client.put(f"/api/projects/{project.id}", {"project_type": "image_classification"}, format="json")
    assert (resp.status_code, resp.data) == (400, {"project_type": [PROJECT_TYPE_FIXED]})
    resp = client.put(f"/api/projects/{project.id}", {"name": "b"}, format="json")
    assert (resp.status_code, resp.data) == (400, {"name": [PROJECT_NAME_TAKEN.format(name="b")]})


def test_deleting_a_project_with_items_needs_its_name_and_removes_its_files(
        client, org, media_root, django_capture_on_commit_callbacks):
    project = ProjectFactory(organization=org, name="Photos", project_type="image_classification")
    keep = ProjectFactory(organization=org, name="Keep", project_type="image_classification")
    for target, color in ((project, (255, 0, 0)), (project, (0, 255, 0)), (keep, (0, 0, 255))):
        resp = client.post("/api/upload", {"project": target.id, "files": [io.BytesIO(png_bytes(color))]},
                           format="multipart")
        assert resp.status_code == 201, resp.data
    assert len(stored_files(media_root)) == 3

    for body in ({}, {"confirm": "photos"}):
        resp = client.delete(f"/api/projects/{project.id}", body, format="json")
        assert (resp.status_code, resp.data) == (400, {"confirm": [DELETE_CONFIRM_REQUIRED.format(count=2)]})
    assert Project.objects.filter(pk=project.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        resp = client.delete(f"/api/projects/{project.id}", {"confirm": "Photos"}, format="json")
    assert resp.status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Item.objects.filter(project_id=project.pk).exists()
    assert [f.split("/")[:2] for f in stored_files(media_root)] == [["projects", str(keep.id)]]
    assert not (media_root / "projects" / str(project.id)).exists()
    assert AuditEvent.objects.filter(action="project.deleted", target_id=str(project.id),
                                     metadata={"name": "Photos", "items": 2}).exists()


def test_an_empty_project_deletes_without_confirmation(client, org):
    project = ProjectFactory(organization=org)
    assert client.delete(f"/api/projects/{project.id}").status_code == 204
    assert not Project.objects.exists()


def test_deleting_a_project_with_labelled_items_works(client, org, admin):
    project = ProjectFactory(organization=org)
    schema = LabelSchemaFactory(project=project)
    item = ItemFactory(project=project, final_labels=["positive"], final_schema=schema, state="reviewed")
    item.human_labels.create(labels=["positive"], schema=schema, source="import", created_by=admin)
    resp = client.delete(f"/api/projects/{project.id}?confirm={project.name}")
    assert resp.status_code == 204
    assert not Project.objects.exists()

