"""The majority rule that settles overlapped items."""

from review.metrics import majority


def test_majority_and_ties():
    assert majority(["x", "x", "y"]) == "x"
    assert majority(["x", "y"]) is None
    assert majority([]) is None
