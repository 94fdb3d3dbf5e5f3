"""Auto-labelling throughput: items/s of each model on each CPU backend, and its peak memory.

    .venv/bin/python bench/autolabel_throughput.py                     # 1,000 texts, 256 images
    .venv/bin/python bench/autolabel_throughput.py --texts 5000 --images 1000 --backends torch,onnx --repeats 5
    .venv/bin/python bench/autolabel_throughput.py --texts 1000,10000 --images 1000 --backends onnx --setups embedded,postgres

Stage ``bare``: ``model.classify(items, categories)`` over the whole list in the model's batch size,
in one process: decoding, preprocessing and the batched forward pass, no database or queue. It is
what the worker pipeline must come close to. Each (model, backend) runs in a fresh child process,
so its load, threads and peak RSS are its own; the best of ``--repeats`` timed passes is reported
(and the median, since a shared machine is noisy), after one warm-up batch. Each backend's
probabilities are compared with eager torch's on the same items (``max |Δp|``).

Stage ``pipeline``: the same items through the whole product: ``POST /api/projects/{id}/classify``,
chunks on a real Celery worker process (one, prefork, concurrency 1), predictions bulk-upserted into
the database; timed from the request to the job's end (the client polls GET /api/jobs/{id} every
0.2 s, as a UI would), after a warm-up job of 64 items that loads the model and gives the workers their
first measurement of its throughput, by which a job's chunks are sized (about 10 s of work each). It runs once per ``--setups``:
``embedded`` (SQLite, filesystem broker: what ``make run`` starts) and ``postgres`` (a fresh
PostgreSQL database on ``DATABASE_URL``'s server and Redis on ``CELERY_BROKER_URL``). The table
prints items/s, the ratio to ``bare`` measured in the same run (the goal is ≥ 0.9 on 1,000 items
or more) and the worker's peak memory. On a shared machine only those same-run ratios mean much.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import common

ROOT = common.ROOT
sys.path.insert(0, str(ROOT))

TEXT_MODEL = "minilm-zero-shot"
IMAGE_MODEL = "efficientnet-lite0-imagenet"
TOPICS = [
    {"name": "business", "description": "Companies, markets, the economy, finance and trade."},
    {"name": "technology", "description": "Computing, software, the internet, gadgets and engineering."},
    {"name": "sports", "description": "Games, matches, athletes, teams and competitions."},
    {"name": "politics", "description": "Governments, elections, parties, policy and law-making."},
    {"name": "health", "description": "Medicine, disease, fitness, nutrition and public health."},
]


@dataclass
class StageResult:
    stage: str
    setup: str
    model: str
    backend: str
    items: int
    items_per_s: float  # best of the repeats
    median_items_per_s: float
    peak_rss_mb: float
    load_s: float
    threads: int
    probabilities_file: str | None = None
    cpu_per_item_ms: float = 0.0
    round: int = 0  # median CPU time per item: this process (bare), the worker's processes (pipeline)


def make_texts(count: int) -> list[str]:
    return common.make_texts(count, seed=4)


def tagged(items: list, tag: str) -> list:
    """The items as one pipeline pass stores them: each text made unique by a tag (a project stores a content
    once), so the bare loop classifies these same strings, tag and all; images keep their bytes."""
    return [f"{value} [{tag}{n}]" for n, value in enumerate(items)] if isinstance(items[0], str) else list(items)


def make_images(count: int) -> list[bytes]:
    """JPEGs of about 640x480 cut from scikit-image's sample photos, so decoding costs what a real upload does."""
    import numpy as np
    from PIL import Image
    from skimage import data

    photos = [data.coffee(), data.chelsea(), data.astronaut(), data.rocket(), data.cat()]
    rng = np.random.default_rng(4)
    out = []
    for n in range(count):
        photo = Image.fromarray(photos[n % len(photos)])
        scale = rng.uniform(0.7, 1.0)
        w, h = photo.size
        cw, ch = int(w * scale), int(h * scale)
        left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        crop = photo.crop((left, top, left + cw, top + ch)).resize((640, 480))
        buffer = io.BytesIO()
        crop.save(buffer, format="JPEG", quality=88)
        out.append(buffer.getvalue())
    return out


