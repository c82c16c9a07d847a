"""Fit the choice between a copy, the model's suggestion and nothing (server/choice.py).

    .venv/bin/python benchmarks/fit_choice.py                  # ~200 cases per cursor kind
    .venv/bin/python benchmarks/fit_choice.py --model runs/stage4 --cases 300

The cases come from held-out packages *other than* the ones `benchmarks/editor_quality.py`
scores (matplotlib and requests), so the thresholds are not fitted on the figures they are judged
by. Each case is set up as the editor quality benchmark sets it up: the package's files with every
case's line cut at its cursor, the whole file open with the rest of the line removed, up to 3
neighbouring modules open as tabs. In process, for speed: the best copy candidate of the project
index (`server.project`, scope workspace), and the model's greedy suggestion with its first-token
probability, its own mean log-probability per token and its score of the copy
(`server.local.engine`, with repository context from the same index when the model was trained to
read it). Then the alternative to choosing: the same model with the copy mixed into its token loop
as a cache language model, lambda * p_model + (1 - lambda) * p_cache, for each of LAMBDAS. All of
them are scored against the rest of the line.

Then every combination of thresholds is simulated with `server.choice`'s own decision functions,
once without the copy score's thresholds (the selector as it was) and once with them, and each
filter keeps the one with the best mean edit similarity within its limit on suggestions wrong from
their first character (statement start / mid-line):

- eager: no limit;
- balanced: 45 % / 22 % of cases (issue 19's goals are 50 % / 25 %);
- conservative: 25 % / 12 %.

Prints the CPU, each filter's thresholds with their figures against showing the model alone, the
copy alone, the current THRESHOLDS and the cache mix (alone, and under the current balanced
selector), all on the same cases in the same run, and writes benchmarks/results/fit-choice.json:
paste the thresholds into server/choice.py's THRESHOLDS when they do better.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.editor_quality import (  # noqa: E402
    EditorCase,
    build_workspace,
    case_scores,
    document,
    editor_cases,
    neighbours,
)
from benchmarks.lsp_client import position_of, relative  # noqa: E402
from nanopilot_models import DEFAULT_MODEL  # noqa: E402
from server.choice import (  # noqa: E402
    THRESHOLDS,
    Thresholds,
    choose_after_model,
    copy_completion,
    copy_score,
    copy_wins_outright,
    with_context,
)
from server.contract import Completion, CompletionRequest, GenerationSettings  # noqa: E402
from server.errors import UserError, run_cli  # noqa: E402
from server.local.engine import CompletionEngine  # noqa: E402
from server.project import IndexLimits, ProjectIndex  # noqa: E402
from server.retrieval import Retriever  # noqa: E402
from training.atomic import write_json  # noqa: E402
from training.code_model.corpus import CorpusOptions, load_corpus  # noqa: E402
from training.code_model.evaluate import is_stdlib  # noqa: E402
from training.code_model.line_completion import CURSOR_KINDS, first_line  # noqa: E402
from training.cpu_features import describe_cpu  # noqa: E402

EVALUATED = ("matplotlib", "requests")  # benchmarks/editor_quality.py's packages: never fitted on
WRONG_LIMITS = {  # filter -> the most cases wrong from the first character, % (statement, mid-line)
    "eager": (100.0, 100.0),
    "balanced": (45.0, 22.0),
    "conservative": (25.0, 12.0),
}
TOKENS = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 1000)  # 1000: never
CONFIDENCES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)
# Mean log-probability per token of a copy (Thresholds.copy_likely) and how far below the model's
# own suggestion it may be (copy_margin); None: not used.
LIKELY = (None, -0.25, -0.5, -0.75, -1.0, -1.5, -2.0, -2.5, -3.0, -4.0)
MARGINS = (None, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0)
LAMBDAS = (0.3, 0.5, 0.7, 0.9)  # the model's weight in the cache mix (cache_weight = 1 - lambda)
GREEDY = GenerationSettings(temperature=0.0)
NOTHING = {"exact_match": 0.0, "edit_similarity": 0.0, "chars_kept": 0.0, "wrong_first_char": 0.0}
METRICS = ("exact_match", "edit_similarity", "chars_kept", "wrong_first_char")


@dataclass(frozen=True)
class Answer:
    """An engine's suggestion at one case (its first line), its scores and what it said of it."""

    text: str
    scores: dict  # case_scores against the rest of the line
    confidence: float | None  # Completion.confidence
    log_prob: float | None  # Completion.log_prob


