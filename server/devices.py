"""Pick the torch device for `--device auto`, and how many CPU threads the model gets."""

from __future__ import annotations

import os

import torch

from server.errors import UserError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
# Measured (docs/benchmarks.md): fresh spots with the int8 decoder p50 46 ms on 2 threads, 104
# on 1, and 130 vs 167 with the float32 one; while typing, 1 and 2 are alike. More than 2 would
# leave the editor little on small machines.
DEFAULT_THREADS = min(2, os.cpu_count() or 1)


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` prefers CUDA, then Apple's MPS, then the CPU; an unavailable choice is a UserError."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name not in DEVICE_CHOICES and not name.startswith("cuda:"):
        raise UserError(f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {name!r} asked for but CUDA is not available; use --device cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UserError("device 'mps' asked for but it is not available; use --device cpu")
    return torch.device(name)
