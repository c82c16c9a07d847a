"""ChoosingEngine gives the engine repository context: only when the engine is asked (not for a
copy shown outright), only to an engine that reads it, and lastContext lists what it got."""

from __future__ import annotations

import dataclasses

from server.choice import THRESHOLDS, ChoiceLog, ChoosingEngine
from server.contract import Completion, CompletionRequest, EngineInfo
from server.project import ProjectIndex
from server.retrieval import Retriever

HELPERS = (
    "def load_inventory(path):\n"
    "    with open(path) as handle:\n"
    "        records = json.load(handle)\n"
    "    return [Item(record['name'], record['price']) for record in records]\n"
)
CURRENT = (
    "def main(path):\n"
    "    records = json.load(handle)\n"
    "    items = [Item(record['name'], record['price']) for record in records]\n"
    "    total = "
)


@dataclasses.dataclass
class Recorder:
    """An engine that records its requests."""

    context: bool = True
    seen: list[CompletionRequest] = dataclasses.field(default_factory=list)

    async def complete(self, request: CompletionRequest) -> Completion:
        self.seen.append(request)
        return Completion("sum(items)", 5, 0, 2, 0.0)

    def describe(self) -> EngineInfo:
        return EngineInfo("recorder", "", "ready", "cpu", None, False, context=self.context)

    async def aclose(self) -> None:
        pass


def choosing(engine: Recorder, retriever: bool = True) -> tuple[ChoosingEngine, ProjectIndex]:
    index = ProjectIndex()
    index.open("file:///w/helpers.py", HELPERS, "python")
    index.open("file:///w/main.py", CURRENT, "python")
    chooser = ChoosingEngine(
        index,
        engine,
        "tabs",
        THRESHOLDS["balanced"],
        ChoiceLog(),
        Retriever(index) if retriever else None,
    )
    return chooser, index


async def test_the_engine_gets_context_and_last_context_lists_it():
    engine = Recorder()
    chooser, _ = choosing(engine)
    await chooser.complete(CompletionRequest(CURRENT, "", uri="file:///w/main.py"))
    request = engine.seen[-1]
    assert request.path == "main.py" and request.snippets
    assert {s.path for s in request.snippets} == {"helpers.py"}
    assert chooser.log.last["context"] == [
        {"path": "helpers.py", "first_line": "def load_inventory(path):"}
    ]


async def test_no_context_for_an_engine_that_does_not_read_it_or_with_the_setting_off():
    for engine, retriever in ((Recorder(context=False), True), (Recorder(), False)):
        chooser, _ = choosing(engine, retriever)
        await chooser.complete(CompletionRequest(CURRENT, "", uri="file:///w/main.py"))
        assert engine.seen[-1].snippets == () and chooser.log.last["context"] == []


async def test_a_copy_shown_outright_asks_no_engine_and_retrieves_nothing():
    engine = Recorder()
    chooser, index = choosing(engine)
    typed = "def main(path):\n    with open(path) as handle:\n        records = json."
    index.change("file:///w/main.py", typed)
    completion = await chooser.complete(CompletionRequest(typed, "", uri="file:///w/main.py"))
    assert completion.source.startswith("copy") and engine.seen == []
    assert chooser.log.last["context"] == []