@dataclass(frozen=True)
class Observation:
    """One case: what each source would show and how good it is."""

    kind: str
    copy_tokens: int  # 0: no candidate
    copy: dict  # case_scores of the copy ("" when none)
    copy_score: float | None  # the model's mean log-probability per token of the copy
    model: Answer  # the model's greedy suggestion
    mixes: dict[str, Answer]  # lambda -> the greedy suggestion of the model mixed with the copy


def answer_of(completion: Completion, target: str) -> Answer:
    text = first_line(completion.text)
    return Answer(text, case_scores(text, target), completion.confidence, completion.log_prob)


def observe(
    engine: CompletionEngine, workspace, cases: list[EditorCase], case: EditorCase,
    limits: IndexLimits,
) -> Observation:  # fmt: skip
    """The copy candidate, the model's suggestion with its score of the copy, and the cache mix's
    suggestions at `case`, as the server would see them."""
    index = ProjectIndex(limits, scan_thread=False)
    for path in neighbours(case.path, list(workspace.cut)):
        index.open(workspace.uri(path), workspace.cut[path], "python")
    text = document(workspace, case, "file")
    uri = workspace.uri(case.path)
    index.open(uri, text, "python")
    line, column = position_of(document(workspace, case, "cursor"))
    offset = len(document(workspace, case, "cursor"))
    request = CompletionRequest(text[:offset], text[offset:], GREEDY, uri=uri)
    request = with_context(request, engine, Retriever(index), "workspace")
    candidates = index.lookup(uri, line, column, scope="workspace")
    copy = candidates[0] if candidates else None
    copy_text = copy_completion(copy, request, time.perf_counter()).text if copy else ""
    request = dataclasses.replace(request, candidates=(copy_text,) if copy_text else ())
    completion = engine.complete_sync(request)
    model = answer_of(completion, case.target)
    mixes = {
        str(weight): answer_of(engine.complete_sync(dataclasses.replace(
            request, settings=dataclasses.replace(GREEDY, cache_weight=1.0 - weight)
        )), case.target) if copy_text else model  # no copy: the mix is the model alone
        for weight in LAMBDAS
    }  # fmt: skip
    return Observation(
        case.kind,
        copy.tokens if copy else 0,
        case_scores(first_line(copy_text), case.target),
        copy_score(completion),
        model,
        mixes,
    )


Rows = list[tuple[Observation, Answer, Completion]]


def rows_of(observations: list[Observation], kind: str, engine: str = "model") -> Rows:
    """The cases of one cursor kind, each with the engine's answer (`model`, or a lambda of the
    cache mix) as server/choice.py receives it."""
    rows = []
    for o in observations:
        if o.kind == kind:
            a = o.model if engine == "model" else o.mixes[engine]
            scores = None if o.copy_score is None else (o.copy_score,)
            completion = Completion(a.text, 0, 0, 0, 0.0, confidence=a.confidence,
                                    log_prob=a.log_prob, candidate_scores=scores)  # fmt: skip
            rows.append((o, a, completion))
    return rows


def choices(rows: Rows, thresholds: Thresholds, statement: bool) -> list[tuple[str, dict]]:
    """What server/choice.py would show at each case, with its scores."""
    shown = []
    for o, a, completion in rows:
        if copy_wins_outright(thresholds, o.copy_tokens):
            shown.append(("copy", o.copy))
            continue
        choice = choose_after_model(thresholds, o.copy_tokens, statement, completion)
        shown.append((choice, {"model": a.scores, "copy": o.copy}.get(choice, NOTHING)))
    return shown


def mean_of(shown: list[tuple[str, dict]], key: str) -> float:
    return sum(scores[key] for _, scores in shown) / len(shown) if shown else 0.0


def figures_of(shown: list[tuple[str, dict]]) -> dict:
    """Mean figures (with the standard error of edit similarity) and the source split."""
    figures: dict = {key: mean_of(shown, key) for key in METRICS}
    similarity = [scores["edit_similarity"] for _, scores in shown]
    figures["edit_similarity_se"] = (
        float(np.std(similarity, ddof=1) / np.sqrt(len(similarity))) if len(shown) > 1 else 0.0
    )
    figures["cases"] = len(shown)
    figures["sources"] = {s: sum(1 for c, _ in shown if c == s) for s in ("copy", "model")}
    figures["sources"]["nothing"] = len(shown) - sum(figures["sources"].values())
    return figures


