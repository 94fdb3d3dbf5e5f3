"""The exports page's template picker and field chooser, through Django's test client: the form's
choice reaches the export service as the API's would, and managers save it as a template."""

import pytest
from django.utils.html import escape

from exports.fields import UNKNOWN_FIELD
from exports.models import Export, ExportTemplate
from exports.views import EXPORT_TEMPLATE_SAVED, TEMPLATE_SAVE_MANAGERS
from tests.exports.projects_in_db import make_project

pytestmark = pytest.mark.django_db

FORM = {"format": "csv", "split_train": "100", "split_val": "0", "split_test": "0", "seed": "0"}


@pytest.fixture
def texts(org):
    return make_project(organization=org, kind="text")


def test_the_page_offers_the_fields_of_the_project_and_its_templates(client, texts, make_member):
    ExportTemplate.objects.create(organization=texts.project.organization, project=texts.project, name="Training",
                                  fields=["id", "text"])
    client.force_login(make_member("viewer", texts.project.organization))
    page = client.get(f"/projects/{texts.project.pk}/exports").content.decode()

    assert f'<option value="{ExportTemplate.objects.get().pk}">Training</option>' in page
    assert 'value="text" id="field-text"' in page and 'id="field-file"' not in page
    assert 'name="template_name"' not in page  # only managers save templates


def test_chosen_fields_renames_and_filters_reach_the_export(client, texts, make_member):
    client.force_login(make_member("viewer", texts.project.organization))
    form = {**FORM, "fields": ["id", "text", "labels"], "rename_labels": "target", "rename_id": " ",
            "filter_source": ["review", "import"], "confidence_max": "0.9", "decided_since": "2026-01-01"}
    client.post(f"/projects/{texts.project.pk}/exports", form, follow=True)

    export = Export.objects.get()
    assert {key: export.options[key] for key in ("fields", "rename", "filters", "template")} == {
        "fields": ["id", "text", "labels"], "rename": {"labels": "target"},
        "filters": {"source": ["review", "import"], "confidence": {"min": None, "max": 0.9},
                    "decided": {"since": "2026-01-01T00:00:00+00:00", "until": None}},
        "template": None}


def test_a_manager_saves_the_choice_and_picks_it_later(client, texts, make_member):
    client.force_login(make_member("admin", texts.project.organization))
    url = f"/projects/{texts.project.pk}/exports"
    saved = client.post(url, {**FORM, "fields": ["id", "labels"], "filter_state": ["reviewed", "auto_accepted"],
                              "template_name": "Labels only"}, follow=True)
    template = ExportTemplate.objects.get()
    assert escape(EXPORT_TEMPLATE_SAVED.format(name="Labels only")) in saved.content.decode()
    assert (template.name, template.fields, template.filters) == (
        "Labels only", ["id", "labels"], {"state": ["reviewed", "auto_accepted"]})

    client.post(url, {**FORM, "format": "jsonl", "template": str(template.pk)}, follow=True)
    picked = Export.objects.get(format="jsonl")
    assert (picked.options["template"], picked.options["fields"], picked.options["filters"]) == (
        template.pk, ["id", "labels"], {"state": ["reviewed", "auto_accepted"]})


def test_a_viewer_cannot_save_a_template_and_a_wrong_field_is_explained(client, texts, make_member):
    client.force_login(make_member("viewer", texts.project.organization))
    url = f"/projects/{texts.project.pk}/exports"
    refused = client.post(url, {**FORM, "fields": ["id"], "template_name": "Mine"}, follow=True)
    wrong = client.post(url, {**FORM, "fields": ["file"]}, follow=True)

    assert escape(TEMPLATE_SAVE_MANAGERS) in refused.content.decode()
    allowed = ("id, text, labels, source, decided_by, decided_at, created_at, prediction, confidence, probabilities, "
               "model, schema_version, state, split")
    assert escape(UNKNOWN_FIELD.format(name="file", kind="text", allowed=allowed)) in wrong.content.decode()
    assert (ExportTemplate.objects.count(), Export.objects.count()) == (0, 0)
