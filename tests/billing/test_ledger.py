"""The ledger: credits in and out, the cached balance always the ledger's sum, never negative, under
concurrent debits on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import AuditEvent
from billing import services
from billing.models import CreditAccount, CreditHold, CreditTransaction
from billing.services import INSUFFICIENT_CREDITS, InsufficientCredits
from tests.factories import OrganizationFactory, ProjectFactory, UserFactory

Kind = CreditTransaction.Kind


def ledger_sums(organization) -> tuple[int, int]:
    sums = CreditTransaction.objects.filter(organization=organization).aggregate(b=Sum("amount"), h=Sum("held_change"))
    return sums["b"] or 0, sums["h"] or 0


def assert_ledger_matches(organization) -> CreditAccount:
    account = CreditAccount.objects.get(organization=organization)
    assert ledger_sums(organization) == (account.balance, account.held)
    held = dict(CreditTransaction.objects.filter(organization=organization, job_id__isnull=False).values("job_id")
                .annotate(h=Sum("held_change")).values_list("job_id", "h"))
    assert dict(CreditHold.objects.filter(organization=organization).values_list("job_id", "remaining")) == held
    return account


@pytest.fixture
def billing_enabled(settings):
    settings.BILLING_ENABLED = True


def test_opening_the_account_grants_the_free_plans_first_month(db, billing_enabled):
    org = OrganizationFactory()
    services.credits_spend(organization_id=org.pk, credits=10, reason="a test")
    rows = list(CreditTransaction.objects.filter(organization=org).order_by("id").values_list("kind", "amount", "reason"))
    assert rows == [(Kind.GRANT, 1000, "Free plan: the first month's 1000 credits"), (Kind.SETTLE, -10, "a test")]
    assert assert_ledger_matches(org).balance == 990


def test_without_billing_an_account_opens_empty(db, settings):
    settings.BILLING_ENABLED = False
    org = OrganizationFactory()
    services.credits_grant(organization=org, amount=5, reason="staff")
    assert list(CreditTransaction.objects.filter(organization=org).values_list("kind", "amount")) == [(Kind.GRANT, 5)]


def test_a_grant_is_audited_with_its_actor_and_reason(db, billing_enabled):
    org, staff = OrganizationFactory(), UserFactory(is_staff=True)
    row = services.credits_grant(organization=org, amount=250, reason="goodwill", actor=staff)
    assert (row.kind, row.amount, row.balance_after, row.actor_id) == (Kind.GRANT, 250, 1250, staff.pk)
    event = AuditEvent.objects.get(action="credits.grant")
    assert (event.actor_id, event.organization_id, event.metadata) == (
        staff.pk, org.pk, {"amount": 250, "reason": "goodwill", "balance": 1250})


def test_a_debit_larger_than_the_balance_is_refused_with_the_amount_missing(db, billing_enabled):
    org = OrganizationFactory()
    with pytest.raises(InsufficientCredits) as refused:
        services.credits_spend(organization_id=org.pk, credits=1300, reason="too much")
    assert refused.value.status_code == 402
    assert refused.value.message == INSUFFICIENT_CREDITS.format(cost=1300, balance=1000, missing=300)
    assert refused.value.extra == {"cost": 1300, "balance": 1000, "missing": 300}


def test_transactions_are_append_only(db, billing_enabled):
    org = OrganizationFactory()
    row = services.credits_grant(organization=org, amount=5, reason="x")
    row.amount = 500
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()


def test_a_job_hold_settles_per_chunk_and_releases_what_failed(db, billing_enabled):
    project = ProjectFactory(default_model="minilm-zero-shot")
    org, user = project.organization, UserFactory()
    services.job_hold(project=project, job_id=41, model_name="minilm-zero-shot", items=300, actor=user)
    account = assert_ledger_matches(org)
    assert (account.balance, account.held) == (700, 300)
    services.chunk_settle(organization_id=org.pk, project_id=project.pk, job_id=41, model_name="minilm-zero-shot",
                          used_items=250, failed_items=6)
    account = assert_ledger_matches(org)
    assert (account.balance, account.held) == (706, 44)
    services.job_release(organization_id=org.pk, job_id=41, reason="cancelled")
    account = assert_ledger_matches(org)
    assert (account.balance, account.held) == (750, 0)
    rows = list(CreditTransaction.objects.filter(job_id=41).order_by("id")
                .values_list("kind", "amount", "held_change", "items", "actor_id"))
    assert rows == [(Kind.HOLD, -300, 300, 300, user.pk), (Kind.SETTLE, 0, -250, 250, user.pk),
                    (Kind.RELEASE, 6, -6, 6, user.pk), (Kind.RELEASE, 44, -44, 44, None)]
    # Nothing is held any more: a late chunk (after a cancel) charges nothing.
    services.chunk_settle(organization_id=org.pk, project_id=project.pk, job_id=41, model_name="minilm-zero-shot",
                          used_items=44, failed_items=0)
    assert CreditTransaction.objects.filter(job_id=41).count() == 4


@pytest.mark.postgres
def test_a_chunk_settles_in_one_statement_on_postgresql(db, postgres_only, billing_enabled,
                                                        django_assert_num_queries):
    project = ProjectFactory(default_model="minilm-zero-shot")
    org = project.organization
    services.job_hold(project=project, job_id=43, model_name="minilm-zero-shot", items=100)
    with django_assert_num_queries(1):
        services.chunk_settle(organization_id=org.pk, project_id=project.pk, job_id=43, model_name="minilm-zero-shot",
                              used_items=60, failed_items=4)
    with django_assert_num_queries(1):  # a job without a hold: the same statement, which changes nothing
        services.chunk_settle(organization_id=org.pk, project_id=project.pk, job_id=44, model_name="minilm-zero-shot",
                              used_items=60, failed_items=0)
    account = assert_ledger_matches(org)
    assert (account.balance, account.held) == (904, 36)
    rows = list(CreditTransaction.objects.filter(job_id=43).order_by("id")
                .values_list("kind", "amount", "held_change", "balance_after", "items", "project_id", "model_name"))
    assert rows == [(Kind.HOLD, -100, 100, 900, 100, project.pk, "minilm-zero-shot"),
                    (Kind.SETTLE, 0, -60, 900, 60, project.pk, "minilm-zero-shot"),
                    (Kind.RELEASE, 4, -4, 904, 4, project.pk, "minilm-zero-shot")]


def test_image_models_cost_more_by_setting(db, billing_enabled, settings):
    settings.BILLING_MODEL_PRICES = {"vit-base": 10}
    project = ProjectFactory(project_type="image_classification", default_model="efficientnet-lite0-imagenet")
    services.job_hold(project=project, job_id=1, model_name="efficientnet-lite0-imagenet", items=10)
    services.job_hold(project=project, job_id=2, model_name="vit-base", items=10)
    assert list(CreditTransaction.objects.filter(kind=Kind.HOLD).order_by("job_id").values_list("held_change", flat=True)) == [50, 100]


# The server is shared (max_connections 100): at most this many of the threads hold a connection at once.
CONNECTIONS = threading.BoundedSemaphore(40)


def _debit_in_thread(org_id: int, credits: int, results: list, barrier: threading.Barrier) -> None:
    barrier.wait()
    with CONNECTIONS:
        try:
            services.credits_spend(organization_id=org_id, credits=credits, reason="concurrent debit")
            results.append("ok")
        except InsufficientCredits:
            results.append("refused")
        finally:
            connection.close()


@pytest.mark.postgres
@pytest.mark.parametrize(("start", "each", "ok"), [(1000, 7, 100), (250, 5, 50)])
def test_100_concurrent_debits_leave_the_exact_balance_and_never_a_negative_one(
        transactional_db, postgres_only, settings, start, each, ok):
    settings.BILLING_ENABLED = False  # the account opens empty; the test grants exactly ``start``
    org = OrganizationFactory()
    services.credits_grant(organization=org, amount=start, reason="start")
    results: list[str] = []
    barrier = threading.Barrier(100)
    threads = [threading.Thread(target=_debit_in_thread, args=(org.pk, each, results, barrier)) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert (results.count("ok"), results.count("refused")) == (ok, 100 - ok)
    account = assert_ledger_matches(org)
    assert account.balance == start - ok * each
    balances = list(CreditTransaction.objects.filter(organization=org).values_list("balance_after", flat=True))
    assert min(balances) >= 0
    assert sorted(balances, reverse=True) == [start - i * each for i in range(ok + 1)]


def _settle_in_thread(org_id: int, project_id: int, barrier: threading.Barrier) -> None:
    barrier.wait()
    with CONNECTIONS:
        try:
            services.chunk_settle(organization_id=org_id, project_id=project_id, job_id=45, model_name="m",
                                  used_items=3, failed_items=1)
        finally:
            connection.close()


@pytest.mark.postgres
def test_concurrent_chunks_of_one_job_settle_exactly_what_it_held(transactional_db, postgres_only, settings):
    settings.BILLING_ENABLED, settings.BILLING_MODEL_PRICES = True, {"m": 2}
    project = ProjectFactory()
    org = project.organization
    with transaction.atomic():
        services.job_hold(project=project, job_id=45, model_name="m", items=100)  # 200 credits held, 800 left
    barrier = threading.Barrier(40)
    threads = [threading.Thread(target=_settle_in_thread, args=(org.pk, project.pk, barrier)) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # 25 chunks of 3 used + 1 failed (8 credits each) use up the 200 held; the other 15 find nothing held.
    account = assert_ledger_matches(org)
    assert (account.balance, account.held) == (800 + 25 * 2, 0)
    sums = CreditTransaction.objects.filter(job_id=45).values("kind").annotate(n=Count("id"), s=Sum("held_change"))
    assert {r["kind"]: (r["n"], r["s"]) for r in sums} == {
        Kind.HOLD: (1, 200), Kind.SETTLE: (25, -150), Kind.RELEASE: (25, -50)}
    assert CreditHold.objects.get(job_id=45).remaining == 0


def test_the_free_plan_is_topped_up_once_a_month(db, billing_enabled):
    from billing.services import MONTHLY_TOP_UP
    from billing.tasks import free_plan_top_up

    org, paying = OrganizationFactory(), OrganizationFactory(plan="pro")
    services.credits_spend(organization_id=org.pk, credits=600, reason="work")
    services.account_open(organization_id=paying.pk)
    assert free_plan_top_up() == 0  # the opening grant was this month's
    CreditTransaction.objects.filter(organization=org, kind=Kind.GRANT).update(
        created_at=timezone.now() - timedelta(days=40))
    assert free_plan_top_up() == 1
    assert free_plan_top_up() == 0
    month = timezone.now().strftime("%Y-%m")
    assert list(CreditTransaction.objects.filter(organization=org, kind=Kind.GRANT).order_by("id").values_list(
        "amount", "reason"))[-1] == (600, MONTHLY_TOP_UP.format(plan="Free", credits=1000, month=month))
    assert assert_ledger_matches(org).balance == 1000


def test_the_free_plan_auto_labels_up_to_its_items_a_month(db, billing_enabled):
    from billing.services import MONTHLY_ITEMS_REACHED
    from modelship.exceptions import DomainError

    project = ProjectFactory(default_model="minilm-zero-shot")
    services.credits_grant(organization=project.organization, amount=10_000, reason="plenty")
    services.job_hold(project=project, job_id=70, model_name="minilm-zero-shot", items=4000)
    services.job_release(organization_id=project.organization_id, job_id=70, reason="cancelled")  # gives 4000 back
    services.job_hold(project=project, job_id=71, model_name="minilm-zero-shot", items=4500)
    with pytest.raises(DomainError) as refused:
        services.job_hold(project=project, job_id=72, model_name="minilm-zero-shot", items=501)
    assert (refused.value.status_code, refused.value.message) == (
        403, MONTHLY_ITEMS_REACHED.format(plan="Free", limit=5000, used=4500, items=501))
    assert services.job_hold(project=project, job_id=72, model_name="minilm-zero-shot", items=500) is not None
