"""Fill-in-the-middle (FIM): the special tokens a FIM-trained model knows.

A FIM model sees `<fim_prefix>PREFIX<fim_suffix>SUFFIX<fim_middle>MIDDLE<eos>` (the
prefix-suffix-middle order of Bavarian et al. 2022, with StarCoder's token names), so at serving
time it can be given the code after the cursor as well as before it. `training.finetune` adds
these tokens when `--fim_rate > 0`; the server and the evaluation detect them with `fim_token_ids`.
"""

from __future__ import annotations

import random
from typing import NamedTuple

FIM_PREFIX = "<fim_prefix>"
FIM_SUFFIX = "<fim_suffix>"
FIM_MIDDLE = "<fim_middle>"
FIM_TOKENS = (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE)


class FimTokenIds(NamedTuple):
    prefix: int
    suffix: int
    middle: int


def fim_token_ids(tokenizer) -> FimTokenIds | None:
    """The ids of the three FIM tokens, or None when the tokenizer lacks any of them."""
    vocab = tokenizer.get_vocab()
    if all(token in vocab for token in FIM_TOKENS):
        return FimTokenIds(*(vocab[token] for token in FIM_TOKENS))
    return None


def to_psm(prefix: str, middle: str, suffix: str) -> str:
    """One FIM training example in prefix-suffix-middle order (the EOS is added when packing)."""
    return f"{FIM_PREFIX}{prefix}{FIM_SUFFIX}{suffix}{FIM_MIDDLE}{middle}"


def fim_transform(text: str, rng: random.Random, fim_rate: float) -> str:
    """With probability `fim_rate`, cut `text` at two random characters and reorder it as PSM.

    Cutting at characters, not tokens or lines, teaches the model to fill a gap that starts or
    ends anywhere, as the cursor does in an editor (Bavarian et al. 2022, section 4).
    """
    if rng.random() >= fim_rate:
        return text
    start, end = sorted(rng.randrange(len(text) + 1) for _ in range(2))
    return to_psm(text[:start], text[start:end], text[end:])
