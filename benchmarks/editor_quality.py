"""Completion quality as the editor sees it: held-out packages, through the real language server.

`training.evaluate` calls the engine with the current file's prefix alone. This harness talks to
`python -m server --stdio` as an editor does, so that whatever the server adds around the model
(a project index, a copy engine) is measured too:

- Cases: the held-out split's files of `--groups` (the split `training.evaluate` uses), seeded
  cursors of both kinds (`training.code_model.line_completion`: a statement start, mid-line); the
  target is the rest of the line.
- Workspace: per package, a temporary copy of its held-out files in which every case's line is cut
  at its cursor, sent as the workspace folder. Every buffer opened comes from that copy, so no file
  or buffer the server can read holds a target line (checked before anything is sent): otherwise
  the figures would measure a leak, not the engine.
- Context modes: `file`, the whole file open (below the cursor too) with the rest of the line
  removed; `cursor`, the document ending at the cursor (new code). In both, up to 3 neighbouring
  modules of the same package are open as tabs.
- Configurations: labelled (model directory, `nanopilot` settings) pairs, greedy unless a
  configuration says otherwise. By default "this release" (default settings) and "model only"
  (`{"index": "off", "filter": "eager"}`: no copy engine, nothing held back: the model alone).
- Figures per configuration, context mode and cursor kind, each with its standard error: exact
  match, edit similarity, characters a user keeps by accepting word by word (as VS Code's
  Ctrl+Right does), suggestions wrong from their first character, nothing shown; and which source
  produced each suggestion when the server says so in the item's command arguments.

Prints the CPU, a Markdown table and writes a JSON and a PNG plot (edit similarity with its
standard error) to `--out`.

    python benchmarks/editor_quality.py                        # 150 cases per cursor kind
    python benchmarks/editor_quality.py --cases 100 --previous_model /tmp/previous-model
    python benchmarks/editor_quality.py --config 'tabs only=models/default:{"index": "tabs"}'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from tqdm import tqdm

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.lsp_client import (  # noqa: E402
    inline_completion,
    position_of,
    relative,
    server_status,
    start_server,
    stop_server,
)
from nanopilot_models import DEFAULT_MODEL  # noqa: E402
from server.errors import UserError, run_cli  # noqa: E402
from server.local.options import DEFAULT_THREADS  # noqa: E402
from training.atomic import write_json  # noqa: E402
from training.code_model.corpus import SPLITS, SourceFile, add_corpus_arguments  # noqa: E402
from training.code_model.evaluate import held_out_files  # noqa: E402
from training.code_model.line_completion import (  # noqa: E402
    CURSOR_KINDS,
    cut_case,
    edit_similarity,
    exact_match,
    first_line,
    mean,
    sample_cursors,
    standard_error,
)
from training.cpu_features import describe_cpu  # noqa: E402
from training.plotting import save_bar_plot  # noqa: E402

CONTEXT_MODES = ("file", "cursor")
TABS = 3  # neighbouring modules open beside the case's file
GREEDY = {"temperature": 0.0}  # repeatable figures; a configuration may override it
THIS_RELEASE = "this release"
MODEL_ONLY = "model only"
MODEL_ONLY_SETTINGS = {"index": "off", "filter": "eager"}  # no copies, nothing held back
PREVIOUS = "previous release"
# VS Code's default word definition (a Python file uses it too): what Ctrl+Right accepts.
WORD = re.compile(r"-?\d*\.\d\w*|[^`~!@#$%^&*()\-=+\[{\]}\\|;:'\",.<>/?\s]+")
SPACE = re.compile(r"\s+")
SAFE_NAME = re.compile(r"[^\w.-]")  # a package name as a folder name (stdlib:email)
METRICS = {  # key -> table heading
    "exact_match": "EM %",
    "edit_similarity": "ES",
    "chars_kept": "kept %",
    "wrong_first_char": "wrong 1st %",
    "nothing_shown": "nothing %",
}


@dataclass(frozen=True)
class EditorCase:
    kind: str
    group: str  # the package: one workspace folder
    path: str  # relative to its package's workspace folder
    line: int
    column: int
    target: str  # the rest of the line


@dataclass(frozen=True)
class Config:
    label: str
    model: Path
    settings: dict


@dataclass(frozen=True)
class Workspace:
    """A package's held-out files copied to `root` with every case's line cut at its cursor."""

    root: Path
    originals: dict[str, str]  # relative path -> the file as it was
    cut: dict[str, str]  # relative path -> the file as on disk, case lines cut

    def uri(self, path: str) -> str:
        return (self.root / path).resolve().as_uri()


@dataclass(frozen=True)
class Answer:
    suggestion: str  # the first line of the first item ("" when nothing is shown)
    source: str | None  # what the server says produced it, if it says


# --- metrics -------------------------------------------------------------------------------------


def word_steps(text: str) -> list[str]:
    """The pieces VS Code's "accept next word" takes off a suggestion, one per Ctrl+Right: a word,
    else the text up to the next word, stopping after a run of white space."""
    steps = []
    while text:
        word = WORD.search(text)
        end = len(text) if word is None else (word.end() if word.start() == 0 else word.start())
        space = SPACE.search(text)
        if space is not None and space.end() < end:
            end = space.end()
        steps.append(text[:end])
        text = text[end:]
    return steps


def chars_kept(suggestion: str, target: str) -> float:
    """% of the target's characters a user gets by accepting word by word while it stays right."""
    kept = 0
    for step in word_steps(suggestion):
        if not target.startswith(suggestion[: kept + len(step)]):
            break
        kept += len(step)
    return 100.0 * kept / len(target) if target else 0.0


