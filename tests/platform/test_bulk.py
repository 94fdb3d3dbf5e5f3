"""``modelship.bulk.rows_insert``: COPY (PostgreSQL) and executemany (SQLite) write exactly what the ORM would."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from labeling.models import Item
from modelship import bulk
from tests.factories import ProjectFactory

AWKWARD = ["tab\there", "new\nline", "back\\slash", "\\N", "carriage\rreturn", "", "ünïcödé ✓", 'quote "x"']


@pytest.mark.django_db
def test_rows_round_trip_with_every_awkward_character_and_defaults():
    project = ProjectFactory()
    now = timezone.now()
    rows = [(project.pk, "text", text, f"hash{i}", {"line": i, "note": text}, None if i % 2 else ["a"], now)
            for i, text in enumerate(AWKWARD)]
    written = bulk.rows_insert(model=Item, columns=("project_id", "kind", "text", "content_hash", "metadata",
                                                    "final_labels", "created_at"), rows=rows)
    assert written == len(AWKWARD)
    items = list(Item.objects.filter(project=project).order_by("content_hash"))
    assert [(i.text, i.metadata, i.final_labels) for i in sorted(items, key=lambda i: int(i.content_hash[4:]))] == [
        (text, {"line": n, "note": text}, None if n % 2 else ["a"]) for n, text in enumerate(AWKWARD)]
    first = items[0]
    assert (first.state, first.in_audit_slice, first.required_reviews, first.review_count, first.queue_reason,
            first.file.name, first.created_at) == ("unlabelled", False, 1, 0, "", "", now)


@pytest.mark.django_db
def test_a_duplicate_raises_integrity_error_and_writes_nothing():
    project = ProjectFactory()
    row = (project.pk, "text", "same", "same-hash")
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.rows_insert(model=Item, columns=("project_id", "kind", "text", "content_hash"), rows=[row, row])
    assert Item.objects.filter(project=project).count() == 0


@pytest.mark.django_db
def test_upsert_inserts_then_updates_and_returns_the_rows_it_wrote():
    from labeling.models import ItemEmbedding
    from tests.factories import ItemFactory

    items = [ItemFactory(), ItemFactory()]
    first = bulk.rows_upsert(model=ItemEmbedding, columns=("item_id", "model_name", "vector"),
                             unique=("item_id", "model_name"), update=("vector",), returning=("item_id", "id"),
                             rows=[(i.pk, "m", b"\x00\x01") for i in items])
    assert sorted(item_id for item_id, _ in first) == sorted(i.pk for i in items)
    again = bulk.rows_upsert(model=ItemEmbedding, columns=("item_id", "model_name", "vector"),
                             unique=("item_id", "model_name"), update=("vector",), returning=("item_id", "id"),
                             rows=[(items[0].pk, "m", b"\x02")])
    assert again == [(items[0].pk, dict(first)[items[0].pk])]
    assert sorted((e.item_id, bytes(e.vector)) for e in ItemEmbedding.objects.all()) == sorted(
        [(items[0].pk, b"\x02"), (items[1].pk, b"\x00\x01")])
