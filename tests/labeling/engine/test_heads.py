"""Few-shot heads (labeling/engine/heads.py): learning, storage, multi-label, and the head as a classifier."""

import numpy as np
import pytest

from labeling.engine.base import Classifier
from labeling.engine.errors import LabelSetError
from labeling.engine.heads import ABSENT_LOGIT_GAP, FewShotHead, FewShotModel, enough_labels


def clusters(n_per: int, centres: np.ndarray, seed: int = 0, spread: float = 0.3):
    """Points around each centre, with their centre's index as label."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([c + spread * rng.normal(size=(n_per, centres.shape[1])) for c in centres])
    y = np.repeat(np.arange(len(centres)), n_per)
    return x, y


CENTRES = np.eye(3, 16) * 3  # three well separated directions in 16-d


def test_head_learns_a_separable_toy_set():
    x, y = clusters(8, CENTRES)
    test_x, test_y = clusters(20, CENTRES, seed=1)
    head = FewShotHead(3).fit(x, y)
    p = head.predict_proba(test_x)
    assert p.shape == (60, 3)
    assert p.sum(axis=1) == pytest.approx(np.ones(60))
    assert (p.argmax(axis=1) == test_y).all()
    assert head.n_trained == 24


def test_head_round_trips_through_bytes_and_dict_without_pickle():
    x, y = clusters(8, CENTRES)
    head = FewShotHead(3).fit(x, y)
    data = head.to_bytes()
    assert isinstance(data, bytes)
    again = FewShotHead.from_bytes(data)
    assert again.predict_proba(x) == pytest.approx(head.predict_proba(x), abs=1e-12)
    assert again.n_trained == 24 and again.n_categories == 3 and not again.multi_label
    from_dict = FewShotHead.from_dict(head.to_dict())
    assert from_dict.decision_function(x) == pytest.approx(head.decision_function(x))


def test_two_categories_give_the_binary_model_as_a_softmax():
    x, y = clusters(10, CENTRES[:2])
    head = FewShotHead(2).fit(x, y)
    from sklearn.linear_model import LogisticRegression

    from labeling.engine.heads import _unit_rows

    reference = LogisticRegression(C=head.C, max_iter=2000).fit(_unit_rows(x), y)
    assert head.predict_proba(x) == pytest.approx(reference.predict_proba(_unit_rows(x)), abs=1e-9)


def test_a_category_nobody_labelled_yet_gets_a_near_zero_probability():
    x, y = clusters(8, CENTRES[:2])
    head = FewShotHead(3).fit(x, y)  # category 2 has no labelled item
    z = head.decision_function(x)
    assert z[:, 2] == pytest.approx(z[:, :2].min(axis=1) - ABSENT_LOGIT_GAP)
    assert head.predict_proba(x)[:, 2].max() < 1e-4


def test_one_category_is_not_enough():
    x, _ = clusters(4, CENTRES[:1])
    with pytest.raises(ValueError, match="at least two categories; got 1"):
        FewShotHead(3).fit(x, np.zeros(4, dtype=int))
    assert not enough_labels([0, 0, 0, 1])
    assert enough_labels([0, 0, 1, 1, 2])


def test_multi_label_head_is_one_vs_rest():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(80, 8))
    # tag 0 when the first coordinate is positive, tag 1 when the second is; tag 2 never
    tags = [[k for k, on in enumerate((row[0] > 0, row[1] > 0)) if on] for row in x]
    head = FewShotHead(3, multi_label=True, C=100.0).fit(x, tags)
    p = head.predict_proba(x)
    assert p.shape == (80, 3)
    assert ((p[:, 0] > 0.5) == (x[:, 0] > 0)).mean() > 0.95
    assert ((p[:, 1] > 0.5) == (x[:, 1] > 0)).mean() > 0.95
    assert p[:, 2] == pytest.approx(np.full(80, 1 / 82))  # never seen: the smoothed rate (0 + 1) / (80 + 2)
    indicator = np.zeros((80, 3))
    for row, ks in enumerate(tags):
        indicator[row, ks] = 1
    assert FewShotHead(3, multi_label=True, C=100.0).fit(x, indicator).predict_proba(x) == pytest.approx(p)
    assert FewShotHead.from_bytes(head.to_bytes()).predict_proba(x) == pytest.approx(p)


class Vectors(Classifier):
    """Items are strings 'i' naming rows of a fixed embedding table."""

    embedding_dim = 16

    def __init__(self, table):
        super().__init__(name="vectors")
        self.table = table

    def _logits(self, batch, categories):
        raise AssertionError("the head classifier must not use the base model's own logits")

    def _embed_batch(self, batch):
        return self.table[[int(i) for i in batch]]


def test_few_shot_model_classifies_with_the_head_over_its_categories():
    x, y = clusters(8, CENTRES)
    head = FewShotHead(3).fit(x, y)
    model = FewShotModel(name="vectors+few-shot", base=Vectors(x), head=head, categories=["cat", "dog", "bird"])
    result = model.classify(["0", "9", "23", ""], with_embeddings=True)
    assert result.labels == ("cat", "dog", "bird")
    assert [p.label for p in result][:3] == ["cat", "dog", "bird"]
    assert result.errors[3] == "The text is empty."
    assert result.embeddings[:3] == pytest.approx(x[[0, 9, 23]])
    with pytest.raises(LabelSetError, match="trained on 3 categories, not 2"):
        FewShotModel(name="x", base=Vectors(x), head=head, categories=["cat", "dog"])


def test_a_warm_started_head_reaches_the_same_optimum_in_fewer_iterations():
    rng = np.random.default_rng(5)
    centres = rng.normal(0, 1, (4, 16))
    y = rng.integers(0, 4, 400)
    x = centres[y] + rng.normal(0, 0.8, (400, 16))
    cold = FewShotHead(5).fit(x, y)
    warm = FewShotHead(5).fit(x, y, init=FewShotHead(5).fit(x[:300], y[:300]))
    assert warm.predict_proba(x) == pytest.approx(cold.predict_proba(x), abs=5e-3)
    assert list(warm.present) == [True, True, True, True, False]
    zero = FewShotHead(5).fit(x[:300], y[:300])
    zero.weights, zero.biases = np.zeros_like(zero.weights), np.zeros_like(zero.biases)
    from_zero = FewShotHead(5).fit(x, y, init=zero)
    assert from_zero.predict_proba(x) == pytest.approx(cold.predict_proba(x), abs=5e-3)
    assert 0 < warm.iterations < from_zero.iterations


def test_a_prior_as_features_keeps_a_head_on_uninformative_embeddings_at_the_prior_s_accuracy():
    """A lexicon prior 85% right and embeddings that carry nothing: with 30 labels a plain head is near
    chance, a head with the prior's log-probabilities as features comes within a few points of the prior."""
    rng = np.random.default_rng(0)
    n = 1030
    y = rng.integers(0, 3, n)
    prior = rng.normal(0, 1, (n, 3))
    right = rng.random(n) < 0.85
    prior[np.arange(n), np.where(right, y, (y + 1) % 3)] += 3.0
    x = rng.normal(size=(n, 16))
    train, test = np.arange(30), np.arange(30, n)
    prior_accuracy = (prior[test].argmax(axis=1) == y[test]).mean()
    plain = FewShotHead(3).fit(x[train], y[train])
    with_prior = FewShotHead(3, prior_dims=3).fit(x[train], y[train], prior=prior[train])
    plain_accuracy = (plain.decision_function(x[test]).argmax(axis=1) == y[test]).mean()
    accuracy = (with_prior.decision_function(x[test], prior[test]).argmax(axis=1) == y[test]).mean()
    assert plain_accuracy < 0.45
    assert accuracy >= prior_accuracy - 0.05 and accuracy > plain_accuracy + 0.3  # the promotion rule guards the rest
    # the prior's columns carry the weight, and survive storage
    assert with_prior.weights.shape == (3, 19)
    features = with_prior.features(x[test], prior[test])
    from_prior = features[:, 16:] @ with_prior.weights[:, 16:].T
    from_embeddings = features[:, :16] @ with_prior.weights[:, :16].T
    assert from_prior.std() > from_embeddings.std()
    again = FewShotHead.from_bytes(with_prior.to_bytes())
    assert again.prior_dims == 3
    assert again.decision_function(x[test], prior[test]) == pytest.approx(with_prior.decision_function(x[test],
                                                                                                      prior[test]))
    # an item the prior did not score gets the uniform distribution's features
    assert with_prior.features(x[:1], np.full((1, 3), np.nan))[0, 16:] == pytest.approx(np.full(3, -np.log(3)))
    with pytest.raises(ValueError):
        with_prior.decision_function(x[:2], prior[:2, :2])


def test_a_head_stored_before_prior_features_loads_without_them():
    x, y = clusters(8, CENTRES)
    arrays = FewShotHead(3).fit(x, y).to_dict()
    del arrays["prior_dims"]
    assert FewShotHead.from_dict(arrays).prior_dims == 0
