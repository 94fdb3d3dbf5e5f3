"""Export throughput: items/s and peak memory per format, for text and image projects.

    .venv/bin/python bench/export_throughput.py                 # 100,000 texts, 10,000 images
    .venv/bin/python bench/export_throughput.py --text 20000 --images 2000 --formats csv,coco

Each (stage, format, kind, size) runs in a fresh child process so its peak RSS (getrusage, the
whole process with its libraries) is its own. "Δ anon" is the peak anonymous RSS (sampled every
10 ms from /proc) above the child's once its libraries are imported: what the export itself
allocated, leaving out file pages the kernel maps and can drop (``datasets`` memory-maps its Arrow
files). It is measured at the full size and at a tenth of it: memory is flat in the item count when
the two match. Items come from a generator (never a list), images are
files on disk opened one at a time, as a worker reads them from storage.

Stages are the columns of the table: ``writer`` (the bare format writers fed synthetic records) and
``pipeline`` (the export job's service path: ``export_create`` then ``export_run`` in-process, reading
the items from a database in one streaming query, images from storage, the ZIP saved to storage).
The pipeline's projects are bulk-created once, before the table, in a throw-away data directory
(SQLite and local media; ``--database-url`` for an empty PostgreSQL database instead). After the
table, one export runs end to end on a real worker (``celery_worker.py --queues exports --pool
solo``), timed from the request to ``succeeded``, with the worker's peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exports.formats import FORMATS, ExportRecord, ExportSpec, suitability, write_export  # noqa: E402

CLASSES = ["positive", "negative", "neutral", "mixed", "off_topic"]
WORDS = ("the quick brown fox jumps over a lazy dog while ModelShip labels every review in the queue "
         "quality shipping price support battery screen refund delivery recommend never again").split()


def text_spec() -> ExportSpec:
    return ExportSpec(project_name="bench text", project_type="text_classification", class_names=CLASSES)


def image_spec() -> ExportSpec:
    return ExportSpec(project_name="bench images", project_type="image_classification", class_names=CLASSES)


def _common(n: int, rng: random.Random) -> dict:
    label = CLASSES[n % len(CLASSES)]
    return {
        "item_id": n + 1,
        "split": ("train", "train", "train", "val", "test")[n % 5],
        "labels": [label],
        "predicted_labels": [label if rng.random() < 0.8 else CLASSES[0]],
        "confidence": round(rng.random(), 4),
        "model_name": "bench-model",
        "reviewer": "reviewer@example.com" if n % 3 == 0 else None,
        "state": "reviewed" if n % 3 == 0 else "auto_accepted",
    }


def text_records(count: int) -> Iterator[ExportRecord]:
    rng = random.Random(6)
    for n in range(count):
        text = " ".join(rng.choices(WORDS, k=rng.randint(8, 30)))
        yield ExportRecord(text=text, file_name="reviews.csv", **_common(n, rng))


def make_images(directory: Path, count: int) -> None:
    """Small synthetic photos (noise over a colour, so JPEG cannot shrink them to nothing): 9 JPEG to 1 PNG."""
    import numpy as np
    from PIL import Image

    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(6)
    for n in range(count):
        pixels = (rng.integers(0, 64, (48, 64, 3)) + rng.integers(0, 192, 3)).astype("uint8")
        kind = "PNG" if n % 10 == 9 else "JPEG"
        Image.fromarray(pixels).save(directory / f"{n}.{kind.lower()}", kind)


def image_records(count: int, directory: Path) -> Iterator[ExportRecord]:
    rng = random.Random(6)
    available = len(list(directory.iterdir()))
    for n in range(count):
        kind = "png" if n % available % 10 == 9 else "jpeg"
        path = directory / f"{n % available}.{kind}"
        yield ExportRecord(file_name=f"photo {n}.{kind}", open_bytes=lambda path=path: open(path, "rb"),
                           mime_type=f"image/{kind}", width=64, height=48, **_common(n, rng))


def bare_writer(format_name: str, kind: str, count: int, images: Path | None,
                progress: Callable[[int], None]) -> float:
    """Write ``count`` synthetic records with the bare writer into a ZIP on disk; seconds taken."""
    spec = text_spec() if kind == "text" else image_spec()
    records = text_records(count) if kind == "text" else image_records(count, images)
    with tempfile.TemporaryDirectory(prefix="bench-export-") as work:
        started = time.perf_counter()
        with zipfile.ZipFile(Path(work) / "export.zip", "w") as zf:
            summary = write_export(format_name, zf, spec, records, progress=progress)
        seconds = time.perf_counter() - started
    assert summary.items_read == count, summary
    return seconds


BENCH_EMAIL = "bench@example.com"
PIPELINE_OPTIONS = {"include_auto_accepted": True}


def _project_name(kind: str, count: int) -> str:
    return f"bench {kind} {count}"


def pipeline_export(format_name: str, kind: str, count: int, images: Path | None,
                    progress: Callable[[int], None]) -> float:
    """Export the bench project of ``count`` items the way a worker does: the create service (its
    data fingerprint included), then the job's service in-process; seconds taken."""
    from accounts.models import User
    from exports.models import Export
    from exports.services import export_create, export_run
    from projects.models import Project

    project = Project.objects.get(name=_project_name(kind, count))
    user = User.objects.get(email=BENCH_EMAIL)
    started = time.perf_counter()
    export, created = export_create(project=project, created_by=user, format_name=format_name,
                                    options=PIPELINE_OPTIONS)
    export_run(export_id=export.pk)
    seconds = time.perf_counter() - started
    export.refresh_from_db()
    assert created and export.status == Export.Status.SUCCEEDED, (export.status, export.error)
    assert export.processed == count, (export.processed, count)
    return seconds


