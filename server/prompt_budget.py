"""How much text goes into a prompt: one rule for the local model and every remote engine.

The budget: the `contextTokens` setting (else the engine's own default), never more than the
context window leaves once the new tokens have room. A FIM prompt spends three tokens on its
markers, and its suffix may take a quarter of the rest, at most MAX_SUFFIX_TOKENS: in the
prefix-suffix-middle order every keystroke changes the prefix, so the suffix after it is run again
on each request, and a short suffix (the next few lines) keeps that cheap.

Repository context (server/retrieval.py) may take `contextShare` of a budget (`context_budget`):
a remote engine's prefix gets what the context leaves; a context-trained local model's context
comes on top of its prefix's budget, within its window, capped by the same share of it.

The cut keeps the text nearest the cursor: the end of the prefix and the start of the suffix. It
drops in coarse steps (a quarter of the budget at a time) rather than exactly what overflows, and
at a line start, so that while the user types consecutive prompts keep the same start and the
key/value cache of the previous prompt (ours, or the remote server's) stays reusable.
"""

from __future__ import annotations

from server.contract import GenerationSettings

FIM_TOKENS = 3  # <fim_prefix>, <fim_suffix>, <fim_middle>
MAX_SUFFIX_TOKENS = 64
MIN_PROMPT_TOKENS = 4


def coarse_cut(length: int, keep: int) -> int:
    """How many items to drop from the start so at most `keep` remain, rounded up to keep // 4."""
    excess = length - keep
    if excess <= 0:
        return 0
    step = max(keep // 4, 1)
    return -(-excess // step) * step


def cut_prefix(prefix: str, max_chars: int) -> str:
    """The end of `prefix`, at most `max_chars` long, cut in coarse steps at a line start."""
    start = coarse_cut(len(prefix), max_chars)
    if start:
        line_start = prefix.find("\n", start)
        start = line_start + 1 if line_start >= 0 else start
    return prefix[start:]


def room(window: int, settings: GenerationSettings, reserved: int = 0) -> int:
    """Prompt tokens that leave room in a `window`-token context for the new tokens and
    `reserved` more (healed tokens, FIM markers)."""
    return window - settings.max_new_tokens - reserved


def prompt_tokens(settings: GenerationSettings, default: int, room: int | None = None) -> int:
    """The prompt budget: `contextTokens`, else the engine's `default`; capped by `room` when
    the window is known."""
    tokens = settings.context_tokens or default
    return tokens if room is None else max(min(room, tokens), MIN_PROMPT_TOKENS)


def context_budget(budget: int, settings: GenerationSettings) -> int:
    """The part of `budget` (tokens or characters) that repository context may take."""
    return int(settings.context_share * budget)


def suffix_share(budget: int, cap: int | None = MAX_SUFFIX_TOKENS) -> int:
    """The part of a FIM prompt's `budget` (markers left out) that the suffix may take: a
    quarter, at most `cap` (None: no cap, for a budget counted in characters)."""
    share = max(budget, 0) // 4
    return share if cap is None else min(share, cap)


def prompt_suffix(suffix: str, settings: GenerationSettings) -> str:
    """The suffix the prompt gets: none unless `useSuffix` (post-processing still sees it)."""
    return suffix if settings.use_suffix else ""
