"""Text uploads: TXT, CSV, JSON and JSONL, with labels checked against the schema."""

import json

import pytest

from labeling.models import HumanLabel, ImportJob, Item
from labeling.uploads import messages
from projects.schemas import LABELS_SINGLE, LABELS_UNKNOWN
from tests.factories import ItemFactory, LabelSchemaFactory, ProjectFactory, named
from tests.labeling.conftest import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(org):
    return ProjectFactory(organization=org)


@pytest.fixture
def schema(project):
    return LabelSchemaFactory(project=project, categories=["positive", "negative", "neutral"])


def items(project):
    return list(Item.objects.filter(project=project).order_by("id").values_list(
        "text", "state", "final_labels", "final_source", "metadata"))


def test_a_csv_with_labels_gives_items_and_human_labels(client, project, schema, labeler):
    csv = ("\ufefftext,label,source\n"
           "I love this product!,positive,web\n"
           "\"Broken on arrival,\nsent it back\",Negative,email\n"
           "No label here,,web\n")
    resp = upload(client, project, named(csv.encode(), "reviews.csv"))
    assert resp.status_code == 201, resp.data
    assert items(project) == [
        ("I love this product!", "reviewed", ["positive"], "import", {"line": 2, "fields": {"source": "web"}}),
        ("Broken on arrival,\nsent it back", "reviewed", ["negative"], "import",
         {"line": 3, "fields": {"source": "email"}}),
        ("No label here", "unlabelled", None, "", {"line": 5, "fields": {"source": "web"}}),
    ]
    first, second, third = Item.objects.filter(project=project).order_by("id")
    assert list(HumanLabel.objects.order_by("id").values_list("item_id", "labels", "schema_id", "source",
                                                              "created_by_id")) == [
        (first.id, ["positive"], schema.id, "import", labeler.id),
        (second.id, ["negative"], schema.id, "import", labeler.id),
    ]
    assert (first.final_schema_id, first.decided_by_id, first.mime_type, first.size_bytes, first.original_name) == (
        schema.id, labeler.id, "text/plain", len(b"I love this product!"), "reviews.csv")
    assert first.decided_at is not None and third.decided_at is None
    assert resp.data["report"]["accepted"] == [
        {"file": "reviews.csv", "archive": "", "line": line, "item": item.id}
        for line, item in ((2, first), (3, second), (5, third))]
    assert resp.data["report"]["files"] == [
        {"file": "reviews.csv", "kind": "csv", "accepted": 3, "duplicates": 0, "rejected": 0}]


def test_a_bad_label_rejects_that_row_only(client, project, schema):
    csv = ("text,labels\n"
           "Great,positive\n"
           "Meh,so-so\n"
           "Odd,positive|negative\n"
           ",positive\n"
           "Fine,neutral,extra\n"
           "Good,positive\n")
    resp = upload(client, project, named(csv.encode(), "data.csv"))
    assert resp.status_code == 201
    assert [t for t, *_ in items(project)] == ["Great", "Good"]
    assert resp.data["report"]["rejected"] == [
        {"file": "data.csv", "archive": "", "line": 3, "reason": LABELS_UNKNOWN.format(version=1, labels="'so-so'")},
        {"file": "data.csv", "archive": "", "line": 4, "reason": LABELS_SINGLE.format(count=2)},
        {"file": "data.csv", "archive": "", "line": 5, "reason": messages.TEXT_EMPTY},
        {"file": "data.csv", "archive": "", "line": 6,
         "reason": messages.ROW_TOO_MANY_VALUES.format(count=3, columns=2)},
    ]
    assert (resp.data["accepted"], resp.data["rejected"]) == (2, 4)


def test_a_csv_that_is_not_utf8_is_400_naming_the_line(client, project, schema, media_root):
    csv = "text,label\nGood,positive\nCafé crème,neutral\n".encode("latin-1")
    resp = upload(client, project, named(b"fine line\n", "ok.txt"), named(csv, "legacy.csv"))
    assert (resp.status_code, resp.data) == (400, {"files": [messages.TEXT_NOT_UTF8.format(file="legacy.csv",
                                                                                            line=3)]})
    assert not Item.objects.exists()
    assert not ImportJob.objects.exists()


def test_non_utf8_in_a_big_file_names_the_right_line(client, project):
    lines = [f"line {i}".encode() for i in range(1, 300_001)]
    lines[250_000 - 1] = "naïve".encode("cp1252")
    resp = upload(client, project, named(b"\n".join(lines), "big.txt"))
    assert resp.data == {"files": [messages.TEXT_NOT_UTF8.format(file="big.txt", line=250_000)]}


@pytest.mark.parametrize("csv, message", [
    (b"content,label\nhello,positive\n", messages.CSV_NO_TEXT_COLUMN.format(file="x.csv",
                                                                            columns="'content', 'label'")),
    (b"", messages.CSV_EMPTY.format(file="x.csv")),
    (b"text\n" + b"a" * 500_000 + b"\n", None),
])
def test_an_unusable_csv_is_400(csv, message, client, project, schema):
    resp = upload(client, project, named(csv, "x.csv"))
    if not csv:
        assert resp.data["report"]["rejected"] == [
            {"file": "x.csv", "archive": "", "line": None, "reason": messages.FILE_EMPTY}]
        return
    assert resp.status_code == 400
    if message:
        assert resp.data == {"files": [message]}
    else:
        assert resp.data == {"files": [messages.CSV_MALFORMED.format(
            file="x.csv", line=2, error="field larger than field limit (401024)")]}
    assert not Item.objects.exists()


