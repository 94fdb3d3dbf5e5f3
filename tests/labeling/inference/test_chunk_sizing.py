"""A job's chunks are sized by the model's measured throughput (about INFERENCE_CHUNK_SECONDS of work
each), so a large job pays its per-chunk pickup and write a few times instead of hundreds."""

import pytest
from django.test import override_settings

from labeling.inference import jobs
from labeling.inference.jobs import chunk_run, chunk_size_for, job_create, throughput, throughput_record
from labeling.models import JobChunk
from modelship.selectors import live_processes
from tests.factories import ItemFactory, LabelSchemaFactory, ProjectFactory

MODEL = "vader-sentiment"


def beat(hostname: str, queues: list[str], processes: int, seconds_ago: float = 0.0) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from modelship.models import WorkerHeartbeat
    from modelship.services import worker_heartbeat_record

    worker_heartbeat_record(hostname=hostname, queues=queues, pid=1, processes=processes)
    WorkerHeartbeat.objects.filter(hostname=hostname).update(last_seen=timezone.now() - timedelta(seconds=seconds_ago))


@pytest.mark.django_db
def test_before_any_measurement_a_chunk_is_the_default_size_and_each_live_process_gets_a_share():
    assert throughput(model_name=MODEL) is None
    assert chunk_size_for(model_name=MODEL, total=100_000, width=3) == 256
    assert chunk_size_for(model_name=MODEL, total=200, width=3) == 200  # no worker seen: one chunk
    beat("gpu-1", ["inference"], processes=2)
    beat("cpu-1", ["default", "inference"], processes=1)
    beat("exports-1", ["exports"], processes=4)  # takes no inference tasks
    beat("gone-1", ["inference"], processes=8, seconds_ago=3600)  # no longer alive
    assert live_processes(queue="inference") == 3
    assert chunk_size_for(model_name=MODEL, total=600, width=3) == 200  # three chunks: one per live process
    assert chunk_size_for(model_name=MODEL, total=100, width=3) == 64  # never below 64
    with override_settings(INFERENCE_CHUNKS_PER_JOB=4):
        assert chunk_size_for(model_name=MODEL, total=600, width=3) == 150


@pytest.mark.django_db
def test_a_measured_model_gets_about_ten_seconds_of_work_per_chunk():
    throughput_record(model_name=MODEL, items=1000, seconds=10.0)  # 100 items/s
    throughput_record(model_name=MODEL, items=600, seconds=2.0)  # 300 items/s: the mean of the two, 200/s
    assert throughput(model_name=MODEL) == pytest.approx(200.0)
    assert chunk_size_for(model_name=MODEL, total=100_000, width=3) == 2000
    assert chunk_size_for(model_name="minilm-zero-shot", total=100_000, width=3) == 256  # its own, unmeasured
    with override_settings(INFERENCE_CHUNK_MAX=1024):
        assert chunk_size_for(model_name=MODEL, total=100_000, width=3) == 1024
    # 1,000 categories: a chunk keeps at most 1,000,000 probabilities and logits in memory
    assert chunk_size_for(model_name=MODEL, total=100_000, width=1000) == 500
    assert chunk_size_for(model_name=MODEL, total=100_000, width=3, requested=5000) == 2048  # asked for, clamped
    assert chunk_size_for(model_name=MODEL, total=100_000, width=3, requested=10) == 64


def test_a_tiny_chunk_measures_nothing():
    throughput_record(model_name=MODEL, items=15, seconds=0.01)
    throughput_record(model_name=MODEL, items=500, seconds=0.0)
    assert throughput(model_name=MODEL) is None


@pytest.mark.django_db
def test_a_chunk_records_the_models_throughput_and_the_next_job_is_split_by_it(monkeypatch):
    project = ProjectFactory(default_model=MODEL, audit_slice_size=0)
    LabelSchemaFactory(project=project, categories=["positive", "negative", "neutral"])
    for i in range(40):
        ItemFactory(project=project, text=f"What a lovely day, number {i}!")
    job = job_create(project=project, created_by=None)
    assert job.chunk_size == 64 and JobChunk.objects.filter(job=job).count() == 1
    clock = iter([100.0, 100.5])  # the chunk's scoring and writing took half a second: 80 items/s
    monkeypatch.setattr(jobs.time, "monotonic", lambda: next(clock))
    chunk_run(job_id=job.id, index=0)
    assert throughput(model_name=MODEL) == pytest.approx(80.0)
    for i in range(4000):
        ItemFactory(project=project, text=f"A plain sentence about the weather, number {i}.")
    job = job_create(project=project, created_by=None)
    assert job.chunk_size == 800  # 80 items/s x 10 s
    assert list(JobChunk.objects.filter(job=job).order_by("index").values_list("index", flat=True)) == [0, 1, 2, 3, 4]