def wrong_from_first_char(suggestion: str, target: str) -> bool:
    """Shown, and already wrong at its first visible character: a pure distraction."""
    shown, wanted = suggestion.lstrip(), target.lstrip()
    return bool(shown) and (not wanted or shown[0] != wanted[0])


def case_scores(suggestion: str, target: str) -> dict[str, float]:
    return {
        "exact_match": 100.0 * exact_match(suggestion, target),
        "edit_similarity": edit_similarity(suggestion, target),
        "chars_kept": chars_kept(suggestion, target),
        "wrong_first_char": 100.0 * wrong_from_first_char(suggestion, target),
        "nothing_shown": 100.0 * (not suggestion.strip()),
    }


def summarise(answers: Sequence[Answer], cases: Sequence[EditorCase]) -> dict:
    """Each metric's mean and standard error over the cases, and the split by source."""
    scores = [case_scores(a.suggestion, c.target) for a, c in zip(answers, cases, strict=True)]
    figures: dict = {"cases": len(cases)}
    for key in METRICS:
        values = [score[key] for score in scores]
        figures[key], figures[f"{key}_se"] = mean(values), standard_error(values)
    figures["sources"] = dict(Counter(source_label(answer) for answer in answers))
    return figures


def source_label(answer: Answer) -> str:
    if not answer.suggestion.strip():
        return "nothing"
    return answer.source or "shown"  # a server that does not say which source it used


# --- cases and the workspace ---------------------------------------------------------------------


def package_path(file: SourceFile) -> str:
    """The file's path inside its package (`requests/requests/api.py` -> `requests/api.py`)."""
    return file.name.removeprefix(f"{file.group}/")


def editor_cases(
    files: Sequence[SourceFile], count: int, kinds: Iterable[str], seed: int
) -> list[EditorCase]:
    """`count` cases per kind: those `training.evaluate` draws from the same files."""
    texts = [file.text for file in files]
    return [
        EditorCase(
            kind,
            files[index].group,
            package_path(files[index]),
            line,
            column,
            cut_case(texts[index], line, column).target,
        )
        for kind in kinds
        for index, line, column in sample_cursors(texts, count, kind, seed)
    ]


def cut_lines(text: str, cursors: Iterable[tuple[int, int]]) -> str:
    """`text` with each cursor's line cut at it (at the leftmost cursor of a line)."""
    lines = text.split("\n")
    for line, column in sorted(cursors, key=lambda cursor: -cursor[1]):
        lines[line] = lines[line][:column]
    return "\n".join(lines)


