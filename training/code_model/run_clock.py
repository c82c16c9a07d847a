"""Training time that survives `--resume`, stored in every checkpoint beside the Trainer's state.

The Trainer reports its runtime only at the end of a run, and a resumed run starts its clock
again. This callback keeps the cumulative seconds of training per step, so quality can be plotted
against training time from any checkpoint (`benchmarks/finetune.py`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from transformers import TrainerCallback

from training.atomic import write_json

CLOCK_FILE = "run_clock.json"


def read_clock(checkpoint: str | Path | None) -> dict:
    path = Path(checkpoint) / CLOCK_FILE if checkpoint else None
    if path is not None and path.is_file():
        return json.loads(path.read_text())
    return {"train_seconds": 0.0, "history": []}


class RunClock(TrainerCallback):
    """Adds up training seconds across runs; `history` holds (step, seconds) at every log."""

    def __init__(self, resumed_from: str | Path | None = None, tokens_per_step: int = 0) -> None:
        clock = read_clock(resumed_from)
        self.previous_seconds = clock["train_seconds"]
        self.history: list[list[float]] = clock["history"]
        self.tokens_per_step = tokens_per_step
        self.started = time.monotonic()

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.monotonic()

    @property
    def train_seconds(self) -> float:
        return self.previous_seconds + time.monotonic() - self.started

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.history.append([state.global_step, round(self.train_seconds, 2)])

    def on_save(self, args, state, control, **kwargs):
        checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if checkpoint.is_dir():
            write_json(checkpoint / CLOCK_FILE, self.as_dict(state.global_step))

    def as_dict(self, step: int) -> dict:
        return {
            "step": step,
            "train_seconds": round(self.train_seconds, 2),
            "tokens_seen": step * self.tokens_per_step,
            "history": self.history,
        }
