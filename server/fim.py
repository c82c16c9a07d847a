"""Fill-in-the-middle (FIM): the special tokens a FIM-trained model knows.

A FIM model sees `<fim_prefix>PREFIX<fim_suffix>SUFFIX<fim_middle>MIDDLE<eos>` (the
prefix-suffix-middle order of Bavarian et al. 2022, with StarCoder's token names), so at serving
time it can be given the code after the cursor as well as before it. `training.finetune` adds
these tokens when `--fim_rate > 0`; the server and the evaluation detect them with `fim_token_ids`.
The names live here, on the serving side, because the server must recognise them without
importing training code; the training transform (`training.code_model.fim`) reuses them.
"""

from __future__ import annotations

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
