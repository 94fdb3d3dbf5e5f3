"""Label schemas: validation messages, versions, and the one label-set check."""

import pytest

from modelship.exceptions import DomainError
from projects import schemas
from projects.models import Category, LabelSchema
from projects.schemas import labels_validate
from projects.services import schema_version_create
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def post_schema(client, project, body):
    return client.post(f"/api/projects/{project.id}/label-schema", body, format="json")


@pytest.fixture
def manager_client(org, make_member, client_for):
    return client_for(make_member("admin", org), org)


@pytest.mark.parametrize("categories, multi_label, field, message", [
    ([{"name": "a", "parent": "b"}, {"name": "b", "parent": "c"}, {"name": "c", "parent": "a"}], False,
     "categories", schemas.CATEGORY_CYCLE.format(cycle="a → b → c → a")),
    ([{"name": "a", "parent": "a"}, {"name": "b"}], False, "categories", schemas.CATEGORY_CYCLE.format(cycle="a → a")),
    ([{"name": "animal"}, {"name": "dog", "parent": "animal"}, {"name": "Dog", "parent": "animal", "key": "dog2"}],
     False, "categories", schemas.CATEGORY_SIBLING_DUPLICATE.format(name="Dog", where="under 'animal'")),
    ([{"name": "cat"}, {"name": "cat", "key": "cat2"}], False, "categories",
     schemas.CATEGORY_SIBLING_DUPLICATE.format(name="cat", where="at the top level")),
    ([{"name": "cat"}, {"name": "cat"}], False, "categories", schemas.CATEGORY_KEY_DUPLICATE.format(key="cat")),
    ([{"name": "cat", "shortcut": "c"}, {"name": "dog", "shortcut": "C"}], False, "categories",
     schemas.SHORTCUT_DUPLICATE.format(shortcut="c", first="cat", second="dog")),
    ([{"name": "cat", "shortcut": "x"}, {"name": "dog"}], False, "categories",
     schemas.SHORTCUT_RESERVED.format(shortcut="x", name="cat")),
    ([{"name": "cat", "shortcut": "ab"}, {"name": "dog"}], False, "categories",
     schemas.SHORTCUT_INVALID.format(name="cat", shortcut="ab")),
    ([{"name": "cat", "color": "red"}, {"name": "dog"}], False, "categories",
     schemas.COLOR_INVALID.format(name="cat", color="red")),
    ([{"name": "only"}], False, "categories", schemas.SINGLE_LABEL_TOO_FEW),
    ([], True, "categories", schemas.SCHEMA_EMPTY),
    ([{"name": "a > b"}, {"name": "c"}], False, "categories", schemas.CATEGORY_NAME_INVALID.format(name="a > b")),
    ([{"name": "dog", "parent": "animal"}, {"name": "cat"}], False, "categories",
     schemas.CATEGORY_PARENT_UNKNOWN.format(parent="animal", name="dog")),
    ([{"name": " "}, {"name": "cat"}], False, "categories", schemas.CATEGORY_NAME_REQUIRED),
])
def test_invalid_schemas_are_400_with_their_message(categories, multi_label, field, message, org, manager_client):
    project = ProjectFactory(organization=org)
    resp = post_schema(manager_client, project, {"categories": categories, "multi_label": multi_label})
    assert resp.status_code == 400, resp.data
    assert resp.data == {field: [message]}
    assert not LabelSchema.objects.filter(project=project).exists()


@pytest.mark.parametrize("body, field, message", [
    ({"multi_label": True, "min_labels": 3, "max_labels": 2}, "min_labels", schemas.LIMITS_INVALID.format(min=3, max=2)),
    ({"multi_label": True, "min_labels": 4}, "min_labels", schemas.MIN_ABOVE_CATEGORIES.format(min=4, count=3)),
    ({"multi_label": False, "max_labels": 2}, "max_labels", schemas.SINGLE_LABEL_LIMITS),
])
def test_label_limits_are_checked(body, field, message, org, manager_client):
    project = ProjectFactory(organization=org)
    resp = post_schema(manager_client, project, {**body, "categories": [{"name": "a"}, {"name": "b"}, {"name": "c"}]})
    assert resp.status_code == 400
    assert resp.data == {field: [message]}


