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

Stages are the columns of the table. Only ``writer`` (the bare format writers fed synthetic records)
exists now; a ``pipeline`` stage (records selected from the database by the export job) slots into
``STAGES`` with the same signature.
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


STAGES: dict[str, Callable[..., float]] = {"writer": bare_writer}


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

    for module in ["PIL.Image", *LIBRARIES.get(format_name, [])]:
        importlib.import_module(module)
    baseline = _anonymous_rss_kib()
    with AnonymousPeak() as anonymous:
        seconds = STAGES[stage](format_name, kind, count, Path(images) if images else None, lambda n: None)
    print(json.dumps({"seconds": seconds, "peak_kib": _peak_rss_kib(), "anon_delta_kib": anonymous.peak - baseline}))


def run_child(stage: str, format_name: str, kind: str, count: int, images: Path) -> dict:
    command = [sys.executable, __file__, "--child", stage, format_name, kind, str(count), str(images)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", type=int, default=100_000, help="text items per export")
    parser.add_argument("--images", type=int, default=10_000, help="image items per export")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated format names")
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated, of: {', '.join(STAGES)}")
    parser.add_argument("--no-flat-check", action="store_true", help="skip the run at a tenth of the size")
    parser.add_argument("--child", nargs=5, metavar=("STAGE", "FORMAT", "KIND", "COUNT", "IMAGES"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        stage, format_name, kind, count, images = args.child
        child(stage, format_name, kind, int(count), images)
        return

    formats = args.formats.split(",")
    stages = args.stages.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-images-") as work:
        images = Path(work) / "images"
        started = time.perf_counter()
        make_images(images, min(args.images, 10_000))
        print(f"# {min(args.images, 10_000):,} synthetic images written in {time.perf_counter() - started:.1f} s; "
              f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}\n")

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


if __name__ == "__main__":
    main()
