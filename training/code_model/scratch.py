"""`--base_model scratch`: a byte-level BPE tokenizer trained on the corpus and a small GPT-2.

The presets trade quality for speed on a CPU. Everything scales with the time budget: on 2 cores
a model sees only a few million tokens per quarter hour, and a model that is too big for its
tokens learns less than a smaller one that sees the same data more often. So `quick` is narrow and
shallow with a short context (cheap steps, many of them), `small` is the shipped default model
(deep enough to use the context well, small enough for ~20 ms completions on 2 cores and a
≤ 20 MB bf16 safetensors file), and `tiny` exists for tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from server.fim import FIM_TOKENS

EOS_TOKEN = "<|endoftext|>"


@dataclass(frozen=True)
class ScratchPreset:
    n_layer: int
    n_embd: int
    n_head: int
    vocab_size: int
    n_positions: int


PRESETS = {
    "tiny": ScratchPreset(n_layer=2, n_embd=64, n_head=2, vocab_size=512, n_positions=256),
    "quick": ScratchPreset(n_layer=3, n_embd=192, n_head=3, vocab_size=8192, n_positions=256),
    "small": ScratchPreset(n_layer=4, n_embd=256, n_head=4, vocab_size=8192, n_positions=512),
}


def train_tokenizer(
    texts: Sequence[str], vocab_size: int, fim: bool, min_frequency: int = 2
) -> PreTrainedTokenizerFast:
    """Byte-level BPE (GPT-2's scheme: any text is encodable) trained on `texts`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    special = [EOS_TOKEN, *(FIM_TOKENS if fim else ())]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=EOS_TOKEN,
        eos_token=EOS_TOKEN,
        unk_token=EOS_TOKEN,
        pad_token=EOS_TOKEN,
        additional_special_tokens=list(FIM_TOKENS) if fim else None,
    )


def build_model(preset: ScratchPreset, tokenizer: PreTrainedTokenizerFast) -> GPT2LMHeadModel:
    """A randomly initialised GPT-2 sized by `preset`, with the tokenizer's vocabulary."""
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=preset.n_positions,
        n_embd=preset.n_embd,
        n_layer=preset.n_layer,
        n_head=preset.n_head,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        # Dropout fights overfitting, but these models see their data only a few times and
        # are far from memorising it: every bit of compute goes into learning instead.
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    return GPT2LMHeadModel(config)
