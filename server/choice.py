"""What to show: a copy from the user's own code, the model's suggestion, or nothing.

Two sources propose the rest of the line. The copy engine (server/project/) looks up the tokens
before the cursor in the open documents and the workspace and proposes what followed them there;
the engine (the local model or a remote one) writes its own. Issue 19 measured that a copy of at
least 4 matching tokens beats the 5M model by 10+ points of edit similarity, and that showing
nothing beats showing a suggestion that is wrong from its first character.

The choice, in order:
1. A copy whose match is long enough wins outright: the model is not asked (no latency).
2. Else a shorter copy that the model itself finds likely: its mean log-probability per token
   (scored by the engine on the prompt's key/value cache, server/local/scoring.py) reaches a
   floor, or comes near that of the engine's own suggestion (where that one could be shown).
   A remote engine cannot score: this step never applies to it.
3. Else the engine's suggestion, if the engine serves this language and is confident enough:
   mid-line, its first token's probability separates right from wrong; at a statement start it
   does not, so there the filter's floor is what decides.
4. Else a shorter copy, if the filter takes copies that short.
5. Else nothing.

The thresholds come from `benchmarks/fit_choice.py` (held-out packages other than the ones the
evaluation scores); the `filter` setting picks conservative, balanced or eager.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

from server.contract import (
    Completion,
    CompletionRequest,
    Engine,
    EngineInfo,
    Generated,
    finish,
)
from server.postprocess.context import line_prefix
from server.project import Candidate, ProjectIndex
from server.retrieval import Retriever

FILTERS = ("conservative", "balanced", "eager")


@dataclass(frozen=True)
class Thresholds:
    """One filter setting. Token counts are the copy's match length in lexer tokens."""

    copy_outright: int  # a copy this long is shown without asking the engine
    copy_fallback: int  # a copy this long is shown when the engine's suggestion is not
    statement_confidence: float  # the engine's first-token probability needed at a statement start
    midline_confidence: float  # ... and mid-line
    # A copy the engine scored (Completion.candidate_scores: mean log-probability per token) is
    # shown in place of the engine's suggestion when its score reaches `copy_likely`, or is at
    # most `copy_margin` below the suggestion's own (Completion.log_prob). None: not used, and
    # the engine is not asked to score.
    copy_likely: float | None = None
    copy_margin: float | None = None

    def scores_copies(self) -> bool:
        """Whether the choice uses the engine's score of a copy (so the engine must score it)."""
        return self.copy_likely is not None or self.copy_margin is not None


# Fitted by benchmarks/fit_choice.py on the shipped model (benchmarks/results/fit-choice.json:
# 300 cases per cursor kind from onnx, onnx-ir, onnxruntime and protobuf; a copy is never
# shorter than the index's 4 tokens). Balanced: a copy of 8+ tokens wins outright; one of 4-7
# is shown unless the model finds it very unlikely (mean log-probability per token below -4), so
# the model is asked for those too. It keeps suggestions wrong from their first character to
# 45 % / 22 % of cases (statement start / mid-line; the model alone: 52 / 41) at edit similarity
# 41.3 / 50.2 (the model alone: 28.6 / 43.0; the previous balanced, (4, 4, 0.15, 0.7) without the
# score: 40.1 / 48.2). Eager stays unfiltered (the refit's 0.05 mid-line floor and the score
# gained it only +0.5 / +0.6).
THRESHOLDS: dict[str, Thresholds] = {
    "conservative": Thresholds(8, 8, 0.8, 0.9, copy_likely=-2.0),
    "balanced": Thresholds(8, 4, 0.1, 0.6, copy_likely=-4.0),
    "eager": Thresholds(4, 4, 0.0, 0.0),
}


def copy_wins_outright(thresholds: Thresholds, copy_tokens: int) -> bool:
    """A copy so long that the engine is not asked."""
    return copy_tokens > 0 and copy_tokens >= thresholds.copy_outright


def confidence_needed(thresholds: Thresholds, statement: bool) -> float:
    """The engine's first-token probability below which its suggestion is not shown."""
    return thresholds.statement_confidence if statement else thresholds.midline_confidence


def copy_score(completion: Completion | None) -> float | None:
    """The engine's score of the copy (the request's one candidate); None where it gave none."""
    scores = completion.candidate_scores if completion is not None else None
    return scores[0] if scores else None


def copy_likely_enough(thresholds: Thresholds, score: float | None, own: float | None) -> bool:
    """The copy's score (None: not scored) reaches the floor, or comes within the margin of
    `own`, the score of the engine's suggestion (None: none that could be shown)."""
    if score is None:
        return False
    if thresholds.copy_likely is not None and score >= thresholds.copy_likely:
        return True
    margin = thresholds.copy_margin
    return margin is not None and own is not None and score >= own - margin


def choose_after_model(
    thresholds: Thresholds, copy_tokens: int, statement: bool, completion: Completion | None
) -> str:
    """ "model", "copy" or "nothing", once the engine answered (`completion`; None: not asked)."""
    needed = confidence_needed(thresholds, statement)
    showable = (  # an engine that does not say how sure it is is trusted
        completion is not None
        and bool(completion.text)
        and (completion.confidence is None or completion.confidence >= needed)
    )
    own = completion.log_prob if showable else None
    if copy_tokens > 0 and copy_likely_enough(thresholds, copy_score(completion), own):
        return "copy"
    if showable:
        return "model"
    if copy_tokens > 0 and copy_tokens >= thresholds.copy_fallback:
        return "copy"
    return "nothing"


