"""`--max_train_minutes`: fit a run to the time the machine has, not to a guessed step count.

On a CPU a step takes what the machine gives it (other jobs, thermal limits, a slower CPU than
last time), so a step count fixed in advance either stops early with the learning rate still high
or runs long. This callback makes the schedule a function of wall-clock time instead: linear
warm-up, then cosine decay to `min_ratio` of the peak exactly when the budget is spent, and then
it stops the run (with a final save). The Trainer's own scheduler is set to `constant`, so the
rate this callback sets is the one each optimizer step uses.
"""

from __future__ import annotations

import math
import time

from transformers import TrainerCallback


def time_schedule(fraction: float, warmup: float, min_ratio: float = 0.1) -> float:
    """The learning-rate multiplier at `fraction` (0-1) of the time budget."""
    if fraction < warmup:
        return fraction / warmup
    progress = min(1.0, (fraction - warmup) / max(1e-9, 1.0 - warmup))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


class TimeBudget(TrainerCallback):
    def __init__(self, minutes: float, peak_lr: float, warmup: float = 0.03) -> None:
        self.seconds = minutes * 60
        self.peak_lr = peak_lr
        self.warmup = warmup
        self.started = time.monotonic()

    def fraction(self) -> float:
        return (time.monotonic() - self.started) / self.seconds

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.monotonic()

    def on_step_begin(self, args, state, control, optimizer=None, **kwargs):
        if optimizer is not None:
            lr = self.peak_lr * time_schedule(self.fraction(), self.warmup)
            for group in optimizer.param_groups:
                group["lr"] = lr

    def on_step_end(self, args, state, control, **kwargs):
        if self.fraction() >= 1.0:
            control.should_training_stop = True
            control.should_save = True

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs is not None and "learning_rate" in logs:  # the Trainer reports its constant
            logs["learning_rate"] = self.peak_lr * time_schedule(self.fraction(), self.warmup)
