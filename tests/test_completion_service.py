"""The completion service's stages with a scripted engine: typing-through, the answer cache, the
engine call (superseded, cancelled, faulty) and the bookkeeping. No model: the engine is any
`Engine`, and a slow generation is one that waits until it is cancelled."""

from __future__ import annotations

import asyncio

import pytest

from server.completion_service import CompletionService
from server.contract import Cancelled, Completion, CompletionRequest, EngineInfo
from server.settings import ServerSettings
from server.stats import ServerStats

URI = "file:///work/service.py"
SETTINGS = ServerSettings()


class ScriptedEngine:
    """Answers from `answers` by prefix. A prefix in `slow` generates until it is cancelled."""

    def __init__(
        self, answers: dict[str, str], slow: tuple[str, ...] = (), fault: str | None = None
    ):
        self.answers = answers
        self.slow = slow
        self.fault = fault
        self.requests: list[CompletionRequest] = []
        self.started = asyncio.Event()

    async def complete(self, request: CompletionRequest) -> Completion:
        self.requests.append(request)
        self.started.set()
        while request.prefix in self.slow:
            if request.cancelled():
                raise Cancelled
            await asyncio.sleep(0.001)
        text = "" if self.fault else self.answers[request.prefix]
        return Completion(text, prompt_tokens=5, reused_tokens=3, new_tokens=2, seconds=0.01,
                          fault=self.fault)  # fmt: skip

    def describe(self) -> EngineInfo:
        return EngineInfo("scripted", "scripted", "ready", "nowhere", None, fim=False)

    async def aclose(self) -> None:
        pass


@pytest.fixture
def service() -> CompletionService:
    return CompletionService(ServerStats())


async def test_a_generated_answer_is_counted_and_cached(service):
    engine = ScriptedEngine({"x = ": "1"})
    assert (await service.suggest(engine, URI, "x = ", "\n", SETTINGS)).text == "1"
    (request,) = engine.requests
    assert (request.uri, request.prefix, request.suffix) == (URI, "x = ", "\n")
    assert request.settings == SETTINGS.generation and not request.cancelled()
    stats = service.stats
    assert (stats.generations, stats.prompt_tokens, stats.reused_tokens) == (1, 5, 3)
    assert stats.answered == 1 and len(stats.latencies_ms) == 1
    again = await service.suggest(engine, URI, "x = ", "\n", SETTINGS)
    assert (again.text, again.source) == ("1", "cache")
    assert len(engine.requests) == 1 and stats.lru_hits == 1 and stats.answered == 2


async def test_typing_the_suggestion_answers_without_the_engine(service):
    engine = ScriptedEngine({"y = ": "total + 1"})
    await service.suggest(engine, URI, "y = ", "\n", SETTINGS)
    typed = await service.suggest(engine, URI, "y = tot", "\n", SETTINGS)
    assert (typed.text, typed.source) == ("al + 1", "typing")
    assert len(engine.requests) == 1 and service.stats.typing_hits == 1


async def test_a_newer_request_supersedes_an_older_one(service):
    engine = ScriptedEngine({"def f():\n": "", "def f():": "\n    pass"}, slow=("def f():\n",))
    older = asyncio.ensure_future(service.suggest(engine, URI, "def f():\n", "", SETTINGS))
    await asyncio.wait_for(engine.started.wait(), 5)  # the older one is generating
    assert (await service.suggest(engine, URI, "def f():", "\n", SETTINGS)).text == "\n    pass"
    assert await asyncio.wait_for(older, 5) is None  # superseded: no answer
    assert service.stats.cancelled == 1 and service.stats.answered == 1


async def test_a_request_in_another_document_is_not_superseded(service):
    engine = ScriptedEngine({"a": "b", "c": "d"})
    assert (await service.suggest(engine, URI, "a", "", SETTINGS)).text == "b"
    assert (await service.suggest(engine, "file:///work/other.py", "c", "", SETTINGS)).text == "d"
    assert not any(request.cancelled() for request in engine.requests[1:])


async def test_cancel_request_stops_the_generation_too(service):
    engine = ScriptedEngine({}, slow=("slow",))
    task = asyncio.ensure_future(service.suggest(engine, URI, "slow", "", SETTINGS))
    await asyncio.wait_for(engine.started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert engine.requests[0].cancelled()  # a worker thread would stop at its next token
    assert service.stats.cancelled == 1 and service.stats.answered == 0


async def test_an_engine_fault_is_answered_but_neither_counted_nor_cached(service):
    engine = ScriptedEngine({"z = ": "2"}, fault="HTTP 503: busy")
    assert (await service.suggest(engine, URI, "z = ", "", SETTINGS)).text == ""
    assert (await service.suggest(engine, URI, "z = ", "", SETTINGS)).text == ""
    assert len(engine.requests) == 2  # asked again: the engine may be back
    assert service.stats.generations == 0 and service.stats.answered == 2
