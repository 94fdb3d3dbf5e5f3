"""Each worker pool process sizes its model threads to the cores divided by the worker's concurrency."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import os, sys, types
os.environ.pop("MODELSHIP_CPU_THREADS", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelship.settings")
import django
django.setup()
from modelship.celery import threads_configure, threads_share_out
threads_share_out(sender=types.SimpleNamespace(concurrency=int(sys.argv[1])))
threads_configure()  # what each pool process runs as it starts, before any model loads
import torch
print(os.environ["MODELSHIP_CPU_THREADS"], os.environ["OMP_NUM_THREADS"], torch.get_num_threads())
"""


def _probe(concurrency: int, **env) -> list[int]:
    out = subprocess.run([sys.executable, "-c", PROBE, str(concurrency)], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, **env}, check=True).stdout
    return [int(v) for v in out.split()]


def test_pool_processes_share_the_cores_out():
    cores = len(os.sched_getaffinity(0))
    assert _probe(1) == [cores, cores, cores]
    share = max(1, cores // 4)
    assert _probe(4) == [share, share, share]


def test_torch_already_imported_follows_too():
    script = ("import torch; from labeling.engine.runtime import configure_threads; "
              "configure_threads(1); print(torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1"]