def simulate(
    observations: list[Observation], thresholds: Thresholds, engine: str = "model"
) -> dict[str, dict]:
    """Per cursor kind: the figures of what server/choice.py would show, and the source split."""
    return {
        kind: figures_of(
            choices(rows_of(observations, kind, engine), thresholds, kind == "statement")
        )  # fmt: skip
        for kind in CURSOR_KINDS
    }


def shared_thresholds(min_tokens: int, scores: bool) -> list[Thresholds]:
    """Every combination of the thresholds both cursor kinds share (the confidences at 0: each
    kind fits its own); `scores`: with the copy score's thresholds too. Token counts under the
    index's shortest match behave as it does, so they are left out."""
    tokens = [t for t in TOKENS if t >= min_tokens]
    likely, margins = (LIKELY, MARGINS) if scores else ((None,), (None,))
    return [
        Thresholds(outright, fallback, 0.0, 0.0, copy_likely, copy_margin)
        for outright, fallback in itertools.product(tokens, tokens)
        if fallback <= outright
        for copy_likely, copy_margin in itertools.product(likely, margins)
    ]


def with_confidence(thresholds: Thresholds, kind: str, confidence: float) -> Thresholds:
    field = "statement_confidence" if kind == "statement" else "midline_confidence"
    return dataclasses.replace(thresholds, **{field: confidence})


def fit(
    observations: list[Observation], min_tokens: int, scores: bool, engine: str = "model"
) -> dict[str, dict]:
    """Per filter, the thresholds with the best mean ES over both kinds within its limits, for
    the answers of `engine` (the model, or a lambda of the cache mix).

    A kind's confidence floor decides only that kind's cases, so for each combination of the
    shared thresholds each kind's best floor within its limit is found on its own: the same
    optimum as the whole grid, at a fraction of the simulations."""
    rows = {kind: rows_of(observations, kind, engine) for kind in CURSOR_KINDS}
    statement_limit = {name: limits[0] for name, limits in WRONG_LIMITS.items()}
    midline_limit = {name: limits[1] for name, limits in WRONG_LIMITS.items()}
    limit = {"statement": statement_limit, "midline": midline_limit}
    best: dict[str, tuple[float, Thresholds]] = {}
    for shared in tqdm(shared_thresholds(min_tokens, scores), "grid", leave=False):
        per_kind = {}  # kind -> [(confidence, ES, wrong)]
        for kind in CURSOR_KINDS:
            per_kind[kind] = []
            for confidence in CONFIDENCES:
                t = with_confidence(shared, kind, confidence)
                shown = choices(rows[kind], t, kind == "statement")
                per_kind[kind].append((confidence, mean_of(shown, "edit_similarity"),
                                       mean_of(shown, "wrong_first_char")))  # fmt: skip
        for name in WRONG_LIMITS:
            total, chosen = 0.0, shared
            for kind in CURSOR_KINDS:
                allowed = [row for row in per_kind[kind] if row[2] <= limit[kind][name]]
                if not allowed:
                    break
                confidence, similarity, _ = max(allowed, key=lambda row: row[1])
                total += similarity
                chosen = with_confidence(chosen, kind, confidence)
            else:
                if name not in best or total > best[name][0]:
                    best[name] = (total, chosen)
    missing = set(WRONG_LIMITS) - set(best)
    if missing:
        raise UserError(f"no thresholds keep {', '.join(sorted(missing))}'s limits on these cases")
    return {
        name: {"thresholds": asdict(t), "figures": simulate(observations, t, engine)}
        for name, (_, t) in best.items()
    }


def paired_difference(
    observations: list[Observation], new: Thresholds, old: Thresholds, kind: str
) -> tuple[float, float]:
    """Mean edit similarity of `new` minus `old` on the same cases, and its standard error."""
    rows = rows_of(observations, kind)
    differences = [
        a[1]["edit_similarity"] - b[1]["edit_similarity"]
        for a, b in zip(choices(rows, new, kind == "statement"),
                        choices(rows, old, kind == "statement"), strict=True)
    ]  # fmt: skip
    return float(np.mean(differences)), float(np.std(differences, ddof=1) / np.sqrt(len(rows)))