def bare_stage(model_name: str, backend: str, items: list, categories, repeats: int, out_dir: str) -> StageResult:
    """Items/s of the bare model: classify the whole list, batched, in this process."""
    import numpy as np
    import torch

    from labeling.engine import get_classifier

    started = time.perf_counter()
    model = get_classifier(model_name, backend=backend)
    load_s = time.perf_counter() - started
    items = tagged(items, "r0-")  # what the pipeline's passes classify
    model.classify(items[:model.batch_size], categories)  # warm-up: first-call allocations, category vectors
    rates, cpu, result = [], [], None
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = model.classify(items, categories)
        rates.append(len(items) / (time.perf_counter() - started))
        cpu.append(time.process_time() - cpu_started)
    probabilities_file = os.path.join(out_dir, f"{model_name}-{backend}-{len(items)}-{os.getpid()}.npy")
    np.save(probabilities_file, result.probabilities)
    return StageResult("bare", "-", model_name, getattr(model, "backend", backend), len(items), max(rates),
                       statistics.median(rates), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, load_s,
                       torch.get_num_threads(), probabilities_file, cpu_per_item_ms=1000 * statistics.median(cpu) / len(items))


def _tree_peak_mb(pid: int) -> float:
    """The largest peak RSS (VmHWM) among a process and its children: the worker and its pool."""
    peaks = []
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return max(peaks, default=0.0)


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds used so far by a process and its children (the worker and its pool process)."""
    total = 0.0
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        children = []
    for p in [pid, *children]:
        try:
            total += common.process_cpu_seconds(p)
        except OSError:
            continue
    return total


def pipeline_stage(model_name: str, backend: str, items: list, categories, repeats: int, out_dir: str) -> StageResult:
    """Items/s of the whole pipeline over the same items: the classify request through the API, chunks on a
    real Celery worker, predictions written to the database; from the request to the job's end. The
    embedded default (SQLite + filesystem broker) unless DATABASE_URL / CELERY_BROKER_URL are set."""
    import hashlib

    data_dir = tempfile.mkdtemp(prefix="modelship-bench-")
    os.environ["MODELSHIP_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "modelship.settings"
    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from accounts.services import user_register
    from labeling.models import Item, Job
    from projects.models import Category, LabelSchema, Project

    call_command("migrate", verbosity=0)
    user = user_register(email="bench@example.com", password="bench-password-123")
    org = user.memberships.get().organization
    kind = "text" if isinstance(items[0], str) else "image"
    project = Project.objects.create(
        organization=org, name="bench", project_type=f"{kind}_classification", default_model=model_name,
        audit_slice_size=0, created_by=user)
    schema = LabelSchema.objects.create(project=project, version=1, multi_label=False, min_labels=1, max_labels=1)
    if categories:
        names = [c["name"] for c in categories]
    else:  # the bare stage classifies over all 1,000 ImageNet classes: so does the project
        from labeling.engine.images import imagenet_class_names

        names = list(imagenet_class_names())
    Category.objects.bulk_create([Category(schema=schema, name=n, path=n, order=i) for i, n in enumerate(names)])

    def add(values, tag: str) -> None:
        rows = []
        for n, value in enumerate(tagged(values, tag)):
            if kind == "text":
                rows.append(Item(project=project, kind="text", text=value,
                                 content_hash=hashlib.sha256(value.encode()).hexdigest()))
            else:
                digest = hashlib.sha256(value + f"{tag}{n}".encode()).hexdigest()
                name = default_storage.save(f"bench/{digest}.jpg", ContentFile(value))
                rows.append(Item(project=project, kind="image", file=name, content_hash=digest,
                                 mime_type="image/jpeg"))
        Item.objects.bulk_create(rows, batch_size=1000)

    env = dict(os.environ, MODELSHIP_CPU_BACKEND=backend, MODELSHIP_HEARTBEAT_SECONDS="5")
    worker = subprocess.Popen([sys.executable, str(ROOT / "celery_worker.py"), "--concurrency", "1",
                               "--loglevel", "WARNING"], env=env, cwd=ROOT)
    client = APIClient()
    client.force_authenticate(user)

    def run_job(timeout: float = 3600) -> float:
        started = time.perf_counter()
        resp = client.post(f"/api/projects/{project.id}/classify", {}, format="json")
        assert resp.status_code == 202, resp.content
        job_id = resp.json()["id"]
        while time.perf_counter() - started < timeout:
            body = client.get(f"/api/jobs/{job_id}").json()  # what a UI polls
            if body["status"] in Job.FINISHED:
                assert body["status"] == "succeeded" and body["failed"] == 0, body
                return time.perf_counter() - started
            time.sleep(0.2)
        raise TimeoutError("the job did not finish")

    try:
        # The worker loads the model on its first chunk, as bare_stage's warm-up does, and measures the model's
        # throughput, which sizes the timed job's chunks (a fresh install's very first job gets 256-item chunks).
        add(items[:64], "warm")
        load_s = run_job()
        rates, cpu = [], []
        for r in range(repeats):
            add(items, f"r{r}-")
            cpu_started = _tree_cpu_s(worker.pid)
            rates.append(len(items) / run_job())
            cpu.append(_tree_cpu_s(worker.pid) - cpu_started)
        peak = _tree_peak_mb(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return StageResult("pipeline", os.environ.get("BENCH_SETUP", "embedded"), model_name, backend, len(items),
                       max(rates), statistics.median(rates), peak, load_s, 0, None,
                       cpu_per_item_ms=1000 * statistics.median(cpu) / len(items))


STAGES: dict[str, Callable[..., StageResult]] = {"bare": bare_stage, "pipeline": pipeline_stage}


def _child(job: dict) -> None:
    items = make_texts(job["count"]) if job["kind"] == "text" else make_images(job["count"])
    categories = TOPICS if job["model"] == TEXT_MODEL else None
    result = STAGES[job["stage"]](job["model"], job["backend"], items, categories, job["repeats"], job["out_dir"])
    result.round = job.get("round", 0)
    print("RESULT " + json.dumps(asdict(result)))


def _fresh_postgres() -> tuple[str, Callable[[], None]]:
    """A throw-away database on DATABASE_URL's PostgreSQL server, and how to drop it."""
    return common.fresh_postgres(os.environ["DATABASE_URL"])