def test_a_hierarchy_gets_paths_and_reads_back_as_it_can_be_posted_again(org, manager_client):
    project = ProjectFactory(organization=org)
    body = {"multi_label": True, "max_labels": 3, "categories": [
        {"name": "vehicle", "shortcut": "v"},
        {"name": "other", "parent": "vehicle", "key": "vehicle-other"},
        {"name": "animal", "description": "Living things"},
        {"name": "dog", "parent": "mammal"},
        {"name": "mammal", "parent": "animal", "color": "#AABBCC"},
        {"name": "other", "parent": "animal", "key": "animal-other"},
    ]}
    resp = post_schema(manager_client, project, body)
    assert resp.status_code == 201, resp.data
    assert resp.data["version"] == 1
    rows = [(c["name"], c["path"], c["parent"], c["key"], c["shortcut"], c["color"], c["order"])
            for c in resp.data["categories"]]
    assert rows == [
        ("vehicle", "vehicle", None, "vehicle", "v", "#1f77b4", 0),
        ("other", "vehicle > other", "vehicle", "vehicle > other", "1", "#ff7f0e", 1),
        ("animal", "animal", None, "animal", "2", "#2ca02c", 2),
        ("dog", "animal > mammal > dog", "animal > mammal", "animal > mammal > dog", "3", "#d62728", 3),
        ("mammal", "animal > mammal", "animal", "animal > mammal", "4", "#aabbcc", 4),
        ("other", "animal > other", "animal", "animal > other", "5", "#8c564b", 5),
    ]  # keys without one are given the free ones in order
    dog = Category.objects.get(schema__project=project, path="animal > mammal > dog")
    assert dog.parent.path == "animal > mammal" and dog.parent.parent.path == "animal"

    again = {"multi_label": True, "max_labels": 3, "categories": resp.data["categories"]}
    resp = post_schema(manager_client, project, again)
    assert resp.status_code == 201, resp.data
    assert resp.data["version"] == 2
    assert [c["path"] for c in resp.data["categories"]] == [r[1] for r in rows]

    schema = LabelSchema.objects.get(project=project, version=2)
    assert labels_validate(schema=schema, labels=["Animal > Mammal > Dog", "vehicle"]) == [
        "animal > mammal > dog", "vehicle"]


def test_versioning_keeps_labels_made_under_old_versions_valid(org, make_member):
    admin = make_member("admin", org)
    project = ProjectFactory(organization=org)
    v1 = schema_version_create(project=project, created_by=admin,
                               categories=[{"name": "cat"}, {"name": "dog"}, {"name": "bird"}])
    assert labels_validate(schema=v1, labels=["bird"]) == ["bird"]

    v2 = schema_version_create(project=project, created_by=admin, categories=[{"name": "cat"}, {"name": "dog"}])
    assert (v1.version, v2.version) == (1, 2)
    # The label made under v1 still validates against v1, and v1 is unchanged...
    assert labels_validate(schema=LabelSchema.objects.get(pk=v1.pk), labels=["bird"]) == ["bird"]
    assert list(v1.categories.order_by("order").values_list("name", flat=True)) == ["cat", "dog", "bird"]
    # ...while v2, the current version, refuses it.
    with pytest.raises(DomainError) as err:
        labels_validate(schema=v2, labels=["bird"])
    assert err.value.message == schemas.LABELS_UNKNOWN.format(version=2, labels="'bird'")


def test_schema_versions_are_listed_and_readable(org, manager_client, make_member):
    project = ProjectFactory(organization=org)
    post_schema(manager_client, project, {"categories": [{"name": "a"}, {"name": "b"}]})
    post_schema(manager_client, project, {"categories": [{"name": "a"}, {"name": "b"}, {"name": "c"}]})
    resp = manager_client.get(f"/api/projects/{project.id}/label-schema/versions")
    assert resp.status_code == 200
    assert [(v["version"], v["category_count"]) for v in resp.data] == [(2, 3), (1, 2)]
    resp = manager_client.get(f"/api/projects/{project.id}/label-schema/versions/1")
    assert [c["name"] for c in resp.data["categories"]] == ["a", "b"]
    resp = manager_client.get(f"/api/projects/{project.id}/label-schema")
    assert resp.data["version"] == 2
    resp = manager_client.get(f"/api/projects/{project.id}/label-schema/versions/9")
    assert resp.status_code == 404


@pytest.mark.parametrize("multi_label, min_labels, max_labels, labels, message", [
    (False, 1, 1, ["cat", "dog"], schemas.LABELS_SINGLE.format(count=2)),
    (False, 1, 1, [], schemas.LABELS_TOO_FEW.format(min=1, count=0)),
    (False, 1, 1, ["cat", "fish", "tree"], schemas.LABELS_UNKNOWN.format(version=1, labels="'fish', 'tree'")),
    (True, 1, 2, ["cat", "dog", "bird"], schemas.LABELS_TOO_MANY.format(max=2, count=3)),
    (True, 2, None, ["cat"], schemas.LABELS_TOO_FEW.format(min=2, count=1)),
    (True, 1, None, ["cat", "CAT"], schemas.LABELS_REPEATED.format(labels="'cat'")),
    (True, 1, None, "cat", schemas.LABELS_NOT_A_LIST),
])
def test_labels_validate_names_what_is_wrong(multi_label, min_labels, max_labels, labels, message, org, make_member):
    project = ProjectFactory(organization=org)
    schema = schema_version_create(project=project, created_by=None, multi_label=multi_label, min_labels=min_labels,
                                   max_labels=max_labels, categories=[{"name": n} for n in ("cat", "dog", "bird")])
    with pytest.raises(DomainError) as err:
        labels_validate(schema=schema, labels=labels)
    assert (err.value.field, err.value.message) == ("labels", message)


def test_labels_validate_returns_canonical_labels(org):
    schema = schema_version_create(project=ProjectFactory(organization=org), created_by=None, multi_label=True,
                                   min_labels=0, categories=[{"name": "Cat"}, {"name": "dog"}])
    assert labels_validate(schema=schema, labels=[" cat ", "DOG"]) == ["Cat", "dog"]
    assert labels_validate(schema=schema, labels=[]) == []
