"""Every dashboard table downloads as CSV: the exact rows."""

from decimal import Decimal

import pytest
from django.utils import timezone

from labeling.models import Item
from tests.factories import ItemFactory
from tests.review.scenario import item_waiting, submit

pytestmark = pytest.mark.django_db


def rows(response) -> list[str]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return response.content.decode().splitlines()


def test_project_tables_as_csv(world, client, client_for):
    project = world.project
    project.seconds_per_item, project.hourly_rate, project.compute_cost_per_item = 36.0, Decimal("20"), Decimal("0")
    project.save()
    rita = client_for(world.reviewer)
    assert submit(rita, item_waiting(project, world.schema, top="cat"), "approve", seconds=4).status_code == 201
    assert submit(rita, item_waiting(project, world.schema, top="cat"), "modify", labels=["dog"],
                  seconds=6).status_code == 201
    for n in range(10):
        ItemFactory(project=project, state=Item.State.AUTO_ACCEPTED, final_source=Item.FinalSource.AUTO,
                    final_labels=["bird"], text=f"auto {n}")
    client.force_login(world.viewer)
    base = f"/projects/{project.pk}/dashboard"

    states = client.get(f"{base}/states.csv")
    assert states["Content-Disposition"] == f'attachment; filename="project-{project.pk}-states.csv"'
    assert rows(states) == ["State,Items", "unlabelled,0", "predicted,0", "auto_accepted,10", "needs_review,0",
                            "reviewed,2"]
    assert rows(client.get(f"{base}/labels.csv")) == ["Label,Items", "cat,1", "dog,1", "bird,10"]
    assert rows(client.get(f"{base}/confusion.csv")) == [
        "People \\ model,cat,dog,bird", "cat,1,0,0", "dog,1,0,0", "bird,0,0,0"]
    assert rows(client.get(f"{base}/per_class.csv")) == [
        "Class,Precision,Recall,Support", "cat,0.5,1.0,1", "dog,,0.0,1", "bird,,,0"]
    assert rows(client.get(f"{base}/reviewers.csv")) == [
        "Reviewer,Reviewed,Approve,Modify,Reject,Median s,Items / hour,Mean κ,Gold right,Gold answered,"
        "Gold accuracy,Model agrees",
        "rita@example.com,2,0.5,0.5,0.0,5.0,720.0,,0,0,,0.5"]
    assert rows(client.get(f"{base}/agreement.csv")) == ["Reviewer,Reviewer,Items,Cohen's κ"]
    today = timezone.localdate().isoformat()
    assert rows(client.get(f"{base}/history.csv")) == [
        "Day,Items,unlabelled,predicted,auto_accepted,needs_review,reviewed,Decided by the model,Decided by people",
        f"{today},12,0,0,10,0,2,0,2"]
    # 10 × 36 s = 0.10 h × 20.00 = 2.00; compute 0; review 10 s → 0.06
    assert rows(client.get(f"{base}/costs.csv")) == [
        "Figure,Value,Formula",
        "hours saved,0.1,hours saved = items labelled without a person × seconds per item ÷ 3600 = 10 × 36 ÷ 3600 "
        "= 0.10",
        "labour saved,2.0,labour saved = items labelled without a person × seconds per item ÷ 3600 × hourly rate "
        "= 10 × 36 ÷ 3600 × 20.00 = 2.00",
        "compute cost,0.0,compute cost = items the model scored × compute cost per item = 0 × 0.00000 = 0.00",
        "savings,2.0,savings = items labelled without a person × seconds per item ÷ 3600 × hourly rate − items the "
        "model scored × compute cost per item = 10 × 36 ÷ 3600 × 20.00 − 0 × 0.00000 = 2.00",
        "review cost,0.06,review cost = seconds reviewers spent (live decisions) ÷ 3600 × hourly rate = 10 ÷ 3600 × "
        "20.00 = 0.06",
    ]


def test_personal_and_platform_tables_as_csv(world, client, client_for, make_member):
    rita = client_for(world.reviewer)
    assert submit(rita, item_waiting(world.project, world.schema), "approve", seconds=8).status_code == 201
    client.force_login(world.reviewer)

    days = rows(client.get("/dashboard/days.csv"))
    projects = rows(client.get("/dashboard/projects.csv"))

    assert days[0] == "Day,Reviewed" and len(days) == 15
    assert days[-1] == f"{timezone.localdate().isoformat()},1"
    assert projects == ["Project,Organization,Role,Reviewed,Seconds",
                        f"{world.project.name},{world.project.organization.name},reviewer,1,8.0"]
    client.force_login(make_member("viewer", world.project.organization, is_staff=True))
    assert rows(client.get("/staff/overview/jobs.csv")) == [
        "Status,Jobs", "queued,0", "running,0", "succeeded,0", "failed,0", "cancelled,0"]
    assert rows(client.get("/staff/overview/items.csv")) == [
        "State,Items", "unlabelled,0", "predicted,0", "auto_accepted,0", "needs_review,0", "reviewed,1"]