def run_job(job: dict) -> StageResult:
    """One (stage, model, backend, setup) in a fresh process."""
    env, drop = dict(os.environ), (lambda: None)
    setup = job.get("setup", "-")
    if setup == "embedded":
        for var in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CACHE_URL"):
            env.pop(var, None)
    elif setup == "postgres":
        env["DATABASE_URL"], drop = _fresh_postgres()
        env.setdefault("CACHE_URL", env.get("REDIS_URL") or env["CELERY_BROKER_URL"])
    env["BENCH_SETUP"] = setup
    try:
        done = subprocess.run([sys.executable, __file__, "--child", json.dumps(job)], capture_output=True,
                              text=True, cwd=ROOT, env=env)
    finally:
        drop()
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{job} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return StageResult(**json.loads(lines[-1][len("RESULT "):]))


GOAL = 0.9


def print_table(results: list[StageResult], rounds: int) -> None:
    import numpy as np

    reference = {(r.model, r.items): np.load(r.probabilities_file)
                 for r in results if r.stage == "bare" and r.backend == "torch" and r.round == 0}
    bare_rounds: dict[tuple, list[StageResult]] = {}
    for r in results:
        if r.stage == "bare":
            bare_rounds.setdefault((r.model, r.backend, r.items), []).append(r)
    header = (f"{'model':<28} {'backend':<7} {'items':>6} {'bare items/s':>12} {'CPU ms/item':>11} {'load s':>7} "
              f"{'peak MB':>8} {'max |Δp|':>9}")
    print(header)
    print("-" * len(header))
    for (model, backend, items), group in bare_rounds.items():
        r = group[0]
        delta = "-"
        if (model, items) in reference and backend != "torch":
            delta = f"{np.nanmax(np.abs(np.load(r.probabilities_file) - reference[(model, items)])):.1e}"
        print(f"{model:<28} {r.backend:<7} {items:>6} {statistics.median(g.items_per_s for g in group):>12.1f} "
              f"{statistics.median(g.cpu_per_item_ms for g in group):>11.1f} {r.load_s:>7.1f} {r.peak_rss_mb:>8.0f} "
              f"{delta:>9}")
    pipeline: dict[tuple, list[StageResult]] = {}
    for r in results:
        if r.stage == "pipeline":
            pipeline.setdefault((r.model, r.backend, r.items, r.setup), []).append(r)
    if not pipeline:
        return
    print()
    header = (f"{'model':<28} {'backend':<7} {'items':>6} {'setup':<9} {'pipeline items/s':>16} {'bare items/s':>12} "
              f"{'ratio':>6} {'(rounds)':>16} {'CPU ratio':>9} {'goal':>5} {'worker MB':>9}")
    print(header)
    print("-" * len(header))
    for (model, backend, items, setup), group in pipeline.items():
        bare = {b.round: b for b in bare_rounds.get((model, backend, items), [])}
        paired = [(p, bare[p.round]) for p in group if p.round in bare]
        ratios = [p.items_per_s / b.items_per_s for p, b in paired]
        cpu = [b.cpu_per_item_ms / p.cpu_per_item_ms for p, b in paired if p.cpu_per_item_ms]
        shown = " ".join(f"{x:.2f}" for x in ratios)
        print(f"{model:<28} {backend:<7} {items:>6} {setup:<9} "
              f"{statistics.median(p.items_per_s for p in group):>16.1f} "
              f"{statistics.median(b.items_per_s for _, b in paired) if paired else float('nan'):>12.1f} "
              f"{statistics.median(ratios) if ratios else float('nan'):>6.2f} {shown:>16} "
              f"{statistics.median(cpu) if cpu else float('nan'):>9.2f} {'≥' + str(GOAL):>5} "
              f"{max(p.peak_rss_mb for p in group):>9.0f}")
    print(f"ratio: the median over {rounds} round(s) of the pipeline's best pass over the bare model's best pass, "
          "each round running bare and then the pipeline on the same items. CPU ratio: bare CPU time per item over "
          "the worker's (its processes', same round, median): the pipeline's own work, whatever else the machine runs.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", default="1000", help="text counts, comma-separated (0: none)")
    parser.add_argument("--images", default="256", help="image counts, comma-separated (0: none)")
    parser.add_argument("--setups", default="embedded",
                        help="pipeline setups, comma-separated: embedded and/or postgres (DATABASE_URL, CELERY_BROKER_URL)")
    parser.add_argument("--backends", default="torch,onnx", help="CPU backends to try, comma-separated")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per stage (the best counts)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of every stage, alternating (the median prints)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(json.loads(args.child))
        return
    os.environ.setdefault("MODELSHIP_DEVICE", "cpu")
    results = []
    print(f"before: {common.load_average()}")
    with tempfile.TemporaryDirectory() as out_dir:
        runs = [(TEXT_MODEL, "text", int(n)) for n in args.texts.split(",") if int(n or 0)]
        runs += [(IMAGE_MODEL, "image", int(n)) for n in args.images.split(",") if int(n or 0)]
        for model, kind, count in runs:
            for backend in args.backends.split(","):
                for round_ in range(args.rounds):
                    for stage in args.stages.split(","):  # bare, then the pipeline right after it
                        for setup in (args.setups.split(",") if stage == "pipeline" else ["-"]):
                            job = {"stage": stage, "model": model, "kind": kind, "count": count, "backend": backend,
                                   "repeats": args.repeats, "out_dir": out_dir, "setup": setup, "round": round_}
                            results.append(run_job(job))
                            print(f"  round {round_} {stage} {setup} {model} {backend} {count}: "
                                  f"{results[-1].items_per_s:.1f} items/s ({common.load_average()})",
                                  file=sys.stderr, flush=True)
        print_table(results, args.rounds)
    print(f"after: {common.load_average()}")


if __name__ == "__main__":
    main()
