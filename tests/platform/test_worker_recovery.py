"""A worker killed with SIGKILL mid-job, mid-export and mid-import, then a new one started: the
sweeper (modelship.leases.leases_recover, what Celery beat runs) sends the dead worker's tasks again
and each finishes, with one prediction per item, no duplicate item, progress counted once and no
partial file downloadable. PostgreSQL and Redis, as in production; staleness shortened to seconds."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import zipfile

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from exports.models import Export
from exports.services import export_create
from labeling.inference.jobs import job_create
from labeling.items.imports import UploadFile, upload_receive
from labeling.models import ImportJob, Item, Job, Prediction
from modelship.leases import leases_recover
from modelship.models import TaskLease, WorkerHeartbeat
from projects.services import schema_version_create
from projects.storage import project_storage_prefix
from tests.conftest import ROOT, _check_broker, _database_url, service_missing, wait_until
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.worker, pytest.mark.redis, pytest.mark.postgres]

QUEUES = ("default", "inference", "exports")


@pytest.fixture
def workers(transactional_db, tmp_path):
    """``start(name, **env)``: a worker process of its own (concurrency 1, heartbeat every second, gone
    after 3 silent seconds); the suite's shared worker stops consuming meanwhile, so these own the queues."""
    from django.db import connection

    from modelship.celery import app

    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis"):
        service_missing("worker recovery is tested on PostgreSQL + Redis (set DATABASE_URL and CELERY_BROKER_URL)")
    _check_broker()
    shared = [f"test-worker-{os.getpid()}@localhost"]
    for queue in QUEUES:
        app.control.cancel_consumer(queue, destination=shared, reply=True, timeout=2)
    started: list[subprocess.Popen] = []

    def start(name: str, **extra_env) -> subprocess.Popen:
        env = dict(os.environ)
        env.update(DJANGO_SETTINGS_MODULE="modelship.settings", DATABASE_URL=_database_url(),
                   CELERY_BROKER_URL=settings.CELERY_BROKER_URL, MEDIA_ROOT=str(settings.MEDIA_ROOT),
                   MODELSHIP_HEARTBEAT_SECONDS="1", MODELSHIP_WORKER_STALE_SECONDS="3", **extra_env)
        hostname = f"recovery-{name}-{os.getpid()}@localhost"
        log = tmp_path / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, str(ROOT / "celery_worker.py"), "--concurrency", "1", "--loglevel", "INFO",
                 "--hostname", hostname], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        proc.hostname, proc.log_path = hostname, log
        started.append(proc)
        wait_until(lambda: b" ready." in log.read_bytes() or proc.poll() is not None, timeout=90,
                   message=f"worker {name} to start")
        assert proc.poll() is None, log.read_text()[-4000:]
        wait_until(lambda: WorkerHeartbeat.objects.filter(hostname=hostname).exists(), message="its heartbeat")
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
    for queue in QUEUES:
        app.control.add_consumer(queue, destination=shared, reply=True, timeout=2)


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL to the worker and its pool processes at once: nothing is acknowledged or cleaned up."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=20)


def recover_until(done, *, timeout: float = 120.0, message: str) -> None:
    """Run the sweeper every second (as beat would, faster) until ``done()``."""
    def swept():
        leases_recover()
        return done()
    wait_until(swept, timeout=timeout, interval=1.0, message=message)


def _stored_exports(project) -> list[str]:
    try:
        return default_storage.listdir(f"{project_storage_prefix(project.pk)}exports")[1]
    except FileNotFoundError:
        return []


def _text_items(project, count: int, *, schema=None, label: str | None = None) -> None:
    rows = []
    for n in range(count):
        text = f"Item {n}: {'I love it, wonderful' if n % 2 else 'terrible, I hate it'}"
        extra = {}
        if label is not None:
            extra = {"state": Item.State.REVIEWED, "final_labels": [label], "final_schema": schema,
                     "final_source": Item.FinalSource.REVIEW}
        rows.append(Item(project=project, kind="text", text=text, mime_type="text/plain", size_bytes=len(text),
                         content_hash=hashlib.sha256(text.encode()).hexdigest(), original_name="items.txt", **extra))
    Item.objects.bulk_create(rows, batch_size=2000)


