import hashlib

import factory

from accounts.models import Membership, Organization, Role, User

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.VIEWER


# --- projects and labeling -------------------------------------------------------------------

class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.Project"

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    project_type = "text_classification"
    default_model = "minilm-zero-shot"


def _next_version(schema) -> int:
    from django.db.models import Max

    return (schema.project.schemas.aggregate(v=Max("version"))["v"] or 0) + 1


class LabelSchemaFactory(factory.django.DjangoModelFactory):
    """A schema version with flat categories: ``LabelSchemaFactory(project=p, categories=["a", "b"])``."""

    class Meta:
        model = "projects.LabelSchema"
        skip_postgeneration_save = True

    project = factory.SubFactory(ProjectFactory)
    version = factory.LazyAttribute(_next_version)
    multi_label = False
    min_labels = 1
    max_labels = factory.LazyAttribute(lambda o: None if o.multi_label else 1)

    @factory.post_generation
    def categories(obj, create, extracted, **kwargs):
        if not create:
            return
        from projects.models import Category

        names = extracted if extracted is not None else ["positive", "negative", "neutral"]
        Category.objects.bulk_create(
            [Category(schema=obj, name=name, path=name, order=i) for i, name in enumerate(names)]
        )


class ItemFactory(factory.django.DjangoModelFactory):
    """A text item (content hash from its text)."""

    class Meta:
        model = "labeling.Item"

    project = factory.SubFactory(ProjectFactory)
    kind = "text"
    text = factory.Sequence(lambda n: f"Item text number {n}")
    content_hash = factory.LazyAttribute(lambda o: hashlib.sha256(o.text.encode()).hexdigest())
    mime_type = "text/plain"
    size_bytes = factory.LazyAttribute(lambda o: len(o.text.encode()))
    original_name = "items.txt"


# --- upload payloads -------------------------------------------------------------------------

def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (8, 6), color=(200, 30, 30)) -> bytes:
    """A small valid image in the given Pillow format (PNG, JPEG, TIFF, BMP, WEBP, GIF)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def zip_bytes(entries: dict[str, bytes], *, symlinks: dict[str, str] | None = None, compression=None) -> bytes:
    """A ZIP archive of ``{name: content}`` (names written as given, unsafe ones included)."""
    import io
    import stat
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if compression is None else compression
            archive.writestr(info, content)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def named(content: bytes, name: str):
    """An in-memory file with a name, as a multipart upload part."""
    import io

    handle = io.BytesIO(content)
    handle.name = name
    return handle


# --- exports: image items in storage, auto-labeling jobs and their predictions ----------------

def _content_file(content: bytes, name: str):
    from django.core.files.base import ContentFile

    return ContentFile(content, name=name)


class ImageItemFactory(ItemFactory):
    """An image item whose file (a small PNG by default, one colour per item) is in storage."""

    class Params:
        color = factory.Sequence(lambda n: (n * 37 % 256, n * 91 % 256, n * 13 % 256))
        image_size = (8, 6)
        image_format = "PNG"
        content = factory.LazyAttribute(lambda o: image_bytes(o.image_format, o.image_size, o.color))

    kind = "image"
    text = ""
    content_hash = factory.LazyAttribute(lambda o: hashlib.sha256(o.content).hexdigest())
    mime_type = factory.LazyAttribute(lambda o: f"image/{o.image_format.lower()}")
    size_bytes = factory.LazyAttribute(lambda o: len(o.content))
    width = factory.LazyAttribute(lambda o: o.image_size[0])
    height = factory.LazyAttribute(lambda o: o.image_size[1])
    original_name = factory.Sequence(lambda n: f"photo {n}.png")
    file = factory.LazyAttribute(lambda o: _content_file(o.content, f"upload.{o.image_format.lower()}"))


def _latest_schema(project):
    return project.schemas.order_by("-version").first() or LabelSchemaFactory(project=project)


class JobFactory(factory.django.DjangoModelFactory):
    """A finished auto-labeling job on the project's current schema."""

    class Meta:
        model = "labeling.Job"

    project = factory.SubFactory(ProjectFactory)
    model_name = "minilm-zero-shot"
    schema = factory.LazyAttribute(lambda o: _latest_schema(o.project))
    status = "succeeded"


class PredictionFactory(factory.django.DjangoModelFactory):
    """A job's prediction for an item, which becomes the item's latest (its ``prediction``,
    ``predicted_labels`` and ``confidence``)."""

    class Meta:
        model = "labeling.Prediction"
        skip_postgeneration_save = True

    job = factory.SubFactory(JobFactory)
    item = factory.SubFactory(ItemFactory, project=factory.SelfAttribute("..job.project"))
    model_name = factory.SelfAttribute("job.model_name")
    schema = factory.SelfAttribute("job.schema")
    labels = factory.LazyFunction(lambda: ["positive"])
    confidence = 0.9

    @factory.post_generation
    def latest(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            type(obj.item).objects.filter(pk=obj.item_id).update(
                prediction=obj, predicted_labels=obj.labels, confidence=obj.confidence)
            obj.item.prediction, obj.item.predicted_labels, obj.item.confidence = obj, obj.labels, obj.confidence
