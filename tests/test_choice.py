"""server/choice.py: a copy, the engine's suggestion, or nothing."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from server.choice import (
    THRESHOLDS,
    ChoiceLog,
    ChoosingEngine,
    Thresholds,
    choose_after_model,
    copy_likely_enough,
    copy_wins_outright,
    cursor_of,
)
from server.contract import Completion, CompletionRequest, EngineInfo
from server.project import ProjectIndex

STRICT = Thresholds(copy_outright=8, copy_fallback=4, statement_confidence=0.5,
                    midline_confidence=0.5)  # fmt: skip
SCORING = dataclasses.replace(STRICT, copy_likely=-1.0, copy_margin=0.5)
TAB = "def area(width, height):\n    return width * height * SCALE_FACTOR\n"


class ScriptedEngine:
    """Answers one text with one confidence (and, given `scores`, its own mean log-probability
    and the candidates' scores, as the local engine does), and keeps the requests."""

    def __init__(
        self,
        text: str,
        confidence: float | None,
        fault: str | None = None,
        scores: tuple[float, float] | None = None,  # (its own, each candidate's)
    ) -> None:
        self.text, self.confidence, self.fault, self.scores = text, confidence, fault, scores
        self.requests: list[CompletionRequest] = []

    @property
    def calls(self) -> int:
        return len(self.requests)

    @property
    def min_confidence(self) -> float:
        return self.requests[-1].min_confidence

    async def complete(self, request: CompletionRequest) -> Completion:
        self.requests.append(request)
        own, candidate = self.scores or (None, None)
        candidate_scores = (candidate,) * len(request.candidates) if self.scores else None
        return Completion(self.text, 5, 0, 3, 0.01, self.fault, self.confidence, own,
                          candidate_scores=candidate_scores)  # fmt: skip

    def describe(self) -> EngineInfo:
        return EngineInfo("scripted", "test", "ready", "cpu", None, False)

    async def aclose(self) -> None:
        pass


def answer(engine, typed: str, thresholds: Thresholds = STRICT, tab: str = TAB):
    index = ProjectIndex(scan_thread=False)
    index.open("file:///tab.py", tab, "python")
    index.open("file:///new.py", typed, "python")
    log = ChoiceLog()
    chooser = ChoosingEngine(index, engine, "tabs", thresholds, log)
    request = CompletionRequest(typed, "", uri="file:///new.py")
    return asyncio.run(chooser.complete(request)), log.last


def test_the_cursor_is_counted_in_lines_and_code_points():
    assert cursor_of("a = 1\nb = 'é") == (1, 6)


def test_thresholds_decide_in_order():
    model = Completion("x", 0, 0, 0, 0.0, confidence=0.9)
    unsure = Completion("x", 0, 0, 0, 0.0, confidence=0.1)
    assert copy_wins_outright(STRICT, 8) and not copy_wins_outright(STRICT, 7)
    assert not copy_wins_outright(STRICT, 0)
    assert choose_after_model(STRICT, 5, False, model) == "model"
    assert choose_after_model(STRICT, 5, False, unsure) == "copy"
    assert choose_after_model(STRICT, 3, False, unsure) == "nothing"
    assert choose_after_model(STRICT, 0, True, None) == "nothing"
    says_nothing = Completion("x", 0, 0, 0, 0.0, confidence=None)  # a remote engine
    assert choose_after_model(STRICT, 0, False, says_nothing) == "model"


def test_every_filter_is_defined_and_stricter_ones_ask_more():
    assert set(THRESHOLDS) == {"conservative", "balanced", "eager"}
    eager, conservative = THRESHOLDS["eager"], THRESHOLDS["conservative"]
    assert conservative.midline_confidence >= eager.midline_confidence
    assert conservative.copy_fallback >= eager.copy_fallback


def test_a_long_copy_wins_without_asking_the_engine():
    engine = ScriptedEngine("height", 0.99)
    completion, last = answer(engine, "def area(width, height):\n    return width")
    assert (completion.text, completion.source) == (" * height * SCALE_FACTOR", "copy:tab")
    assert engine.calls == 0
    assert last["copy"]["from"] == "file:///tab.py:2"


def test_a_confident_engine_beats_a_short_copy():
    engine = ScriptedEngine(" + 1", 0.9)
    completion, _ = answer(engine, "def g(a):\n    return width *")
    assert (completion.text, completion.source) == (" + 1", "model")
    assert engine.calls == 1


@pytest.mark.parametrize("confidence", [0.1, 0.49])
def test_an_unsure_engine_gives_way_to_a_short_copy_or_to_nothing(confidence):
    engine = ScriptedEngine(" + 1", confidence)
    completion, _ = answer(engine, "def g(a):\n    return width *")
    assert completion.source == "copy:tab" and completion.text == " height * SCALE_FACTOR"
    completion, last = answer(engine, "def g(a):\n    value = a.")
    assert (completion.text, completion.source) == ("", "nothing")
    assert completion.prompt_tokens == 5  # the model ran: its work is still counted
    assert last["declined_model_text"] == " + 1" and last["confidence"] == confidence


def test_the_engine_is_told_the_confidence_below_which_it_will_not_be_shown():
    engine = ScriptedEngine(" + 1", 0.9)
    lenient = Thresholds(8, 4, statement_confidence=0.2, midline_confidence=0.6)
    answer(engine, "def g(a):\n    ", lenient)
    assert engine.min_confidence == 0.2
    answer(engine, "def g(a):\n    value = a.", lenient)
    assert engine.min_confidence == 0.6


def test_an_engine_fault_is_passed_on_so_it_is_not_cached():
    engine = ScriptedEngine("", None, fault="unreachable")
    completion, _ = answer(engine, "def g(a):\n    value = a.")
    assert completion.fault == "unreachable"


def test_without_an_engine_only_copies_are_shown():
    completion, _ = answer(None, "def g(a):\n    return width *")
    assert completion.source == "copy:tab"
    completion, _ = answer(None, "def g(a):\n    value = a.")
    assert completion.text == ""


def scored(text: str, confidence: float, own: float, copy: float | None) -> Completion:
    return Completion(text, 0, 0, 0, 0.0, confidence=confidence, log_prob=own,
                      candidate_scores=None if copy is None else (copy,))  # fmt: skip


def test_a_copy_the_model_finds_likely_comes_before_its_own_suggestion():
    assert choose_after_model(SCORING, 5, False, scored("x", 0.9, -0.5, -0.8)) == "copy"  # floor
    assert choose_after_model(SCORING, 5, False, scored("x", 0.9, -0.5, -1.2)) == "model"
    assert choose_after_model(SCORING, 5, False, scored("x", 0.9, -0.9, -1.2)) == "copy"  # margin
    assert choose_after_model(SCORING, 0, False, scored("x", 0.9, -0.9, -0.1)) == "model"  # no copy
    # Without a score (a remote engine) or without the thresholds, the choice is as before.
    assert choose_after_model(SCORING, 5, False, scored("x", 0.9, -0.9, None)) == "model"
    assert choose_after_model(STRICT, 5, False, scored("x", 0.9, -0.9, -0.1)) == "model"


def test_the_margin_counts_only_against_a_suggestion_that_could_be_shown():
    """An unsure engine stops at its first token (min_confidence): no suggestion to compare."""
    unsure = scored("x", 0.1, -0.9, -1.2)
    assert not copy_likely_enough(SCORING, -1.2, None) and copy_likely_enough(SCORING, -1.2, -0.9)
    assert choose_after_model(SCORING, 3, False, unsure) == "nothing"  # shorter than the fallback
    assert choose_after_model(SCORING, 5, False, unsure) == "copy"  # the fallback, as before


def test_the_engine_scores_the_copy_only_when_the_filter_uses_the_score():
    plain = ScriptedEngine(" + 1", 0.9)
    answer(plain, "def g(a):\n    return width *")
    assert plain.requests[0].candidates == ()
    engine = ScriptedEngine(" + 1", 0.9, scores=(-0.4, -0.3))
    completion, last = answer(engine, "def g(a):\n    return width *", SCORING)
    assert engine.requests[0].candidates == (" height * SCALE_FACTOR",)
    assert engine.requests[0].enough_score == SCORING.copy_likely  # shown from there on
    assert (completion.text, completion.source) == (" height * SCALE_FACTOR", "copy:tab")
    assert last["copy_score"] == -0.3 and last["declined_model_text"] == " + 1"
