#!/usr/bin/env python
"""Scale-out: one auto-labeling job on PostgreSQL + Redis, run by 1, 2 and 4 worker processes.

    DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://…/N .venv/bin/python bench/scale.py
    … bench/scale.py --items 2000 --workers 1,2 --model vader-sentiment     # a quick run

Each worker count gets a fresh PostgreSQL database on ``DATABASE_URL``'s server and the same
``--items`` texts in one project; N separate worker processes (``celery_worker.py --queues
inference --concurrency 1``, as ``docker compose up --scale worker=N`` starts them), each given
the machine's cores divided by N (``MODELSHIP_CPU_THREADS``), take the job's chunks from Redis.
Timed from the classify request to the job's end, after every worker has finished a warm-up job
(its model loaded). Prints items/s per worker count and the speed-up over one worker: on one
machine the workers share its cores, so the speed-up stops where the cores run out (more
workers on more machines is what scales).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

ROOT = common.ROOT
sys.path.insert(0, str(ROOT))

WORDS = common.WORDS
TOPICS = ["business", "technology", "sports", "politics", "health"]


def _child(args: argparse.Namespace) -> None:
    """One worker count, in a process whose DATABASE_URL is a fresh database."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "modelship.settings"
    import django

    django.setup()
    import hashlib

    from django.core.management import call_command
    from rest_framework.test import APIClient

    from accounts.services import user_register
    from labeling.models import Item, Job
    from projects.services import project_create

    call_command("migrate", verbosity=0)
    user = user_register(email="scale@example.com", password="bench-password-123")
    org = user.memberships.get().organization
    if args.model == "vader-sentiment":  # a fixed-label model: its own labels
        project = project_create(organization=org, created_by=user, name="scale", template="sentiment",
                                 audit_slice_size=0)
    else:
        project = project_create(organization=org, created_by=user, name="scale", template="custom-text",
                                 default_model=args.model, audit_slice_size=0,
                                 schema={"categories": [{"name": t} for t in TOPICS]})
    rng = random.Random(7)

    def add(count: int, tag: str) -> None:
        texts = [f"{' '.join(rng.choices(WORDS, k=rng.randint(8, 60)))} [{tag}{n}]" for n in range(count)]
        Item.objects.bulk_create([Item(project=project, kind="text", text=t,
                                       content_hash=hashlib.sha256(t.encode()).hexdigest()) for t in texts],
                                 batch_size=2000)

    client = APIClient()
    client.force_authenticate(user)

    def run_job(timeout: float = 7200) -> float:
        started = time.perf_counter()
        resp = client.post(f"/api/projects/{project.id}/classify", {}, format="json")
        assert resp.status_code == 202, resp.content
        while time.perf_counter() - started < timeout:
            body = client.get(f"/api/jobs/{resp.json()['id']}").json()
            if body["status"] in Job.FINISHED:
                assert body["status"] == "succeeded" and body["failed"] == 0, body
                return time.perf_counter() - started
            time.sleep(0.2)
        raise TimeoutError("the job did not finish")

    threads = max(1, len(os.sched_getaffinity(0)) // args.workers)
    env = dict(os.environ, MODELSHIP_CPU_THREADS=str(threads), MODELSHIP_HEARTBEAT_SECONDS="5")
    logs = Path(tempfile.mkdtemp(prefix="modelship-scale-"))
    workers = [subprocess.Popen([sys.executable, str(ROOT / "celery_worker.py"), "--queues", "inference",
                                 "--concurrency", "1", "--loglevel", "WARNING", "--hostname", f"scale{n}@%h"],
                                env=env, cwd=ROOT, stdout=open(logs / f"{n}.log", "wb"), stderr=subprocess.STDOUT)
               for n in range(args.workers)]
    try:
        # Warm-up: one small chunk per worker, so each has loaded the model before the timed job.
        add(64 * args.workers, "warm")
        from django.test import override_settings

        with override_settings(INFERENCE_CHUNK_SIZE=64, INFERENCE_CHUNK_MIN=64):
            run_job()
        add(args.items, "timed")
        seconds = run_job()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    print("RESULT " + json.dumps({"workers": args.workers, "items": args.items, "seconds": seconds,
                                  "threads": threads}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--workers", default="1,2,4", help="worker process counts, comma-separated")
    parser.add_argument("--model", default="minilm-zero-shot")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    if args.child:
        args.workers = int(args.workers)
        return _child(args)
    url, broker = os.environ.get("DATABASE_URL", ""), os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("postgres") or not broker.startswith("redis"):
        raise SystemExit("set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis): scale-out needs both")
    os.environ.setdefault("MODELSHIP_DEVICE", "cpu")
    results = []
    for count in [int(n) for n in args.workers.split(",")]:
        database, drop = common.fresh_postgres(url, prefix="modelship_scale")
        env = dict(os.environ, DATABASE_URL=database, MODELSHIP_DATA_DIR=tempfile.mkdtemp(prefix="modelship-scale-"),
               BILLING_ENABLED="0")  # credits are not what this measures
        try:
            done = subprocess.run([sys.executable, __file__, "--child", "--workers", str(count), "--items",
                                   str(args.items), "--model", args.model], capture_output=True, text=True, env=env,
                                  cwd=ROOT)
        finally:
            drop()
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode != 0 or not lines:
            raise SystemExit(f"{count} workers failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        results.append(json.loads(lines[-1][len("RESULT "):]))
        print(f"  {count} workers: {results[-1]['items'] / results[-1]['seconds']:.1f} items/s", file=sys.stderr,
              flush=True)
    base = results[0]["items"] / results[0]["seconds"]
    print(f"{args.model}, {args.items:,} items, PostgreSQL + Redis, {len(os.sched_getaffinity(0))} cores here")
    header = f"{'workers':>7} {'threads each':>12} {'seconds':>8} {'items/s':>8} {'speed-up':>8}"
    print(header)
    print("-" * len(header))
    for r in results:
        rate = r["items"] / r["seconds"]
        print(f"{r['workers']:>7} {r['threads']:>12} {r['seconds']:>8.1f} {rate:>8.1f} {rate / base:>7.2f}x")


if __name__ == "__main__":
    main()