def test_a_job_whose_worker_is_killed_finishes_on_the_next_with_one_prediction_per_item(workers, org):
    project = ProjectFactory(organization=org, default_model="vader-sentiment", audit_slice_size=0)
    schema_version_create(project=project, created_by=None,
                          categories=[{"name": "positive"}, {"name": "negative"}, {"name": "neutral"}])
    _text_items(project, 2000)
    first = workers("job-a")
    job = job_create(project=project, created_by=None, chunk_size=64)
    wait_until(lambda: Job.objects.get(pk=job.pk).done >= 128, timeout=120, message="two chunks done")
    kill(first)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.done < job.total
    assert TaskLease.objects.filter(worker=first.hostname).exists()  # what it held dies with it

    workers("job-b")
    recover_until(lambda: Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED, message="the job")
    job.refresh_from_db()
    assert (job.done, job.failed, job.total) == (2000, 0, 2000)
    predictions = Prediction.objects.filter(job=job)
    assert predictions.count() == 2000
    assert predictions.values("item_id").distinct().count() == 2000


def test_an_export_whose_worker_is_killed_finishes_and_no_partial_file_is_downloadable(workers, org, client_for,
                                                                                    make_member):
    project = ProjectFactory(organization=org, audit_slice_size=0)
    schema = schema_version_create(project=project, created_by=None,
                                   categories=[{"name": "positive"}, {"name": "negative"}])
    _text_items(project, 60_000, schema=schema, label="positive")
    viewer = make_member("viewer", org)
    first = workers("export-a", EXPORT_PROGRESS_EVERY="500", EXPORT_CHUNK_SIZE="500")
    export, _ = export_create(project=project, created_by=viewer, format_name="jsonl", options={})
    wait_until(lambda: Export.objects.get(pk=export.pk).processed >= 1000, timeout=120, message="the export to run")
    kill(first)
    export.refresh_from_db()
    assert export.status == Export.Status.RUNNING and export.processed < 60_000
    client = client_for(viewer, org)
    assert client.get(f"/api/export/download/{export.public_id}").status_code == 409  # nothing half-written
    assert _stored_exports(project) == []  # a ZIP is built on local disk and stored only once whole

    workers("export-b")
    recover_until(lambda: Export.objects.get(pk=export.pk).status == Export.Status.SUCCEEDED, message="the export")
    export.refresh_from_db()
    assert (export.total, export.processed, export.written, export.skipped) == (60_000, 60_000, 60_000, 0)
    resp = client.get(f"/api/export/download/{export.public_id}")
    assert resp.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(resp.streaming_content))) as zf:
        rows = [json.loads(line) for line in zf.read("labels.jsonl").decode().splitlines()]
    assert len(rows) == len({row["item_id"] for row in rows}) == 60_000
    assert _stored_exports(project) == [export.file.name.rsplit("/", 1)[-1]]


def test_an_import_whose_worker_is_killed_finishes_with_each_row_once(workers, org, make_member):
    project = ProjectFactory(organization=org)
    data = ("text\n" + "".join(f"Imported review number {n}\n" for n in range(40_000))).encode()
    first = workers("import-a", IMPORT_BATCH_SIZE="500")
    job = upload_receive(project=project, files=[UploadFile(name="reviews.csv", size=len(data),
                                                            stream=io.BytesIO(data))],
                         text_mode="line", uploaded_by=make_member("admin", org))
    assert job.status == ImportJob.Status.QUEUED
    wait_until(lambda: ImportJob.objects.get(pk=job.pk).processed >= 1000, timeout=120, message="the import to run")
    kill(first)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING and job.processed < 40_000

    workers("import-b", IMPORT_BATCH_SIZE="500")
    recover_until(lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.SUCCEEDED, message="the import")
    job.refresh_from_db()
    assert (job.processed, job.accepted, job.duplicates, job.rejected) == (40_000, 40_000, 0, 0)
    assert Item.objects.filter(project=project).count() == 40_000
    assert Item.objects.filter(project=project).values("content_hash").distinct().count() == 40_000