STAGES: dict[str, Callable[..., float]] = {"writer": bare_writer, "pipeline": pipeline_export}


# --- the pipeline's database -----------------------------------------------------------------------

def _django_env(data_dir: Path, database_url: str | None) -> None:
    """Point this process (and the children it starts) at the bench's own data, never the real one."""
    for name in ("REDIS_URL", "CACHE_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="modelship.settings", MODELSHIP_DATA_DIR=str(data_dir),
        MEDIA_ROOT=str(data_dir / "media"), CELERY_BROKER_URL="filesystem://",
        DATABASE_URL=database_url or f"sqlite:///{data_dir / 'bench.sqlite3'}", LOG_LEVEL="WARNING",
    )


def _setup_django() -> None:
    import django

    django.setup()


def _insert(items: list, predictions: list[tuple[list[str], float]], job, schema) -> None:
    """One batch of items, then one prediction of the job for each."""
    from labeling.models import Item, Prediction

    created = Item.objects.bulk_create(items)
    Prediction.objects.bulk_create([
        Prediction(item=item, job=job, model_name=job.model_name, schema=schema, labels=labels, confidence=confidence)
        for item, (labels, confidence) in zip(created, predictions, strict=True)])


def _populate_project(*, kind: str, count: int, organization, user, images: Path,
                      stored: list[tuple[str, str, str, int]]) -> None:
    import hashlib

    from django.db import connection
    from django.utils import timezone

    from labeling.models import Item, Job, item_file_name
    from projects.models import Category, LabelSchema, Project

    media = Path(os.environ["MEDIA_ROOT"])
    now = timezone.now()
    project = Project.objects.create(organization=organization, name=_project_name(kind, count),
                                     project_type=f"{kind}_classification")
    schema = LabelSchema.objects.create(project=project, version=1, max_labels=1)
    Category.objects.bulk_create([Category(schema=schema, name=n, path=n, order=i) for i, n in enumerate(CLASSES)])
    job = Job.objects.create(project=project, model_name="bench-model", schema=schema, status="succeeded")
    items: list[Item] = []
    predictions: list[tuple[list[str], float]] = []
    for n, record in enumerate(text_records(count) if kind == "text" else image_records(count, images)):
        reviewed = record.state == "reviewed"
        fields = dict(project=project, kind=kind, state=record.state, final_labels=list(record.labels),
                      final_schema=schema, final_source="review" if reviewed else "auto",
                      decided_by=user if reviewed else None, decided_at=now,
                      predicted_labels=list(record.predicted_labels), confidence=record.confidence,
                      original_name=record.file_name)
        if kind == "text":
            fields.update(text=record.text, mime_type="text/plain",
                          content_hash=hashlib.sha256(f"{n}:{record.text}".encode()).hexdigest())
        else:
            content_hash, mime_type, extension, size = stored[n % len(stored)]
            name = item_file_name(project_id=project.pk, content_hash=content_hash, extension=extension)
            target = media / name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes((images / f"{n % len(stored)}{extension}").read_bytes())
            # Items past the synthetic images share their files under a content hash of their own.
            fields.update(file=name, content_hash=hashlib.sha256(f"{n}:{content_hash}".encode()).hexdigest(),
                          mime_type=mime_type, size_bytes=size, width=record.width, height=record.height)
        items.append(Item(**fields))
        predictions.append((list(record.predicted_labels), record.confidence))
        if len(items) >= 5000:
            _insert(items, predictions, job, schema)
            items, predictions = [], []
    if items:
        _insert(items, predictions, job, schema)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE labeling_item SET prediction_id = (SELECT p.id FROM labeling_prediction p "
                       "WHERE p.item_id = labeling_item.id) WHERE project_id = %s", [project.pk])


