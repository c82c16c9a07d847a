"""What this CPU computes natively: decides the training dtype and heads every benchmark.

bf16 autocast is ~2.6x faster than float32 where the CPU has bf16 instructions (AVX512-BF16 or
AMX) and ~20x slower where they are emulated (AVX2, or AVX-512 without BF16): the choice must
follow the CPU, never a fixed flag. Machines differ from one run to the next, so benchmarks print
`describe_cpu()` and compare paths only within one run.
"""

from __future__ import annotations

import platform
from functools import cache
from pathlib import Path

import torch

BF16_FLAGS = ("avx512_bf16", "amx_bf16")
SHOWN_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile")


@cache
def cpu_flags() -> frozenset[str]:
    """The feature flags of the first CPU in /proc/cpuinfo (empty where there is none)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def native_bf16() -> bool:
    """True when this CPU computes bfloat16 matrix products in hardware."""
    flags = cpu_flags()
    if flags:
        return any(flag in flags for flag in BF16_FLAGS)
    return platform.machine() == "arm64" and torch.backends.mps.is_available()  # Apple silicon


def describe_cpu() -> str:
    """One line: model name, core count, the flags that matter, torch's kernel level."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    shown = [flag for flag in SHOWN_FLAGS if flag in cpu_flags()]
    import os

    return (
        f"{name}, {os.cpu_count()} cores, flags: {' '.join(shown) or 'n/a'}, "
        f"torch kernels {torch.backends.cpu.get_cpu_capability()}, "
        f"bf16 {'native' if native_bf16() else 'emulated (float32 is used)'}"
    )
