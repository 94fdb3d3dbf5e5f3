"""Auto-labelling with billing on: a job's cost is held when it is created (402 before any work when
credits are short), each chunk settles what it used, failures and cancels give credits back, and the
whole story from running out of credits to buying a pack through Checkout."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum

from billing.models import CreditAccount, CreditHold, CreditTransaction
from billing.services import INSUFFICIENT_CREDITS, account_open, credits_spend
from labeling.inference.jobs import chunk_run, job_cancel, job_create, job_fail
from labeling.models import ImportJob, Item, Job, JobChunk, Prediction
from projects.models import Project
from tests.conftest import stored_files, wait_until
from tests.factories import ItemFactory, LabelSchemaFactory, ProjectFactory, image_bytes

Kind = CreditTransaction.Kind
TEXTS = ["I love this product!", "This is terrible and I hate it", "The box is 30 cm wide"]


@pytest.fixture
def priced(settings):
    """Billing on; a text item costs 40 credits, so the free plan's 1000 last 25 items."""
    settings.BILLING_ENABLED = True
    settings.BILLING_PRICE_TEXT = 40
    settings.BILLING_MODEL_PRICES = {}


def sentiment_project(org):
    project = ProjectFactory(organization=org, default_model="vader-sentiment", audit_slice_size=0)
    LabelSchemaFactory(project=project, categories=["positive", "negative", "neutral"])
    return project


def add_items(project, n, start=0):
    return [ItemFactory(project=project, text=f"{TEXTS[i % 3]} #{i}") for i in range(start, start + n)]


def ledger(org) -> tuple[int, int]:
    """The account's (balance, held), checked to be the sums of the ledger, and each job's hold the sum
    of its rows' held_change."""
    account = CreditAccount.objects.get(organization=org)
    sums = CreditTransaction.objects.filter(organization=org).aggregate(b=Sum("amount"), h=Sum("held_change"))
    assert (sums["b"], sums["h"]) == (account.balance, account.held)
    held = dict(CreditTransaction.objects.filter(organization=org, job_id__isnull=False).values("job_id")
                .annotate(h=Sum("held_change")).values_list("job_id", "h"))
    assert dict(CreditHold.objects.filter(organization=org).values_list("job_id", "remaining")) == held
    return account.balance, account.held


def test_a_job_larger_than_the_balance_is_refused_with_402_before_any_work(db, priced, make_member, client_for):
    admin = make_member("admin")
    org = admin.memberships.get().organization
    project = sentiment_project(org)
    add_items(project, 30)
    credits_spend(organization_id=org.pk, credits=100, reason="earlier work")
    before = list(CreditTransaction.objects.values_list("id", flat=True))
    response = client_for(admin, org).post(f"/api/projects/{project.pk}/classify", {}, format="json")
    assert response.status_code == 402
    assert response.json() == {"detail": INSUFFICIENT_CREDITS.format(cost=1200, balance=900, missing=300),
                               "cost": 1200, "balance": 900, "missing": 300}
    assert (Job.objects.count(), JobChunk.objects.count(), Prediction.objects.count()) == (0, 0, 0)
    assert set(Item.objects.values_list("state", flat=True)) == {Item.State.UNLABELLED}
    assert list(CreditTransaction.objects.values_list("id", flat=True)) == before
    assert ledger(org) == (900, 0)


def _batch(client, kind: str, count: int, project=None):
    if kind == "text":
        body: dict = {"texts": [f"{TEXTS[i % 3]} #{i}" for i in range(count)]}
        files_format = "json"
    else:
        body = {"files": [SimpleUploadedFile(f"image{i}.png", image_bytes("PNG", (16, 16), color=(7 * i, 90, 200)),
                                             content_type="image/png") for i in range(count)]}
        files_format = "multipart"
    if project is not None:
        body["project"] = project.pk
    return client.post(f"/api/classify/{kind}/batch", body, format=files_format)


@pytest.mark.parametrize("kind", ["text", "image"])
@pytest.mark.parametrize("with_project", [True, False], ids=["project", "no-project"])
def test_a_batch_larger_than_the_balance_is_refused_with_402_before_any_item_is_imported(
        db, priced, settings, make_member, client_for, media_root, kind, with_project):
    settings.BILLING_PRICE_IMAGE = 40
    labeler = make_member("labeler")
    org = labeler.memberships.get().organization
    project = None
    if with_project:
        project = ProjectFactory(organization=org, project_type=f"{kind}_classification", audit_slice_size=0,
                                 default_model="vader-sentiment" if kind == "text" else "efficientnet-lite0-imagenet")
        LabelSchemaFactory(project=project, categories=["positive", "negative", "neutral"])
    projects_before = Project.objects.count()
    client = client_for(labeler, org)
    response = _batch(client, kind, 30, project)  # 30 items x 40 credits; the free plan has 1000
    assert response.status_code == 402, response.json()
    assert response.json() == {"detail": INSUFFICIENT_CREDITS.format(cost=1200, balance=1000, missing=200),
                               "cost": 1200, "balance": 1000, "missing": 200}
    assert (Item.objects.count(), ImportJob.objects.count(), Job.objects.count()) == (0, 0, 0)
    assert Project.objects.count() == projects_before  # no scratch project either
    assert stored_files(media_root) == []
    assert ledger(org) == (1000, 0)
    # A batch the balance covers goes through, and holds its cost.
    response = _batch(client, kind, 25, project)
    assert response.status_code == 202, response.json()
    assert (Item.objects.count(), response.json()["job"]["total"]) == (25, 25)
    assert ledger(org) == (0, 1000)


