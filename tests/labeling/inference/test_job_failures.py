"""The one failure rule for jobs (modelship.failures): an unexpected error is retried with backoff, the
chunk's attempts are counted and read, and the job ends failed with the reason, never running."""

import re

import pytest
from django.db import connection

from labeling.inference import jobs
from labeling.inference.jobs import JOB_STOPPED, WORKER_LOST, chunk_run, job_create
from labeling.inference.tasks import inference_chunk
from labeling.models import Item, Job, JobChunk, Prediction
from modelship.failures import retry_delay
from tests.conftest import wait_until
from tests.factories import ItemFactory, LabelSchemaFactory, ProjectFactory


def sentiment_job(texts=("I love it", "I hate it", "It is a box")):
    project = ProjectFactory(default_model="vader-sentiment", audit_slice_size=0)
    LabelSchemaFactory(project=project, categories=["positive", "negative", "neutral"])
    for text in texts:
        ItemFactory(project=project, text=text)
    return project


@pytest.fixture
def disk_full():
    """Every prediction insert fails in PostgreSQL itself, as a full disk would: a real DatabaseError,
    raised on the worker, from outside the code under test."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE FUNCTION modelship_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS "
                       "$$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$")
        cursor.execute("CREATE TRIGGER modelship_test_disk_full BEFORE INSERT ON labeling_prediction "
                       "FOR EACH ROW EXECUTE FUNCTION modelship_test_disk_full()")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS modelship_test_disk_full ON labeling_prediction")
        cursor.execute("DROP FUNCTION IF EXISTS modelship_test_disk_full()")


@pytest.mark.worker
def test_a_database_error_in_a_chunk_is_retried_then_fails_the_job_with_the_reason(worker, postgres_only,
                                                                                    disk_full, settings):
    project = sentiment_job()
    job = job_create(project=project, created_by=None)
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=60, message="the job to end")
    job.refresh_from_db()
    chunk = JobChunk.objects.get(job=job)
    assert (job.status, chunk.attempts, chunk.done) == (Job.Status.FAILED, settings.TASK_MAX_ATTEMPTS, False)
    expected = re.escape(JOB_STOPPED.format(attempts=3, error="InternalError: could not extend file: No space "
                                                               "left on device")[:-1])
    # The reason carries PostgreSQL's own context lines after its message; the rest is exact.
    assert re.fullmatch(expected.replace(r"device\)", r"device\n.*\)") + r"\.", job.error, re.S), job.error
    assert job.finished_at is not None and (job.done, job.failed) == (0, 0)
    assert not Prediction.objects.filter(job=job).exists()
    assert set(Item.objects.filter(project=project).values_list("state", flat=True)) == {Item.State.UNLABELLED}


@pytest.mark.django_db
def test_an_unexpected_error_run_here_fails_the_job_at_once(monkeypatch):
    project = sentiment_job()
    job = job_create(project=project, created_by=None)

    def out_of_memory(self, inputs):
        raise MemoryError("cannot allocate 12 GiB")

    monkeypatch.setattr(jobs.ProjectScorer, "score", out_of_memory)
    inference_chunk(job.id, 0)  # run here, not on a worker: no retry, so the first failure is the last
    job.refresh_from_db()
    assert (job.status, job.error) == (
        Job.Status.FAILED, JOB_STOPPED.format(attempts=1, error="MemoryError: cannot allocate 12 GiB"))
    assert JobChunk.objects.get(job=job).attempts == 1


@pytest.mark.django_db
def test_a_chunk_delivered_again_after_its_last_attempt_fails_the_job(settings):
    project = sentiment_job()
    job = job_create(project=project, created_by=None)
    JobChunk.objects.filter(job=job).update(attempts=settings.TASK_MAX_ATTEMPTS)  # its worker died each time
    chunk_run(job_id=job.id, index=0)
    job.refresh_from_db()
    assert (job.status, job.error) == (
        Job.Status.FAILED, JOB_STOPPED.format(attempts=3, error=f"WorkerLost: {WORKER_LOST}"))
    assert JobChunk.objects.get(job=job).attempts == 3  # read, not counted again
    assert not Prediction.objects.filter(job=job).exists()


def test_retries_back_off_exponentially_up_to_the_cap(settings):
    settings.TASK_RETRY_BACKOFF_SECONDS = 10
    settings.TASK_RETRY_BACKOFF_MAX_SECONDS = 600
    assert [retry_delay(n) for n in (1, 2, 3, 6, 7, 20)] == [10, 20, 40, 320, 600, 600]