def assert_no_leak(
    path: str, text: str, cases: Iterable[EditorCase], typed: EditorCase | None = None
) -> None:
    """No case's target is at its spot in `text` (file `path`): its line ends at its cursor.
    The line of `typed` (the case being asked) holds what its user typed, nothing after it."""
    lines = text.split("\n")
    for case in cases:
        if case.path != path or case.line >= len(lines):
            continue
        end = max(case.column, typed.column) if typed and typed.line == case.line else case.column
        if len(lines[case.line]) > end:
            raise AssertionError(f"{path}:{case.line + 1} holds the target {case.target!r}")


def build_workspace(root: Path, files: Sequence[SourceFile], cases: Sequence[EditorCase]):
    """Write the package's files under `root` with every case's line cut, and check them on
    disk: the server may read any of them."""
    originals = {package_path(file): file.text for file in files}
    cut = {}
    for path, text in originals.items():
        cursors = [(case.line, case.column) for case in cases if case.path == path]
        cut[path] = cut_lines(text, cursors)
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(cut[path], encoding="utf-8")
    for path in cut:
        assert_no_leak(path, (root / path).read_text(encoding="utf-8"), cases)
    return Workspace(root, originals, cut)


def document(workspace: Workspace, case: EditorCase, mode: str) -> str:
    """The case's buffer: the cut file with the case's line typed up to its cursor; in `cursor`
    mode it ends there."""
    lines = workspace.cut[case.path].split("\n")
    lines[case.line] = workspace.originals[case.path].split("\n")[case.line][: case.column]
    return "\n".join(lines if mode == "file" else lines[: case.line + 1])


def neighbours(path: str, paths: Sequence[str], count: int = TABS) -> list[str]:
    """Up to `count` other modules of the package, those of the same folder and nearest in name
    order first: the tabs a developer has open beside `path`."""
    ordered = sorted(paths)
    here = ordered.index(path)
    folder = PurePosixPath(path).parent

    def distance(other: str) -> tuple[bool, int]:
        return PurePosixPath(other).parent != folder, abs(ordered.index(other) - here)

    return sorted((other for other in ordered if other != path), key=distance)[:count]


# --- asking the server ---------------------------------------------------------------------------


def answer_of(response) -> Answer:
    """The first line of the first item, and a `source` the server put in its command arguments."""
    items = response.items if isinstance(response, types.InlineCompletionList) else response
    if not items:
        return Answer("", None)
    item = items[0]
    text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
    arguments = item.command.arguments if item.command and item.command.arguments else []
    sources = [a["source"] for a in arguments if isinstance(a, dict) and "source" in a]
    return Answer(first_line(text), str(sources[0]) if sources else None)


def open_document(client: LanguageClient, uri: str, text: str) -> None:
    item = types.TextDocumentItem(uri, "python", 1, text)
    client.text_document_did_open(types.DidOpenTextDocumentParams(item))


def close_document(client: LanguageClient, uri: str) -> None:
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
    )


async def ask(
    client: LanguageClient, workspace: Workspace, cases: Sequence[EditorCase], case: EditorCase,
    mode: str,
) -> Answer:  # fmt: skip
    """Open the case's tabs and buffer (each checked for leaks), ask at its cursor, close them."""
    buffers = {path: workspace.cut[path] for path in neighbours(case.path, list(workspace.cut))}
    text = document(workspace, case, mode)
    buffers[case.path] = text  # opened last: the active editor
    for path, buffer in buffers.items():
        assert_no_leak(path, buffer, cases, typed=case if path == case.path else None)
        open_document(client, workspace.uri(path), buffer)
    line, column = position_of(document(workspace, case, "cursor"))
    response = await inline_completion(client, workspace.uri(case.path), line, column)
    for path in buffers:
        close_document(client, workspace.uri(path))
    return answer_of(response)


