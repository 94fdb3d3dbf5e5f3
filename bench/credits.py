#!/usr/bin/env python
"""What the credit ledger costs, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/modelship_bench_credits python bench/credits.py
    python bench/credits.py --processes 8 --debits 300 --items 2000 --repeats 3

1. Debits: ``--processes`` processes (each its own database connection) debit one organization at once,
   ``--debits`` times each (``billing.services.credits_spend``: on PostgreSQL one statement that
   updates the cached balance where it covers the debit and appends the transaction from its RETURNING). Prints debits per second over the whole run and the
   p50/p95/p99 latency of one debit, then checks that the balance is the ledger's sum.
2. Pipeline: the same auto-labelling job (``--items`` texts, ``--model``, ``POST /api/projects/{id}/classify``,
   chunks on a real Celery worker, from the request to the job's end) with billing off and on,
   interleaved (off/on, then on/off, ...), ``--repeats`` times each, in the same run. With billing on
   the job holds its cost and every chunk settles (one statement, last in the chunk's transaction).
   Prints items/s per run and the median per mode, and the cost of billing in percent (goal: under
   2%). The same jobs also run in this process, chunk after chunk (no broker, no polling: less
   noise), timing the time spent inside billing's hooks and counting the queries billing adds per
   chunk and per job. The machine's load average is printed beside each stage.

The database is dropped and created again unless ``--keep``. The broker is ``CELERY_BROKER_URL`` (a
filesystem broker in a temporary folder when unset). Prints tables (``--markdown``: the summary as a
Markdown table, as docs/benchmarks.md holds it); asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/modelship_bench_credits"
TEXTS = ("I love this product, it works great", "This is terrible and broke after a day",
         "The parcel arrived on Tuesday in a brown box", "Absolutely wonderful service, thank you",
         "I am disappointed and want a refund", "The manual lists twelve steps")


# --- 1. concurrent debits ---------------------------------------------------------------------

def _debit_worker(url: str, org_id: int, debits: int, start, out) -> None:
    os.environ.setdefault("MODELSHIP_DATA_DIR", tempfile.mkdtemp(prefix="modelship-bench-credits-"))
    common.setup_django(url)
    from django.db import connection

    from billing.services import credits_spend

    connection.ensure_connection()
    start.wait()
    latencies = []
    for _ in range(debits):
        began = time.perf_counter()
        credits_spend(organization_id=org_id, credits=1, reason="bench debit")
        latencies.append(time.perf_counter() - began)
    out.put(latencies)


def debits_stage(url: str, org_id: int, processes: int, debits: int) -> dict:
    from django.db.models import Sum

    from billing.models import CreditAccount, CreditTransaction

    context = multiprocessing.get_context("spawn")
    start, out = context.Event(), context.Queue()
    children = [context.Process(target=_debit_worker, args=(url, org_id, debits, start, out)) for _ in range(processes)]
    for child in children:
        child.start()
    time.sleep(3)  # every child has set Django up and connected
    began = time.perf_counter()
    start.set()
    latencies = [value for _ in children for value in out.get(timeout=600)]
    wall = time.perf_counter() - began
    for child in children:
        child.join(60)
    account = CreditAccount.objects.get(organization_id=org_id)
    ledger = CreditTransaction.objects.filter(organization_id=org_id).aggregate(s=Sum("amount"))["s"]
    return {"debits": len(latencies), "wall": wall, "rate": len(latencies) / wall,
            "p50": common.percentile(latencies, 50) * 1000, "p95": common.percentile(latencies, 95) * 1000,
            "p99": common.percentile(latencies, 99) * 1000, "balance": account.balance, "ledger": ledger}


# --- 2. the pipeline with billing off and on ----------------------------------------------------

def pipeline_stage(*, user, org, model: str, items: int, repeats: int) -> dict[str, list[float]]:
    from django.conf import settings
    from rest_framework.test import APIClient

    from labeling.models import Item, Job
    from projects.models import Category, LabelSchema, Project

    project = Project.objects.create(organization=org, name="bench", project_type="text_classification",
                                     default_model=model, audit_slice_size=0, created_by=user)
    schema = LabelSchema.objects.create(project=project, version=1, multi_label=False, min_labels=1, max_labels=1)
    Category.objects.bulk_create([Category(schema=schema, name=n, path=n, order=i)
                                  for i, n in enumerate(("positive", "negative", "neutral"))])

    def add(count: int, tag: str) -> None:
        rows = []
        for n in range(count):
            text = f"{TEXTS[n % len(TEXTS)]} [{tag} {n}]"
            rows.append(Item(project=project, kind="text", text=text,
                             content_hash=hashlib.sha256(text.encode()).hexdigest()))
        Item.objects.bulk_create(rows, batch_size=1000)

    client = APIClient()
    client.force_authenticate(user)

    def run_job(timeout: float = 1800) -> float:
        began = time.perf_counter()
        response = client.post(f"/api/projects/{project.id}/classify", {}, format="json")
        assert response.status_code == 202, response.content
        job_id = response.json()["id"]
        while time.perf_counter() - began < timeout:
            job = Job.objects.get(pk=job_id)
            if job.status in Job.FINISHED:
                assert job.status == "succeeded" and job.failed == 0, (job.status, job.error)
                return time.perf_counter() - began
            time.sleep(0.02)
        raise TimeoutError("the job did not finish")

    env = dict(os.environ, MODELSHIP_HEARTBEAT_SECONDS="5")
    worker = subprocess.Popen([sys.executable, str(ROOT / "celery_worker.py"), "--concurrency", "1",
                               "--loglevel", "WARNING"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    rates: dict[str, list[float]] = {"off": [], "on": []}
    try:
        settings.BILLING_ENABLED = False
        add(64, "warm")
        run_job()  # the worker loads the model
        for r in range(repeats):
            for mode in ("off", "on") if r % 2 == 0 else ("on", "off"):
                settings.BILLING_ENABLED = mode == "on"
                add(items, f"{mode}{r}")
                rates[mode].append(items / run_job())
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return rates


def in_process_stage(*, user, org, model: str, items: int, repeats: int) -> dict:
    """The same jobs run chunk by chunk in this process (no broker, no polling): items/s per mode, and
    the time spent inside billing's hooks (``job_hold``, ``chunk_settle``) as a share of the job's time."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing import services as billing
    from labeling.inference.jobs import chunk_run, job_create
    from labeling.models import Item, JobChunk
    from projects.models import Category, LabelSchema, Project

    project = Project.objects.create(organization=org, name="bench in process", project_type="text_classification",
                                     default_model=model, audit_slice_size=0, created_by=user)
    schema = LabelSchema.objects.create(project=project, version=1, multi_label=False, min_labels=1, max_labels=1)
    Category.objects.bulk_create([Category(schema=schema, name=n, path=n, order=i)
                                  for i, n in enumerate(("positive", "negative", "neutral"))])
    spent = {"billing": 0.0}

    def timed(function):
        def wrapper(**kwargs):
            began = time.perf_counter()
            try:
                return function(**kwargs)
            finally:
                spent["billing"] += time.perf_counter() - began
        return wrapper

    billing.job_hold, billing.chunk_settle = timed(billing.job_hold), timed(billing.chunk_settle)
    results: dict = {"off": [], "on": [], "share": [], "queries": {}, "cpu_off": [], "cpu_on": []}
    for r in range(repeats + 1):
        for mode in ("off", "on") if r % 2 == 0 else ("on", "off"):
            settings.BILLING_ENABLED = mode == "on"
            rows = []
            for n in range(items):
                text = f"{TEXTS[n % len(TEXTS)]} [in-process {mode}{r} {n}]"
                rows.append(Item(project=project, kind="text", text=text,
                                 content_hash=hashlib.sha256(text.encode()).hexdigest()))
            Item.objects.bulk_create(rows, batch_size=1000)
            spent["billing"] = 0.0
            began, cpu_began = time.perf_counter(), time.process_time()
            with CaptureQueriesContext(connection) as create_queries:
                job = job_create(project=project, created_by=user)
            chunk_queries = []
            for index in JobChunk.objects.filter(job=job).order_by("index").values_list("index", flat=True):
                with CaptureQueriesContext(connection) as run_queries:
                    chunk_run(job_id=job.pk, index=index)
                chunk_queries.append(_billing_queries(run_queries))
            wall = time.perf_counter() - began
            results["queries"][mode] = (_billing_queries(create_queries), max(chunk_queries))
            if r == 0:
                continue  # the first round loads the model
            results[mode].append(items / wall)
            results[f"cpu_{mode}"].append((time.process_time() - cpu_began) / items * 1000)
            if mode == "on":
                results["share"].append(spent["billing"] / wall * 100)
    return results


