"""Kappa, alpha and the confusion matrix against values computed by hand."""

import pytest

from analytics.metrics import OTHER_CLASSES, cohens_kappa, confusion, krippendorff_alpha_nominal, pairwise_kappa


def test_cohens_kappa_matches_hand_computation():
    # 10 items; raters agree on 7. Rater a: 6 yes / 4 no; rater b: 5 yes / 5 no.
    a = ["y", "y", "y", "y", "y", "y", "n", "n", "n", "n"]
    b = ["y", "y", "y", "y", "n", "n", "n", "n", "n", "y"]
    # p_o = 7/10; p_e = (6*5 + 4*5)/100 = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4
    assert cohens_kappa(a, b) == pytest.approx(0.4)
    assert cohens_kappa(a, a) == pytest.approx(1.0)
    assert cohens_kappa([], []) is None


def test_pairwise_kappa_uses_items_both_rated():
    ratings = {1: {"ann": "y", "bob": "y", "cy": "n"}, 2: {"ann": "n", "bob": "n"}, 3: {"ann": "y", "cy": "y"}}
    result = pairwise_kappa(ratings)
    assert result[("ann", "bob")] == {"kappa": 1.0, "items": 2}
    assert result[("ann", "cy")]["items"] == 2
    # ann: y, y; cy: n, y → p_o = 0.5, p_e = (2*1)/4 = 0.5 → kappa 0
    assert result[("ann", "cy")]["kappa"] == pytest.approx(0.0)
    assert result[("bob", "cy")] == {"kappa": pytest.approx(0.0), "items": 1}


def test_krippendorff_alpha_matches_hand_computation():
    # Three units, two coders: (a, a), (a, b), (b, b).
    # Coincidences: o_aa = 2, o_ab = o_ba = 1, o_bb = 2; n_a = n_b = 3, n = 6.
    # alpha = 1 - (n-1) * D_o / sum_{c!=k} n_c n_k = 1 - 5 * 2 / (3*3*2) = 1 - 10/18 = 4/9
    assert krippendorff_alpha_nominal([["a", "a"], ["a", "b"], ["b", "b"]]) == pytest.approx(4 / 9)
    # Perfect agreement, and units with a single value are ignored.
    assert krippendorff_alpha_nominal([["a", "a"], ["b", "b"], ["c"]]) == pytest.approx(1.0)
    assert krippendorff_alpha_nominal([["a"]]) is None


def test_krippendorff_alpha_with_three_coders():
    # Unit 1: (a, a, b) contributes 1/2 per ordered pair: o_aa = 1, o_ab = o_ba = 1.
    # Unit 2: (b, b) contributes o_bb = 2.  n_a = 2, n_b = 3, n = 5.
    # alpha = 1 - 4 * 2 / (2*3*2) = 1 - 8/12 = 1/3
    assert krippendorff_alpha_nominal([["a", "a", "b"], ["b", "b"]]) == pytest.approx(1 / 3)


def test_confusion_matrix_and_per_class():
    result = confusion([("cat", "cat", 1), ("cat", "dog", 1), ("dog", "dog", 2)], ["cat", "dog"])
    assert result["matrix"] == [[1, 1], [0, 2]]
    assert result["accuracy"] == pytest.approx(0.75)
    assert result["per_class"]["cat"] == {"precision": 1.0, "recall": 0.5, "support": 2}
    assert result["per_class"]["dog"]["precision"] == pytest.approx(2 / 3)


def test_confusion_folds_the_less_frequent_classes_into_other():
    # (truth, predicted, count); a class's frequency is its count as truth plus as prediction.
    rows = [("a", "a", 9), ("a", "b", 1), ("b", "b", 3), ("c", "a", 1), ("c", "c", 1), ("d", "d", 2),
            ("e", "d", 1)]
    # a: truth 10 + predicted 10 = 20; b: 3 + 4 = 7; c: 2 + 1 = 3; d: 2 + 3 = 5; e: 1 + 0 = 1
    result = confusion(rows, ["a", "b", "c", "d", "e"], max_classes=3)

    assert result["classes"] == ["a", "b", "d", OTHER_CLASSES]
    assert result["matrix"] == [
        [9, 1, 0, 0],   # a
        [0, 3, 0, 0],   # b
        [0, 0, 2, 0],   # d
        [1, 0, 1, 1],   # c→a, e→d, c→c
    ]
    assert (result["count"], result["accuracy"]) == (18, 15 / 18)
    assert result["per_class"]["c"] == {"precision": 1.0, "recall": 0.5, "support": 2}
    assert result["per_class"]["e"] == {"precision": None, "recall": 0.0, "support": 1}
    assert set(result["per_class"]) == {"a", "b", "c", "d", "e"}
