"""Active-learning strategies pick what their definitions say; the simulation shows uncertainty saves labels."""

import json
import time

import numpy as np
import pytest

from labeling.engine.active_learning import (
    MISSING_INPUT,
    POOL_MISMATCH,
    UNKNOWN_STRATEGY,
    Selection,
    entropy,
    least_confidence,
    list_strategies,
    margin,
    mean_kl,
    select,
    simulate_effectiveness,
    vote_entropy,
)

NAMES = ["positive", "negative", "neutral"]

# Five items over three classes; each row is the extreme of exactly one measure.
POOL = np.array([
    [0.98, 0.01, 0.01],  # 0: certain
    [0.40, 0.31, 0.29],  # 1: second least confident
    [0.50, 0.48, 0.02],  # 2: smallest top-2 gap (nearest the boundary)
    [0.70, 0.20, 0.10],  # 3
    [0.36, 0.34, 0.30],  # 4: lowest top probability and flattest
])


def test_registry_lists_every_strategy_with_its_inputs():
    listed = {s["name"]: s for s in list_strategies()}
    assert list(listed) == ["random", "uncertainty", "margin", "entropy", "diversity", "weighted_diversity",
                            "disagreement"]
    assert listed["margin"]["requires"] == ["probs"]
    assert listed["diversity"]["requires"] == ["embeddings"]
    assert listed["diversity"]["optional"] == ["labelled_embeddings"]
    assert listed["weighted_diversity"]["requires"] == ["probs", "embeddings"]
    assert listed["disagreement"]["requires"] == ["committee"]
    assert listed["random"]["requires"] == []
    assert all(s["description"] for s in listed.values())
    json.dumps(list_strategies())


def test_measures_by_hand():
    p = np.array([[0.5, 0.5], [1.0, 0.0], [0.8, 0.2]])
    np.testing.assert_allclose(least_confidence(p), [0.5, 0.0, 0.2])
    np.testing.assert_allclose(margin(p), [0.0, 1.0, 0.6])
    h = -(0.8 * np.log(0.8) + 0.2 * np.log(0.2)) / np.log(2)
    np.testing.assert_allclose(entropy(p), [1.0, 0.0, h])


def test_margin_picks_the_point_nearest_the_boundary():
    picked = select("margin", probs=POOL, k=1, class_names=NAMES)
    assert picked == [Selection(index=2, score=pytest.approx(0.98), reason="margin 0.02 between 'positive' and 'negative'")]


def test_margin_on_a_line_picks_the_point_whose_probability_is_nearest_one_half():
    x = np.array([-3.0, -1.0, 0.2, 0.9, 2.5])
    p1 = 1 / (1 + np.exp(-2 * x))
    probs = np.stack([1 - p1, p1], axis=1)
    assert [s.index for s in select("margin", probs=probs, k=2)] == [2, 3]


def test_least_confidence_picks_the_lowest_top_probability():
    picked = select("uncertainty", probs=POOL, k=2, class_names=NAMES)
    assert [s.index for s in picked] == [4, 1]
    assert picked[0].score == pytest.approx(0.64)
    assert picked[0].reason == "least confident: top label 'positive' at only 0.36"


def test_entropy_picks_the_flattest_row():
    picked = select("entropy", probs=POOL, k=1, class_names=NAMES)[0]
    assert picked.index == 4
    assert picked.reason == "entropy 1.00 of the maximum: 'positive' 0.36, 'negative' 0.34, 'neutral' 0.30"
    # two items with the same top probability: entropy prefers the one spread over more labels
    tie = np.array([[0.5, 0.5, 0.0], [0.5, 0.25, 0.25]])
    assert select("entropy", probs=tie, k=1)[0].index == 1
    assert select("margin", probs=tie, k=1)[0].index == 0


def test_k_center_picks_the_point_farthest_from_the_labelled_set():
    labelled = np.array([[0.0, 0.0], [10.0, 0.0]])
    pool = np.array([[1.0, 0.0], [5.0, 1.0], [9.0, 0.5], [5.0, 6.0], [0.0, -2.0]])
    picked = select("diversity", embeddings=pool, labelled_embeddings=labelled, k=1)
    assert picked[0].index == 3
    assert picked[0].score == pytest.approx(np.hypot(5, 6))
    assert picked[0].reason == "farthest from anything labelled or already picked (distance 7.81)"


