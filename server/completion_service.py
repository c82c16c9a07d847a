"""Serving one suggestion request: caches first, then the model in a worker thread.

The language server counts the request (lsp.py); here the outcome is counted: a cache hit, a
cancellation, or a generation with its token counts, then the answer's latency.

The event loop never runs the model: generation goes to a single worker thread (one model, one
key/value cache), so other messages (`didChange`, `$/cancelRequest`, newer requests) are read
while it runs. A newer request for the same document supersedes an older one: the older one's
`cancelled()` turns true and its generation stops at the next token.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from server.answer_cache import AnswerCache, TypingThrough
from server.engine import Cancelled, CompletionEngine
from server.engines.remote import RemoteEngine
from server.settings import ServerSettings
from server.stats import ServerStats

logger = logging.getLogger(__name__)


class CompletionService:
    def __init__(self, stats: ServerStats) -> None:
        self.stats = stats
        self.answers = AnswerCache()
        self.typing = TypingThrough()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanopilot-model")
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
        self,
        engine: CompletionEngine | RemoteEngine,
        uri: str,
        prefix: str,
        suffix: str,
        settings: ServerSettings,
    ) -> str | None:
        """The suggestion, "" when there is none, None when superseded or cancelled."""
        started = time.perf_counter()
        generation = settings.generation
        sequence = next(self._sequence)
        self._latest[uri] = sequence

        answer = self.typing.rest(uri, prefix, suffix)
        typed_through = answer is not None
        if typed_through:
            self.stats.typing_hits += 1
        else:
            answer = self.answers.get(prefix, suffix, generation)
            if answer is not None:
                self.stats.lru_hits += 1
        if answer is None:
            stop = threading.Event()

            def cancelled() -> bool:
                return stop.is_set() or self._latest.get(uri) != sequence

            try:
                if isinstance(engine, RemoteEngine):  # streams on the event loop, no thread
                    completion = await engine.complete(
                        prefix, suffix, generation, cancelled=cancelled
                    )
                else:
                    job = partial(
                        engine.complete_detailed, prefix, suffix, generation, cancelled=cancelled
                    )
                    loop = asyncio.get_running_loop()
                    completion = await loop.run_in_executor(self._executor, job)
            except asyncio.CancelledError:  # $/cancelRequest: stop the worker too
                stop.set()
                self.stats.cancelled += 1
                raise
            except Cancelled:
                self.stats.cancelled += 1
                return None
            answer = completion.text
            if completion.fault is not None:  # not cached: ask again once the engine is back
                self.stats.record((time.perf_counter() - started) * 1000)
                return answer
            self.stats.record_generation(
                completion.prompt_tokens, completion.reused_tokens, completion.new_tokens
            )
            self.answers.put(prefix, suffix, generation, answer)
        if not typed_through:
            self.typing.remember(uri, prefix, suffix, answer)
        self.stats.record((time.perf_counter() - started) * 1000)
        return answer
