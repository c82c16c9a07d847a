"""The local engine: a model directory in, suggestions out, as server/contract.py's `Engine`.

The one code path from a request (text before the cursor, text after it) to the suggestion,
shared by the language server, its demo, the latency benchmark and `training.evaluate`, so that
what is measured is what is served. `complete_sync` reads straight through:

    request -> EditContext (line mode decided once) -> prompt.py (budget, FIM, heal)
        -> scoring.py (the copy candidates' log-probabilities, when the request has any;
           one scored `enough_score` or more makes the generation needless)
        -> token_loop.py (sampling, loop detection, stop rule) over
           a decoder (decoders.py: lean float32, onnx int8, or the Hugging Face forward)
        -> contract.finish (the post-processing rules, as for every engine)

`complete` runs the same in the engine's single worker thread (one model, one key/value cache),
so the event loop keeps reading messages meanwhile. A lock around the model makes `complete_sync`
safe to call from several threads (one at a time runs).
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from server.contract import (
    Cancelled,
    Completion,
    CompletionRequest,
    EngineInfo,
    Generated,
    GenerationSettings,
    finish,
    stop_rule,
)
from server.errors import UserError
from server.fim import fim_token_ids
from server.local.decoders import decoder_for
from server.local.devices import resolve_device
from server.local.healing import MAX_HEALED_TOKENS, HealingIndex
from server.local.prompt import Prompt, PromptBuilder
from server.local.saved_model import load_saved_model
from server.local.scoring import score_candidate
from server.local.token_loop import TokenGenerator
from server.prompt_budget import context_budget, prompt_suffix, prompt_tokens, room
from server.snippets import CONTEXT_FORMAT, Snippet, fit, format_context

# The local model's default prompt budget. Held-out evaluation of the shipped model (300 cases
# per cursor kind, same cases): statement ES 29.6 / mid-line 32.9 with 256 tokens, 29.7 / 32.2
# with the whole window (~460), 29.5 / 32.9 with 128; and a fresh spot's prompt pass takes half
# the time. The `contextTokens` setting raises it (up to the window).
LOCAL_CONTEXT_TOKENS = 256


# What nanopilot's models are trained on (training/code_model/sources.py reads Python); a model
# trained on more says so in its config as `languages` (LSP language ids).
TRAINED_LANGUAGES = ("python",)


def enough(scores: tuple[float | None, ...] | None, floor: float | None) -> bool:
    """Whether a candidate scored at least `floor` (None: no floor)."""
    return floor is not None and any(s is not None and s >= floor for s in scores or ())


class CompletionEngine:
    def __init__(
        self, model, tokenizer, device: torch.device, model_dir: Path, decoder: str = "auto"
    ) -> None:
        self.model_dir = model_dir
        self.device = device
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanopilot-model")
        self._context_window = int(getattr(model.config, "max_position_embeddings", 1024))
        self.languages = frozenset(getattr(model.config, "languages", None) or TRAINED_LANGUAGES)
        # Characters of repository context the model was trained to read (server/snippets.py);
        # 0 for a model trained without it: it gets none.
        trained_for_context = getattr(model.config, "repo_context", None) == CONTEXT_FORMAT
        self.context_chars = (
            int(getattr(model.config, "repo_context_chars", 0) or 0) if trained_for_context else 0
        )
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
        self._encode = lambda text: backend.encode(text, add_special_tokens=False).ids
        self._prompts = PromptBuilder(
            self._encode,
            healing,
            fim,
            start_id=eos,
        )
        self._decoder = decoder_for(model, device, decoder)
        self.decoder = self._decoder.name  # which decoder `decoder` resolved to
        self._generator = TokenGenerator(
            self._decoder,
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
        """Prompt tokens: the budget, within what the window leaves the new (and healed) tokens."""
        return prompt_tokens(settings, LOCAL_CONTEXT_TOKENS, self._room(settings))

    def _room(self, settings: GenerationSettings) -> int:
        return room(self._context_window, settings, MAX_HEALED_TOKENS)

    def context_for(
        self, snippets: tuple[Snippet, ...], path: str | None, settings: GenerationSettings
    ) -> str:
        """The context text before the prefix: the snippets that fill the trained characters,
        fewer while they take more than `context_share` of the window; "" for an old model."""
        if not self.context_chars or not snippets:
            return ""
        most = context_budget(self._room(settings), settings)
        chosen = fit(snippets, self.context_chars)
        while chosen:
            context = format_context(chosen, path or "untitled")
            if self._prompts.token_count(context) <= most:
                return context
            chosen = chosen[1:]  # the least similar goes first
        return ""

    def prompt_for(
        self,
        prefix: str,
        suffix: str,
        settings: GenerationSettings,
        heal: bool = True,
        snippets: tuple[Snippet, ...] = (),
        path: str | None = None,
    ) -> Prompt:
        """The prompt `complete` would run (for measurements that bypass the engine)."""
        return self._prompts.build(
            prefix,
            prompt_suffix(suffix, settings),
            self.prompt_budget(settings),
            heal,
            self.context_for(snippets, path, settings),
            self._room(settings),
        )

    def complete_sync(self, request: CompletionRequest, heal: bool = True) -> Completion:
        """`complete` in the calling thread, for callers without an event loop (the demo, the
        benchmarks, the evaluation). Raises Cancelled when `request.cancelled()`. `heal=False`
        skips token healing, to compare with engines that cannot heal (llama.cpp)."""
        started = time.perf_counter()
        ctx = request.edit_context()
        with self._lock:
            prompt = self.prompt_for(
                request.prefix,
                request.suffix,
                request.settings,
                heal,
                request.snippets,
                request.path,
            )
            # The candidates first: one good enough to be shown makes the generation needless
            # (which then reuses the prompt's cache all the same).
            scores = self._scores(prompt, request) if request.candidates else None
            if enough(scores, request.enough_score):
                generated = Generated("", len(prompt.ids), 0, 0)
            else:
                mixed = bool(request.candidates) and request.settings.cache_weight > 0
                generated = self._generator.run(
                    prompt,
                    request.settings,
                    stop_rule(ctx),
                    request.cancelled,
                    line_start=not ctx.line_prefix.strip(),
                    min_confidence=request.min_confidence,
                    guide=self._encode(prompt.healed + request.candidates[0]) if mixed else (),
                )
        return dataclasses.replace(finish(generated, ctx, started), candidate_scores=scores)

    def _scores(self, prompt: Prompt, request: CompletionRequest) -> tuple[float | None, ...]:
        """The model's mean log-probability per token of each candidate after `prompt`, as far
        as the window leaves room (the new and healed tokens' room)."""
        most = request.settings.max_new_tokens + MAX_HEALED_TOKENS
        scores = []
        for candidate in request.candidates:
            if request.cancelled():
                raise Cancelled
            scores.append(score_candidate(self._decoder, self._encode, prompt, candidate, most))
        return tuple(scores)

    async def complete(self, request: CompletionRequest) -> Completion:
        """The suggestion, generated in the engine's worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self.complete_sync, request)

    def describe(self) -> EngineInfo:
        kind = "fill-in-the-middle" if self.is_fim else "left-to-right"
        return EngineInfo(
            name=f"model {self.model_dir}",
            source=str(self.model_dir),
            ready=f"model ready on {self.device} ({kind}, {self.decoder} decoder)",
            device=str(self.device),
            decoder=self.decoder,
            fim=self.is_fim,
            languages=self.languages,
            context=self.context_chars > 0,
        )

    async def aclose(self) -> None:
        """Let the worker thread end once its generation (if any) is done; the model itself is
        left to the garbage collector."""
        self._worker.shutdown(wait=False)