def test_k_center_batch_covers_the_space_before_revisiting_it():
    labelled = np.array([[0.0, 0.0]])
    pool = np.array([[10.0, 0.0], [10.5, 0.0], [0.0, 8.0], [1.0, 1.0]])
    picked = select("diversity", embeddings=pool, labelled_embeddings=labelled, k=3, duplicate_similarity=None)
    # 10.5 is farthest; 10.0 is then 0.5 from it, so the next pick is (0, 8), then the (10, 0) group again
    assert [s.index for s in picked] == [1, 2, 3]


def test_k_center_without_labels_starts_from_the_most_central_item():
    pool = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [9.0, 9.0]])
    picked = select("diversity", embeddings=pool, k=2)
    assert [s.index for s in picked] == [2, 0]
    assert picked[0].reason == "the most central item (nothing labelled yet)"


def test_disagreement_picks_where_the_committee_disagrees_most():
    agree = [0.9, 0.1]
    committee = np.array([
        [agree, [0.8, 0.2], [0.6, 0.4], [0.95, 0.05]],
        [agree, [0.7, 0.3], [0.55, 0.45], [0.05, 0.95]],  # item 3: members confident and opposite
        [agree, [0.8, 0.2], [0.6, 0.4], [0.90, 0.10]],
    ])
    picked = select("disagreement", committee=committee, k=2, class_names=["cat", "dog"])
    assert [s.index for s in picked] == [3, 1]
    assert picked[0].score == pytest.approx(-(2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3)) / np.log(2))
    assert picked[0].reason.startswith("committee split (2 for 'cat', 1 for 'dog'); mean KL ")
    kl = mean_kl(committee)
    assert kl[0] == pytest.approx(0.0)
    assert kl[2] < kl[1] < kl[3]
    # vote entropy: only item 3 has a split vote; the rest tie at 0 and are ordered by KL
    np.testing.assert_allclose(vote_entropy(committee)[[0, 1, 2]], 0.0)
    by_votes = select("disagreement", committee=committee, k=4, measure="vote_entropy")
    assert [s.index for s in by_votes] == [3, 1, 2, 0]
    by_kl = select("disagreement", committee=committee, k=4, measure="kl")
    assert [s.index for s in by_kl] == [3, 1, 2, 0]
    assert [s.score for s in by_kl] == pytest.approx(kl[[3, 1, 2, 0]].tolist())


def test_disagreement_by_kl_alone_differs_from_votes_when_members_agree_on_the_label():
    # item 0: a split vote from close probabilities; item 1: both vote class 0, with very different confidence
    committee = np.array([
        [[0.60, 0.40], [0.99, 0.01]],  # member 1
        [[0.40, 0.60], [0.55, 0.45]],  # member 2
    ])
    assert select("disagreement", committee=committee, k=1)[0].index == 0
    assert select("disagreement", committee=committee, k=1, measure="kl")[0].index == 1


def test_random_is_reproducible_by_seed_and_covers_the_pool():
    probs = np.full((1000, 2), 0.5)
    a = [s.index for s in select("random", probs=probs, k=50, seed=7)]
    b = [s.index for s in select("random", probs=probs, k=50, seed=7)]
    c = [s.index for s in select("random", probs=probs, k=50, seed=8)]
    assert a == b
    assert a != c
    assert len(set(a)) == 50
    assert [s.index for s in select("random", pool_size=1000, k=50, seed=7)] == a


def test_near_duplicates_are_skipped_within_a_batch():
    probs = np.array([[0.5, 0.5], [0.51, 0.49], [0.55, 0.45], [0.9, 0.1]])
    emb = np.array([[1.0, 0.0], [0.999, 0.01], [0.0, 1.0], [0.7, 0.7]])
    picked = select("margin", probs=probs, embeddings=emb, k=3)
    assert [s.index for s in picked] == [0, 2, 3]  # item 1 is item 0 again (cosine ~1.0)
    without = select("margin", probs=probs, embeddings=emb, k=3, duplicate_similarity=None)
    assert [s.index for s in without] == [0, 1, 2]
    # a batch made only of copies comes back short rather than repeating the same item
    copies = select("margin", probs=probs[:2], embeddings=emb[:2], k=2)
    assert [s.index for s in copies] == [0]


