"""Hugging Face models through transformers pipelines (labeling/engine/hub.py), on tiny random models saved to a
temp dir: the same loading code as a real hub model, with no network."""

import json
import shutil

import numpy as np
import pytest

from labeling.engine import ModelUnavailableError, get_classifier, model_spec
from tests.labeling.engine.media import NOT_AN_IMAGE, coffee_jpeg

pytestmark = pytest.mark.slow

SENTIMENT = {0: "negative", 1: "neutral", 2: "positive"}
NLI = {0: "contradiction", 1: "neutral", 2: "entailment"}
WORDS = "i love this product hate it is good bad the a example about sports politics".split()


def _bert(directory, id2label):
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    vocab = directory.parent / f"{directory.name}-vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]))
    config = BertConfig(vocab_size=5 + len(WORDS), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, id2label=id2label,
                        label2id={v: k for k, v in id2label.items()})
    BertForSequenceClassification(config).save_pretrained(directory)
    BertTokenizer(str(vocab)).save_pretrained(directory)
    return str(directory)


def _vit(directory):
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    config = ViTConfig(image_size=32, patch_size=8, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=32, id2label={i: f"class {i}" for i in range(4)},
                       label2id={f"class {i}": i for i in range(4)})
    ViTForImageClassification(config).save_pretrained(directory)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(directory)
    return str(directory)


def _clip(directory):
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    letters = list("abcdefghijklmnopqrstuvwxyz.")
    vocab = {token: i for i, token in enumerate(
        [*letters, *(c + "</w>" for c in letters), "<|startoftext|>", "<|endoftext|>"])}
    (directory.parent / "clip-vocab.json").write_text(json.dumps(vocab))
    (directory.parent / "clip-merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(directory.parent / "clip-vocab.json"), str(directory.parent / "clip-merges.txt"))
    end = vocab["<|endoftext|>"]
    config = CLIPConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=64, bos_token_id=end - 1, eos_token_id=end,
                         pad_token_id=end),
        vision_config=dict(image_size=32, patch_size=8, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                           num_attention_heads=2),
        projection_dim=8)
    CLIPModel(config).save_pretrained(directory)
    processor = CLIPProcessor(image_processor=CLIPImageProcessor(size={"shortest_edge": 32},
                                                                 crop_size={"height": 32, "width": 32}),
                              tokenizer=tokenizer)
    processor.save_pretrained(directory)
    return str(directory)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    import torch

    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("tiny-models")
    return {"text": _bert(root / "text", SENTIMENT), "nli": _bert(root / "nli", NLI), "vit": _vit(root / "vit"),
            "clip": _clip(root / "clip")}


def test_tiny_text_classifier_from_a_directory_gives_its_raw_logits(tiny):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = get_classifier(tiny["text"])
    assert model.task == "text-classification" and model.modality == "text"
    assert model.fixed_labels == ("negative", "neutral", "positive")
    texts = ["i love this product", "bad", ""]
    result = model.classify(texts)
    assert result.probabilities.shape == (3, 3)
    assert result.probabilities[:2].sum(axis=1) == pytest.approx([1.0, 1.0])
    assert result.errors == (None, None, "The text is empty.")
    reference = AutoModelForSequenceClassification.from_pretrained(tiny["text"]).eval()
    tokens = AutoTokenizer.from_pretrained(tiny["text"])(texts[:2], padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected = reference(**tokens).logits.numpy()
    assert result.logits[:2] == pytest.approx(expected, abs=1e-5)
    assert model.classify(["good"]).logits.shape == (1, 3)  # a batch of one, which pipelines unwrap


def test_tiny_image_classifier_gives_one_vector_per_image_and_fails_a_corrupt_one_alone(tiny):
    model = get_classifier(tiny["vit"])
    assert model.task == "image-classification" and model.modality == "image"
    result = model.classify([coffee_jpeg(), NOT_AN_IMAGE, coffee_jpeg()])
    assert result.labels == ("class 0", "class 1", "class 2", "class 3")
    assert list(result.ok) == [True, False, True]
    assert result.probabilities[0] == pytest.approx(result.probabilities[2])
    assert result.probabilities[0].sum() == pytest.approx(1.0)
    assert result.errors[1] == "The file is not an image that can be read (unknown or corrupt image format)."


def test_tiny_nli_model_is_zero_shot_over_any_categories(tiny):
    model = get_classifier(tiny["nli"])
    assert model.task == "zero-shot-classification" and model.any_label_set
    result = model.classify(["i love this product", "politics is bad"], ["sports", "politics", "example"])
    assert result.labels == ("sports", "politics", "example")
    assert result.probabilities.shape == (2, 3)
    assert result.probabilities.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert model.classify(["good"], ["sports", "politics"]).probabilities.shape == (1, 2)


def test_tiny_clip_is_zero_shot_over_image_categories(tiny):
    model = get_classifier(tiny["clip"])
    assert model.task == "zero-shot-image-classification" and model.modality == "image"
    result = model.classify([coffee_jpeg(), coffee_jpeg()], ["a cup", "a dog"])
    assert result.probabilities.shape == (2, 2)
    assert result.probabilities.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert model.classify([coffee_jpeg()], ["a cup", "a dog", "a car"]).probabilities.shape == (1, 3)


def test_a_hub_id_loads_from_the_local_cache_and_otherwise_needs_the_network(tiny, tmp_path, monkeypatch):
    from huggingface_hub import constants

    repo = tmp_path / "hub" / "models--tiny-org--tiny-vit"
    shutil.copytree(tiny["vit"], repo / "snapshots" / "0123abcd")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("MODELSHIP_HUB_DOWNLOADS", raising=False)

    assert model_spec("tiny-org/tiny-vit").loadable
    result = get_classifier("tiny-org/tiny-vit").classify([coffee_jpeg()])
    assert result.probabilities.shape == (1, 4)

    missing = model_spec("tiny-org/not-downloaded")
    assert not missing.loadable
    with pytest.raises(ModelUnavailableError) as caught:
        get_classifier("tiny-org/not-downloaded")
    assert str(caught.value) == ("The model 'tiny-org/not-downloaded' can't be loaded here: needs network: "
                                 "tiny-org/not-downloaded is not in the local Hugging Face cache.")
    for name in ("resnet-50", "vit-base"):
        assert model_spec(name).unavailable_reason().startswith("needs network")


def test_an_explicit_task_overrides_the_config(tiny):
    model = get_classifier(tiny["nli"], task="text-classification")
    assert model.fixed_labels == ("contradiction", "neutral", "entailment")
    assert np.isfinite(model.classify(["good"]).logits).all()
