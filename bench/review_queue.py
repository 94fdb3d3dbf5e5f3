#!/usr/bin/env python
"""Review queue latency on PostgreSQL: fetching the queue and submitting a decision, 8 reviewers at once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/modelship_bench_review python bench/review_queue.py
    python bench/review_queue.py --sizes 10000,1000000 --reviewers 8 --rounds 40

For each size, one project of that many items (30% waiting for review, 70% auto-accepted, a
reviewed audit slice of 150, every item with a calibrated prediction) is bulk-loaded with
``generate_series`` in SQL. Then ``--reviewers`` threads, each a reviewer with its own database
connection, repeat ``--rounds`` times: fetch the queue (``GET /api/review/queue``, 5 items) and
decide each item (``POST /api/review/submit``: approve, or modify one in four), through the whole
DRF stack in process (authentication, permissions, serializers), without an HTTP server.

Prints p50/p95/p99 latency per request kind and size, and the number of queries per request
(min and max), which should not change with the size; then the plan of the queue's main query on
the largest project. The database is dropped and created again unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time

import common

ROOT = common.ROOT
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/modelship_bench_review"
CATEGORIES = ("cat", "dog", "bird")
# Each run starts from the same queue (see _reset); ``--rounds`` x reviewers x 5 must stay under the
# 30% of items waiting, or the smallest project runs dry.
QUEUE_LIMIT = 5
WARMUP_ROUNDS = 3


# --- data ------------------------------------------------------------------------------------

def _load_project(org, creator, size: int):
    """A project of ``size`` items with predictions, loaded in SQL; returns it."""
    from django.db import connection, transaction

    from labeling.models import Item, Prediction
    from projects.models import Category, LabelSchema, Project

    project = Project.objects.create(organization=org, name=f"Bench {size}", project_type="text_classification",
                                     created_by=creator, lease_seconds=600)
    schema = LabelSchema.objects.create(project=project, version=1, multi_label=False, min_labels=1, max_labels=1)
    Category.objects.bulk_create([Category(schema=schema, name=n, path=n, shortcut=n[0], order=i)
                                  for i, n in enumerate(CATEGORIES)])
    items, predictions = Item._meta.db_table, Prediction._meta.db_table
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {items} (project_id, kind, text, file, content_hash, original_name, mime_type, size_bytes,
                source_archive, metadata, created_at, state, in_audit_slice, final_source, review_outcome,
                queue_reason, required_reviews, review_count, confidence, predicted_labels, final_labels,
                final_schema_id)
            SELECT %(project)s, 'text', 'bench item ' || g, '', md5(%(project)s || ':' || g), 'bench.txt',
                'text/plain', 16, '', '{{}}', now(),
                CASE WHEN g <= 150 THEN 'reviewed' WHEN g %% 10 < 3 THEN 'needs_review' ELSE 'auto_accepted' END,
                g <= 150,
                CASE WHEN g <= 150 THEN 'review' WHEN g %% 10 < 3 THEN '' ELSE 'auto' END,
                CASE WHEN g <= 150 THEN 'approved' ELSE '' END,
                CASE WHEN g <= 150 THEN 'audit' WHEN g %% 10 < 3 THEN 'uncertain' ELSE '' END,
                1, CASE WHEN g <= 150 THEN 1 ELSE 0 END,
                c, jsonb_build_array(%(top)s), CASE WHEN g %% 10 < 3 AND g > 150 THEN NULL
                                                    ELSE jsonb_build_array(%(top)s) END,
                CASE WHEN g %% 10 < 3 AND g > 150 THEN NULL ELSE %(schema)s END
            FROM (SELECT g, 0.34 + 0.66 * random() AS c FROM generate_series(1, %(size)s) AS g) AS s
        """, {"project": project.pk, "size": size, "top": CATEGORIES[0], "schema": schema.pk})
        cursor.execute(f"""
            INSERT INTO {predictions} (item_id, model_name, schema_id, labels, confidence, probabilities, logits,
                temperature, calibrated, created_at)
            SELECT id, 'bench-model', %(schema)s, jsonb_build_array(%(top)s), confidence,
                jsonb_build_array(confidence, (1 - confidence) * 0.6, (1 - confidence) * 0.4), '[]', 1.0, true, now()
            FROM {items} WHERE project_id = %(project)s
        """, {"project": project.pk, "schema": schema.pk, "top": CATEGORIES[0]})
        cursor.execute(f"""
            UPDATE {items} AS i SET prediction_id = p.id FROM {predictions} AS p
            WHERE p.item_id = i.id AND i.project_id = %(project)s
        """, {"project": project.pk})
        cursor.execute(f"ANALYZE {items}")
        cursor.execute(f"ANALYZE {predictions}")
    print(f"  loaded {size:,} items with predictions in {time.perf_counter() - started:.1f}s", flush=True)
    return project


