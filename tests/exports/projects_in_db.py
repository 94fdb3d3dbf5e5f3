"""Small real projects in the database for the export API and job tests: one auto-labeling job, and
items in every state (reviewed, imported, auto-accepted above and below a confidence, waiting for
review, unlabelled), for image or text, single- or multi-label."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from labeling.models import Item, Job
from projects.models import LabelSchema, Project
from projects.services import schema_version_create
from tests.factories import (
    ImageItemFactory,
    ItemFactory,
    JobFactory,
    MembershipFactory,
    PredictionFactory,
    ProjectFactory,
    UserFactory,
)

CATEGORIES = {
    # Image, single-label: a hierarchy, so labels are paths and COCO has supercategories.
    ("image", False): [{"name": "animal"}, {"name": "cat", "parent": "animal"}, {"name": "dog", "parent": "animal"},
                       {"name": "bird"}],
    ("image", True): [{"name": "outdoor"}, {"name": "people"}, {"name": "vehicle"}],
    ("text", False): [{"name": "positive"}, {"name": "negative"}, {"name": "neutral"}],
    ("text", True): [{"name": "sports"}, {"name": "politics"}, {"name": "tech"}],
}
# Three label sets per project: L1, L2, L3.
LABEL_SETS = {
    ("image", False): (("animal > cat",), ("animal > dog",), ("bird",)),
    ("image", True): (("outdoor", "people"), ("vehicle",), ("outdoor", "people", "vehicle")),
    ("text", False): (("positive",), ("negative",), ("neutral",)),
    ("text", True): (("sports", "politics"), ("tech",), ("sports", "politics", "tech")),
}
TEXTS = [
    "Great product, would buy again!", 'He said "never again", twice.', "Line one\nline two, with a comma",
    "Ünïcödé ✓ 日本語のテキスト", "=SUM(A1:A2) looks like a formula | and a pipe", "Arrived late", "Fine I guess",
    "Nothing to say", "Five stars", "Broken on arrival",
]

# key: (state, final source, review outcome, label set of the final labels, the job's prediction as
# (label set, confidence) or None when the job did not predict the item)
ITEMS = {
    "reviewed_a": ("reviewed", "review", "approved", 0, (0, 0.95)),
    "reviewed_b": ("reviewed", "review", "modified", 1, (0, 0.40)),
    "imported": ("reviewed", "import", "", 2, None),
    "auto_high": ("auto_accepted", "auto", "", 2, (2, 0.97)),
    "auto_low": ("auto_accepted", "auto", "", 0, (0, 0.80)),
    "needs_review": ("needs_review", "", "", None, (1, 0.50)),
    "predicted": ("predicted", "", "", None, (1, 0.60)),
    "unlabelled": ("unlabelled", "", "", None, None),
    "reviewed_c": ("reviewed", "review", "approved", 1, (1, 0.88)),
    "reviewed_d": ("reviewed", "review", "approved", 2, (2, 0.70)),
}


@dataclass
class ProjectInDb:
    project: Project
    schema: LabelSchema
    job: Job
    reviewer: object
    label_sets: tuple[tuple[str, ...], ...]
    items: dict[str, Item] = field(default_factory=dict)

    @property
    def class_names(self) -> list[str]:
        return list(self.schema.categories.order_by("order", "id").values_list("path", flat=True))

    def labels_of(self, *keys: str) -> dict[int, tuple[str, ...]]:
        """The final labels of these items by id, as the export must hold them."""
        return {self.items[key].pk: tuple(self.items[key].final_labels) for key in keys}

    def item_for(self, item_id: int) -> Item:
        return next(item for item in self.items.values() if item.pk == item_id)


def make_project(*, organization, kind: str = "image", multi_label: bool = False, name: str = "") -> ProjectInDb:
    """A project of ``kind`` with the items of ``ITEMS``; the job predicted all but two of them."""
    project = ProjectFactory(organization=organization, name=name or f"{kind} {'multi' if multi_label else 'single'}",
                             project_type=f"{kind}_classification")
    schema = schema_version_create(project=project, created_by=None, categories=CATEGORIES[(kind, multi_label)],
                                   multi_label=multi_label)
    reviewer = MembershipFactory(organization=organization, role="reviewer",
                                 user=UserFactory(email=f"reviewer-{project.pk}@example.com")).user
    job = JobFactory(project=project, schema=schema, model_name=f"{kind}-model")
    label_sets = LABEL_SETS[(kind, multi_label)]
    scenario = ProjectInDb(project, schema, job, reviewer, label_sets)
    now = timezone.now()
    for n, (key, (state, source, outcome, final, prediction)) in enumerate(ITEMS.items()):
        fields = dict(project=project, state=state, final_source=source, review_outcome=outcome)
        if final is not None:
            fields.update(final_labels=list(label_sets[final]), final_schema=schema, decided_at=now,
                          decided_by=reviewer if source == "review" else None)
        if kind == "image":
            image_format = "JPEG" if key == "reviewed_c" else "PNG"
            item = ImageItemFactory(image_size=(10 + n, 6 + n), image_format=image_format,
                                    original_name=f"{key}.{image_format.lower()}", **fields)
        else:
            item = ItemFactory(text=TEXTS[n], original_name="reviews.txt", **fields)
        if prediction is not None:
            labels, confidence = prediction
            PredictionFactory(job=job, item=item, labels=list(label_sets[labels]), confidence=confidence)
        scenario.items[key] = item
    return scenario


def relabel(item: Item, labels: list[str]) -> None:
    """A new decision on an item, as review records one: new final labels, decided now."""
    Item.objects.filter(pk=item.pk).update(final_labels=labels, decided_at=timezone.now())