async def run_package(
    config: Config, workspace: Workspace, cases: Sequence[EditorCase], args: argparse.Namespace,
    progress: tqdm,
) -> tuple[dict[str, list[Answer]], dict]:  # fmt: skip
    """One server for one configuration and one package: each context mode's answers, in case
    order, and the server's status at the end."""
    settings = GREEDY | config.settings
    client = await start_server(config.model, args.threads, settings, workspace.root)
    answers: dict[str, list[Answer]] = {}
    try:
        for mode in args.modes:
            answers[mode] = []
            for case in cases:
                answers[mode].append(await ask(client, workspace, cases, case, mode))
                progress.update()
        status = await server_status(client)
    finally:
        await stop_server(client)
    return answers, status


def of_kind(
    answers: Sequence[Answer], cases: Sequence[EditorCase], kind: str
) -> tuple[list[Answer], list[EditorCase]]:
    pairs = [(a, c) for a, c in zip(answers, cases, strict=True) if c.kind == kind]
    return [a for a, _ in pairs], [c for _, c in pairs]


def evaluate_config(
    config: Config, packages: dict[str, tuple[Workspace, list[EditorCase]]],
    args: argparse.Namespace,
) -> tuple[dict, list[dict], dict]:  # fmt: skip
    """Figures per context mode and cursor kind, every case's answer, and each server's status."""
    answers: dict[str, list[Answer]] = {mode: [] for mode in args.modes}
    statuses = {}
    all_cases = [case for _, cases in packages.values() for case in cases]
    total = len(all_cases) * len(args.modes)
    with tqdm(total=total, desc=config.label, unit="request") as progress:
        for group, (workspace, cases) in packages.items():
            package_answers, statuses[group] = asyncio.run(
                run_package(config, workspace, cases, args, progress)
            )
            for mode, mode_answers in package_answers.items():
                answers[mode] += mode_answers
    figures = {
        mode: {kind: summarise(*of_kind(answers[mode], all_cases, kind)) for kind in args.kinds}
        for mode in args.modes
    }
    predictions = [
        {"mode": mode, "kind": case.kind, "path": case.path, "line": case.line + 1,
         "target": case.target, "suggestion": answer.suggestion, "source": answer.source}
        for mode in args.modes
        for case, answer in zip(all_cases, answers[mode], strict=True)
    ]  # fmt: skip
    return figures, predictions, statuses


# --- output --------------------------------------------------------------------------------------


def format_table(results: dict[str, dict], kinds: Sequence[str], modes: Sequence[str]) -> str:
    """Markdown: a row per configuration and context mode, each figure ± its standard error."""
    header = ["configuration", "context"]
    header += [f"{kind} {heading}" for kind in kinds for heading in METRICS.values()]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, figures in results.items():
        for mode in modes:
            cells = [label, mode]
            for kind in kinds:
                scores = figures[mode][kind]
                cells += [f"{scores[key]:.1f} ± {scores[key + '_se']:.1f}" for key in METRICS]
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def plot(target: Path, results: dict[str, dict], args: argparse.Namespace) -> None:
    series = {
        kind: {
            f"{label} ({mode})": (
                figures[mode][kind]["edit_similarity"],
                figures[mode][kind]["edit_similarity_se"],
            )
            for label, figures in results.items()
            for mode in args.modes
        }
        for kind in args.kinds
    }
    save_bar_plot(target, series, title=f"Edit similarity through the LSP: "
                  f"{', '.join(args.groups)}", ylabel="edit similarity (0-100)")  # fmt: skip


# --- command line --------------------------------------------------------------------------------


def parse_config(text: str) -> Config:
    """`LABEL=MODEL_DIR:JSON` (the JSON settings optional) -> a configuration."""
    label, equals, rest = text.partition("=")
    model, _, settings = rest.partition(":")
    if not equals or not label or not model:
        raise argparse.ArgumentTypeError(f"{text!r} is not LABEL=MODEL_DIR:JSON")
    try:
        parsed = json.loads(settings) if settings.strip() else {}
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"{text!r}: the settings are not JSON ({err})") from err
    if not isinstance(parsed, dict):
        raise argparse.ArgumentTypeError(f"{text!r}: the settings must be a JSON object")
    return Config(label, Path(model), parsed)


