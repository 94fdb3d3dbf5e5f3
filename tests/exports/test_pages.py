"""The exports page through Django's test client: the form calls the export service; past exports list."""

import pytest

from exports.models import Export
from exports.views import EXPORT_QUEUED, EXPORT_REUSED
from labeling.models import Item
from tests.factories import ProjectFactory
from tests.review.scenario import item_waiting, schema_for

pytestmark = pytest.mark.django_db


def test_the_exports_page_asks_for_an_export_with_splits_and_lists_it(client, org, make_member):
    project = ProjectFactory(organization=org)
    schema = schema_for(project)
    item = item_waiting(project, schema)
    Item.objects.filter(pk=item.pk).update(state="reviewed", final_labels=["cat"], final_schema=schema,
                                           final_source="review")
    client.force_login(make_member("viewer", org))

    form = {"format": "json", "split_train": "80", "split_val": "10", "split_test": "10", "seed": "7"}
    first = client.post(f"/projects/{project.pk}/exports", form, follow=True)
    export = Export.objects.get()
    again = client.post(f"/projects/{project.pk}/exports", form, follow=True)
    bad = client.post(f"/projects/{project.pk}/exports", {**form, "split_test": "30"}, follow=True)

    assert EXPORT_QUEUED.format(id=export.public_id) in first.content.decode()
    assert (export.format, export.options["split"], export.options["seed"], export.options["include_auto_accepted"]) \
        == ("json", {"train": 0.8, "val": 0.1, "test": 0.1}, 7, False)
    assert EXPORT_REUSED.format(id=export.public_id) in again.content.decode()
    assert "The split ratios must add up to 1" in bad.content.decode()
    assert Export.objects.count() == 1
    row = first.content.decode().split(f'data-export="{export.public_id}"')[1]
    assert "data-pending" in row.split(">")[0]
