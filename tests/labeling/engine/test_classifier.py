"""The classifier interface (labeling/engine/base.py): batching, per-item errors, label sets. No real model."""

import numpy as np
import pytest

from labeling.engine.base import Classifier
from labeling.engine.errors import (
    EMPTY_TEXT,
    ITEM_FAILED,
    InputKindError,
    ItemError,
    LabelSetError,
)
from labeling.engine.results import Category


class Echo(Classifier):
    """Fixed labels a/b/c; logits from the text's length; 'boom' breaks any batch it is in."""

    fixed_labels = ("a", "b", "c")
    label_aliases = {"alpha": "a"}
    default_batch_size = 2

    def __init__(self):
        super().__init__(name="echo")
        self.batches: list[list[str]] = []
        self.prepared: list[str] = []

    def _prepare(self, item):
        self.prepared.append(item)
        if item == "unprepared":
            raise ItemError("can't prepare this one")
        return super()._prepare(item)

    def _logits(self, batch, categories):
        self.batches.append(list(batch))
        if "boom" in batch:
            raise RuntimeError("exploded")
        return np.array([[len(t), 0.0, -len(t)] for t in batch], dtype=float)


class Broken(Echo):
    def _logits(self, batch, categories):
        raise RuntimeError("weights missing")


def test_probabilities_are_softmax_of_logits_and_rows_sum_to_one():
    result = Echo().classify(["xx", "x"])
    assert result.labels == ("a", "b", "c")
    assert result.logits == pytest.approx(np.array([[2, 0, -2], [1, 0, -1]]))
    e = np.exp([2.0, 0.0, -2.0])
    assert result.probabilities[0] == pytest.approx(e / e.sum())
    assert result.probabilities.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert [p.label for p in result] == ["a", "a"]


def test_a_bad_item_fails_alone_and_keeps_its_place():
    model = Echo()
    result = model.classify(["one", "   ", "boom", "unprepared", "three"])
    assert result.errors == (None, EMPTY_TEXT, ITEM_FAILED.format(reason="RuntimeError: exploded"),
                             "can't prepare this one", None)
    assert list(result.ok) == [True, False, False, False, True]
    assert np.isnan(result.probabilities[1:4]).all()
    assert result[0].label == "a" and result[4].ok
    assert result[2].label is None and result[2].probabilities is None
    # the failing batch was retried item by item; "boom" never reached the model with a good item twice
    assert ["boom"] in model.batches


def test_a_model_that_fails_on_every_item_raises_instead_of_blaming_the_items():
    with pytest.raises(RuntimeError, match="weights missing"):
        Broken().classify(["one", "two", "three"])


def test_items_are_batched_by_length_and_results_come_back_in_input_order():
    model = Echo()
    result = model.classify(["cccc", "a", "bbb", "dd"], batch_size=2)
    assert model.batches == [["a", "dd"], ["bbb", "cccc"]]
    assert result.logits[:, 0] == pytest.approx([4, 1, 3, 2])


def test_items_are_prepared_one_batch_at_a_time():
    model = Echo()
    seen_before_each_batch = []
    forward = model._logits

    def logits(batch, categories):
        seen_before_each_batch.append(len(model.prepared))
        return forward(batch, categories)

    model._logits = logits
    model.classify(["a", "bb", "ccc", "dddd", "eeeee"], batch_size=2)
    assert seen_before_each_batch == [2, 4, 5]


def test_items_prepared_ahead_are_not_prepared_again_and_keep_their_length_order_and_errors():
    model = Echo()
    prepared = model.prepare(["cccc", "unprepared", "a", "  ", "dd"])
    assert model.prepared == ["cccc", "unprepared", "a", "  ", "dd"]
    assert [(p.value, p.error, p.length) for p in prepared] == [
        ("cccc", None, 4), (None, "can't prepare this one", 0), ("a", None, 1), (None, EMPTY_TEXT, 0), ("dd", None, 2)]
    result = model.classify(prepared, batch_size=2)
    assert model.prepared == ["cccc", "unprepared", "a", "  ", "dd"]  # nothing prepared a second time
    assert model.batches == [["a", "dd"], ["cccc"]]
    assert result.errors == (None, "can't prepare this one", None, EMPTY_TEXT, None)
    assert result.logits[[0, 2, 4], 0] == pytest.approx([4, 1, 2])


def test_prepare_refuses_the_wrong_kind_of_item():
    with pytest.raises(InputKindError):
        Echo().prepare(["fine", b"bytes"])


def test_temperature_is_applied_to_probabilities_not_logits():
    result = Echo().classify(["xx"], temperature=2.0)
    assert result.logits[0] == pytest.approx([2, 0, -2])
    e = np.exp([1.0, 0.0, -1.0])
    assert result.probabilities[0] == pytest.approx(e / e.sum())


def test_a_fixed_label_model_keeps_just_the_categories_asked_for():
    result = Echo().classify(["x"], [Category("c"), "Alpha"])
    assert result.labels == ("c", "Alpha")
    e = np.exp([-1.0, 1.0])
    assert result.probabilities[0] == pytest.approx(e / e.sum())


def test_a_category_the_model_cant_predict_is_refused_with_the_supported_labels():
    with pytest.raises(LabelSetError) as caught:
        Echo().classify(["x"], ["a", "zebra"])
    assert str(caught.value) == "The model 'echo' can't predict 'zebra'; it predicts: a, b, c."


def test_wrong_kind_of_item_is_a_caller_error():
    with pytest.raises(InputKindError) as caught:
        Echo().classify(["fine", b"\x89PNG"])
    assert str(caught.value) == "The model 'echo' classifies texts (str); item 1 is bytes."


def test_embed_on_a_model_without_embeddings_is_refused():
    with pytest.raises(Exception, match="has no embeddings"):
        Echo().embed(["x"])