def test_chunks_settle_what_they_used_and_release_what_failed(db, priced):
    org = ProjectFactory().organization
    project = sentiment_project(org)
    items = add_items(project, 20)
    job = job_create(project=project, created_by=None, chunk_size=64)
    assert ledger(org) == (1000 - 800, 800)
    Item.objects.filter(pk__in=[i.pk for i in items[:3]]).delete()  # these 3 fail: gone before the chunk ran
    chunk_run(job_id=job.pk, index=0)
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == (Job.Status.SUCCEEDED, 17, 3)
    assert ledger(org) == (1000 - 17 * 40, 0)
    rows = list(CreditTransaction.objects.filter(job_id=job.pk).order_by("id").values_list("kind", "amount", "held_change", "items"))
    assert rows == [(Kind.HOLD, -800, 800, 20), (Kind.SETTLE, 0, -680, 17), (Kind.RELEASE, 120, -120, 3)]
    chunk_run(job_id=job.pk, index=0)  # delivered again: nothing more is charged
    assert CreditTransaction.objects.filter(job_id=job.pk).count() == 3


def test_a_failed_job_releases_what_its_chunks_did_not_use(db, priced):
    org = ProjectFactory().organization
    project = sentiment_project(org)
    items = add_items(project, 20)
    job = job_create(project=project, created_by=None, item_ids=[i.pk for i in items[:10]])
    chunk_run(job_id=job.pk, index=0)
    other = job_create(project=project, created_by=None, item_ids=[i.pk for i in items[10:]])
    assert ledger(org) == (1000 - 400 - 400, 400)
    job_fail(job_id=other.pk, error=RuntimeError("the model's labels do not fit the schema"))
    assert ledger(org) == (1000 - 400, 0)
    assert list(CreditTransaction.objects.filter(job_id=other.pk, kind=Kind.RELEASE).values_list("amount", "reason")) == [
        (400, f"job {other.pk}: failed")]


def test_a_cancelled_job_gives_back_its_hold_and_a_late_chunk_is_not_charged(db, priced, make_member):
    admin = make_member("admin")
    org = admin.memberships.get().organization
    project = sentiment_project(org)
    add_items(project, 10)
    job = job_create(project=project, created_by=admin)
    job_cancel(job=job, actor=admin)
    assert ledger(org) == (1000, 0)
    chunk_run(job_id=job.pk, index=0)  # a cancelled job's chunks are skipped
    assert ledger(org) == (1000, 0)


def test_without_billing_jobs_hold_nothing(db, settings):
    settings.BILLING_ENABLED = False
    org = ProjectFactory().organization
    project = sentiment_project(org)
    add_items(project, 5)
    job = job_create(project=project, created_by=None)
    chunk_run(job_id=job.pk, index=0)
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
    assert not CreditTransaction.objects.exists()


@pytest.mark.worker
def test_free_plan_runs_out_buys_a_pack_through_checkout_and_the_next_job_runs(
        worker, priced, billing_on, make_member, client_for, post_webhook):
    admin = make_member("admin")
    org = admin.memberships.get().organization
    client = client_for(admin, org)
    project = sentiment_project(org)
    assert ledger(account_open(organization_id=org.pk).organization) == (1000, 0)  # the free plan's first month

    # 1. Auto-label 25 items (1000 credits) on the real worker: the credits run out.
    add_items(project, 25)
    response = client.post(f"/api/projects/{project.pk}/classify", {}, format="json")
    assert response.status_code == 202, response.json()
    first = response.json()["id"]
    wait_until(lambda: Job.objects.get(pk=first).status == Job.Status.SUCCEEDED, timeout=90, message="the first job")
    assert ledger(org) == (0, 0)

    # 2. 20 more items: 800 credits, none left: refused, saying 800 are missing.
    add_items(project, 20, start=25)
    response = client.post(f"/api/projects/{project.pk}/classify", {}, format="json")
    assert (response.status_code, response.json()["detail"], response.json()["missing"]) == (
        402, INSUFFICIENT_CREDITS.format(cost=800, balance=0, missing=800), 800)
    assert Job.objects.count() == 1
    assert ledger(org) == (0, 0)

    # 3. Buy the 1000-credit pack through Checkout (the fake Stripe), and Stripe's signed webhook arrives.
    response = client.post("/api/billing/create-session", {"credits": 1000}, format="json")
    assert response.status_code == 201, response.json()
    session = billing_on.objects[response.json()["id"]]
    paid = {**session, "payment_status": "paid", "status": "complete"}
    assert post_webhook("checkout.session.completed", paid, "evt_story_1").json()["outcome"] == "applied"
    assert post_webhook("checkout.session.completed", paid, "evt_story_1").json()["outcome"] == "duplicate"
    assert ledger(org) == (1000, 0)

    # 4. The next job runs.
    response = client.post(f"/api/projects/{project.pk}/classify", {}, format="json")
    assert response.status_code == 202, response.json()
    second = response.json()["id"]
    wait_until(lambda: Job.objects.get(pk=second).status == Job.Status.SUCCEEDED, timeout=90, message="the second job")
    assert ledger(org) == (200, 0)
    assert Prediction.objects.filter(item__project=project).count() == 45
    usage = client.get(f"/api/billing/usage/{admin.pk}").json()
    assert (usage["credits"], usage["items"]) == (1800, 45)
    kinds = list(CreditTransaction.objects.filter(organization=org).order_by("id").values_list("kind", flat=True))
    assert kinds == [Kind.GRANT, Kind.HOLD, Kind.SETTLE, Kind.PURCHASE, Kind.HOLD, Kind.SETTLE]