def test_txt_by_line_or_whole(client, project):
    text = b"first\r\n\r\n  second  \nthird"
    resp = upload(client, project, named(text, "notes.txt"))
    assert resp.status_code == 201
    assert [(t, m) for t, _, _, _, m in items(project)] == [("first", {"line": 1}), ("second", {"line": 3}),
                                                            ("third", {"line": 4})]
    resp = upload(client, project, named(text, "whole.txt"), text_mode="whole")
    assert resp.status_code == 201
    assert items(project)[-1] == ("first\r\n\r\n  second  \nthird", "unlabelled", None, "", {})
    resp = upload(client, project, named(text, "whole.txt"), text_mode="paragraph")
    assert resp.status_code == 400
    assert resp.data == {"text_mode": ['"paragraph" is not a valid choice.']}


def test_json_and_jsonl(client, project, schema):
    data = json.dumps({"items": [
        {"text": "One", "labels": ["positive"], "id": 7},
        "Two",
        {"text": "Three", "label": "nope"},
        42,
        {"body": "no text field"},
    ]})
    jsonl = '{"text": "Four", "label": "neutral"}\n\nnot json\n["a list"]\n{"text": "Five"}\n'
    resp = upload(client, project, named(data.encode(), "items.json"), named(jsonl.encode(), "items.jsonl"))
    assert resp.status_code == 201, resp.data
    assert items(project) == [
        ("One", "reviewed", ["positive"], "import", {"line": 1, "fields": {"id": 7}}),
        ("Two", "unlabelled", None, "", {"line": 2}),
        ("Four", "reviewed", ["neutral"], "import", {"line": 1}),
        ("Five", "unlabelled", None, "", {"line": 5}),
    ]
    assert resp.data["report"]["rejected"] == [
        {"file": "items.json", "archive": "", "line": 3, "reason": LABELS_UNKNOWN.format(version=1, labels="'nope'")},
        {"file": "items.json", "archive": "", "line": 4, "reason": messages.ROW_NOT_AN_ITEM},
        {"file": "items.json", "archive": "", "line": 5, "reason": messages.TEXT_EMPTY},
        {"file": "items.jsonl", "archive": "", "line": 3,
         "reason": messages.ROW_JSON_INVALID.format(error="Expecting value")},
        {"file": "items.jsonl", "archive": "", "line": 4, "reason": messages.ROW_NOT_AN_ITEM},
    ]


def test_invalid_json_is_400_with_its_position(client, project):
    resp = upload(client, project, named(b'[\n  {"text": "a"},\n  {"text": }\n]', "broken.json"))
    assert (resp.status_code, resp.data) == (400, {"files": [messages.JSON_INVALID.format(
        file="broken.json", line=3, column=12, error="Expecting value")]})
    resp = upload(client, project, named(b'{"text": "a"}', "object.json"))
    assert resp.data == {"files": [messages.JSON_SHAPE.format(file="object.json")]}


def test_duplicate_texts_are_reported_with_their_lines(client, project):
    existing = ItemFactory(project=project, text="Already here")
    resp = upload(client, project, named(b"text\nAlready here\nNew one\n  New one  \nAnother\n", "d.csv"))
    new_one = Item.objects.get(text="New one")
    assert resp.data["report"]["duplicates"] == [
        {"file": "d.csv", "archive": "", "line": 2, "item": existing.id},
        {"file": "d.csv", "archive": "", "line": 4, "item": new_one.id},
    ]
    assert [r["line"] for r in resp.data["report"]["accepted"]] == [3, 5]
    assert Item.objects.filter(project=project).count() == 3


def test_labels_without_a_schema_are_refused(client, project):
    resp = upload(client, project, named(b"text,label\nhello,positive\nworld,\n", "x.csv"))
    assert [t for t, *_ in items(project)] == ["world"]
    assert resp.data["report"]["rejected"] == [
        {"file": "x.csv", "archive": "", "line": 2, "reason": messages.LABELS_WITHOUT_SCHEMA}]


def test_multi_label_rows(client, project):
    LabelSchemaFactory(project=project, multi_label=True, categories=["billing", "urgent", "bug"])
    resp = upload(client, project, named(b"text,labels\nPay now,billing|urgent\nCrash,\"[\"\"bug\"\"]\"\n", "m.csv"))
    assert resp.status_code == 201
    assert [(t, labels) for t, _, labels, _, _ in items(project)] == [
        ("Pay now", ["billing", "urgent"]), ("Crash", ["bug"])]


def test_a_long_text_is_refused_alone(client, project, settings):
    settings.UPLOAD_MAX_TEXT_CHARS = 10
    resp = upload(client, project, named(b"short\n" + b"x" * 50 + b"\nfine too\n", "t.txt"))
    assert [t for t, *_ in items(project)] == ["short", "fine too"]
    assert resp.data["report"]["rejected"] == [
        {"file": "t.txt", "archive": "", "line": 2, "reason": messages.TEXT_TOO_LONG.format(limit=10)}]
