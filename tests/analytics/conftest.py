"""Analytics tests reuse the review scenario: a cat/dog/bird project with a manager, two reviewers,
a labeler and a viewer (``world``); gold checks off unless a test turns them on."""

from tests.review.conftest import _no_gold_unless_asked, world  # noqa: F401
