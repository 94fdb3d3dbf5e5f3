"""Who may see which figures: any role sees a project's dashboard, only staff the platform overview, and
another organization's project is a 404 — over the API and on the pages."""

import pytest

from analytics.api import STAFF_ONLY
from projects.permissions import PROJECT_ROLE_REQUIRED
from projects.selectors import PROJECT_NOT_FOUND
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

PROJECT_PATHS = ["/api/analytics/project-dashboard/{id}", "/api/analytics/cost-savings/{id}",
                 "/api/analytics/quality-metrics/{id}", "/api/projects/{id}/analytics"]


@pytest.mark.parametrize("path", PROJECT_PATHS)
def test_every_role_reads_a_project_and_other_organizations_get_404(world, client_for, make_member, path):
    outsider = make_member("admin")  # admin of another organization
    url = path.format(id=world.project.pk)

    statuses = [client_for(user).get(url).status_code
                for user in (world.manager, world.reviewer, world.labeler, world.viewer)]
    foreign = client_for(outsider).get(url)
    missing = client_for(world.viewer).get(path.format(id=999999))

    assert statuses == [200, 200, 200, 200]
    assert (foreign.status_code, foreign.json()) == (404, {"detail": PROJECT_NOT_FOUND})
    assert missing.status_code == 404
    assert client_for().get(url).status_code == 401


def test_review_stats_stay_for_reviewers_and_managers(world, client_for):
    url = f"/api/review/stats?project={world.project.pk}"

    statuses = [client_for(user).get(url).status_code
                for user in (world.manager, world.reviewer, world.labeler, world.viewer)]

    assert statuses == [200, 200, 403, 403]
    assert client_for(world.viewer).get(url).json() == {"detail": PROJECT_ROLE_REQUIRED}


def test_only_staff_see_the_platform_overview(org, make_member, client_for):
    admin = make_member("admin", org)
    staff = make_member("viewer", org, is_staff=True)

    refused = client_for(admin).get("/api/analytics/platform-overview")

    assert (refused.status_code, refused.json()) == (403, {"detail": STAFF_ONLY})
    assert client_for(staff).get("/api/analytics/platform-overview").status_code == 200
    assert client_for().get("/api/analytics/platform-overview").status_code == 401


def test_pages_follow_the_same_rules(world, client, make_member):
    other = ProjectFactory()
    client.force_login(world.viewer)

    dashboard = client.get(f"/projects/{world.project.pk}/dashboard")
    csv = client.get(f"/projects/{world.project.pk}/dashboard/states.csv")
    foreign = client.get(f"/projects/{other.pk}/dashboard")
    foreign_csv = client.get(f"/projects/{other.pk}/dashboard/states.csv")
    manage = client.get(f"/projects/{world.project.pk}/manage")
    overview = client.get("/staff/overview")
    unknown_table = client.get(f"/projects/{world.project.pk}/dashboard/nothing.csv")

    assert (dashboard.status_code, csv.status_code) == (200, 200)
    assert (foreign.status_code, foreign_csv.status_code) == (404, 404)
    assert (manage.status_code, overview.status_code, unknown_table.status_code) == (403, 403, 404)
    assert client.get("/dashboard").status_code == 200
    client.logout()
    assert client.get(f"/projects/{world.project.pk}/dashboard").status_code == 302  # to the login page
    client.force_login(make_member("viewer", world.project.organization, is_staff=True))
    assert client.get("/staff/overview").status_code == 200
    assert client.get("/staff/overview/items.csv").status_code == 200
