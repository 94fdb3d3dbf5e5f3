"""Device and CPU backend selection (labeling/engine/runtime.py)."""

import os

import numpy as np
import pytest

from labeling.engine import runtime
from labeling.engine.runtime import onnxruntime_installed


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


@pytest.mark.skipif(not onnxruntime_installed(), reason="ONNX Runtime is not installed")
def test_in_worker_processes_image_sessions_sleep_instead_of_spinning(monkeypatch):
    import torch

    from labeling.engine import runtime
    from modelship.celery import threads_configure

    def session(heavy_inputs=True):
        return runtime.onnx_session(torch.nn.Linear(3, 2).eval(), (torch.zeros(2, 3),), input_names=["x"],
                                    output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                                    heavy_inputs=heavy_inputs)

    def spinning(sess) -> bool:
        try:
            return sess.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") != "0"
        except Exception as exc:  # not set: ONNX Runtime's default, spinning
            assert "allow_spinning" in str(exc)
            return True

    assert spinning(session())
    threads = torch.get_num_threads()
    for name in runtime.THREAD_VARIABLES:  # configure_threads sets them: put them back afterwards
        monkeypatch.setenv(name, os.environ.get(name, ""))
    try:
        threads_configure()  # what each worker pool process runs before loading a model
        images = session()
        assert not spinning(images)
        assert images.run(None, {"x": np.ones((4, 3), dtype=np.float32)})[0].shape == (4, 2)
        assert spinning(session(heavy_inputs=False))  # texts: nothing is prepared beside the forward pass
    finally:
        runtime.configure_spinning(True)
        torch.set_num_threads(threads)