def print_table(rows: dict[str, dict]) -> None:
    print("| choice | statement ES | EM % | kept % | wrong 1st % | mid-line ES | EM % | kept % "
          "| wrong 1st % | copy / model / nothing (statement; mid-line) |")  # fmt: skip
    print("|---" * 10 + "|")
    for name, figures in rows.items():
        cells = [name]
        for kind in CURSOR_KINDS:
            f = figures[kind]
            cells += [f"{f['edit_similarity']:.1f} ± {f['edit_similarity_se']:.1f}",
                      f"{f['exact_match']:.1f}", f"{f['chars_kept']:.1f}",
                      f"{f['wrong_first_char']:.1f}"]  # fmt: skip
        split = "; ".join(
            " / ".join(str(figures[kind]["sources"][s]) for s in ("copy", "model", "nothing"))
            for kind in CURSOR_KINDS
        )
        print("| " + " | ".join([*cells, split]) + " |")


def held_out_cases(args: argparse.Namespace):
    """Files and cases of the test split's packages that the quality benchmark does not score."""
    corpus = load_corpus(args.data, CorpusOptions(unit="file"))
    files = [f for f in corpus.files["test"] if not is_stdlib(f.group) and f.group not in EVALUATED]
    if not files:
        raise UserError("the test split has no package outside the evaluated ones to fit on")
    return files, editor_cases(files, args.cases, CURSOR_KINDS, args.seed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="model directory")
    parser.add_argument("--data", default=None, help="corpus source (training.corpus --data)")
    parser.add_argument("--cases", type=int, default=200, help="cases per cursor kind")
    parser.add_argument("--seed", type=int, default=1, help="seed (the benchmark's is 0)")
    parser.add_argument("--min_tokens", type=int, default=IndexLimits().min_tokens,
                        help="shortest copy match the index proposes")  # fmt: skip
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/fit-choice.json"))
    args = parser.parse_args(argv)
    limits = IndexLimits(min_tokens=args.min_tokens)
    print(describe_cpu())
    engine = CompletionEngine.load(args.model, device="cpu")
    files, cases = held_out_cases(args)
    groups = sorted({case.group for case in cases})
    print(f"{len(cases)} cases from {', '.join(groups)}")
    observations = []
    with tempfile.TemporaryDirectory(prefix="nanopilot-fit-") as folder:
        for number, group in enumerate(groups):
            group_cases = [case for case in cases if case.group == group]
            workspace = build_workspace(
                Path(folder) / str(number), [f for f in files if f.group == group], group_cases
            )
            for case in tqdm(group_cases, desc=group, unit="case", leave=False):
                observations.append(observe(engine, workspace, group_cases, case, limits))
    without = fit(observations, args.min_tokens, scores=False)
    fitted = fit(observations, args.min_tokens, scores=True)
    mixed = {str(w): fit(observations, args.min_tokens, False, str(w)) for w in LAMBDAS}
    never = 1000
    alone = Thresholds(never, never, 0.0, 0.0)
    print(f"{len(observations)} cases; every row on the same cases, greedy decoding")
    print_table({
        "model alone": simulate(observations, alone),
        "copy alone (≥ 4 tokens)": simulate(observations, Thresholds(4, 4, 1.01, 1.01)),
        **{f"current {name}": simulate(observations, t) for name, t in THRESHOLDS.items()},
        **{f"refitted {name}, no copy score": e["figures"] for name, e in without.items()},
        **{f"fitted {name}, copy score": e["figures"] for name, e in fitted.items()},
        **{f"cache mix λ={w} alone": simulate(observations, alone, w) for w in mixed},
        **{f"cache mix λ={w}, current balanced": simulate(observations, THRESHOLDS["balanced"], w)
           for w in mixed},
        **{f"cache mix λ={w}, refitted balanced": e["balanced"]["figures"]
           for w, e in mixed.items()},
    })  # fmt: skip
    for name, entry in fitted.items():
        new = Thresholds(**entry["thresholds"])
        differences = [paired_difference(observations, new, THRESHOLDS[name], kind)
                       for kind in CURSOR_KINDS]  # fmt: skip
        print(f"{name}: {entry['thresholds']}; ES against the current "
              + " / ".join(f"{d:+.1f} ± {se:.1f}" for d, se in differences))  # fmt: skip
    write_json(args.json, {
        "cpu": describe_cpu(), "model": relative(args.model), "groups": groups,
        "cases": len(cases), "seed": args.seed, "min_tokens": args.min_tokens,
        "limits": WRONG_LIMITS, "fitted": fitted, "fitted_without_copy_score": without,
        "fitted_cache_mix": mixed,
        "observations": [asdict(o) for o in observations],
    })  # fmt: skip
    print(f"wrote {relative(args.json)}")


if __name__ == "__main__":
    run_cli(main)
