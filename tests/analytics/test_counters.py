"""The item counts kept by PostgreSQL triggers stay equal to a count of the items, whatever writes them."""

from collections import Counter

import pytest
from django.db import connection

from analytics import counters
from analytics.models import ItemCount
from analytics.selectors.progress import item_groups, item_groups_counted
from labeling.models import Item
from tests.factories import ItemFactory, ProjectFactory
from tests.review.scenario import item_waiting, submit

pytestmark = pytest.mark.django_db


def as_counter(groups) -> Counter:
    return Counter({(state, source, str(labels), str(model)): n for state, source, labels, model, n in groups})


def assert_exact(project) -> None:
    assert as_counter(item_groups(project=project)) == as_counter(item_groups_counted(project=project))


def test_inserts_updates_deletes_and_bulk_sql_keep_the_counts_exact(world, client_for, postgres_only):
    project = world.project
    items = [item_waiting(project, world.schema, top="cat") for _ in range(4)]
    Item.objects.bulk_create([Item(project=project, kind="text", text=f"bulk {n}", content_hash=f"bulk-{n}")
                              for n in range(5)])
    assert_exact(project)
    rita = client_for(world.reviewer)
    assert submit(rita, items[0], "approve").status_code == 201
    assert submit(rita, items[1], "modify", labels=["dog"]).status_code == 201
    assert submit(rita, items[2], "reject").status_code == 201
    assert rita.post("/api/review/undo", {"project": project.pk}, format="json").status_code == 200
    assert_exact(project)
    rows_before = ItemCount.objects.count()
    Item.objects.filter(project=project).update(confidence=0.3)  # changes no counted column: nothing appended
    assert ItemCount.objects.count() == rows_before
    with connection.cursor() as cursor:
        cursor.execute("UPDATE labeling_item SET state = 'auto_accepted', final_source = 'auto', "
                       "final_labels = '[\"bird\"]' WHERE project_id = %s AND state = 'unlabelled'", [project.pk])
    Item.objects.filter(pk=items[3].pk).delete()
    assert_exact(project)
    by_state = Counter()
    for state, _, _, _, n in item_groups(project=project):
        by_state[state] += n
    assert by_state == {"auto_accepted": 5, "reviewed": 2, "needs_review": 1}


def test_compaction_folds_deltas_and_rebuild_recounts(world, postgres_only):
    project, other = world.project, ProjectFactory()
    for n in range(3):
        ItemFactory(project=project, state="needs_review", text=f"a {n}")
    ItemFactory(project=other, state="unlabelled")
    Item.objects.filter(project=project).update(state="reviewed", final_source="review", final_labels=["cat"])
    Item.objects.filter(project=other).delete()
    assert ItemCount.objects.filter(project_id=project.pk).count() == 5  # 3 inserts (a row each), then one update: −3 and +3

    left = counters.counts_compact()

    assert left == 1  # the other project's rows summed to zero and went
    assert list(ItemCount.objects.values_list("project_id", "state", "final_source", "final_labels", "n")) == [
        (project.pk, "reviewed", "review", ["cat"], 3)]
    ItemCount.objects.all().delete()  # lost: a rebuild recounts from the items
    counters.counts_rebuild()
    assert_exact(project)
    assert counters.install() is False  # already installed: no rebuild
