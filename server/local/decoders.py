"""The decoders: what runs the model token by token over a reusable key/value cache.

- `lean` (lean_gpt2.py): GPT-2's forward in plain tensor operations, float32; the default for
  GPT-2 models on the CPU.
- `onnx` (onnx_gpt2.py): the same step exported to ONNX Runtime with int8 matrices, about 3x
  faster a token; optional (`pip install "nanopilot[onnx]"`), tokens close to float32's.
- `huggingface` (kv_cache.py): the model's own forward; any model, any device.

`auto` is lean where it applies, else huggingface. The `decoder` setting (and `--decoder`)
chooses; the choices are in options.py.
"""

from __future__ import annotations

import importlib.util
from typing import Protocol

import torch

from server.errors import UserError
from server.local.kv_cache import PrefixKVCache
from server.local.lean_gpt2 import LeanKVCache, supports


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
    if choice == "lean" or (choice == "auto" and supports(model, device)):
        return LeanKVCache(model)
    return PrefixKVCache(model, device)
