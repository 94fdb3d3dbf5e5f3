"""Project pages through Django's test client: the first project of a new admin, a project from a
template, and the label-schema editor (a rename writes a version; older labels keep theirs)."""

import json

import pytest
from django.core.management import call_command
from django.utils.html import escape

from accounts.models import User
from labeling.models import Item
from projects import views
from projects.models import LabelSchema, Project
from projects.schemas import SHORTCUT_RESERVED, labels_validate
from projects.services import PROJECT_NAME_TAKEN
from tests.factories import ItemFactory, ProjectFactory
from tests.review.scenario import schema_for

pytestmark = pytest.mark.django_db


def test_a_new_admin_is_told_to_create_a_first_project_and_does(client, monkeypatch):
    monkeypatch.setenv("MODELSHIP_ADMIN_PASSWORD", "a-long-admin-passphrase-1")
    call_command("createadmin", "--email", "root@example.com", "--no-input")
    client.force_login(User.objects.get(email="root@example.com"))

    home = client.get("/").content.decode()
    assert "Create your first project" in home and 'href="/projects/new"' in home

    created = client.post("/projects/new", {"name": "Reviews", "template": "sentiment"})
    project = Project.objects.get(name="Reviews")
    assert (created.status_code, created["Location"]) == (302, f"/projects/{project.pk}/upload")
    assert (project.project_type, project.default_model, project.template) == (
        "text_classification", "vader-sentiment", "sentiment")
    assert list(project.schemas.get().categories.order_by("order").values_list("path", "shortcut")) == [
        ("positive", "1"), ("negative", "2"), ("neutral", "3")]
    again = client.post("/projects/new", {"name": "reviews", "template": "sentiment"})
    assert escape(PROJECT_NAME_TAKEN.format(name="reviews")) in again.content.decode()


def test_a_custom_template_goes_to_the_labels_editor_and_a_reviewer_cannot_create(client, org, make_member):
    admin = make_member("admin", org)
    client.force_login(admin)
    created = client.post("/projects/new", {"name": "Shapes", "template": "custom-image"})
    project = Project.objects.get(name="Shapes")
    assert created["Location"] == f"/projects/{project.pk}/labels"
    assert "This project has no labels yet" in client.get(created["Location"]).content.decode()

    client.force_login(make_member("reviewer", org))
    page = client.get("/projects/new").content.decode()
    assert escape(views.NO_ADMIN_ORGANIZATION) in page
    assert 'id="new-project"' not in page


def save(client, project, categories, multi_label=False):
    return client.post(f"/projects/{project.pk}/labels",
                       {"schema": json.dumps({"multi_label": multi_label, "categories": categories})}, follow=True)


def test_the_editor_renames_reorders_nests_and_keys_and_old_labels_keep_their_version(client, org, make_member):
    project = ProjectFactory(organization=org)
    v1 = schema_for(project)  # cat (c), dog (d), bird (b)
    labelled = ItemFactory(project=project, state=Item.State.REVIEWED, final_labels=["cat"], final_schema=v1,
                           final_source=Item.FinalSource.REVIEW)
    client.force_login(make_member("admin", org))

    page = client.get(f"/projects/{project.pk}/labels").content.decode()
    config = json.loads(page.split('id="schema-config" type="application/json">')[1].split("</script>")[0])
    assert config["categories"][0] == {"key": "cat", "name": "cat", "parent": None, "color": "",
                                       "shortcut": "c", "description": ""}  # the editor fills a colour in
    edited = [
        {"key": "bird", "name": "bird", "parent": None, "color": "#2ca02c", "shortcut": "b"},
        {"key": "cat", "name": "kitten", "parent": "new:1", "color": "#123456", "shortcut": "k"},  # renamed, nested
        {"key": "new:1", "name": "mammal", "parent": None, "color": "#654321", "shortcut": ""},  # added, keyed auto
        {"key": "dog", "name": "dog", "parent": "new:1", "color": "#ff7f0e", "shortcut": "d"},
    ]
    done = save(client, project, edited)

    html = done.content.decode()
    assert views.SCHEMA_SAVED.format(version=2, previous=1) in html
    v2 = LabelSchema.objects.get(project=project, version=2)
    assert list(v2.categories.order_by("order").values_list("path", "shortcut", "color")) == [
        ("bird", "b", "#2ca02c"), ("mammal > kitten", "k", "#123456"), ("mammal", "1", "#654321"),
        ("mammal > dog", "d", "#ff7f0e")]
    assert "v2 (current)" in html and "<td>v1</td>" in html
    labelled.refresh_from_db()
    assert (labelled.final_labels, labelled.final_schema_id) == (["cat"], v1.pk)  # kept under version 1
    assert labels_validate(schema=v1, labels=["cat"]) == ["cat"]

    refused = save(client, project, [{"name": "a", "shortcut": "x"}, {"name": "b"}])
    assert escape(SHORTCUT_RESERVED.format(shortcut="x", name="a")) in refused.content.decode()
    assert LabelSchema.objects.filter(project=project).count() == 2


def test_only_managers_edit_labels_and_another_organization_gets_404(client, org, other_org, make_member):
    project = ProjectFactory(organization=org)
    schema_for(project)
    client.force_login(make_member("reviewer", org))
    page = client.get(f"/projects/{project.pk}/labels")
    assert page.status_code == 200 and 'id="schema-form"' not in page.content.decode()
    assert save(client, project, [{"name": "a"}, {"name": "b"}]).status_code == 403
    client.force_login(make_member("admin", other_org))
    assert client.get(f"/projects/{project.pk}/labels").status_code == 404
