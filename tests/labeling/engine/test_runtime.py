"""Device and CPU backend selection (labeling/engine/runtime.py)."""

import pytest

from labeling.engine import runtime


def test_device_is_cpu_without_a_gpu_and_the_environment_can_pin_it(monkeypatch):
    import torch

    monkeypatch.delenv("MODELSHIP_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.select_device() == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.select_device() == "cuda"
    monkeypatch.setenv("MODELSHIP_DEVICE", "cpu")
    assert runtime.select_device() == "cpu"
    assert runtime.select_device("cuda:1") == "cuda:1"


def test_half_precision_only_on_gpus():
    assert runtime.uses_half_precision("cuda") and runtime.uses_half_precision("cuda:0")
    assert not runtime.uses_half_precision("cpu")


def test_backend_is_torch_on_gpus_and_the_measured_one_on_cpu(monkeypatch):
    monkeypatch.delenv("MODELSHIP_CPU_BACKEND", raising=False)
    monkeypatch.setattr(runtime, "onnxruntime_installed", lambda: True)
    assert runtime.select_backend("cuda", "onnx") == "torch"
    assert runtime.select_backend("cpu", "onnx") == "onnx"
    assert runtime.select_backend("cpu", "onnx", "torch") == "torch"
    monkeypatch.setenv("MODELSHIP_CPU_BACKEND", "torch")
    assert runtime.select_backend("cpu", "onnx") == "torch"
    monkeypatch.delenv("MODELSHIP_CPU_BACKEND")
    monkeypatch.setattr(runtime, "onnxruntime_installed", lambda: False)
    assert runtime.select_backend("cpu", "onnx") == "torch"  # falls back where ONNX Runtime is missing
    with pytest.raises(ValueError, match="Unknown backend 'tensorrt'; use one of: torch, onnx."):
        runtime.select_backend("cpu", "tensorrt")
