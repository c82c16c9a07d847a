"""The local model's command-line and setting choices, without torch: the settings, `--help`
and the demo's arguments read them before (or without) loading the model."""

from __future__ import annotations

import os

DECODERS = ("auto", "lean", "onnx", "huggingface")  # decoders.py
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")  # devices.py; "cuda:N" too
# Measured (docs/benchmarks.md): fresh spots with the int8 decoder p50 46 ms on 2 threads, 104
# on 1, and 130 vs 167 with the float32 one; while typing, 1 and 2 are alike. More than 2 would
# leave the editor little on small machines.
DEFAULT_THREADS = min(2, os.cpu_count() or 1)