def test_weighted_diversity_spreads_a_batch_over_uncertain_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 10.0], [10.0, 0.0], [-10.0, 0.0]])
    emb = np.concatenate([c + rng.normal(scale=0.1, size=(20, 2)) for c in centres])
    probs = np.tile([0.52, 0.48], (60, 1))
    probs[:20] = [0.99, 0.01]  # the first cluster is already certain
    picked = select("weighted_diversity", probs=probs, embeddings=emb, k=2, seed=3, candidates_per_pick=20)
    clusters = sorted(s.index // 20 for s in picked)
    assert clusters == [1, 2]


def test_unknown_strategy_and_missing_inputs_are_refused_with_their_message():
    with pytest.raises(ValueError) as err:
        select("magic", probs=POOL, k=1)
    assert str(err.value) == UNKNOWN_STRATEGY.format(
        name="magic", available="random, uncertainty, margin, entropy, diversity, weighted_diversity, disagreement")
    with pytest.raises(ValueError) as err:
        select("weighted_diversity", probs=POOL, k=1)
    assert str(err.value) == MISSING_INPUT.format(name="weighted_diversity", needs="embeddings")
    with pytest.raises(ValueError) as err:
        select("margin", probs=POOL, embeddings=np.zeros((4, 2)), k=1)
    assert str(err.value) == POOL_MISMATCH.format(sizes=[4, 5])


def test_score_only_strategies_handle_a_million_rows():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(1_000_000, 4)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    for name in ("uncertainty", "margin", "entropy"):
        started = time.perf_counter()
        picked = select(name, probs=probs, k=100)
        assert len(picked) == 100
        assert time.perf_counter() - started < 30  # a guard against a quadratic slip, not a benchmark
    m = margin(probs)
    assert [s.index for s in select("margin", probs=probs, k=5)] == np.argsort(m, kind="stable")[:5].tolist()


def _two_clusters(seed: int, n: int = 2000, d: int = 100):
    """Two tight clusters along one axis, hidden in many noisy dimensions: few labels mislead a head."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, d)) * 2.0
    x[:, 0] = rng.normal(size=n) * 0.3 + np.where(y == 1, 1.0, -1.0)
    return x, y


def test_simulation_shows_uncertainty_sampling_needs_fewer_labels_than_random():
    random_needed, uncertainty_needed = [], []
    for seed in range(3):
        x, y = _two_clusters(seed)
        report = simulate_effectiveness(x, y, strategies=["random", "uncertainty"], seed=seed)
        assert report.n_train == 1500 and report.n_test == 500 and report.n_classes == 2
        assert report.full_accuracy >= 0.99
        random_needed.append(report.labels_to_reach("random", 0.95))
        uncertainty_needed.append(report.labels_to_reach("uncertainty", 0.95))
    assert None not in random_needed + uncertainty_needed
    assert sum(uncertainty_needed) < 0.85 * sum(random_needed)


def test_simulation_report_is_json_with_curves_and_ratios():
    x, y = _two_clusters(0, n=600, d=20)
    report = simulate_effectiveness(x, y, seed=0, max_labels=200, stop_when_reached=False)
    out = json.loads(json.dumps(report.as_dict()))
    assert [c["strategy"] for c in out["curves"]] == [s["name"] for s in list_strategies()]
    for curve in out["curves"]:
        assert curve["labels"][0] == 10
        assert curve["labels"][-1] == 200
        assert len(curve["labels"]) == len(curve["accuracy"])
        assert set(curve["labels_to_reach"]) == {"0.9", "0.95"}
    random_curve = out["curves"][0]
    assert random_curve["ratio_to_random"] == {"0.9": 1.0, "0.95": 1.0}
    # every strategy starts from the same seed set, so the first points agree
    assert len({c["accuracy"][0] for c in out["curves"]}) == 1
