"""The token loop: prompt in, raw continuation out (before post-processing).

One token at a time on top of a decoder with a reusable cache (decoders.py), read top to bottom
in `TokenGenerator.run`:

1. healing: the first tokens must regenerate the text backed off the prompt (healing.py);
2. sampling: greedy, or temperature + nucleus (top_p) (`sample_token`, `nucleus`), optionally
   from the model mixed with a cache language model that proposes a copy's next token
   (`with_cache`);
3. stop tokens (EOS and the other special tokens);
4. loop detection: a tail that repeats a short pattern is cut and ends the generation
   (`repeated_tail`);
5. the stop rule: stop as soon as the line or block is complete (`should_stop`, made by
   server/contract.py's `stop_rule`, so no token is generated only to be cut), or at once when
   the first token is too unlikely to be shown (`min_confidence`);
6. cancellation, checked between tokens so that a superseded request gives the model back quickly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from server.contract import Cancelled, Generated, GenerationSettings, never
from server.local.decoders import Decoder
from server.local.healing import MAX_HEALED_TOKENS, HealingIndex, still_pending
from server.local.prompt import Prompt

# Loop detection: a pattern of up to MAX_PERIOD tokens repeated REPEATS times in a row.
MAX_PERIOD = 8
REPEATS = 3
# Tokens sorted for the nucleus before the whole vocabulary is (`sample_token`).
NUCLEUS_CANDIDATES = 64


# --- sampling -------------------------------------------------------------------------------


def nucleus(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """`logits` (B, vocab) with the tokens outside the top-p nucleus set to -inf: the smallest
    set of most likely tokens whose probabilities add up to `top_p`."""
    if top_p >= 1.0:
        return logits
    sorted_logits, order = torch.sort(logits, descending=True)
    sorted_probs = F.softmax(sorted_logits, dim=-1)
    # Drop a token when the tokens ranked above it already reach top_p (the first always stays).
    drop_sorted = sorted_probs.cumsum(dim=-1) - sorted_probs >= top_p
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def sample_token(
    logits: torch.Tensor,
    temperature: float,
    top_p: float,
    generator: torch.Generator | None = None,
) -> int:
    """Temperature 0 is greedy. Otherwise sample from the top-p nucleus.

    Sorting the whole vocabulary for the nucleus took as long as the model's step (0.6 of 0.76 ms
    a token, 8,192 tokens); the nucleus nearly always lies among the few most likely tokens, so
    only NUCLEUS_CANDIDATES are sorted. The same tokens with the same probabilities: where their
    mass falls short of top_p, the whole vocabulary goes through `nucleus`."""
    if temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    top_probs, top_ids = torch.topk(probs, min(NUCLEUS_CANDIDATES, probs.numel()))
    if top_p >= 1.0 or float(top_probs.sum()) < top_p:
        probs = torch.softmax(nucleus(logits.float()[None] / temperature, top_p), dim=-1)[0]
        return int(torch.multinomial(probs, 1, generator=generator))
    # Keep a token while the tokens ranked above it stay under top_p (the first always stays).
    kept = top_probs[top_probs.cumsum(dim=-1) - top_probs < top_p]
    return int(top_ids[torch.multinomial(kept, 1, generator=generator)])


def with_cache(logits: torch.Tensor, token: int, cache_weight: float) -> torch.Tensor:
    """Logits of (1 - cache_weight) * p_model + cache_weight * p_cache, where p_cache puts all
    its mass on `token`: Hellendoorn & Devanbu's mix of a neural model with a cache model of the
    project, with the copy engine's candidate as the cache (prompt-lookup decoding's draft)."""
    probs = torch.softmax(logits.float(), dim=-1) * (1.0 - cache_weight)
    probs[token] += cache_weight
    return torch.log(probs)


def next_on_guide(guide: Sequence[int], output: list[int]) -> int | None:
    """The guide's next token while `output` is its start; None once the generation has left it
    or it has ended (then the cache proposes nothing)."""
    if len(output) < len(guide) and list(guide[: len(output)]) == output:
        return guide[len(output)]
    return None


def restrict(logits: torch.Tensor, allowed: tuple[int, ...]) -> torch.Tensor:
    """Logits where only the `allowed` ids can be chosen."""
    masked = torch.full_like(logits, float("-inf"))
    index = torch.tensor(allowed, device=logits.device)
    masked[index] = logits[index]
    return masked


# --- loop detection and the stop rule --------------------------------------------------------


def repeated_tail(ids: Sequence[int]) -> int:
    """How many tokens at the end of `ids` repeat a pattern already there (0 when none).

    Small models fall into repeating the same few tokens (`x, x, x, x, ...`): a tail that repeats
    a short pattern three times in a row is cut back to its first occurrence, and generation stops
    there instead of running to `maxNewTokens`."""
    for period in range(1, MAX_PERIOD + 1):
        span = period * REPEATS
        if len(ids) < span:
            break
        tail = ids[-span:]
        if all(tail[i] == tail[i % period] for i in range(span)):
            return span - period
    return 0


# --- the loop --------------------------------------------------------------------------------


class TokenGenerator:
    def __init__(
        self,
        kv_cache: Decoder,
        decode: Callable[[list[int]], str],
        token_texts: list[str],
        healing: HealingIndex,
        stop_ids: frozenset[int],
    ) -> None:
        self._kv = kv_cache
        self._decode = decode
        self._token_texts = token_texts
        self._healing = healing
        self._stop_ids = stop_ids
        self._comment_ids = torch.tensor(
            [i for i, text in enumerate(token_texts) if text.lstrip(" \t\r\n").startswith("#")],
            dtype=torch.long,
        )

    def _without_comments(self, logits: torch.Tensor) -> torch.Tensor:
        """`logits` where no token that starts a comment can be chosen (unless nothing else can)."""
        masked = logits.clone()
        masked[self._comment_ids] = float("-inf")
        return masked if torch.isfinite(masked).any() else logits

    def run(
        self,
        prompt: Prompt,
        settings: GenerationSettings,
        should_stop: Callable[[str], bool],
        cancelled: Callable[[], bool] = never,
        generator: torch.Generator | None = None,
        line_start: bool = False,
        min_confidence: float = 0.0,
        guide: Sequence[int] = (),
    ) -> Generated:
        """Generate after `prompt`; `line_start`: the cursor has only indentation before it.
        A first token less likely than `min_confidence` ends the generation with nothing (the
        choice would not show it: no token is generated only to be thrown away).

        `guide`: the tokens of a copy candidate (healed text included); while the tokens
        generated so far are its first ones, `settings.cache_weight` of the probability goes to
        its next token (`with_cache`), and the confidence is the mix's. Once the generation
        leaves it, or it ends, the model alone decides."""
        if cancelled():
            raise Cancelled
        logits, reused = self._kv.prefill(prompt.ids)
        pending = prompt.healed
        output: list[int] = []
        log_probs: list[float] = []  # the model's own, of each token in `output`
        text = ""
        confidence = None
        limit = settings.max_new_tokens + (MAX_HEALED_TOKENS if prompt.healed else 0)
        for _ in range(limit):
            if cancelled():
                raise Cancelled
            model_logits = logits
            cached = next_on_guide(guide, output) if settings.cache_weight > 0 else None
            if cached is not None:
                logits = with_cache(logits, cached, settings.cache_weight)
            if pending:
                allowed = self._healing.allowed(pending)
                if not allowed:  # a vocabulary that cannot spell the healed text
                    break
                logits = restrict(logits, allowed)
            no_code_yet = not text.strip()  # decoded after each token already
            if line_start and no_code_yet and not settings.comments_at_line_start:
                logits = self._without_comments(logits)
            token = sample_token(logits, settings.temperature, settings.top_p, generator)
            if confidence is None and not pending:
                confidence = float(torch.softmax(logits.float(), dim=-1)[token])
                if confidence < min_confidence:
                    text = ""  # not even a healed token's tail: nothing is shown
                    break
            if token in self._stop_ids:
                break
            output.append(token)
            log_probs.append(float(torch.log_softmax(model_logits.float(), dim=-1)[token]))
            pending = still_pending(pending, self._token_texts[token])
            if not pending:
                looping = repeated_tail(output)
                if looping:
                    del output[-looping:], log_probs[-looping:]
                text = self._decode(output)[len(prompt.healed) :]
                if looping or should_stop(text):
                    break
            logits = self._kv.step(token)
        log_prob = sum(log_probs) / len(log_probs) if log_probs else None
        return Generated(text, len(prompt.ids), reused, len(output), confidence, log_prob)
