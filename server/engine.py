"""The completion engine: model directory in, suggestion text out.

The one code path from (text before the cursor, text after it) to the suggestion, shared by the
language server, its demo, the latency benchmark and `training.evaluate`, so that what is
measured is what is served. `complete_detailed` reads straight through:

    settings -> EditContext (line mode decided once) -> prompt.py (truncate, FIM, heal)
        -> generation.py (the token loop: sampling, loop detection, stop rule) over
           a decoder (decoders.py: lean float32, onnx int8, or the Hugging Face forward)
        -> postprocess/ (ordered pure rules, via engines/base.py `finish`, as remote engines do)

A lock around the model makes it safe to call from several threads (one at a time runs).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import torch

from server.decoders import decoder_for
from server.devices import resolve_device
from server.engines.base import Completion, finish
from server.errors import UserError
from server.fim import fim_token_ids
from server.generation import Cancelled, GenerationSettings, TokenGenerator, stop_rule
from server.healing import MAX_HEALED_TOKENS, HealingIndex
from server.postprocess import EditContext
from server.prompt import Prompt, PromptBuilder
from server.saved_model import load_saved_model

__all__ = ["Cancelled", "Completion", "CompletionEngine", "GenerationSettings"]

# The local model's default prompt budget. Held-out evaluation of the shipped model (300 cases
# per cursor kind, same cases): statement ES 29.6 / mid-line 32.9 with 256 tokens, 29.7 / 32.2
# with the whole window (~460), 29.5 / 32.9 with 128; and a fresh spot's prompt pass takes half
# the time. The `contextTokens` setting raises it (up to the window).
LOCAL_CONTEXT_TOKENS = 256


class CompletionEngine:
    def __init__(
        self, model, tokenizer, device: torch.device, model_dir: Path, decoder: str = "auto"
    ) -> None:
        self.model_dir = model_dir
        self.device = device
        self._lock = threading.Lock()
        self._context_window = int(getattr(model.config, "max_position_embeddings", 1024))
        backend = tokenizer.backend_tokenizer
        backend.encode_special_tokens = True  # "<fim_middle>" typed in a file is just text
        vocab_size = max(len(tokenizer), model.get_output_embeddings().weight.shape[0])
        token_texts = backend.decode_batch(
            [[token_id] for token_id in range(vocab_size)], skip_special_tokens=False
        )
        special_ids = frozenset(tokenizer.all_special_ids)
        fim = fim_token_ids(tokenizer)
        self.is_fim = fim is not None
        eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
        healing = HealingIndex(token_texts, special_ids)
        self._prompts = PromptBuilder(
            lambda text: backend.encode(text, add_special_tokens=False).ids,
            healing,
            fim,
            start_id=eos,
        )
        kv_cache = decoder_for(model, device, decoder)
        self.decoder = kv_cache.name  # which decoder `decoder` resolved to
        self._generator = TokenGenerator(
            kv_cache,
            lambda ids: backend.decode(ids, skip_special_tokens=False),
            token_texts,
            healing,
            stop_ids=special_ids | {eos},
        )

    @classmethod
    def load(
        cls, model_dir: str | Path, device: str = "auto", decoder: str = "auto"
    ) -> CompletionEngine:
        """Load a `save_pretrained` directory to run with `decoder` (decoders.py). UserError when
        it is missing or unreadable, or the decoder cannot run it."""
        model_dir = Path(model_dir)
        resolved = resolve_device(device)
        model, tokenizer = load_saved_model(model_dir, resolved)
        if getattr(tokenizer, "backend_tokenizer", None) is None:
            raise UserError(f"the tokenizer in {model_dir} is not a fast (tokenizers) tokenizer")
        return cls(model, tokenizer, resolved, model_dir, decoder)

    def prompt_budget(self, settings: GenerationSettings) -> int:
        """Prompt tokens that leave room for the new tokens in the model's context window."""
        room = self._context_window - settings.max_new_tokens - MAX_HEALED_TOKENS
        return max(min(room, settings.context_tokens or LOCAL_CONTEXT_TOKENS), 4)

    def prompt_for(
        self, prefix: str, suffix: str, settings: GenerationSettings, heal: bool = True
    ) -> Prompt:
        """The prompt `complete` would run (for measurements that bypass the engine)."""
        prompt_suffix = suffix if settings.use_suffix else ""
        return self._prompts.build(prefix, prompt_suffix, self.prompt_budget(settings), heal)

    def edit_context(self, prefix: str, suffix: str, settings: GenerationSettings) -> EditContext:
        """The context `complete` gives the stop rule and post-processing (its line mode)."""
        return EditContext.for_request(prefix, suffix, settings.multiline)

    def complete_detailed(
        self,
        prefix: str,
        suffix: str,
        settings: GenerationSettings,
        *,
        cancelled: Callable[[], bool] | None = None,
        heal: bool = True,
    ) -> Completion:
        """Like `complete`, with the token counts and time. Raises Cancelled when `cancelled()`.
        `heal=False` skips token healing (as engines that cannot heal, e.g. llama.cpp)."""
        started = time.perf_counter()
        ctx = self.edit_context(prefix, suffix, settings)
        with self._lock:
            prompt = self.prompt_for(prefix, suffix, settings, heal)
            line_start = not ctx.line_prefix.strip()
            generated = self._generator.run(
                prompt, settings, stop_rule(ctx), cancelled, line_start=line_start
            )
        return finish(generated, ctx, started)

    def complete(
        self,
        prefix: str,
        suffix: str,
        settings: GenerationSettings,
        *,
        cancelled: Callable[[], bool] | None = None,
    ) -> str:
        """The suggestion to show at the cursor between `prefix` and `suffix` ("" if none)."""
        return self.complete_detailed(prefix, suffix, settings, cancelled=cancelled).text
