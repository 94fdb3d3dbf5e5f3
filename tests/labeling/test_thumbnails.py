"""The data browser's thumbnails: a bounded JPEG made once from the stored image and kept under the project,
scoped like the item (404 for another organization), gone with the item; and the page's filters (state, label,
confidence, source), sort and pages."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from labeling.items.files import NO_THUMBNAIL, THUMBNAIL_SIZE, thumbnail_name
from labeling.models import Item
from labeling.views import PAGE_SIZE
from tests.conftest import stored_files
from tests.factories import ProjectFactory
from tests.review.scenario import image_waiting, item_waiting, schema_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(org):
    project = ProjectFactory(organization=org, name="Photos", project_type="image_classification",
                             default_model="efficientnet-lite0-custom")
    schema_for(project)
    return project


def test_a_thumbnail_is_a_small_jpeg_made_once_and_kept(project, org, other_org, make_member, client_for, media_root,
                                                       django_capture_on_commit_callbacks):
    schema = project.schemas.get()
    photo = image_waiting(project, schema, size=(2400, 1600), top="cat")
    original = photo.file.size
    viewer = client_for(make_member("viewer", org))

    first = viewer.get(f"/api/items/{photo.pk}/thumbnail")

    assert (first.status_code, first["Content-Type"]) == (200, "image/jpeg")
    with Image.open(io.BytesIO(first.content)) as thumb:
        assert (thumb.format, thumb.size) == ("JPEG", (THUMBNAIL_SIZE, round(THUMBNAIL_SIZE * 2 / 3)))
    assert len(first.content) < original // 2, (len(first.content), original)
    name = thumbnail_name(project_id=project.pk, content_hash=photo.content_hash)
    assert name in stored_files(media_root)
    with default_storage.open(name, "wb") as kept:  # the second answer is the kept file, not a new one
        kept.write(b"kept")
    assert viewer.get(f"/api/items/{photo.pk}/thumbnail").content == b"kept"

    text = item_waiting(project, schema, text="words")
    assert viewer.get(f"/api/items/{text.pk}/thumbnail").json() == {"detail": NO_THUMBNAIL}
    stranger = client_for(make_member("admin", other_org))
    assert stranger.get(f"/api/items/{photo.pk}/thumbnail").status_code == 404

    manager = client_for(make_member("admin", org))
    with django_capture_on_commit_callbacks(execute=True):  # the files go once the deletion commits
        assert manager.delete(f"/api/items/{photo.pk}").status_code == 204
    assert stored_files(media_root) == []


def test_the_data_browser_shows_thumbnails_filters_and_pages(project, org, make_member, client, media_root):
    schema = project.schemas.get()
    photo = image_waiting(project, schema, top="dog", confidence=0.9)
    Item.objects.bulk_create([
        Item(project=project, kind="text", text=f"note {n}", content_hash=f"note-{n}", state=Item.State.REVIEWED,
             final_source=Item.FinalSource.REVIEW, final_labels=["cat"], final_schema=schema,
             predicted_labels=["cat"], confidence=0.5)
        for n in range(PAGE_SIZE + 2)])
    client.force_login(make_member("viewer", org))
    url = f"/projects/{project.pk}/items"

    first = client.get(url, {"sort": "newest"})
    second = client.get(url, {"sort": "newest", "page": "2"})
    images = client.get(url, {"state": "needs_review", "label": "dog", "min_confidence": "0.8",
                              "source": "none"})
    reviewed = client.get(url, {"state": "reviewed", "source": "review", "sort": "confidence"})

    html = images.content.decode()
    assert f'<img src="/api/items/{photo.pk}/thumbnail"' in html
    assert "/download" not in html  # never the full image, scaled down by the browser
    assert [len(page.context["page"].object_list) for page in (first, second, images)] == [PAGE_SIZE, 3, 1]
    assert reviewed.context["page"].paginator.count == PAGE_SIZE + 2
    assert 'href="?sort=newest&page=2" rel="next"' in first.content.decode()
