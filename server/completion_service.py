"""Serving one suggestion request, in stages: typing-through, the answer cache, the engine, and
the bookkeeping of what the engine answered.

The language server counts the request (lsp.py); here the outcome is counted: a cache hit, a
cancellation, or a generation with its token counts, then the answer's latency.

The engine (server/contract.py's `Engine`) never blocks the event loop, so other messages
(`didChange`, `$/cancelRequest`, newer requests) are read while it works. A newer request for the
same document supersedes an older one: the older one's `cancelled()` turns true and its
generation stops (at the next token, or the next poll of a remote stream).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import threading
import time

from server.answer_cache import AnswerCache, TypingThrough
from server.contract import Cancelled, Completion, CompletionRequest, Engine, GenerationSettings
from server.settings import ServerSettings
from server.stats import ServerStats

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Answer:
    text: str  # the suggestion; "" when there is none
    source: str  # who wrote it: "typing", "cache" or the engine's Completion.source


class CompletionService:
    def __init__(self, stats: ServerStats) -> None:
        self.stats = stats
        self.answers = AnswerCache()
        self.typing = TypingThrough()
        self._sequence = itertools.count(1)
        self._latest: dict[str, int] = {}

    def forget(self, uri: str) -> None:
        self.typing.forget(uri)
        self._latest.pop(uri, None)

    def clear(self) -> None:
        """Forget cached answers (after a model or settings change)."""
        self.answers = AnswerCache()
        self.typing = TypingThrough()

    async def suggest(
        self, engine: Engine, uri: str, prefix: str, suffix: str, settings: ServerSettings
    ) -> Answer | None:
        """The suggestion (its text "" when there is none); None when superseded or cancelled."""
        started = time.perf_counter()
        request = self._request(uri, prefix, suffix, settings.generation)
        text, source = self._typed_through(request), "typing"
        if text is None:
            text, source = self._cached(request), "cache"
        if text is None:
            completion = await self._generate(engine, request)
            if completion is None:
                return None
            text, source = self._keep(request, completion), completion.source
        self.stats.record((time.perf_counter() - started) * 1000)
        return Answer(text, source)

    def _request(
        self, uri: str, prefix: str, suffix: str, settings: GenerationSettings
    ) -> CompletionRequest:
        """The request, superseded as soon as a newer one for the same document arrives."""
        sequence = next(self._sequence)
        self._latest[uri] = sequence

        def superseded() -> bool:
            return self._latest.get(uri) != sequence

        return CompletionRequest(prefix, suffix, settings, superseded, uri)

    def _typed_through(self, request: CompletionRequest) -> str | None:
        """The rest of the suggestion shown last, when the user typed its beginning."""
        answer = self.typing.rest(request.uri, request.prefix, request.suffix)
        if answer is not None:
            self.stats.typing_hits += 1
        return answer

    def _cached(self, request: CompletionRequest) -> str | None:
        """A recent answer for the very same text and settings."""
        answer = self.answers.get(request.prefix, request.suffix, request.settings)
        if answer is not None:
            self.stats.lru_hits += 1
            self.typing.remember(request.uri, request.prefix, request.suffix, answer)
        return answer

    async def _generate(self, engine: Engine, request: CompletionRequest) -> Completion | None:
        """The engine's answer; None when superseded. `$/cancelRequest` (the task cancelled)
        also stops a generation that runs in a worker thread."""
        stop = threading.Event()
        superseded = request.cancelled
        request = dataclasses.replace(request, cancelled=lambda: stop.is_set() or superseded())
        try:
            return await engine.complete(request)
        except asyncio.CancelledError:
            stop.set()
            self.stats.cancelled += 1
            raise
        except Cancelled:
            self.stats.cancelled += 1
            return None

    def _keep(self, request: CompletionRequest, completion: Completion) -> str:
        """Count a generation and cache its answer. An answer the engine could not give (a
        fault) is neither: the suggestion is asked for again once the engine is back."""
        if completion.fault is None:
            self.stats.sources[completion.source if completion.text else "nothing"] += 1
            if completion.prompt_tokens:  # the model ran (a copy or nothing may not need it)
                self.stats.record_generation(
                    completion.prompt_tokens, completion.reused_tokens, completion.new_tokens
                )
            self.answers.put(request.prefix, request.suffix, request.settings, completion.text)
            self.typing.remember(request.uri, request.prefix, request.suffix, completion.text)
        return completion.text