def configurations(args: argparse.Namespace) -> list[Config]:
    configs = args.config or [
        Config(THIS_RELEASE, DEFAULT_MODEL, {}),
        Config(MODEL_ONLY, DEFAULT_MODEL, MODEL_ONLY_SETTINGS),
    ]
    if args.previous_model:
        configs.append(Config(PREVIOUS, args.previous_model, MODEL_ONLY_SETTINGS))
    for config in configs:
        if not (config.model / "config.json").is_file():
            raise UserError(f"{config.label}: no model in {config.model}")
    if len({config.label for config in configs}) < len(configs):
        raise UserError("two configurations have the same label")
    return configs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_corpus_arguments(parser)
    parser.add_argument("--split", default="test", choices=SPLITS, help="split to cut cases from")
    parser.add_argument("--groups", nargs="+", default=["matplotlib", "requests"],
                        help="held-out packages (one workspace each)")  # fmt: skip
    parser.add_argument("--cases", type=int, default=150, help="cases per cursor kind")
    parser.add_argument("--kinds", nargs="+", default=list(CURSOR_KINDS), choices=CURSOR_KINDS)
    parser.add_argument(
        "--modes", nargs="+", default=list(CONTEXT_MODES), choices=CONTEXT_MODES,
        help="file: the whole file open; cursor: the document ends at the cursor",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed that picks the cases")
    parser.add_argument(
        "--config", action="append", type=parse_config, metavar="LABEL=MODEL_DIR:JSON",
        help="a configuration: label, model directory and nanopilot settings as JSON; repeat "
        f"it; given, it replaces the default pair ({THIS_RELEASE!r}, {MODEL_ONLY!r})",
    )  # fmt: skip
    parser.add_argument(
        "--previous_model", type=Path,
        help=f"the previous release's model directory: a {PREVIOUS!r} row (model only)",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="server threads")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" / "results",
                        help="JSON and PNG here")  # fmt: skip
    parser.add_argument("--name", default="editor-quality", help="file name of the results")
    parser.set_defaults(all_groups=False)  # held_out_files: the named groups only
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(describe_cpu())
    configs = configurations(args)
    _, files = held_out_files(args)
    with tempfile.TemporaryDirectory(prefix="nanopilot-workspaces-") as folder:
        all_cases = editor_cases(files, args.cases, args.kinds, args.seed)
        if not all_cases:
            raise UserError(f"no cases in the {args.split} split of {', '.join(args.groups)}")
        packages = {}
        for number, group in enumerate(sorted({case.group for case in all_cases})):
            cases = [case for case in all_cases if case.group == group]
            root = Path(folder) / f"{number}-{SAFE_NAME.sub('_', group)}"
            group_files = [file for file in files if file.group == group]
            packages[group] = (build_workspace(root, group_files, cases), cases)
        counts = Counter(case.kind for case in all_cases)
        print(f"cases: {dict(counts)} from {', '.join(packages)}, modes: {', '.join(args.modes)}")
        results, predictions, statuses = {}, {}, {}
        for config in configs:
            results[config.label], predictions[config.label], statuses[config.label] = (
                evaluate_config(config, packages, args)
            )
    print(format_table(results, args.kinds, args.modes))
    args.out.mkdir(parents=True, exist_ok=True)
    plot(args.out / f"{args.name}.png", results, args)
    write_json(args.out / f"{args.name}.json", {
        "cpu": describe_cpu(), "data": args.data, "split": args.split, "groups": list(packages),
        "seed": args.seed, "cases": dict(counts), "greedy": GREEDY,
        "configurations": [{"label": c.label, "model": relative(c.model), "settings": c.settings}
                           for c in configs],
        "results": results, "predictions": predictions, "server_status": statuses,
    })  # fmt: skip
    print(f"wrote {relative(args.out / args.name)}.json and .png")


if __name__ == "__main__":
    run_cli(main)
