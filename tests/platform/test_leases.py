"""Task leases and the sweeper's choice: what a stopped worker held (or what ran out of time) is sent
again, once; what a live worker holds is left alone; a stranded export never blocks a new request."""

from datetime import timedelta

import pytest
from django.utils import timezone

from exports.models import Export
from exports.services import EXPORT_TASK, EXPORT_WORKER_LOST, export_create
from modelship.leases import lease_key, lease_release, lease_start, lease_take, leases_recover, leases_stranded
from modelship.models import TaskLease, WorkerHeartbeat
from tests.exports.projects_in_db import make_project

pytestmark = pytest.mark.django_db


def _beat(hostname: str, pid: int, seconds_ago: float) -> None:
    WorkerHeartbeat.objects.create(hostname=hostname, pid=pid, queues=["default"],
                                   last_seen=timezone.now() - timedelta(seconds=seconds_ago))


def _take(task_id: str, worker: str, pid: int, args=(1,)) -> None:
    lease_take(task_id=task_id, name="labeling.tasks.inference_chunk", args=list(args), kwargs={}, worker=worker,
               worker_pid=pid)


def test_the_sweeper_sends_again_what_a_stopped_worker_held_and_only_that(settings,
                                                                         django_capture_on_commit_callbacks):
    settings.MODELSHIP_WORKER_STALE_SECONDS = 30
    _beat("alive@host", 11, seconds_ago=1)
    _beat("dead@host", 22, seconds_ago=120)
    _beat("restarted@host", 34, seconds_ago=1)  # the same hostname, a new process: its old leases are orphans
    _take("a", "alive@host", 11, args=(7, 0))
    _take("b", "dead@host", 22, args=(7, 1))
    _take("c", "restarted@host", 33, args=(7, 2))
    _take("d", "alive@host", 11, args=(7, 3))
    lease_start(task_id="d")
    TaskLease.objects.filter(task_id="d").update(expires_at=timezone.now() - timedelta(seconds=1))  # hung past its limit
    _take("e", "gone@host", 44, args=(7, 4))  # no heartbeat at all

    assert sorted(leases_stranded().values_list("task_id", flat=True)) == ["b", "c", "d", "e"]
    with django_capture_on_commit_callbacks() as sent:
        assert leases_recover() == 4
    assert len(sent) == 4  # one send per task, after the lease is dropped
    assert list(TaskLease.objects.values_list("task_id", flat=True)) == ["a"]
    assert leases_recover() == 0

    lease_release(task_id="a", worker="other@host")  # only the worker that holds it releases it
    lease_release(task_id="a", worker="alive@host")
    assert not TaskLease.objects.exists()


def test_a_stranded_export_never_blocks_an_identical_request(org, make_member, settings):
    settings.MODELSHIP_WORKER_STALE_SECONDS = 30
    texts = make_project(organization=org, kind="text")
    viewer = make_member("viewer", org)
    first, created = export_create(project=texts.project, created_by=viewer, format_name="jsonl", options={})
    assert created
    # Still queued in the broker (no worker took it): an identical request gets the same export.
    assert export_create(project=texts.project, created_by=viewer, format_name="jsonl", options={}) == (first, False)
    # A worker took it, started, and was killed.
    Export.objects.filter(pk=first.pk).update(status=Export.Status.RUNNING, attempts=1)
    _beat("dead@host", 5, seconds_ago=300)
    TaskLease.objects.create(task_id="x", name=EXPORT_TASK, key=lease_key(EXPORT_TASK, [first.pk]), args=[first.pk],
                             worker="dead@host", worker_pid=5, received_at=timezone.now())

    second, created = export_create(project=texts.project, created_by=viewer, format_name="jsonl", options={})

    assert created and second.pk != first.pk
    first.refresh_from_db()
    assert (first.status, first.error) == (Export.Status.FAILED, EXPORT_WORKER_LOST)
