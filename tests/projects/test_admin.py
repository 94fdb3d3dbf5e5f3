"""The Django admin lists and searches projects, schemas, assignments, items and imports."""

import pytest
from django.test import Client

from projects.models import ProjectAssignment
from tests.factories import ItemFactory, LabelSchemaFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_admin_pages_load(org, make_member):
    staff = UserFactory(is_staff=True, is_superuser=True)
    project = ProjectFactory(organization=org, name="Searchable")
    schema = LabelSchemaFactory(project=project)
    item = ItemFactory(project=project, final_labels=["positive"], final_schema=schema, state="reviewed")
    item.human_labels.create(labels=["positive"], schema=schema, source="import")
    ProjectAssignment.objects.create(project=project, user=make_member("labeler", org), role="reviewer")
    client = Client()
    client.force_login(staff)
    for path in ["/admin/projects/project/?q=Search", "/admin/projects/labelschema/", "/admin/projects/category/",
                 "/admin/projects/projectassignment/?role=reviewer", "/admin/labeling/item/?state=reviewed&q=Item",
                 "/admin/labeling/importjob/", "/admin/labeling/humanlabel/",
                 f"/admin/projects/project/{project.id}/change/", f"/admin/projects/labelschema/{schema.id}/change/",
                 f"/admin/labeling/item/{item.id}/change/"]:
        resp = client.get(path)
        assert resp.status_code == 200, path
    assert b"Searchable" in client.get("/admin/projects/project/?q=Search").content


def test_deleting_in_the_admin_removes_stored_files(org, make_member, client_for, media_root,
                                                     django_capture_on_commit_callbacks):
    from labeling.models import Item
    from tests.conftest import stored_files
    from tests.factories import image_bytes, named

    staff = UserFactory(is_staff=True, is_superuser=True)
    project = ProjectFactory(organization=org, project_type="image_classification")
    other = ProjectFactory(organization=org, project_type="image_classification")
    uploader = client_for(make_member("admin", org), org)
    for target, color in ((project, (1, 1, 1)), (project, (2, 2, 2)), (other, (3, 3, 3))):
        uploader.post("/api/upload", {"project": target.id, "files": [named(image_bytes(color=color), "a.png")]},
                      format="multipart")
    first = Item.objects.filter(project=project).order_by("id").first()
    client = Client()
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/admin/labeling/item/{first.id}/delete/", {"post": "yes"})
    assert resp.status_code == 302
    assert len(stored_files(media_root)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post("/admin/projects/project/", {"action": "delete_selected", "_selected_action": [project.id],
                                                        "post": "yes"})
    assert resp.status_code == 302
    assert [f.split("/")[1] for f in stored_files(media_root)] == [str(other.id)]
