"""The decoders: what runs the model token by token over a reusable key/value cache.

- `onnx` (onnx_gpt2.py): GPT-2's step exported to ONNX Runtime with int8 matrices, about 3x
  faster a token than float32; the default for GPT-2 models on the CPU.
- `lean` (lean_gpt2.py): the same forward in plain tensor operations, float32.
- `huggingface` (kv_cache.py): the model's own forward; any model, any device.

`auto` is onnx where it applies, else huggingface: on held-out code the int8 step scores within
one standard error of float32 (docs/benchmarks.md), and only it meets the latency goals on both
CPU kinds. Where ONNX Runtime is missing or the export fails, `auto` falls back to lean and says
so in the log. The `decoder` setting (and `--decoder`) chooses; the choices are in options.py.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Protocol

import torch

from server.errors import UserError
from server.local.kv_cache import PrefixKVCache
from server.local.lean_gpt2 import LeanKVCache, supports

logger = logging.getLogger(__name__)


class Decoder(Protocol):
    name: str  # as the `decoder` setting spells it
    ids: list[int]  # the tokens whose keys and values the cache holds

    def reset(self) -> None: ...

    def prefill(self, prompt: list[int]) -> tuple[torch.Tensor, int]:
        """Next-token logits after `prompt`, and how many of its tokens were reused."""
        ...

    def step(self, token: int) -> torch.Tensor:
        """Next-token logits after one more token."""
        ...

    def extend(self, ids: list[int]) -> torch.Tensor:
        """The logits after each of `ids` (len(ids), vocab), run after the cache in one pass:
        what scoring a text costs (scoring.py)."""
        ...


def installed(choice: str) -> bool:
    """Whether `choice`'s optional dependencies are installed (only onnx has any)."""
    return choice != "onnx" or importlib.util.find_spec("onnxruntime") is not None


def decoder_for(model: torch.nn.Module, device: torch.device, choice: str = "auto") -> Decoder:
    """The decoder `choice` names for this model; a UserError when it cannot run it."""
    if choice in ("lean", "onnx") and not supports(model, device):
        raise UserError(f"the {choice} decoder runs GPT-2 models on the CPU only: use auto")
    if choice == "onnx":
        from server.local.onnx_gpt2 import OnnxKVCache  # its dependencies are optional

        return OnnxKVCache(model)
    if choice == "auto" and supports(model, device):
        return fastest_cpu_decoder(model)
    if choice == "lean":
        return LeanKVCache(model)
    return PrefixKVCache(model, device)


def fastest_cpu_decoder(model: torch.nn.Module) -> Decoder:
    """onnx, or lean where ONNX Runtime is missing or cannot take this model."""
    if not installed("onnx"):
        logger.warning("decoder auto: onnxruntime is not installed, running float32 (lean)")
        return LeanKVCache(model)
    from server.local.onnx_gpt2 import OnnxKVCache

    try:
        return OnnxKVCache(model)
    except Exception as err:  # an export or runtime failure must not cost the suggestions
        logger.warning("decoder auto: the onnx decoder failed (%s), running float32 (lean)", err)
        return LeanKVCache(model)