def with_context(
    request: CompletionRequest, engine: Engine, retriever: Retriever | None, scope: str
) -> CompletionRequest:
    """The request with repository context, for an engine that reads it (None: the `context`
    setting is off)."""
    if retriever is None or request.uri is None or not engine.describe().context:
        return request
    found = retriever.retrieve(request.uri, request.prefix, scope)
    return dataclasses.replace(request, snippets=found.snippets, path=found.path)


@dataclass
class ChoiceLog:
    """What the last suggestion was made from, for the `nanopilot.lastContext` command."""

    last: dict = field(default_factory=dict)


def cursor_of(prefix: str) -> tuple[int, int]:
    """(line, column in code points) of the end of `prefix`: the index's coordinates."""
    return prefix.count("\n"), len(line_prefix(prefix))


def copy_completion(candidate: Candidate, request: CompletionRequest, started: float) -> Completion:
    """The candidate as a suggestion, through the same post-processing as an engine's text."""
    generated = Generated(candidate.text, 0, 0, 0)
    completion = finish(generated, request.edit_context(), started)
    return dataclasses.replace(completion, source=f"copy:{candidate.scope}")


@dataclass
class ChoosingEngine:
    """An `Engine` for one request: the copy candidates and `engine` (None: none serves this
    document's language, or none is loaded yet), one answer or none."""

    index: ProjectIndex
    engine: Engine | None
    scope: str  # the `index` setting: off, file, tabs, workspace
    thresholds: Thresholds
    log: ChoiceLog
    retriever: Retriever | None = None  # None: no repository context (the `context` setting)

    async def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        copy = self._best_copy(request)
        copy_tokens = copy.tokens if copy else 0
        if copy_wins_outright(self.thresholds, copy_tokens):
            return self._chosen(request, copy_completion(copy, request, started), copy)
        statement = not line_prefix(request.prefix).strip()
        shown_copy = copy_completion(copy, request, started) if copy else None
        if self.engine is not None:
            request = with_context(request, self.engine, self.retriever, self.scope)
            # A suggestion below the floor is not shown: the engine may stop at its first token.
            needed = confidence_needed(self.thresholds, statement)
            request = dataclasses.replace(request, min_confidence=needed)
            if shown_copy is not None and shown_copy.text and self.thresholds.scores_copies():
                # Scored at least copy_likely, the copy is shown: the engine need not generate.
                enough = self.thresholds.copy_likely
                request = dataclasses.replace(
                    request, candidates=(shown_copy.text,), enough_score=enough
                )
        completion = await self.engine.complete(request) if self.engine else None
        if completion is not None and completion.fault is not None:
            return completion  # an engine that is down: not cached, asked again later
        choice = choose_after_model(self.thresholds, copy_tokens, statement, completion)
        if choice == "model":
            return self._chosen(request, completion, copy)
        if choice == "copy":
            chosen = dataclasses.replace(shown_copy, seconds=time.perf_counter() - started)
        else:
            chosen = Completion("", 0, 0, 0, time.perf_counter() - started, source="nothing")
        if completion is not None:  # the model ran: its work is counted all the same
            chosen = dataclasses.replace(
                chosen,
                prompt_tokens=completion.prompt_tokens,
                reused_tokens=completion.reused_tokens,
                new_tokens=completion.new_tokens,
            )
        return self._chosen(request, chosen, copy, completion)

    def _best_copy(self, request: CompletionRequest) -> Candidate | None:
        if self.scope == "off" or request.uri is None:
            return None
        line, column = cursor_of(request.prefix)
        candidates = self.index.lookup(request.uri, line, column, scope=self.scope)
        return candidates[0] if candidates else None

    def _chosen(
        self,
        request: CompletionRequest,
        chosen: Completion,
        copy: Candidate | None,
        declined: Completion | None = None,
    ) -> Completion:
        self.log.last = {
            "uri": request.uri,
            "cursor": cursor_of(request.prefix),
            "source": chosen.source,
            "text": chosen.text,
            "copy": None
            if copy is None
            else {
                "text": copy.text,
                "tokens": copy.tokens,
                "scope": copy.scope,
                "from": f"{copy.uri}:{copy.line + 1}",
                "places": copy.count,
            },  # fmt: skip
            "context": [
                {"path": snippet.path, "first_line": snippet.text.strip().split("\n")[0]}
                for snippet in request.snippets
            ],
            "declined_model_text": declined.text if declined else None,
            "confidence": (declined or chosen).confidence,
            "copy_score": copy_score(declined or chosen),
        }
        return chosen

    def describe(self) -> EngineInfo:
        if self.engine is not None:
            return self.engine.describe()
        return EngineInfo("copy engine", "the open documents", "ready", "cpu", None, False)

    async def aclose(self) -> None:
        """Nothing to release: the index and the engine outlive the request."""
