"""A user's files: listed across the caller's organizations, filtered and paginated."""

import pytest

from labeling.items.selectors import IMPORT_NOT_FOUND
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, named

pytestmark = pytest.mark.django_db


def test_a_users_files_in_the_callers_organizations(org, other_org, make_member, client_for):
    viewer = make_member("viewer", org)
    uploader = make_member("labeler", org)
    # The uploader also works in another organization the viewer is not part of.
    MembershipFactory(user=uploader, organization=other_org, role="labeler")
    mine, other = ProjectFactory(organization=org), ProjectFactory(organization=org)
    hidden = ProjectFactory(organization=other_org)
    a = ItemFactory(project=mine, uploaded_by=uploader, state="reviewed")
    b = ItemFactory(project=other, uploaded_by=uploader)
    c = ItemFactory(project=mine, uploaded_by=uploader)
    ItemFactory(project=hidden, uploaded_by=uploader)
    ItemFactory(project=mine, uploaded_by=viewer)

    client = client_for(viewer, org)
    resp = client.get(f"/api/files/{uploader.id}")
    assert resp.status_code == 200
    assert resp.data["count"] == 3
    assert [i["id"] for i in resp.data["results"]] == [c.id, b.id, a.id]
    assert resp.data["results"][0]["download_url"] == f"/api/items/{c.id}/download"
    assert [i["id"] for i in client.get(f"/api/files/{uploader.id}?project={mine.id}").data["results"]] == [c.id, a.id]
    assert [i["id"] for i in client.get(f"/api/files/{uploader.id}?state=reviewed").data["results"]] == [a.id]
    page = client.get(f"/api/files/{uploader.id}?page_size=2&page=2").data
    assert (page["count"], [i["id"] for i in page["results"]]) == (3, [a.id])
    resp = client.get(f"/api/files/{uploader.id}?state=lost")
    assert resp.status_code == 400


def test_upload_jobs_are_listed_and_read(org, other_org, make_member, client_for):
    labeler = make_member("labeler", org)
    project = ProjectFactory(organization=org)
    client = client_for(labeler, org)
    resp = client.post("/api/upload", {"project": project.id, "files": [named(b"one\ntwo\n", "a.txt")]},
                       format="multipart")
    job_id = resp.data["id"]
    listed = client.get(f"/api/uploads?project={project.id}").data
    assert [j["id"] for j in listed["results"]] == [job_id]
    detail = client.get(f"/api/uploads/{job_id}").data
    assert {k: detail[k] for k in ("status", "accepted", "created_by", "is_async", "text_mode")} == {
        "status": "succeeded", "accepted": 2, "created_by": labeler.email, "is_async": False, "text_mode": "line"}
    stranger = client_for(make_member("admin", other_org), other_org)
    resp = stranger.get(f"/api/uploads/{job_id}")
    assert (resp.status_code, resp.data) == (404, {"detail": IMPORT_NOT_FOUND})
