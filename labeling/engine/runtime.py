"""Where and how a model runs: device selection, half precision, and the CPU backend (eager torch or ONNX Runtime).

On CUDA models run in torch, in half precision. On CPU each model declares the backend measured
fastest for it (bench/autolabel_throughput.py); ONNX Runtime runs a graph exported from the same
torch module at load time, in memory, so both backends share one set of weights and one
preprocessing path. ``MODELSHIP_DEVICE`` (auto/cpu/cuda) and ``MODELSHIP_CPU_BACKEND``
(torch/onnx) override the choice.
"""

from __future__ import annotations

import importlib.util
import io
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Literal

Backend = Literal["torch", "onnx"]
BACKENDS: tuple[Backend, ...] = ("torch", "onnx")
UNKNOWN_BACKEND = "Unknown backend {name!r}; use one of: {available}."


def hub_downloads_allowed() -> bool:
    """Whether models may be downloaded from the Hugging Face hub (MODELSHIP_HUB_DOWNLOADS=1); off by default."""
    return os.environ.get("MODELSHIP_HUB_DOWNLOADS") == "1"


def stay_offline() -> None:
    """Keep huggingface_hub off the network unless downloads are allowed (read when it is first imported)."""
    if not hub_downloads_allowed():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def threads_per_process(processes: int) -> int:
    """CPU threads each of ``processes`` model-running processes should use: the usable cores shared out."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, processes))


def configure_threads(threads: int) -> None:
    """CPU threads for every model loaded after this call (torch, and ONNX Runtime sessions, which follow torch).
    Cheap before torch is imported (it reads the variables when it starts); a worker running N processes on
    C cores should give each C // N (``threads_per_process``)."""
    threads = max(1, threads)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


_spinning = {"allowed": True}


def configure_spinning(allowed: bool) -> None:
    """Whether ONNX Runtime's threads may spin while they wait for work, in sessions opened after this call
    for models whose inputs take real work to prepare (``onnx_session(..., heavy_inputs=True)``: images).
    Spinning suits a process that does nothing but run the model (the bare loop); a worker prepares the
    next batch (decodes its images) on a thread during the forward pass, and spinning threads take the
    core that thread needs: off in worker processes (1,000 images through the pipeline: 143 items/s off,
    130 on; docs/benchmarks.md). Texts need no such thread, and keep spinning (it is faster for them)."""
    _spinning["allowed"] = allowed


def select_device(preference: str | None = None) -> str:
    """'cuda' when a GPU is present, else 'cpu'; an explicit preference or MODELSHIP_DEVICE wins."""
    choice = (preference or os.environ.get("MODELSHIP_DEVICE") or "auto").lower()
    if choice == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return choice


def uses_half_precision(device: str) -> bool:
    return device.startswith("cuda")


def onnxruntime_installed() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None


def select_backend(device: str, preferred_on_cpu: Backend, override: str | None = None) -> Backend:
    """The backend a model runs on: torch on GPUs; on CPU the override, MODELSHIP_CPU_BACKEND or the model's own
    measured preference, falling back to torch when ONNX Runtime isn't installed."""
    if not device.startswith("cpu"):
        return "torch"
    choice = (override or os.environ.get("MODELSHIP_CPU_BACKEND") or preferred_on_cpu).lower()
    if choice not in BACKENDS:
        raise ValueError(UNKNOWN_BACKEND.format(name=choice, available=", ".join(BACKENDS)))
    if choice == "onnx" and not onnxruntime_installed():
        return "torch"
    return choice


def onnx_session(module, example_inputs: tuple, *, input_names: Sequence[str], output_names: Sequence[str],
                 dynamic_axes: dict[str, dict[int, str]], heavy_inputs: bool = False):
    """Export ``module`` (in eval mode, float32, on CPU) to ONNX in memory and open an ONNX Runtime session on it."""
    import onnxruntime
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, example_inputs, buffer, input_names=list(input_names),
                          output_names=list(output_names), dynamic_axes=dynamic_axes, opset_version=17,
                          dynamo=False)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()  # one knob for both backends
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if heavy_inputs and not _spinning["allowed"]:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
