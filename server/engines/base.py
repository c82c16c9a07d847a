"""What every engine shares: the result type and the post-processing around raw generation.

An engine's own job is only "prompt in, raw text out, stop when `should_stop(text)`"; `finish`
turns that raw text into the suggestion with the same ordered post-processing rules for all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from server.generation import Generated
from server.postprocess import EditContext, postprocess


@dataclass(frozen=True)
class Completion:
    text: str  # the suggestion, post-processed; "" when nothing useful
    raw: str  # what the model generated, before post-processing
    prompt_tokens: int
    reused_tokens: int
    new_tokens: int
    seconds: float
    # Why a remote engine gave no answer (unreachable, bad answer); such an empty answer is
    # not cached, so the suggestion comes once the engine is back.
    fault: str | None = None


def finish(
    generated: Generated, ctx: EditContext, started: float, fault: str | None = None
) -> Completion:
    """The suggestion for `generated` (raw text and counts) at the spot described by `ctx`."""
    return Completion(
        text=postprocess(generated.text, ctx),
        raw=generated.text,
        prompt_tokens=generated.prompt_tokens,
        reused_tokens=generated.reused_tokens,
        new_tokens=generated.new_tokens,
        seconds=time.perf_counter() - started,
        fault=fault,
    )