def _paired_cost(off: list[float], on: list[float]) -> float:
    """Billing's cost in percent, as the median over rounds of (off - on) / off, each round's two jobs run
    back to back (the load changes less within a round than across the run)."""
    return statistics.median((a - b) / a * 100 for a, b in zip(off, on, strict=True))


def _billing_queries(captured) -> int:
    """How many of the captured queries touched billing's tables."""
    return sum(1 for query in captured.captured_queries if "billing_" in query["sql"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--debits", type=int, default=300, help="debits per process")
    parser.add_argument("--items", type=int, default=2000, help="items per pipeline job")
    parser.add_argument("--repeats", type=int, default=5, help="jobs per billing mode")
    parser.add_argument("--model", default="vader-sentiment", help="a fast model shows billing's cost the most")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="print the summary as a Markdown table too")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("bench/credits.py measures PostgreSQL: set DATABASE_URL=postgres://…")
    common.prepare_database(url, keep=args.keep)
    os.environ.setdefault("MODELSHIP_DATA_DIR", tempfile.mkdtemp(prefix="modelship-bench-credits-"))
    common.setup_django(url)
    from django.conf import settings
    from django.core.management import call_command

    from accounts.services import user_register
    from billing.services import credits_grant

    call_command("migrate", verbosity=0)
    settings.BILLING_ENABLED = True
    user = user_register(email="bench@example.com", password="bench-password-123")
    org = user.memberships.get().organization
    org.plan = org.Plan.ENTERPRISE  # no monthly item limit in the way of the repeated jobs
    org.save(update_fields=["plan"])
    credits_grant(organization=org, amount=10_000_000, reason="bench")

    summary: list[tuple[str, str, str]] = []
    load = _load()
    debits = debits_stage(url, org.pk, args.processes, args.debits)
    print(f"\nConcurrent debits on one organization ({args.processes} processes x {args.debits}, PostgreSQL; "
          f"load {load} -> {_load()})")
    print(f"{'debits':>7} {'debits/s':>9} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'balance = ledger':>17}")
    print(f"{debits['debits']:>7} {debits['rate']:>9.0f} {debits['p50']:>7.2f} {debits['p95']:>7.2f} "
          f"{debits['p99']:>7.2f} {str(debits['balance'] == debits['ledger']):>17}")
    summary += [(f"debits/s, {args.processes} processes on one organization", f"{debits['rate']:.0f}", "(no goal)"),
                ("p95 latency of one debit", f"{debits['p95']:.1f} ms", "(no goal)"),
                ("balance = ledger after the debits", str(debits["balance"] == debits["ledger"]), "True")]
    if not args.skip_pipeline:
        load = _load()
        inproc = in_process_stage(user=user, org=org, model=args.model, items=args.items, repeats=args.repeats)
        off, on = statistics.median(inproc["off"]), statistics.median(inproc["on"])
        share = statistics.median(inproc["share"])
        (create_off, chunk_off), (create_on, chunk_on) = inproc["queries"]["off"], inproc["queries"]["on"]
        print(f"\nIn process (job_create, then every chunk_run; no broker), {args.items} items with {args.model}, "
              f"{args.repeats} jobs per mode, interleaved (median); load {load} -> {_load()}")
        print(f"{'billing':>8} {'items/s':>8} {'billing queries/job':>20} {'per chunk':>10} {'runs':>30}")
        for mode, rate, create, chunk in (("off", off, create_off, chunk_off), ("on", on, create_on, chunk_on)):
            print(f"{mode:>8} {rate:>8.0f} {create:>20} {chunk:>10} {', '.join(f'{r:.0f}' for r in inproc[mode]):>30}")
        cpu_off, cpu_on = statistics.median(inproc["cpu_off"]), statistics.median(inproc["cpu_on"])
        print(f"time inside billing's hooks: {share:.2f}% of the job (goal: under 2%); throughput difference "
              f"{(off - on) / off * 100:+.1f}% (medians), {_paired_cost(inproc['off'], inproc['on']):+.1f}% (paired)")
        print(f"this process's CPU per item: {cpu_off:.3f} ms off, {cpu_on:.3f} ms on "
              f"({(cpu_on - cpu_off) / cpu_off * 100:+.1f}%)")
        summary += [("time inside billing's hooks (in process)", f"{share:.2f}% of the job", "< 2%"),
                    ("queries on billing's tables per chunk / per job (billing on)", f"{chunk_on} / {create_on}",
                     "(no goal)"),
                    ("in-process throughput, billing off -> on", f"{off:.0f} -> {on:.0f} items/s "
                     f"({(off - on) / off * 100:+.1f}%; paired {_paired_cost(inproc['off'], inproc['on']):+.1f}%)",
                     "< 2%"),
                    ("in-process CPU per item, billing off -> on", f"{cpu_off:.2f} -> {cpu_on:.2f} ms "
                     f"({(cpu_on - cpu_off) / cpu_off * 100:+.1f}%)", "< 2%")]

        load = _load()
        rates = pipeline_stage(user=user, org=org, model=args.model, items=args.items, repeats=args.repeats)
        off, on = statistics.median(rates["off"]), statistics.median(rates["on"])
        cost = (off - on) / off * 100
        print(f"\nAuto-labelling pipeline (API, Celery worker, PostgreSQL), {args.items} items with {args.model}, "
              f"{args.repeats} jobs per mode, interleaved (median); load {load} -> {_load()}")
        print(f"{'billing':>8} {'items/s':>8} {'runs':>40}")
        for mode, rate in (("off", off), ("on", on)):
            print(f"{mode:>8} {rate:>8.0f} {', '.join(f'{r:.0f}' for r in rates[mode]):>40}")
        spread = max(rates["off"]) / min(rates["off"]) * 100 - 100
        print(f"billing costs {cost:+.1f}% of pipeline throughput (medians; paired "
              f"{_paired_cost(rates['off'], rates['on']):+.1f}%; goal: under 2%); runs with billing off spread {spread:.0f}%")
        summary += [("pipeline throughput, billing off -> on (median)",
                     f"{off:.0f} -> {on:.0f} items/s ({cost:+.1f}%; paired "
                     f"{_paired_cost(rates['off'], rates['on']):+.1f}%)", "< 2%"),
                    ("spread of the billing-off pipeline runs", f"{spread:.0f}%", "(noise)")]
    print(f"\nSummary (load {_load()}, {os.cpu_count()} CPUs)")
    width = max(len(name) for name, _, _ in summary)
    for name, figure, goal in summary:
        print(f"{name:<{width}}  {figure:>28}  goal {goal}")
    if args.markdown:
        print("\n| Measure | Figure | Goal |\n|---|---|---|")
        for name, figure, goal in summary:
            print(f"| {name} | {figure} | {goal} |")


def _load() -> str:
    """The machine's 1-minute load average (this bench shares its cores)."""
    return f"{os.getloadavg()[0]:.1f}"

if __name__ == "__main__":
    main()
