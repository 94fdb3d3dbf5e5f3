"""Task leases: which worker holds which task message, so that work a dead worker held is sent again.

With late acknowledgement a message stays the broker's until its task ends, but a broker only hands
back a killed worker's messages after its visibility timeout (an hour on Redis by default; the
filesystem broker never). ModelShip does not wait: every message a worker receives is recorded
(``lease_take``), given a deadline when it starts (``lease_start``) and forgotten when it ends
(``lease_release``). The sweeper (``leases_recover``, the ``modelship.tasks.sweep`` task run by
Celery beat) sends again each task whose worker has stopped beating or whose deadline passed.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from modelship.models import TaskLease, WorkerHeartbeat

logger = logging.getLogger(__name__)

LEASE_MARGIN_SECONDS = 60  # beyond the hard time limit, before a running task counts as lost


def lease_key(name: str, args) -> str:
    return f"{name}:{json.dumps(list(args or ()), separators=(',', ':'))}"[:512]


def lease_take(*, task_id: str, name: str, args, kwargs, worker: str, worker_pid: int) -> None:
    """A worker received a task message (it may wait in the worker's prefetch before it runs)."""
    TaskLease.objects.update_or_create(task_id=task_id, defaults={
        "name": name, "key": lease_key(name, args), "args": list(args or ()), "kwargs": dict(kwargs or {}),
        "worker": worker or "", "worker_pid": worker_pid, "received_at": timezone.now(), "expires_at": None,
    })


def lease_start(*, task_id: str) -> None:
    """The task started: it must end within the hard time limit (and a margin)."""
    deadline = timezone.now() + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + LEASE_MARGIN_SECONDS)
    TaskLease.objects.filter(task_id=task_id).update(expires_at=deadline)


def lease_release(*, task_id: str, worker: str) -> None:
    """The task ended on this worker, whatever the outcome (a retry is a new message, a new lease)."""
    TaskLease.objects.filter(task_id=task_id, worker=worker or "").delete()


def leases_stranded(*, now=None) -> QuerySet[TaskLease]:
    """Leases whose worker has no recent heartbeat (under the same process id), or whose deadline passed."""
    now = now or timezone.now()
    live = WorkerHeartbeat.objects.filter(
        hostname=OuterRef("worker"), pid=OuterRef("worker_pid"),
        last_seen__gte=now - timedelta(seconds=settings.MODELSHIP_WORKER_STALE_SECONDS),
    )
    return TaskLease.objects.filter(~Exists(live) | Q(expires_at__lt=now)).order_by("received_at", "id")


def task_stranded(*, name: str, args) -> bool:
    """Whether this task (by name and arguments) was received by a worker that is gone, and not since."""
    key = lease_key(name, args)
    held = TaskLease.objects.filter(key=key)
    return held.exists() and not held.exclude(pk__in=leases_stranded().filter(key=key).values("pk")).exists()


def leases_recover(*, now=None) -> int:
    """Send again every task whose lease is stranded; returns how many. Each lease is dropped and its
    task sent in one step, so two sweepers never send the same one twice."""
    from modelship.celery import app

    sent = 0
    for lease in list(leases_stranded(now=now)[:1000]):
        with transaction.atomic():
            if not TaskLease.objects.filter(pk=lease.pk).delete()[0]:
                continue  # another sweeper took it
            transaction.on_commit(lambda lease=lease: app.send_task(lease.name, args=lease.args, kwargs=lease.kwargs))
        logger.warning("re-sent %s%s: worker %s (pid %s) stopped or its time ran out", lease.name, lease.args,
                       lease.worker, lease.worker_pid)
        sent += 1
    return sent
