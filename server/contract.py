"""The engine contract: what every source of suggestions takes, returns and shares.

An engine (the local model in server/local/, a remote server in server/remote/, and any later
one) answers a `CompletionRequest` with a `Completion` through the async `Engine` protocol. The
language server, the completion service and the model host see only this protocol: they never ask
which engine they hold.

What engines share sits here too, so that each applies it the same way: the settings of one
generation, the stop rule (stop as soon as the line or block is complete), `finish` (raw text to
suggestion through the post-processing rules) and `Cancelled`.

This module sits under everything else and imports nothing heavy (no torch, no transformers,
no httpx): the settings, the answer cache and the remote engines load without the model's
dependencies.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from server.postprocess import EditContext, postprocess
from server.postprocess.keep_first_line import keep_first_line
from server.postprocess.limit_scope import block_end
from server.snippets import Snippet


class Cancelled(Exception):
    """The request was cancelled or superseded while generating."""


@dataclass(frozen=True)
class GenerationSettings:
    """One generation's settings. The defaults are the ones the server serves (ServerSettings
    takes them from here), so whatever builds an engine with the defaults runs what users get."""

    temperature: float = 0.2
    top_p: float = 0.95
    max_new_tokens: int = 48
    # `never`: stop at the end of the first line; `always`: a block unless mid-line; `auto`: a
    # block on an empty line or after a block opener. Decided once per request
    # (EditContext.for_request).
    multiline: str = "auto"
    # Prompt budget in tokens; None: the engine's own (server/local/engine.py's
    # LOCAL_CONTEXT_TOKENS, server/remote/engine.py's REMOTE_CONTEXT_TOKENS). Always capped by
    # the model's window.
    context_tokens: int | None = None
    # Give the model the code after the cursor. Post-processing always sees it either way. Off by
    # default: the shipped model completes lines better from the prefix alone (edit similarity at
    # a statement start 29.7 with the prefix alone against 19.2 with the FIM prompt, stage 3 in
    # models/default/README.md), and without the suffix each keystroke re-runs fewer tokens.
    use_suffix: bool = False
    # At the start of a line (nothing but indentation before the cursor), may the suggestion be
    # a comment? Small models babble comments there ("# The name is a string is a string"): on
    # held-out code 44 % of the shipped model's statement-start suggestions were comments, at
    # edit similarity 20 against 31 for its code suggestions. Off: code is suggested instead.
    comments_at_line_start: bool = False
    # The share of the prompt budget that repository context (CompletionRequest.snippets) may
    # take: a remote engine's budget; a context-trained local model gets what it was trained
    # with (its config's `repo_context_chars`), within this share of its window. 0.5 leaves the
    # local model its 600 trained characters (~200 tokens of a 512-token window).
    context_share: float = 0.5
    # The cache language model's weight in the token loop (1 - lambda of Hellendoorn & Devanbu's
    # mix): while the text generated so far follows the first of CompletionRequest.candidates,
    # that much probability goes to the candidate's next token (server/local/token_loop.py).
    # 0: the model alone. Measured against the selector by benchmarks/fit_choice.py.
    cache_weight: float = 0.0


def never() -> bool:
    """The `cancelled` of a request nobody cancels."""
    return False


@dataclass(frozen=True)
class CompletionRequest:
    """One suggestion to make: the text around the cursor and how to generate.

    `cancelled()` turns true once the request is superseded or cancelled; an engine checks it
    while it works and raises `Cancelled`. `uri` names the document (None outside an editor), for
    engines that look beyond the text around the cursor. `snippets` is repository context
    (server/retrieval.py), least similar first, for engines that read it (EngineInfo.context);
    `path` is the document's workspace-relative path, which the context names.
    `min_confidence`: a suggestion whose first token is less likely than this will not be shown
    (server/choice.py), so an engine that knows its confidence may stop there and answer "".
    `candidates`: texts the copy engine proposes at the cursor, for an engine that can score them
    (Completion.candidate_scores) or mix them in (GenerationSettings.cache_weight).
    `enough_score`: a candidate scored at least this will be shown whatever the engine writes,
    so an engine that scores the candidates first may answer with the scores alone."""

    prefix: str
    suffix: str
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    cancelled: Callable[[], bool] = never
    uri: str | None = None
    snippets: tuple[Snippet, ...] = ()
    path: str | None = None
    min_confidence: float = 0.0
    candidates: tuple[str, ...] = ()
    enough_score: float | None = None

    def edit_context(self) -> EditContext:
        """The context the stop rule and post-processing see (its line mode decided here)."""
        return EditContext.for_request(self.prefix, self.suffix, self.settings.multiline)


@dataclass(frozen=True)
class Generated:
    """What an engine generated, before post-processing."""

    text: str  # the continuation after any healed text
    prompt_tokens: int
    reused_tokens: int  # prompt tokens whose key/values came from the previous request
    new_tokens: int
    # The model's probability of its first token past the healed text (None where an engine
    # does not say): mid-line, it separates right suggestions from wrong ones (server/choice.py).
    confidence: float | None = None
    # Mean log-probability per token of what was generated, healed text included (None where an
    # engine does not say): what a copy candidate's score is compared with (server/choice.py).
    log_prob: float | None = None


@dataclass(frozen=True)
class Completion:
    text: str  # the suggestion, post-processed; "" when nothing useful
    prompt_tokens: int
    reused_tokens: int
    new_tokens: int
    seconds: float
    # Why an engine gave no answer (unreachable, bad answer); such an empty answer is not cached,
    # so the suggestion comes once the engine is back.
    fault: str | None = None
    confidence: float | None = None  # Generated.confidence
    log_prob: float | None = None  # Generated.log_prob
    # The model's mean log-probability per token of each of CompletionRequest.candidates (None
    # for a text it cannot score); None from an engine that cannot score (a remote one).
    candidate_scores: tuple[float | None, ...] | None = None
    source: str = "model"  # who wrote it: "model", or "copy" with where from (server/choice.py)


@dataclass(frozen=True)
class EngineInfo:
    """What the status report and the log say about an engine."""

    name: str  # how messages call it, e.g. "engine llamacpp at http://127.0.0.1:8080"
    source: str  # the model directory, or the remote engine's kind, address and model
    ready: str  # the line that says it serves, e.g. "model ready on cpu (...)"
    device: str  # where it runs: a torch device, or "remote"
    decoder: str | None  # what runs the local model (server/local/decoders.py); None elsewhere
    fim: bool  # whether the code after the cursor can reach the model
    fault: str | None = None  # why it cannot answer right now; None while it can
    # The LSP language ids it writes well; None: any (a remote code model). The copy engine
    # serves every language whatever this says.
    languages: frozenset[str] | None = None
    # Whether it puts CompletionRequest.snippets into its prompt (a remote engine, a local model
    # trained for it); the server retrieves none for an engine that does not.
    context: bool = False


class Engine(Protocol):
    """A source of suggestions. `complete` must not block the event loop (the local model runs
    in a worker thread, remote engines stream on the loop)."""

    async def complete(self, request: CompletionRequest) -> Completion:
        """The suggestion for `request`. Raises Cancelled when `request.cancelled()` turns true."""
        ...

    def describe(self) -> EngineInfo: ...

    async def aclose(self) -> None:
        """Release what the engine holds (worker threads, connections)."""
        ...


def stop_rule(ctx: EditContext) -> Callable[[str], bool]:
    """A test on the text generated so far: True once the suggestion is complete (the same tests
    post-processing applies afterwards, so no token is generated only to be cut)."""
    if ctx.multiline:
        return lambda text: block_end(text, ctx) is not None
    return lambda text: keep_first_line(text, ctx) != text


def finish(
    generated: Generated, ctx: EditContext, started: float, fault: str | None = None
) -> Completion:
    """The suggestion for `generated` at the spot described by `ctx`, timed from `started`
    (time.perf_counter): the same ordered post-processing rules for every engine."""
    return Completion(
        text=postprocess(generated.text, ctx),
        prompt_tokens=generated.prompt_tokens,
        reused_tokens=generated.reused_tokens,
        new_tokens=generated.new_tokens,
        seconds=time.perf_counter() - started,
        fault=fault,
        confidence=generated.confidence,
        log_prob=generated.log_prob,
    )
