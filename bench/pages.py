#!/usr/bin/env python
"""Server-rendered page latency on PostgreSQL: the manage (Quality) page of a 1,000-class project against the
same project with 10 classes (the baseline, measured in the same run), and the other pages a manager opens.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/modelship_bench_pages python bench/pages.py
    python bench/pages.py --items 20000 --rounds 15

Two projects of ``--items`` text items each are bulk-loaded in SQL, one over 10 classes and one over 1,000:
60% auto-accepted, 25% waiting for review, 5% unlabelled, 10% settled in review (the model right on 85% of
them) by 8 reviewers, an audit slice of 150, 30 learning rounds, an active head (weights and held-out logits
as a round stores them) and its calibration. Each page then runs
``--rounds`` times through the whole Django stack in process (session, middleware, template rendering),
without an HTTP server, after a few warm-up calls. Prints p50/p95 wall time, the p50 CPU time of this
process (Python and templates: what a loaded machine inflates least), the queries per request and the page's
size beside the goal (the manage page under 300 ms on the 1,000-class project). The database is dropped and
created again unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import common

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/modelship_bench_pages"
REVIEWERS = 8
WARMUP = 3
GOAL_MS = 300.0
PAGES = ("manage", "review", "dashboard", "items", "settings")


def _load_project(org, owner, reviewers, *, classes: int, size: int):
    """A project of ``size`` items over ``classes`` classes with their decisions, rounds and a calibration."""
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from labeling.models import HeadVersion, Item, Job, LearningRound, ModelCalibration
    from projects.models import Category, LabelSchema, Project
    from projects.schemas import shortcuts_fill
    from review.models import ReviewDecision

    names = [f"class-{n:04d}" for n in range(classes)]
    project = Project.objects.create(organization=org, name=f"Bench {classes} classes", created_by=owner,
                                     project_type="text_classification", default_model="minilm-zero-shot")
    schema = LabelSchema.objects.create(project=project, version=1, multi_label=False, min_labels=1, max_labels=1)
    keys = shortcuts_fill([""] * classes)
    Category.objects.bulk_create([Category(schema=schema, name=n, path=n, order=i, shortcut=k)
                                  for i, (n, k) in enumerate(zip(names, keys, strict=True))])
    items, decisions = Item._meta.db_table, ReviewDecision._meta.db_table
    params = {"project": project.pk, "size": size, "schema": schema.pk, "classes": names, "n": classes,
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
                CASE WHEN st = 'reviewed' THEN 'approved' ELSE '' END,
                CASE WHEN st = 'needs_review' THEN 'uncertain' ELSE '' END, 1,
                CASE WHEN st = 'reviewed' THEN 1 ELSE 0 END,
                CASE WHEN st = 'unlabelled' THEN NULL ELSE c END,
                CASE WHEN st = 'unlabelled' THEN NULL ELSE jsonb_build_array(p) END,
                CASE st WHEN 'auto_accepted' THEN jsonb_build_array(p)
                        WHEN 'reviewed' THEN jsonb_build_array(CASE WHEN g %% 100 < 85 THEN p ELSE t END) END,
                CASE WHEN st IN ('auto_accepted', 'reviewed') THEN %(schema)s END,
                CASE WHEN st IN ('auto_accepted', 'reviewed')
                     THEN now() - (g %% 30) * interval '1 day' - (g %% 1000) * interval '1 second' END
            FROM (
                SELECT g, 0.34 + 0.66 * random() AS c,
                       (%(classes)s::text[])[1 + g %% %(n)s] AS p, (%(classes)s::text[])[1 + (g / 7) %% %(n)s] AS t,
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
    Job.objects.create(project=project, model_name="minilm-zero-shot", schema=schema, status="succeeded",
                       total=size, done=size - size // 20)
    now = timezone.now()
    LearningRound.objects.bulk_create([
        LearningRound(project=project, trigger="schedule", started_at=now - timedelta(hours=r), labels_used=50 * r,
                      audited=150, model_name="minilm-zero-shot", promoted=r % 3 == 0,
                      promotion_reason="held-out accuracy against the current model", temperature_after=1.3,
                      ece_before=0.1, ece_after=0.03, threshold=0.9, coverage=0.6, eligible=size // 2,
                      auto_accepted=size * 12 // 20, statement="auto-accepted labels are at least 97.0% correct")
        for r in range(30)])
    # an active head as a round leaves it: float32 weights over a 384-wide embedding, and held-out logits
    rng = random.Random(classes)
    HeadVersion.objects.create(project=project, base_model="minilm-zero-shot", version=1, schema=schema,
                               head=bytes(4 * (384 + 1) * classes), classes=names, trained_on=1500, evaluated_on=150,
                               heldout_accuracy=0.8, baseline_accuracy=0.7, is_active=True,
                               heldout_logits={str(i): [round(rng.gauss(0, 2), 4) for _ in range(classes)]
                                               for i in range(150)})
    ModelCalibration.objects.create(project=project, model_name="minilm-zero-shot+head-v1", temperature=1.3,
                                    fitted_on=150,
                                    ece_before=0.1, ece_after=0.03, threshold=0.9,
                                    precision={"statement": "auto-accepted labels are at least 97.0% correct"})
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {items}")
        cursor.execute(f"VACUUM ANALYZE {decisions}")
    print(f"  loaded {size:,} items over {classes:,} classes in {time.perf_counter() - started:.1f}s", flush=True)
    return project


def _measure(client, path: str, rounds: int) -> tuple[list[float], list[float], list[int], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        assert client.get(path).status_code == 200
    times, cpu, queries, size = [], [], [], 0
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.content[:300]
        queries.append(len(captured.captured_queries))
        size = len(response.content)
    return times, cpu, queries, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the database between runs (loads again)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgres"):
        sys.exit("bench/pages.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    common.prepare_database(url, keep=args.keep)
    common.setup_django(url)
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import Membership, Organization, User

    call_command("migrate", verbosity=0, interactive=False)  # installs the item-count triggers too
    org = Organization.objects.create(name=f"Pages bench {time.time():.0f}")
    owner = User.objects.create_user(email=f"owner-{org.pk}@example.com", password="bench-password-123")
    Membership.objects.create(user=owner, organization=org, role="admin")
    reviewers = [User.objects.create_user(email=f"reviewer{n}-{org.pk}@example.com", password="bench-password-123")
                 for n in range(REVIEWERS)]
    Membership.objects.bulk_create([Membership(user=r, organization=org, role="reviewer") for r in reviewers])
    client = Client()
    client.force_login(owner)

    rows = []
    for classes in (10, 1000):
        project = _load_project(org, owner, reviewers, classes=classes, size=args.items)
        for page in PAGES:
            times, cpu, queries, size = _measure(client, f"/projects/{project.pk}/{page}", args.rounds)
            rows.append((page, classes, statistics.median(times), common.percentile(times, 95), statistics.median(cpu),
                         min(queries), max(queries), size))
            print(f"  {page}: p50 {rows[-1][2]:.1f} ms", flush=True)

    baseline = {page: p50 for page, classes, p50, *_ in rows if classes == 10}
    print()
    print(f"{args.items:,} items per project; baseline: the same page of the 10-class project, this run; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'page':<10} {'classes':>7} {'p50 ms':>8} {'p95 ms':>8} {'× base':>7} {'CPU ms':>7} {'queries':>8} "
          f"{'KB':>7}  goal")
    for page, classes, p50, p95, cpu, low, high, size in rows:
        queries = f"{low}" if low == high else f"{low}-{high}"
        ratio = f"{p50 / baseline[page]:.2f}" if classes != 10 else "base"
        goal = f"< {GOAL_MS:.0f} ms" if page == "manage" and classes == 1000 else ""
        verdict = ("met" if p50 < GOAL_MS else "MISSED") if goal else ""
        print(f"{page:<10} {classes:>7,} {p50:>8.1f} {p95:>8.1f} {ratio:>7} {cpu:>7.1f} {queries:>8} {size / 1024:>7.1f}  "
              f"{goal} {verdict}".rstrip())


if __name__ == "__main__":
    main()
