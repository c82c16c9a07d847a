"""The model's log-probability of a text after the prompt: how it scores a copy candidate.

The copy engine (server/project/) proposes what followed the same tokens elsewhere in the user's
code; whether the model finds that text likely at the cursor is a signal the selector
(server/choice.py) weighs against the model's own suggestion. Scoring costs one forward pass over
the candidate's tokens on the key/value cache the prompt left: `prefill` of the prompt reuses all
but its last token, `extend` runs the candidate's tokens and returns the logits after each.

The text scored is the healed text plus the candidate (prompt.py backed the prompt off its last
token boundary; the model's own suggestion regenerates that text too), tokenised together, so the
candidate is scored as the model would have written it. The score is the mean log-probability per
token, the unit in which `Generated.log_prob` measures the model's own suggestion.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from server.local.decoders import Decoder
from server.local.prompt import Prompt


def token_log_probs(decoder: Decoder, context: list[int], continuation: list[int]) -> torch.Tensor:
    """log p(continuation[i] | context, continuation[:i]) for each i, in one pass after `context`
    (which must not be empty)."""
    first, _ = decoder.prefill(context)
    rows = [first[None]]
    if len(continuation) > 1:
        rows.append(decoder.extend(continuation[:-1]))
    log_probs = torch.log_softmax(torch.cat(rows).float(), dim=-1)
    return log_probs[torch.arange(len(continuation)), torch.tensor(continuation)]


def score_candidate(
    decoder: Decoder,
    encode: Callable[[str], list[int]],
    prompt: Prompt,
    candidate: str,
    max_tokens: int,
) -> float | None:
    """Mean log-probability per token of the healed text and `candidate` after `prompt` (their
    first `max_tokens` tokens, which the window has room for); None when both are empty."""
    ids = encode(prompt.healed + candidate)[:max_tokens]
    if not ids:
        return None
    return float(token_log_probs(decoder, prompt.ids, ids).mean())
