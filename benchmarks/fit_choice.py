"""Fit the choice between a copy, the model's suggestion and nothing (server/choice.py).

    .venv/bin/python benchmarks/fit_choice.py                  # ~200 cases per cursor kind
    .venv/bin/python benchmarks/fit_choice.py --model runs/stage4 --cases 300

The cases come from held-out packages *other than* the ones `benchmarks/editor_quality.py`
scores (matplotlib and requests), so the thresholds are not fitted on the figures they are judged
by. Each case is set up as the editor quality benchmark sets it up: the package's files with every
case's line cut at its cursor, the whole file open with the rest of the line removed, up to 3
neighbouring modules open as tabs. In process, for speed: the best copy candidate of the project
index (`server.project`, scope workspace), and the model's greedy suggestion with its first-token
probability (`server.local.engine`, with repository context from the same index when the model
was trained to read it). Both are scored against the rest of the line.

Then every combination of thresholds is simulated with `server.choice`'s own decision functions,
and each filter keeps the one with the best mean edit similarity within its limit on suggestions
wrong from their first character (statement start / mid-line):

- eager: no limit;
- balanced: 45 % / 22 % of cases (issue 19's goals are 50 % / 25 %);
- conservative: 25 % / 12 %.

Prints the CPU, each filter's thresholds with their figures (against showing the model alone and
the copy alone, in the same run) and writes benchmarks/results/fit-choice.json: paste the
thresholds into server/choice.py's THRESHOLDS.
"""

from __future__ import annotations

import argparse
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
    Thresholds,
    choose_after_model,
    copy_completion,
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
GREEDY = GenerationSettings(temperature=0.0)
NOTHING = {"exact_match": 0.0, "edit_similarity": 0.0, "chars_kept": 0.0, "wrong_first_char": 0.0}


@dataclass(frozen=True)
class Observation:
    """One case: what each source would show and how good it is."""

    kind: str
    copy_tokens: int  # 0: no candidate
    copy: dict  # case_scores of the copy ("" when none)
    model: dict  # case_scores of the model's suggestion
    model_text: str
    confidence: float | None


def observe(
    engine: CompletionEngine, workspace, cases: list[EditorCase], case: EditorCase,
    limits: IndexLimits,
) -> Observation:  # fmt: skip
    """The copy candidate and the model's suggestion at `case`, as the server would see them."""
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
    copy_text = first_line(copy_completion(copy, request, time.perf_counter()).text) if copy else ""
    completion: Completion = engine.complete_sync(request)
    model_text = first_line(completion.text)
    return Observation(
        case.kind,
        copy.tokens if copy else 0,
        case_scores(copy_text, case.target),
        case_scores(model_text, case.target),
        model_text,
        completion.confidence,
    )


def simulate(observations: list[Observation], thresholds: Thresholds) -> dict[str, dict]:
    """Per cursor kind: mean figures of what server/choice.py would show, and the source split."""
    by_kind: dict[str, dict] = {}
    for kind in CURSOR_KINDS:
        rows = [o for o in observations if o.kind == kind]
        shown = []
        for o in rows:
            if copy_wins_outright(thresholds, o.copy_tokens):
                shown.append(("copy", o.copy))
                continue
            model = Completion(o.model_text, 0, 0, 0, 0.0, confidence=o.confidence)
            choice = choose_after_model(thresholds, o.copy_tokens, kind == "statement", model)
            scores = {"model": o.model, "copy": o.copy}.get(choice, NOTHING)
            shown.append((choice, scores))
        figures = {
            key: float(np.mean([scores[key] for _, scores in shown])) if shown else 0.0
            for key in ("exact_match", "edit_similarity", "chars_kept", "wrong_first_char")
        }
        figures["sources"] = {s: sum(1 for c, _ in shown if c == s) for s in ("copy", "model")}
        figures["sources"]["nothing"] = len(shown) - sum(figures["sources"].values())
        by_kind[kind] = figures
    return by_kind


def candidate_thresholds() -> list[Thresholds]:
    return [
        Thresholds(outright, fallback, statement, midline)
        for outright, fallback in itertools.product(TOKENS, TOKENS)
        if fallback <= outright
        for statement, midline in itertools.product(CONFIDENCES, CONFIDENCES)
    ]


def fit(observations: list[Observation]) -> dict[str, dict]:
    """Per filter, the thresholds with the best mean ES over both kinds within its limits."""
    simulated = [(t, simulate(observations, t)) for t in tqdm(candidate_thresholds(), "grid")]
    fitted = {}
    for name, (statement_limit, midline_limit) in WRONG_LIMITS.items():
        allowed = [
            (t, s)
            for t, s in simulated
            if s["statement"]["wrong_first_char"] <= statement_limit
            and s["midline"]["wrong_first_char"] <= midline_limit
        ]
        if not allowed:
            raise UserError(f"no thresholds keep {name}'s limits on these cases")
        best, figures = max(
            allowed,
            key=lambda pair: sum(pair[1][kind]["edit_similarity"] for kind in CURSOR_KINDS),
        )
        fitted[name] = {"thresholds": asdict(best), "figures": figures}
    return fitted


def print_table(rows: dict[str, dict]) -> None:
    print("| choice | statement ES | EM % | kept % | wrong 1st % | mid-line ES | EM % | kept % "
          "| wrong 1st % | copy / model / nothing (statement; mid-line) |")  # fmt: skip
    print("|---" * 10 + "|")
    for name, figures in rows.items():
        cells = [name]
        for kind in CURSOR_KINDS:
            f = figures[kind]
            cells += [f"{f['edit_similarity']:.1f}", f"{f['exact_match']:.1f}",
                      f"{f['chars_kept']:.1f}", f"{f['wrong_first_char']:.1f}"]  # fmt: skip
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
    fitted = fit(observations)
    never = 1000
    print_table({
        "model alone": simulate(observations, Thresholds(never, never, 0.0, 0.0)),
        "copy alone (≥ 4 tokens)": simulate(observations, Thresholds(4, 4, 1.01, 1.01)),
        **{f"fitted {name}": entry["figures"] for name, entry in fitted.items()},
    })  # fmt: skip
    for name, entry in fitted.items():
        print(f"{name}: {entry['thresholds']}")
    write_json(args.json, {
        "cpu": describe_cpu(), "model": relative(args.model), "groups": groups,
        "cases": len(cases), "seed": args.seed, "limits": WRONG_LIMITS, "fitted": fitted,
        "observations": [asdict(o) for o in observations],
    })  # fmt: skip
    print(f"wrote {relative(args.json)}")


if __name__ == "__main__":
    run_cli(main)
