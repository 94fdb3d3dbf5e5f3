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