def _reset(project, reviewers) -> None:
    """Undo what a run decided, so every run starts from the same queue."""
    from labeling.models import HumanLabel, Item
    from review.models import ReviewDecision

    ReviewDecision.objects.filter(project=project).delete()
    HumanLabel.objects.filter(item__project=project, created_by__in=reviewers).delete()
    Item.objects.filter(project=project, decided_by__in=reviewers).update(
        state=Item.State.NEEDS_REVIEW, final_labels=None, final_schema=None, final_source="", decided_by=None,
        decided_at=None, review_outcome="", review_count=0, required_reviews=1, queue_reason="uncertain")
    Item.objects.filter(project=project, lease_owner__in=reviewers).update(lease_owner=None, lease_expires_at=None)


# --- measuring -------------------------------------------------------------------------------

class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[tuple[float, int]]] = {"queue": [], "submit": []}
        self.errors: list[str] = []

    def add(self, kind: str, seconds: float, queries: int) -> None:
        with self.lock:
            self.samples[kind].append((seconds, queries))


def _timed(client, method: str, path: str, data=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = getattr(client, method)(path, data, format="json") if data is not None else client.get(path)
        elapsed = time.perf_counter() - started
    return response, elapsed, len(captured.captured_queries)


THINK_SECONDS = 0.0  # set from --think-ms: a pause after each request, as a person reading the next item


def _think(rng) -> None:
    """Pause like a person: between half and one and a half times the mean, so reviewers drift apart."""
    if THINK_SECONDS:
        time.sleep(THINK_SECONDS * rng.uniform(0.5, 1.5))


def _reviewer(user, project, rounds: int, recorder: Recorder, barrier: threading.Barrier) -> None:
    from django.db import connection
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    rng = random.Random(user.pk)
    decided = 0
    try:
        barrier.wait()
        for round_ in range(rounds + WARMUP_ROUNDS):
            record = round_ >= WARMUP_ROUNDS
            resp, elapsed, queries = _timed(client, "get", f"/api/review/queue?project={project.pk}&limit={QUEUE_LIMIT}")
            if resp.status_code != 200:
                recorder.errors.append(f"queue {resp.status_code}: {resp.data}")
                return
            if record:
                recorder.add("queue", elapsed, queries)
            _think(rng)
            for item in resp.data["items"]:
                decided += 1
                body = {"item": item["id"], "decision": "approve", "seconds_spent": 2.5}
                if decided % 4 == 0:
                    body = {"item": item["id"], "decision": "modify", "labels": [CATEGORIES[1]], "seconds_spent": 4}
                resp, elapsed, queries = _timed(client, "post", "/api/review/submit", body)
                if resp.status_code != 201:
                    recorder.errors.append(f"submit {resp.status_code}: {resp.data}")
                    continue
                if record:
                    recorder.add("submit", elapsed, queries)
                _think(rng)
    finally:
        connection.close()


def _run_threads(project, reviewers, rounds: int) -> tuple[dict, float, list[str]]:
    """Every reviewer a thread of this process (they share one interpreter lock)."""
    recorder = Recorder()
    barrier = threading.Barrier(len(reviewers))
    threads = [threading.Thread(target=_reviewer, args=(user, project, rounds, recorder, barrier))
               for user in reviewers]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return recorder.samples, time.perf_counter() - started, recorder.errors


def _reviewer_process(user, project, rounds: int, barrier, results) -> None:
    recorder = Recorder()
    _reviewer(user, project, rounds, recorder, barrier)
    results.put((recorder.samples, recorder.errors))


def _run_processes(project, reviewers, rounds: int) -> tuple[dict, float, list[str]]:
    """Every reviewer a process of its own, as web workers are (forked, each with its own connection)."""
    import multiprocessing

    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(reviewers))
    results = context.Queue()
    processes = [context.Process(target=_reviewer_process, args=(user, project, rounds, barrier, results))
                 for user in reviewers]
    started = time.perf_counter()
    for process in processes:
        process.start()
    collected = [results.get() for _ in processes]
    wall = time.perf_counter() - started
    for process in processes:
        process.join()
    samples: dict[str, list] = {"queue": [], "submit": []}
    errors: list[str] = []
    for part, part_errors in collected:
        for kind, values in part.items():
            samples[kind].extend(values)
        errors.extend(part_errors)
    return samples, wall, errors


