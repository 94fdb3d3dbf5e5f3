"""Confident learning flags labels the model confidently contradicts, and suggests the right one."""

import numpy as np
import pytest

from labeling.engine.label_errors import (
    BAD_INPUT,
    confident_joint,
    confident_labels,
    cross_val_probs,
    find_label_issues,
    per_class_thresholds,
)

# Three classes; thresholds are the mean self-probability per given class.
PROBS = np.array([
    [0.90, 0.05, 0.05],  # 0 labelled 0
    [0.70, 0.20, 0.10],  # 1 labelled 0
    [0.10, 0.80, 0.10],  # 2 labelled 1
    [0.20, 0.60, 0.20],  # 3 labelled 1
    [0.05, 0.15, 0.80],  # 4 labelled 2
    [0.10, 0.30, 0.60],  # 5 labelled 2
    [0.15, 0.75, 0.10],  # 6 labelled 0: the model says 1
    [0.30, 0.40, 0.30],  # 7 labelled 2: unsure, over no class's threshold
])
LABELS = np.array([0, 0, 1, 1, 2, 2, 0, 2])


def test_thresholds_are_the_mean_self_probability_per_class():
    t = per_class_thresholds(PROBS, LABELS)
    np.testing.assert_allclose(t, [(0.90 + 0.70 + 0.15) / 3, (0.80 + 0.60) / 2, (0.80 + 0.60 + 0.30) / 3])


def test_the_confident_joint_counts_items_by_given_and_confident_class():
    # thresholds: 0.5833, 0.70, 0.5667
    assert confident_labels(PROBS, LABELS).tolist() == [0, 0, 1, -1, 2, 2, 1, -1]
    assert confident_joint(PROBS, LABELS).tolist() == [
        [2, 1, 0],
        [0, 1, 0],
        [0, 0, 2],
    ]


def test_off_diagonal_items_are_flagged_with_the_suggested_label():
    issues = find_label_issues(PROBS, LABELS, class_names=["cat", "dog", "bird"])
    assert [(i.index, i.given_label, i.suggested_label) for i in issues] == [(6, 0, 1)]
    assert issues[0].self_confidence == pytest.approx(0.15)
    assert issues[0].reason == "labelled 'cat' (0.15) but the model confidently says 'dog' (0.75)"


def test_issues_are_ranked_by_self_confidence_ascending():
    # thresholds: class 0 (0.9 + 0.8 + 0.3 + 0.05) / 4 = 0.5125, class 1 (0.6 + 0.7) / 2 = 0.65
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.05, 0.95], [0.4, 0.6], [0.3, 0.7]])
    labels = np.array([0, 0, 0, 0, 1, 1])
    assert [i.index for i in find_label_issues(probs, labels)] == [3, 2]


def test_bad_input_is_refused():
    with pytest.raises(ValueError) as err:
        find_label_issues(PROBS, LABELS[:-1])
    assert str(err.value) == BAD_INPUT
    with pytest.raises(ValueError):
        find_label_issues(PROBS, np.array([0, 0, 1, 1, 2, 2, 0, 3]))


def test_flipped_labels_on_a_synthetic_set_are_found():
    rng = np.random.default_rng(0)
    centres = 6.0 * np.array([[0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    truth = rng.integers(0, 4, 800)
    x = centres[truth] + rng.normal(size=(800, 4))
    given = truth.copy()
    flipped = rng.choice(800, 40, replace=False)
    given[flipped] = (truth[flipped] + rng.integers(1, 4, 40)) % 4

    probs = cross_val_probs(x, given, folds=5, seed=0)
    assert probs.shape == (800, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    issues = find_label_issues(probs, given)
    found = {i.index for i in issues}
    hits = found & set(flipped.tolist())
    recall, precision = len(hits) / 40, len(hits) / len(found)
    # flips whose true class the model rates below that class's average are missed by design
    assert recall >= 0.8
    assert precision >= 0.9
    # where a flipped item is found, the suggested label is its true one
    suggested = {i.index: i.suggested_label for i in issues}
    right = [suggested[i] == truth[i] for i in hits]
    assert np.mean(right) >= 0.95
    # the most suspect items come first: the top ten are all real flips
    assert {i.index for i in issues[:10]} <= set(flipped.tolist())


def test_cross_val_probs_are_out_of_sample():
    x = np.array([[0.0], [0.0], [5.0], [5.1], [5.2], [-5.0], [-5.1], [-5.2], [5.3], [-5.3]])
    y = np.array([0, 1, 1, 1, 1, 0, 0, 0, 1, 0])
    probs = cross_val_probs(x, y, folds=2, seed=0)
    assert probs.shape == (10, 2)
    assert (probs[2:5, 1] > 0.5).all() and (probs[5:8, 0] > 0.5).all()
