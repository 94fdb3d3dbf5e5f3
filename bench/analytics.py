#!/usr/bin/env python
"""Analytics latency on PostgreSQL: the project dashboard and the quality metrics at 10k, 100k and 1M items.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/modelship_bench_analytics python bench/analytics.py
    python bench/analytics.py --sizes 10000,1000000 --rounds 20

For each size, one project of that many items is bulk-loaded with ``generate_series`` in SQL (the
item-count triggers see it like any other write): 60% auto-accepted, 25% waiting for review, 5%
unlabelled, 10% settled in review (the model right on 85% of them) over 10 classes, an audit slice
of 150, decisions for the reviewed items by 8 reviewers, one job, and 30 days of daily statistics.
Then ``GET /api/analytics/project-dashboard/{id}`` and ``GET /api/analytics/quality-metrics/{id}`` run
``--rounds`` times each through the whole DRF stack in process (authentication, permissions,
rendering), without an HTTP server, after a few warm-up calls.

Prints p50/p95 latency per endpoint and size, and the number of queries per request (it should not
change with the size), beside the goal (under 300 ms, met at 1M items) and a baseline measured in
the same run: the same request with the kept counters switched off, so every figure is aggregated
from the items and decisions themselves. The database is dropped and created again unless ``--keep``
is given; with ``--keep`` a project already loaded at a size ("Bench <size>") is measured again
instead of being loaded twice.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import common

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/modelship_bench_analytics"
CLASSES = tuple(f"class-{n}" for n in range(10))
REVIEWERS = 8
WARMUP = 3
GOAL_MS = 300.0


def _load_project(org, owner, reviewers, size: int):
    """A project of ``size`` items, their decisions, a job and 30 days of statistics, loaded in SQL."""
    from django.db import connection, transaction

    from analytics.models import ProjectDailyStats
    from labeling.models import Item, Job
    from projects.models import Category, LabelSchema, Project
    from review.models import ReviewDecision

    project = Project.objects.create(organization=org, name=f"Bench {size}", project_type="text_classification",
                                     created_by=owner, default_model="minilm-zero-shot")
    schema = LabelSchema.objects.create(project=project, version=1, multi_label=False, min_labels=1, max_labels=1)
    Category.objects.bulk_create([Category(schema=schema, name=n, path=n, order=i) for i, n in enumerate(CLASSES)])
    items, decisions = Item._meta.db_table, ReviewDecision._meta.db_table
    params = {"project": project.pk, "size": size, "schema": schema.pk, "classes": list(CLASSES),
              "reviewers": [r.pk for r in reviewers]}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # g % 20: 0-11 auto-accepted, 12-16 waiting, 17 unlabelled, 18-19 reviewed; the first 150 are the audit slice.
        cursor.execute(f"""
            INSERT INTO {items} (project_id, kind, text, file, content_hash, original_name, mime_type, size_bytes,
                source_archive, metadata, created_at, state, in_audit_slice, final_source, review_outcome,
                queue_reason, required_reviews, review_count, confidence, predicted_labels, final_labels,
                final_schema_id, decided_at)
            SELECT %(project)s, 'text', 'bench item ' || g, '', md5(%(project)s || ':' || g), 'bench.txt',
                'text/plain', 16, '', '{{}}', now(), st, g <= 150,
                CASE st WHEN 'auto_accepted' THEN 'auto' WHEN 'reviewed' THEN 'review' ELSE '' END,
                CASE WHEN st = 'reviewed' THEN 'approved' ELSE '' END, '', CASE WHEN g %% 100 = 19 THEN 2 ELSE 1 END,
                CASE WHEN st = 'reviewed' THEN CASE WHEN g %% 100 = 19 THEN 2 ELSE 1 END ELSE 0 END,
                CASE WHEN st = 'unlabelled' THEN NULL ELSE c END,
                CASE WHEN st = 'unlabelled' THEN NULL ELSE jsonb_build_array(p) END,
                CASE st WHEN 'auto_accepted' THEN jsonb_build_array(p)
                        WHEN 'reviewed' THEN jsonb_build_array(CASE WHEN g %% 100 < 85 THEN p ELSE t END) END,
                CASE WHEN st IN ('auto_accepted', 'reviewed') THEN %(schema)s END,
                CASE WHEN st IN ('auto_accepted', 'reviewed')
                     THEN now() - (g %% 30) * interval '1 day' - (g %% 1000) * interval '1 second' END
            FROM (
                SELECT g, 0.34 + 0.66 * random() AS c,
                       (%(classes)s::text[])[1 + g %% 10] AS p, (%(classes)s::text[])[1 + (g / 10) %% 10] AS t,
                       CASE WHEN g <= 150 OR g %% 20 >= 18 THEN 'reviewed' WHEN g %% 20 < 12 THEN 'auto_accepted'
                            WHEN g %% 20 < 17 THEN 'needs_review' ELSE 'unlabelled' END AS st
                FROM generate_series(1, %(size)s) AS g) AS s
        """, params)
        cursor.execute(f"""
            INSERT INTO {decisions} (project_id, item_id, reviewer_id, decision, labels, schema_id, seconds_spent,
                is_gold, is_adjudication, agrees_with_model, item_before, created_at)
            SELECT project_id, id, (%(reviewers)s::bigint[])[1 + id %% {REVIEWERS}],
                CASE WHEN final_labels = predicted_labels THEN 'approve' ELSE 'modify' END, final_labels,
                %(schema)s, 2 + (id %% 13), false, false, final_labels = predicted_labels, '{{}}', decided_at
            FROM {items} WHERE project_id = %(project)s AND state = 'reviewed'
        """, params)
        # A second opinion on 1% of the items (overlap: agreement), gold checks and undone decisions on others.
        cursor.execute(f"""
            INSERT INTO {decisions} (project_id, item_id, reviewer_id, decision, labels, schema_id, seconds_spent,
                is_gold, gold_correct, is_adjudication, agrees_with_model, item_before, created_at, undone_at)
            SELECT project_id, id, (%(reviewers)s::bigint[])[1 + (id + k) %% {REVIEWERS}],
                CASE WHEN k = 3 AND id %% 5 = 0 THEN 'modify' ELSE 'approve' END,
                CASE WHEN k = 3 AND id %% 5 = 0 THEN jsonb_build_array((%(classes)s::text[])[1 + id %% 10])
                     ELSE final_labels END,
                %(schema)s, 1 + (id %% 17), k = 5, CASE WHEN k = 5 THEN id %% 4 <> 0 END, false,
                final_labels = predicted_labels, '{{}}', decided_at,
                CASE WHEN k = 2 THEN decided_at + interval '1 minute' END
            FROM {items}, (VALUES (3), (5), (2)) AS kinds (k)
            WHERE project_id = %(project)s AND state = 'reviewed'
                AND CASE k WHEN 3 THEN review_count = 2 WHEN 5 THEN id %% 100 = 38 ELSE id %% 100 = 59 END
        """, params)
    Job.objects.create(project=project, model_name="minilm-zero-shot", schema=schema, status="succeeded",
                       total=size, done=size - size // 20)
    today = time.gmtime()
    from datetime import date, timedelta

    day0 = date(today.tm_year, today.tm_mon, today.tm_mday)
    ProjectDailyStats.objects.bulk_create([
        ProjectDailyStats(project=project, day=day0 - timedelta(days=d), total=size, unlabelled=size // 20,
                          predicted=0, auto_accepted=size * 12 // 20, needs_review=size * 5 // 20,
                          reviewed=size // 10, decided_auto=size * 12 // 20 // 30, decided_human=size // 10 // 30,
                          reviews=size // 10 // 30, review_seconds=8.0 * size // 10 // 30)
        for d in range(1, 30)])
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {items}")
        cursor.execute(f"VACUUM ANALYZE {decisions}")
    print(f"  loaded {size:,} items and their decisions in {time.perf_counter() - started:.1f}s", flush=True)
    return project


def _measure(client, path: str, rounds: int) -> tuple[list[float], list[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        assert client.get(path).status_code == 200
    times, queries = [], []
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
        queries.append(len(captured.captured_queries))
    return times, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database (and what it holds) between runs")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgres"):
        sys.exit("bench/analytics.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    common.prepare_database(url, keep=args.keep)
    common.setup_django(url)
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from accounts.models import Membership, Organization, User
    from analytics import counters
    from projects.models import Project

    call_command("migrate", verbosity=0, interactive=False)  # installs the counters' triggers too
    org = Organization.objects.create(name=f"Analytics bench {time.time():.0f}")
    owner = User.objects.create_user(email=f"owner-{org.pk}@example.com", password="bench-password-123")
    Membership.objects.create(user=owner, organization=org, role="admin")
    reviewers = [User.objects.create_user(email=f"reviewer{n}-{org.pk}@example.com", password="bench-password-123")
                 for n in range(REVIEWERS)]
    Membership.objects.bulk_create([Membership(user=r, organization=org, role="reviewer") for r in reviewers])

    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        print(f"{size:,} items:", flush=True)
        project = Project.objects.filter(name=f"Bench {size}").order_by("-id").first() if args.keep else None
        if project is None:
            project = _load_project(org, owner, reviewers, size)
        else:
            print(f"  reusing project {project.pk} (--keep)", flush=True)
        client = APIClient()
        client.force_authenticate(project.created_by)
        for name, path in (("project dashboard", f"/api/analytics/project-dashboard/{project.pk}"),
                           ("quality metrics", f"/api/analytics/quality-metrics/{project.pk}")):
            # Baseline, same run: the same endpoint aggregating the items and decisions themselves.
            enabled = counters.enabled
            counters.enabled = lambda using="default": False  # type: ignore[assignment]
            try:
                base_times, _ = _measure(client, path, max(3, args.rounds // 4))
            finally:
                counters.enabled = enabled  # type: ignore[assignment]
            times, queries = _measure(client, path, args.rounds)
            rows.append((name, size, statistics.median(base_times), statistics.median(times),
                         common.percentile(times, 95), min(queries), max(queries)))
            print(f"  {name}: p50 {rows[-1][3]:.1f} ms (baseline {rows[-1][2]:.1f} ms)", flush=True)

    print()
    print(f"{'endpoint':<18} {'items':>10} {'baseline p50':>13} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}  goal")
    for name, size, base, p50, p95, low, high in rows:
        queries = f"{low}" if low == high else f"{low}-{high}"
        verdict = "met" if p50 < GOAL_MS else "MISSED"
        print(f"{name:<18} {size:>10,} {base:>13.1f} {p50:>8.1f} {p95:>8.1f} {queries:>8}  "
              f"< {GOAL_MS:.0f} ms: {verdict}")
    print("baseline: the same request with the kept counters switched off (aggregating items and decisions)")


if __name__ == "__main__":
    main()
