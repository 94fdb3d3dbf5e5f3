#!/usr/bin/env python
"""Start a ModelShip Celery worker.

    python celery_worker.py                       # all queues: default, inference, exports
    python celery_worker.py --queues inference    # a GPU host
    python celery_worker.py --queues default,exports --concurrency 4

Queues and concurrency come from the arguments, else ``CELERY_QUEUES`` and
``CELERY_CONCURRENCY``. Workers that take ``inference`` prefetch one task at a time.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys


def build_argv(args: argparse.Namespace) -> list[str]:
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    argv = [
        "worker",
        "--queues", ",".join(queues),
        "--concurrency", str(args.concurrency),
        "--loglevel", args.loglevel,
        "--hostname", args.hostname,
        "--pool", args.pool,
        "--without-gossip",
        "--without-mingle",
        "--prefetch-multiplier", "1" if "inference" in queues else str(args.prefetch),
    ]
    if args.max_tasks_per_child:
        argv += ["--max-tasks-per-child", str(args.max_tasks_per_child)]
    return argv


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queues", default=os.environ.get("CELERY_QUEUES", "default,inference,exports"))
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("CELERY_CONCURRENCY", "2")))
    parser.add_argument("--pool", default=os.environ.get("CELERY_POOL", "prefork"))
    parser.add_argument("--loglevel", default=os.environ.get("CELERY_LOGLEVEL", "INFO"))
    parser.add_argument("--prefetch", type=int, default=int(os.environ.get("CELERY_PREFETCH", "4")))
    parser.add_argument("--max-tasks-per-child", type=int, default=int(os.environ.get("CELERY_MAX_TASKS_PER_CHILD", "0")))
    parser.add_argument("--hostname", default=os.environ.get("CELERY_HOSTNAME", f"modelship-{os.getpid()}@{socket.gethostname()}"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelship.settings")
    import django

    django.setup()
    from modelship.celery import app

    app.worker_main(argv=build_argv(args))


if __name__ == "__main__":
    main()