def populate(*, sizes: dict[str, list[int]], images: Path) -> None:
    """Bulk-create a project per kind and size: every item with a final label (a third reviewed,
    the rest auto-accepted) and a prediction of one job; image files copied into storage."""
    import hashlib

    from django.core.management import call_command

    from accounts.models import Membership, Organization, User

    call_command("migrate", verbosity=0)
    organization = Organization.objects.create(name="bench")
    user = User.objects.create_user(BENCH_EMAIL, "bench-password-123")
    Membership.objects.create(user=user, organization=organization, role="admin")
    stored: list[tuple[str, str, str, int]] = []  # (content hash, mime type, extension, size) per synthetic image
    for path in sorted(images.iterdir(), key=lambda p: int(p.stem)):
        data = path.read_bytes()
        stored.append((hashlib.sha256(data).hexdigest(), "image/png" if path.suffix == ".png" else "image/jpeg",
                       path.suffix, len(data)))
    for kind, counts in sizes.items():
        for count in counts:
            _populate_project(kind=kind, count=count, organization=organization, user=user, images=images,
                              stored=stored)


def worker_end_to_end(*, kind: str, count: int, data_dir: Path) -> dict:
    """One export through the real path: a worker on the exports queue (solo pool, so the export runs
    in the process we measure), the create service enqueuing, polling the row until it succeeds."""
    from accounts.models import User
    from exports.models import Export
    from exports.services import export_create
    from projects.models import Project

    for message in (data_dir / "broker" / "queue").glob("*"):  # tasks the in-process runs queued: already done
        message.unlink()
    log = data_dir / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen([sys.executable, str(ROOT / "celery_worker.py"), "--queues", "exports", "--pool",
                                   "solo", "--concurrency", "1", "--loglevel", "INFO", "--hostname", "bench@localhost"],
                                  cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while b" ready." not in log.read_bytes():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        project = Project.objects.get(name=_project_name(kind, count))
        started = time.perf_counter()
        export, _ = export_create(project=project, created_by=User.objects.get(email=BENCH_EMAIL), format_name="jsonl",
                                  options={**PIPELINE_OPTIONS, "split": {"train": 0.8, "val": 0.1, "test": 0.1}, "seed": 1})
        while Export.objects.filter(pk=export.pk, status__in=Export.IN_PROGRESS).exists():
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        export.refresh_from_db()
        assert export.status == Export.Status.SUCCEEDED and export.processed == count, (export.status, export.error)
        with open(f"/proc/{worker.pid}/status") as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        return {"seconds": seconds, "run_seconds": (export.finished_at - export.started_at).total_seconds(),
                "peak_kib": peak}
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _anonymous_rss_kib() -> int:
    """Resident memory not backed by a file (Linux): what the process itself allocated."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


class AnonymousPeak:
    """Samples the anonymous RSS every 10 ms in a thread and keeps the highest value seen."""

    def __init__(self) -> None:
        self.peak = _anonymous_rss_kib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _anonymous_rss_kib())

    def __enter__(self) -> AnonymousPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _anonymous_rss_kib())


# Imported before the baseline is taken: a worker has them loaded anyway.
LIBRARIES = {"pytorch": ["torch"], "huggingface": ["datasets", "pyarrow.parquet"]}


def child(stage: str, format_name: str, kind: str, count: int, images: str | None) -> None:
    import importlib

    if stage == "pipeline":
        _setup_django()
        importlib.import_module("exports.services")
    for module in ["PIL.Image", *LIBRARIES.get(format_name, [])]:
        importlib.import_module(module)
    baseline = _anonymous_rss_kib()
    with AnonymousPeak() as anonymous:
        seconds = STAGES[stage](format_name, kind, count, Path(images) if images else None, lambda n: None)
    print(json.dumps({"seconds": seconds, "peak_kib": _peak_rss_kib(), "anon_delta_kib": anonymous.peak - baseline}))


def _run_json(command: list[str]) -> dict:
    """Run a child of this script and read the JSON object its last line prints."""
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_child(stage: str, format_name: str, kind: str, count: int, images: Path) -> dict:
    return _run_json([sys.executable, __file__, "--child", stage, format_name, kind, str(count), str(images)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", type=int, default=100_000, help="text items per export")
    parser.add_argument("--images", type=int, default=10_000, help="image items per export")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated format names")
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated, of: {', '.join(STAGES)}")
    parser.add_argument("--no-flat-check", action="store_true", help="skip the run at a tenth of the size")
    parser.add_argument("--database-url", default=None,
                        help="an empty database for the pipeline stage (default: SQLite in a temporary folder)")
    parser.add_argument("--no-worker", action="store_true", help="skip the end-to-end export on a real worker")
    parser.add_argument("--child", nargs=5, metavar=("STAGE", "FORMAT", "KIND", "COUNT", "IMAGES"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--populate", nargs=2, metavar=("SIZES", "IMAGES"), help=argparse.SUPPRESS)
    parser.add_argument("--worker-e2e", nargs=3, metavar=("KIND", "COUNT", "DATA_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        stage, format_name, kind, count, images = args.child
        child(stage, format_name, kind, int(count), images)
        return
    if args.populate:  # the database work happens in children, so the parent's RSS stays its own
        _setup_django()
        from django.db import connection

        populate(sizes=json.loads(args.populate[0]), images=Path(args.populate[1]))
        print(json.dumps({"vendor": connection.vendor}))
        return
    if args.worker_e2e:
        _setup_django()
        kind, count, data_dir = args.worker_e2e
        print(json.dumps(worker_end_to_end(kind=kind, count=int(count), data_dir=Path(data_dir))))
        return

    formats = args.formats.split(",")
    stages = args.stages.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-images-") as work:
        images = Path(work) / "images"
        started = time.perf_counter()
        make_images(images, min(args.images, 10_000))
        print(f"# {min(args.images, 10_000):,} synthetic images written in {time.perf_counter() - started:.1f} s; "
              f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
        data_dir = Path(work) / "data"
        if "pipeline" in stages:
            data_dir.mkdir()
            _django_env(data_dir, args.database_url)
            started = time.perf_counter()
            sizes = {kind: sorted({count} | ({max(1, count // 10)} if not args.no_flat_check else set()))
                     for kind, count in (("text", args.text), ("image", args.images))}
            done = _run_json([sys.executable, __file__, "--populate", json.dumps(sizes), str(images)])
            print(f"# pipeline projects bulk-created in {done['vendor']}: "
                  f"{', '.join(f'{n:,} {kind}' for kind, counts in sizes.items() for n in counts)} items "
                  f"in {time.perf_counter() - started:.1f} s")
        print()

        header = f"{'format':<13} {'kind':<6} {'items':>8}"
        for stage in stages:
            header += f" | {stage + ' s':>9} {'items/s':>9} {'peak RSS':>9} {'Δ anon':>7} {'Δ @1/10':>8}"
        print(header)
        print("-" * len(header))
        for kind, count in (("text", args.text), ("image", args.images)):
            project_type = "text_classification" if kind == "text" else "image_classification"
            for format_name in formats:
                ok, reason = suitability(format_name, project_type, False)
                line = f"{format_name:<13} {kind:<6} {count:>8,}"
                if not ok:
                    print(f"{line}   (n/a: {reason})")
                    continue
                for stage in stages:
                    full = run_child(stage, format_name, kind, count, images)
                    delta = full["anon_delta_kib"] / 1024
                    tenth = ""
                    if not args.no_flat_check:
                        small = run_child(stage, format_name, kind, max(1, count // 10), images)
                        tenth = f"{small['anon_delta_kib'] / 1024:.0f}"
                    line += (f" | {full['seconds']:>9.2f} {count / full['seconds']:>9,.0f} "
                             f"{full['peak_kib'] / 1024:>9.0f} {delta:>7.0f} {tenth:>8}")
                print(line, flush=True)
        if "pipeline" in stages and not args.no_worker:
            done = _run_json([sys.executable, __file__, "--worker-e2e", "text", str(args.text), str(data_dir)])
            print(f"\nend to end on a worker (exports queue, solo pool): jsonl, {args.text:,} text items: "
                  f"{done['seconds']:.2f} s from the request to succeeded ({args.text / done['seconds']:,.0f} items/s; "
                  f"the run itself {done['run_seconds']:.2f} s), worker peak RSS {done['peak_kib'] / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
