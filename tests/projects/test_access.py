"""The one project-access rule (projects.selectors.project_get_for_user) and the project-scoped view."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from modelship.exceptions import Forbidden, NotFound
from projects.models import ProjectAssignment, ProjectRole
from projects.permissions import ANY_PROJECT_ROLE, MANAGERS, PROJECT_REVIEWERS, PROJECT_ROLE_REQUIRED
from projects.selectors import PROJECT_NOT_FOUND, project_get_for_user
from tests.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("org_role", "assigned", "role"), [
    ("admin", ProjectRole.VIEWER, ProjectRole.MANAGER),  # admins manage every project, whatever the assignment
    ("labeler", None, ProjectRole.LABELER),  # the organization role carries over
    ("viewer", ProjectRole.REVIEWER, ProjectRole.REVIEWER),  # else the assignment decides
    ("reviewer", ProjectRole.MANAGER, ProjectRole.MANAGER),
])
def test_the_caller_role_follows_the_one_rule(org, make_member, org_role, assigned, role):
    project = ProjectFactory(organization=org)
    user = make_member(org_role, org)
    if assigned:
        ProjectAssignment.objects.create(project=project, user=user, role=assigned)
    assert project_get_for_user(user=user, project_id=project.pk).caller_role == role


def test_a_role_outside_require_is_a_403_and_another_organization_a_404(org, other_org, make_member):
    project = ProjectFactory(organization=org)
    viewer, stranger = make_member("viewer", org), make_member("admin", other_org)
    assert project_get_for_user(user=viewer, project_id=str(project.pk), require=ANY_PROJECT_ROLE).pk == project.pk
    for require in (MANAGERS, PROJECT_REVIEWERS):
        with pytest.raises(Forbidden) as refused:
            project_get_for_user(user=viewer, project_id=project.pk, require=require)
        assert (refused.value.message, refused.value.status_code) == (PROJECT_ROLE_REQUIRED, 403)
    for user, project_id in ((stranger, project.pk), (viewer, "not-a-number"), (viewer, None), (viewer, 10**9)):
        with pytest.raises(NotFound) as missing:  # never a 403 outside the caller's organizations
            project_get_for_user(user=user, project_id=project_id, require=MANAGERS)
        assert (missing.value.message, missing.value.status_code) == (PROJECT_NOT_FOUND, 404)


def test_the_project_page_reads_the_project_once(org, make_member, client_for):
    project = ProjectFactory(organization=org)
    ItemFactory(project=project)
    client = client_for(make_member("viewer", org), org)
    with CaptureQueriesContext(connection) as queries:
        resp = client.get(f"/api/projects/{project.pk}")
    assert (resp.status_code, resp.data["item_count"], resp.data["my_role"]) == (200, 1, ProjectRole.VIEWER)
    table = '"projects_project"'
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and f"FROM {table}" in q["sql"]]
    assert len(reads) == 1, reads
