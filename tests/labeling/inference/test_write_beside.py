"""On PostgreSQL a chunk's predictions are written batch by batch on a second connection while the model
scores the next batch, still in one transaction: the same rows as writing at once, and nothing written
when scoring or writing fails part-way."""

import pytest
from django.db import connection

from labeling.inference import jobs
from labeling.inference.jobs import chunk_run, job_create, writes_beside_scoring
from labeling.models import Item, Job, JobChunk, JobItemError, Prediction
from tests.factories import ItemFactory, LabelSchemaFactory, ProjectFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="written beside scoring on PostgreSQL only")

TEXTS = ["I love this, wonderful!", "This is terrible and broken", "It is a box", "   "]  # the last: empty text


@pytest.fixture(autouse=True)
def _no_enqueue(monkeypatch):
    """These tests run the chunk here: a worker another test started must not take it too."""
    monkeypatch.setattr(jobs, "_enqueue_chunks", lambda job_id, n_chunks: None)


def project_with_items(count: int):
    project = ProjectFactory(default_model="vader-sentiment", audit_slice_size=0, auto_accept_threshold=0.6)
    LabelSchemaFactory(project=project, categories=["positive", "negative", "neutral"])
    items = [ItemFactory(project=project, text=f"{TEXTS[i % 4]}{'' if i % 4 == 3 else f' #{i}'}",
                         content_hash=f"item-{i}") for i in range(count)]
    return project, items


@pytest.mark.django_db(transaction=True)
def test_a_chunk_written_beside_scoring_leaves_the_rows_writing_at_once_does(monkeypatch):
    project, items = project_with_items(200)
    job = job_create(project=project, created_by=None, chunk_size=256)
    assert writes_beside_scoring()
    monkeypatch.setattr(jobs.get_classifier("vader-sentiment"), "batch_size", 32)  # 7 batches
    threads = []
    upsert = jobs._predictions_upsert

    def spy(**kwargs):
        import threading

        threads.append((threading.current_thread().name, len(kwargs["items"])))
        return upsert(**kwargs)

    monkeypatch.setattr(jobs, "_predictions_upsert", spy)
    chunk_run(job_id=job.id, index=0)
    assert [n for _, n in threads] == [32, 32, 32, 32, 32, 32, 8]  # one write per batch ...
    assert all(name.startswith("chunk-writer") for name, _ in threads)  # ... on the writer thread
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == (Job.Status.SUCCEEDED, 150, 50)
    assert Prediction.objects.filter(job=job).count() == 150
    assert JobItemError.objects.filter(job=job).count() == 50
    assert JobChunk.objects.get(job=job).done
    first = Item.objects.get(pk=items[0].pk)
    assert (first.predicted_labels, first.state, first.prediction.job_id) == (["positive"], Item.State.AUTO_ACCEPTED,
                                                                              job.id)
    assert Item.objects.filter(project=project, state=Item.State.UNLABELLED).count() == 50  # the empty texts
    # Delivered again: the same rows, counted once.
    JobChunk.objects.filter(job=job).update(done=False)
    chunk_run(job_id=job.id, index=0)
    job.refresh_from_db()
    assert (job.done, job.failed, Prediction.objects.filter(job=job).count()) == (150, 50, 150)


@pytest.mark.django_db(transaction=True)
def test_scoring_that_fails_part_way_leaves_nothing_written(monkeypatch):
    project, _ = project_with_items(100)
    job = job_create(project=project, created_by=None, chunk_size=256)
    model = jobs.get_classifier("vader-sentiment")
    monkeypatch.setattr(model, "batch_size", 32)
    scorer_score = jobs.ProjectScorer.score
    calls = []

    def fails_third(self, inputs):
        calls.append(len(inputs))
        if len(calls) == 3:
            raise MemoryError("out of memory on the third batch")
        return scorer_score(self, inputs)

    monkeypatch.setattr(jobs.ProjectScorer, "score", fails_third)
    with pytest.raises(MemoryError, match="third batch"):
        chunk_run(job_id=job.id, index=0)
    job.refresh_from_db()
    assert (job.done, job.failed, Prediction.objects.filter(job=job).count()) == (0, 0, 0)
    assert not JobChunk.objects.get(job=job).done
    assert not Item.objects.filter(project=project).exclude(state=Item.State.UNLABELLED).exists()


@pytest.mark.django_db(transaction=True)
def test_a_write_that_fails_raises_in_the_chunk_and_leaves_nothing_written(monkeypatch):
    project, _ = project_with_items(100)
    job = job_create(project=project, created_by=None, chunk_size=256)
    monkeypatch.setattr(jobs.get_classifier("vader-sentiment"), "batch_size", 32)
    upsert = jobs._predictions_upsert
    writes = []

    def fails_second(**kwargs):
        writes.append(1)
        if len(writes) == 2:
            raise RuntimeError("the database went away")
        return upsert(**kwargs)

    monkeypatch.setattr(jobs, "_predictions_upsert", fails_second)
    with pytest.raises(RuntimeError, match="went away"):
        chunk_run(job_id=job.id, index=0)
    job.refresh_from_db()
    assert (job.done, job.failed, Prediction.objects.filter(job=job).count()) == (0, 0, 0)
    assert not JobChunk.objects.get(job=job).done


@pytest.mark.django_db
def test_inside_a_transaction_the_chunk_is_written_at_once():
    assert connection.in_atomic_block and not writes_beside_scoring()