def _explain(project, user) -> str:
    from django.db import transaction
    from django.utils import timezone

    from review.selectors import queue_pool, uncertainty_order

    with transaction.atomic():
        pool = queue_pool(project=project, user=user, now=timezone.now())
        query = uncertainty_order(pool=pool, project=project, user=user, limit=QUEUE_LIMIT)
        plan = query.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)[:QUEUE_LIMIT] \
            .explain(analyze=True, buffers=True)
        transaction.set_rollback(True)
    return plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,1000000", help="items per project, comma-separated")
    parser.add_argument("--reviewers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=40, help="queue fetches per reviewer (5 decisions each)")
    parser.add_argument("--concurrency", default="alone,threads,processes",
                        help="how reviewers run: alone (one reviewer, the per-request cost), threads (all in one "
                             "interpreter), processes (each its own, like web workers); comma-separated")
    parser.add_argument("--think-ms", type=float, default=0.0,
                        help="each reviewer's mean pause after every request, drawn from 0.5x to 1.5x "
                             "(0: back to back, the harshest load)")
    parser.add_argument("--keep", action="store_true", help="keep (do not recreate) the benchmark database")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    sizes = [int(s) for s in args.sizes.split(",")]
    global THINK_SECONDS
    THINK_SECONDS = args.think_ms / 1000

    common.prepare_database(url, args.keep)
    common.setup_django(url)
    from django.core.management import call_command

    from accounts.models import Membership, Organization, User

    call_command("migrate", verbosity=0, interactive=False)
    org = Organization.objects.create(name=f"Review bench {time.time():.0f}")
    owner = User.objects.create_user(email=f"owner-{org.pk}@example.com", password="bench-password-123")
    Membership.objects.create(user=owner, organization=org, role="admin")
    reviewers = []
    for n in range(args.reviewers):
        user = User.objects.create_user(email=f"reviewer{n}-{org.pk}@example.com", password="bench-password-123")
        Membership.objects.create(user=user, organization=org, role="reviewer")
        reviewers.append(user)

    modes = [m.strip() for m in args.concurrency.split(",") if m.strip()]
    runners = {"alone": lambda project, users, rounds: _run_threads(project, users[:1], rounds),
               "threads": _run_threads, "processes": _run_processes}
    labels = {"alone": "1 alone", "threads": f"{args.reviewers} threads", "processes": f"{args.reviewers} processes"}
    rows = []
    largest = None
    for size in sizes:
        print(f"size {size:,}:", flush=True)
        project = _load_project(org, owner, size)
        for mode in modes:
            _reset(project, reviewers)
            samples, wall, errors = runners[mode](project, reviewers, args.rounds)
            if errors:
                print(f"  {mode}: {len(errors)} errors, first: {errors[0]}")
            for kind in ("queue", "submit"):
                seconds = [s for s, _ in samples[kind]]
                queries = [q for _, q in samples[kind]]
                rows.append((size, labels[mode], kind, len(seconds), 1000 * statistics.median(seconds),
                             1000 * common.percentile(seconds, 95), 1000 * common.percentile(seconds, 99),
                             min(queries), max(queries), len(seconds) / wall))
        largest = project

    print()
    print(f"PostgreSQL, the DRF stack in process (no HTTP), queue limit {QUEUE_LIMIT}, {args.rounds} rounds "
          f"per reviewer, {args.think_ms:g} ms pause after each request, {os.cpu_count()} CPUs")
    header = (f"{'items':>10} {'reviewers':<12} {'request':<8} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
              f"{'queries':>8} {'req/s':>8}")
    print(header)
    print("-" * len(header))
    for size, mode, kind, n, p50, p95, p99, qmin, qmax, rate in rows:
        queries = str(qmin) if qmin == qmax else f"{qmin}-{qmax}"
        print(f"{size:>10,} {mode:<12} {kind:<8} {n:>6} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {queries:>8} {rate:>8.0f}")
    print()
    print(f"plan of the queue's strategy query ({sizes[-1]:,} items):")
    print(_explain(largest, reviewers[0]))


if __name__ == "__main__":
    main()
