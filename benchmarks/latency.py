"""Completion latency through the real language server vs the naive way, in the same run.

Replays an editing session: a real Python file is opened with a stretch of it missing, and that
stretch is typed character by character (`didChange` per keystroke; Enter inserts the line
break and its indentation at once, as an editor's auto-indent does). After each pause (a space,
`.`, `(`, `,`, `:`, `[`, `=`, a new line) an inline completion request goes out, as an editor's
debounce would send it. Then jumps to fresh spots: standard-library files opened as new
documents, a request at a statement start deep in each (the prompt fills its budget,
nothing cached, a block allowed). Measured: round-trip latency over LSP (stdio, `python -m
server`) with all of the server's machinery (key/value cache reuse, typing-through, LRU), once
per decoder (the `decoder` setting): `auto` (the default: int8 on ONNX Runtime for GPT-2 on the
CPU), lean float32 and the Hugging Face forward (the path before the lean decoder); and,
on the same cursor positions, the naive way: `model.generate` on the full prompt, no caches,
the same stop rule. Prints two tables, saves a PNG plot and a JSON of the figures. Per-token
decode and prefill alone: benchmarks/decode.py.

    python benchmarks/latency.py                      # the shipped default model
    python benchmarks/latency.py --distilgpt2-shaped  # 6 x 768 random weights, same tokenizer
    python benchmarks/latency.py --llama-server .cache/llama-server/bin/llama-server
        # also the same replay with engine.kind = llamacpp: the model exported to GGUF and
        # served by llama.cpp (bash scripts/build-llama-server builds the binary)
    python benchmarks/latency.py --workspace 5000
        # instead: what the project index adds (issue 19), in a big workspace (below)

`--workspace N` is a mode of its own (the decoder rows and the naive baseline above need no
workspace, and a scan per row would double the run): the server starts on a folder of N
standard-library files copied from its packages (a temporary copy, no links; past the ~1,600
there are, the same files again in `copy1/`, ...), 49 of them open as
tabs, and the typed document is 10,000 lines (top-level standard-library modules, concatenated)
with the typed file at its end. The same typing replay and fresh spots then run with the
server's default settings (index workspace, filter balanced, decoder auto) and, as the baseline
in the same run, with `{"index": "off"}`: the difference is what the index adds. The fresh
spots' modules and the big document's are top-level modules, never in the workspace or a tab,
so the copy engine cannot find their target lines. Bad input: benchmarks/bad_workspace.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
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
from benchmarks.project_index import big_document  # noqa: E402
from nanopilot_models import DEFAULT_MODEL  # noqa: E402
from server.contract import CompletionRequest, stop_rule  # noqa: E402
from server.errors import UserError, run_cli  # noqa: E402
from server.local.decoders import installed  # noqa: E402
from server.local.engine import CompletionEngine  # noqa: E402
from server.local.options import DEFAULT_THREADS  # noqa: E402
from server.postprocess import EditContext  # noqa: E402
from server.settings import ServerSettings  # noqa: E402
from tests.llama_server import LlamaServer  # noqa: E402
from training.atomic import write_json  # noqa: E402
from training.code_model.export_gguf import export  # noqa: E402
from training.code_model.line_completion import build_cases  # noqa: E402
from training.cpu_features import describe_cpu  # noqa: E402
from training.plotting import save_line_plot  # noqa: E402

PAUSE_AFTER = set(" .(,:[=")
SERVED = "nanopilot server (LSP round trip)"  # the default decoder: auto, int8 ONNX here
SERVED_LEAN = "nanopilot server, lean float32 decoder"
SERVED_HF = "nanopilot server, Hugging Face forward"  # before the lean decoder
DECODERS = {SERVED: "auto", SERVED_LEAN: "lean", SERVED_HF: "huggingface"}  # the setting
LLAMACPP = "nanopilot server, llama.cpp engine"
NAIVE = "naive: model.generate, no caches"
NAIVE_STOP = "naive + the server's stop rule"
WITH_INDEX = "nanopilot server, default settings (index: workspace)"
INDEX_OFF = 'nanopilot server, {"index": "off"} (baseline)'
INDEX_ROWS = {WITH_INDEX: {}, INDEX_OFF: {"index": "off"}}  # settings on top of the run's
URI = "file:///benchmark/session.py"
STDLIB = Path(os.__file__).parent
FRESH_PREFIX_CHARS = 3000  # a prefix this long fills the default model's prompt window
BIG_DOCUMENT_LINES = 10_000  # issue 19: "a request on a 10,000-line file with 50 open documents"
OPEN_DOCUMENTS = 50  # the typed document and 49 tabs
SCAN_TIMEOUT_S = 600
# Issue 19's goals with default settings: (p50, p95) ms.
GOALS = {"typing": (10.0, 60.0), "fresh_spot": (80.0, 150.0)}
INDEX_ADDS_P95_GOAL_MS = 3.0


@dataclass(frozen=True)
class Request:
    prefix: str
    suffix: str
    line: int
    column: int


@dataclass(frozen=True)
class Workspace:
    """A folder the server starts on, and the documents open in tabs before typing starts."""

    folder: Path
    tabs: dict[str, str] = field(default_factory=dict)  # uri -> text


def stdlib_package_files() -> list[Path]:
    """Standard-library `.py` files inside its packages (not top-level modules, which the big
    document and the fresh spots use; not site-packages), in a fixed order."""
    return sorted(
        path
        for path in STDLIB.rglob("*.py")
        if path.parent != STDLIB and "site-packages" not in path.relative_to(STDLIB).parts
    )


def build_workspace(folder: Path, files: int, tabs: int = OPEN_DOCUMENTS - 1) -> Workspace:
    """Copy `files` standard-library package files into `folder` (plain copies: no links), and
    pick `tabs` of them of 100 to 2,000 lines to open. Past the standard library's count, the
    files come round again in folders `copy1/`, `copy2/`, ... (a monorepo's vendored copies)."""
    available = stdlib_package_files()
    opened: dict[str, str] = {}
    for number in range(files):
        source = available[number % len(available)]
        copy = number // len(available)
        target = folder / (f"copy{copy}" if copy else "") / source.relative_to(STDLIB)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        text = target.read_text(encoding="utf-8", errors="replace")
        if len(opened) < tabs and 100 <= text.count("\n") <= 2000:
            opened[target.as_uri()] = text
    return Workspace(folder, opened)


async def open_workspace(client: LanguageClient, workspace: Workspace) -> float:
    """Open the tabs, then wait for the server's workspace scan to end: seconds it took."""
    started = time.perf_counter()
    for uri, text in workspace.tabs.items():
        item = types.TextDocumentItem(uri, "python", 1, text)
        client.text_document_did_open(types.DidOpenTextDocumentParams(item))
    deadline = time.monotonic() + SCAN_TIMEOUT_S
    while (await server_status(client))["index"]["scanning"] and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


def keystrokes(text: str) -> list[str]:
    """The chunks an editor inserts: one character, or a line break with its indentation."""
    chunks: list[str] = []
    index = 0
    while index < len(text):
        if text[index] == "\n":
            end = index + 1
            while end < len(text) and text[end] in " \t":
                end += 1
            chunks.append(text[index:end])
            index = end
        else:
            chunks.append(text[index])
            index += 1
    return chunks


def is_pause(chunk: str) -> bool:
    return chunk[0] == "\n" or chunk in PAUSE_AFTER


def typing_region(text: str, requests: int, start_fraction: float) -> tuple[int, int]:
    """From a line start near `start_fraction` of the file, as far as `requests` pauses go, to
    the end of that line (so that the cursor is always at the end of the line being typed)."""
    start = text.rfind("\n", 0, int(len(text) * start_fraction)) + 1
    end, pauses = start, 0
    for chunk in keystrokes(text[start:]):
        if pauses >= requests and chunk[0] == "\n":
            break
        end += len(chunk)
        pauses += is_pause(chunk)
    return start, end


async def replay(
    model_dir: Path,
    text: str,
    start: int,
    end: int,
    threads: int,
    settings: dict,
    fresh: list[Request],
    workspace: Workspace | None = None,
) -> tuple[list[Request], list[float], list[float], dict]:
    """Type text[start:end] into the server, then open each fresh spot's document and ask there:
    the typing requests, the latency (ms) of each, of each fresh spot, and the final status
    (with `scan_s`, the workspace scan's seconds, when there is a workspace)."""
    folder = workspace.folder if workspace else None
    client = await start_server(model_dir, threads, settings, folder)
    scan_s = await open_workspace(client, workspace) if workspace else None
    document = text[:start] + text[end:]
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(URI, "python", 1, document))
    )
    requests: list[Request] = []
    latencies: list[float] = []
    typed = text[:start]
    chunks = keystrokes(text[start:end])
    for version, chunk in enumerate(tqdm(chunks, desc="typing", unit="key"), start=2):
        line, column = position_of(typed)
        here = types.Position(line, column)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=URI, version=version),
                [types.TextDocumentContentChangePartial(range=types.Range(here, here), text=chunk)],
            )
        )
        typed += chunk
        if not is_pause(chunk):
            continue
        line, column = position_of(typed)
        latencies.append(await timed_inline(client, URI, line, column))
        requests.append(Request(typed, text[end:], line, column))
    status = await server_status(client) | {"scan_s": scan_s}
    fresh_latencies = []
    for number, spot in enumerate(tqdm(fresh, desc="fresh spots", unit="spot")):
        uri = f"file:///benchmark/fresh_{number}.py"
        document = types.TextDocumentItem(uri, "python", 1, spot.prefix + spot.suffix)
        client.text_document_did_open(types.DidOpenTextDocumentParams(document))
        fresh_latencies.append(await timed_inline(client, uri, spot.line, spot.column))
    await stop_server(client)
    return requests, latencies, fresh_latencies, status


async def timed_inline(client: LanguageClient, uri: str, line: int, column: int) -> float:
    """One inline completion request's round trip, ms."""
    started = time.perf_counter()
    await inline_completion(client, uri, line, column)
    return (time.perf_counter() - started) * 1000


def naive(
    model_dir: Path, requests: list[Request], settings: ServerSettings
) -> dict[str, list[float]]:
    """`model.generate` on each full prompt (same window, no healing), no caches across requests:
    as simple servers do (generate `max_new_tokens`, cut the line afterwards), and with the
    server's stop rule (so the difference to the server is its caches alone)."""
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        StoppingCriteria,
        StoppingCriteriaList,
    )

    engine = CompletionEngine.load(model_dir, device="cpu")  # for its prompt window only
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()

    class StopLikeTheServer(StoppingCriteria):
        def __init__(self, prompt_length: int, ctx: EditContext) -> None:
            self.prompt_length = prompt_length
            self.stop = stop_rule(ctx)

        def __call__(self, input_ids, scores, **kwargs) -> torch.Tensor:
            text = tokenizer.decode(input_ids[0, self.prompt_length :])
            return torch.tensor([self.stop(text)])

    latencies: dict[str, list[float]] = {NAIVE: [], NAIVE_STOP: []}
    for request in tqdm(requests, desc="naive generate", unit="request"):
        generation = settings.generation
        prompt = engine.prompt_for(request.prefix, request.suffix, generation, heal=False)
        ids = torch.tensor([prompt.ids])
        ctx = CompletionRequest(request.prefix, request.suffix, generation).edit_context()
        for name, stopping in ((NAIVE, []), (NAIVE_STOP, [StopLikeTheServer(ids.shape[1], ctx)])):
            started = time.perf_counter()
            with torch.inference_mode():
                model.generate(
                    ids,
                    attention_mask=torch.ones_like(ids),
                    max_new_tokens=generation.max_new_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.eos_token_id,
                    stopping_criteria=StoppingCriteriaList(stopping),
                )
            latencies[name].append((time.perf_counter() - started) * 1000)
    return latencies


def distilgpt2_shaped(tokenizer_dir: Path) -> Path:
    """A GPT-2 of distilGPT2's shape (6 layers x 768) with random weights, built once."""
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    target = REPO_ROOT / ".cache" / "benchmarks" / f"distilgpt2-shaped-{len(tokenizer)}"
    if not (target / "config.json").is_file():
        torch.manual_seed(0)
        config = GPT2Config(
            n_layer=6,
            n_embd=768,
            n_head=12,
            n_positions=1024,
            vocab_size=len(tokenizer),
            eos_token_id=tokenizer.eos_token_id,
            bos_token_id=tokenizer.eos_token_id,
        )
        GPT2LMHeadModel(config).save_pretrained(target)
        tokenizer.save_pretrained(target)
    return target


def fresh_spots(count: int, seed: int = 0) -> list[Request]:
    """Statement starts deep in standard-library files (their prompt fills the model's window),
    each opened as a new document: nothing of it is cached yet."""
    sources = [path.read_text(encoding="utf-8") for path in sorted(STDLIB.glob("*.py"))]
    long_sources = [source for source in sources if len(source) > 4 * FRESH_PREFIX_CHARS][:60]
    cases = build_cases(long_sources, count * 4, "statement", seed)
    deep = [case for case in cases if len(case.prefix) > FRESH_PREFIX_CHARS][:count]
    return [Request(case.prefix, case.suffix, *position_of(case.prefix)) for case in deep]


def summary(
    latencies: dict[str, list[float]], reference: str = SERVED
) -> dict[str, dict[str, float]]:
    """p50 / p95 / max per path, and how many times slower than `reference` each other path is."""
    served_p50, served_p95 = percentiles(latencies[reference])
    rows = {}
    for path, values in latencies.items():
        p50, p95 = percentiles(values)
        rows[path] = {"p50": p50, "p95": p95, "max": max(values)}
        if path != reference:
            rows[path] |= {"slower_p50": p50 / served_p50, "slower_p95": p95 / served_p95}
    return rows


def print_naive_ratios(rows: dict[str, dict[str, float]]) -> None:
    """How many times faster than naive `model.generate` each server decoder is."""
    for path in DECODERS:
        if path in rows:
            p50 = rows[NAIVE]["p50"] / rows[path]["p50"]
            p95 = rows[NAIVE]["p95"] / rows[path]["p95"]
            print(f"{path}: {p50:.1f}x (p50), {p95:.1f}x (p95) faster than naive")


def print_table(
    rows: dict[str, dict[str, float]], ratio_label: str = "server faster (p50, p95)"
) -> None:
    """One row per path; the ratio column: the path's time over the reference's."""
    width, ratio_width = max(38, *map(len, rows)), max(24, len(ratio_label))
    print(f"\n| {'path':<{width}} | p50 ms | p95 ms | max ms | {ratio_label:>{ratio_width}} |")
    print(f"|{'-' * (width + 2)}|-------:|-------:|-------:|{'-' * (ratio_width + 1)}:|")
    for path, row in rows.items():
        ratio = f"{row['slower_p50']:.2f}x, {row['slower_p95']:.2f}x" if "slower_p50" in row else ""
        print(
            f"| {path:<{width}} | {row['p50']:6.1f} | {row['p95']:6.1f} | {row['max']:6.1f} "
            f"| {ratio:>{ratio_width}} |"
        )


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def llama_replay(
    args: argparse.Namespace, model_dir: Path, text: str, start: int, end: int, settings: dict
) -> list[float]:
    """The same typing replay with the model exported to GGUF and served by llama-server
    (same thread count), through the same language server with engine.kind = llamacpp."""
    if not args.llama_server.is_file():
        raise UserError(f"no llama-server at {args.llama_server}; bash scripts/build-llama-server")
    with tempfile.TemporaryDirectory() as folder:
        gguf = export(model_dir, Path(folder) / "model.gguf")
        log = Path(folder) / "llama-server.log"
        server = LlamaServer(args.llama_server, gguf, log, args.threads)
        server.start()
        try:
            engine = {"kind": "llamacpp", "url": server.url, "timeoutMs": 60_000}
            settings = {**settings, "engine": engine}
            _, latencies, _, _ = asyncio.run(
                replay(model_dir, text, start, end, args.threads, settings, fresh=[])
            )
        finally:
            server.stop()
    return latencies


def run_figures(
    args: argparse.Namespace, model_dir: Path, requests: list[Request], fresh: list[Request]
) -> dict:
    """What every result JSON says about its run: the CPU, the model, the file, the counts."""
    return {
        "cpu": describe_cpu(),
        "model": relative(model_dir),
        "file": relative(args.file),
        "requests": len(requests),
        "fresh_spots": len(fresh),
        "threads": args.threads,
    }


def index_adds(rows: dict[str, dict[str, float]]) -> dict[str, float]:
    """What the index adds to a request: the default row's ms minus the index-off row's."""
    return {q: rows[WITH_INDEX][q] - rows[INDEX_OFF][q] for q in ("p50", "p95")}


def print_goals(section: str, row: dict[str, float]) -> None:
    """Issue 19's latency goal for this kind of request, met or not, with default settings."""
    p50_goal, p95_goal = GOALS[section]
    met = row["p50"] <= p50_goal and row["p95"] <= p95_goal
    print(
        f"goal with default settings: p50 <= {p50_goal:.0f}, p95 <= {p95_goal:.0f} ms: "
        f"{'met' if met else 'NOT met'} ({row['p50']:.1f} / {row['p95']:.1f})"
    )


def explicit_settings(args: argparse.Namespace) -> dict:
    """Only the settings the user changed from the server's defaults (the workspace mode
    measures the defaults: sampling temperature, decoder auto, index workspace)."""
    settings: dict = {}
    if args.max_new_tokens != ServerSettings().max_new_tokens:
        settings["maxNewTokens"] = args.max_new_tokens
    if args.use_suffix:
        settings["useSuffix"] = True
    return settings


def workspace_run(args: argparse.Namespace, model_dir: Path, name: str, typed_file: str) -> None:
    """The typing replay and fresh spots in a big workspace, index on (default) and off."""
    head = big_document(BIG_DOCUMENT_LINES)
    text = head + "\n" + typed_file  # the typed file at the end of a 10,000-line document
    start, end = typing_region(typed_file, args.requests, args.start)
    start, end = start + len(head) + 1, end + len(head) + 1
    fresh = fresh_spots(args.fresh_spots)
    typing: dict[str, list[float]] = {}
    jumps: dict[str, list[float]] = {}
    statuses = {}
    with tempfile.TemporaryDirectory(prefix="nanopilot-workspace-") as folder:
        workspace = build_workspace(Path(folder), args.workspace)
        files = sum(1 for _ in Path(folder).rglob("*.py"))
        print(f"workspace: {files} standard-library files, {len(workspace.tabs) + 1} open "
              f"documents, the typed one {text.count(chr(10)) + 1} lines")  # fmt: skip
        for path, extra in INDEX_ROWS.items():
            settings = explicit_settings(args) | extra
            requests, typing[path], jumps[path], statuses[path] = asyncio.run(
                replay(model_dir, text, start, end, args.threads, settings, fresh, workspace)
            )
    index = statuses[WITH_INDEX]["index"]
    figures = {
        **run_figures(args, model_dir, requests, fresh),
        "settings": explicit_settings(args),
        "decoder": statuses[WITH_INDEX]["decoder"],
        "workspace_files": files,
        "indexed_files": index["workspace_files"],
        "index_memory_bytes": index["memory_bytes"],
        "open_documents": len(workspace.tabs) + 1,
        "document_lines": text.count("\n") + 1,
        "scan_s": statuses[WITH_INDEX]["scan_s"],
        "typing": summary(typing, INDEX_OFF),
        "fresh_spot": summary(jumps, INDEX_OFF),
        "typing_sources": {path: status["sources"] for path, status in statuses.items()},
    }
    figures["index_adds_ms"] = {s: index_adds(figures[s]) for s in ("typing", "fresh_spot")}
    print_workspace_figures(figures, name)
    args.out.mkdir(parents=True, exist_ok=True)
    plot = args.out / f"latency-workspace{args.workspace}-{name}.png"
    indices = list(range(1, len(requests) + 1))
    save_line_plot(
        plot,
        {path: (indices, values) for path, values in typing.items()},
        title=f"Latency while typing in a {figures['workspace_files']}-file workspace ({name})",
        xlabel="request during the typing session",
        ylabel="latency (ms)",
    )
    write_json(args.out / f"latency-workspace{args.workspace}-{name}.json", figures)
    print(f"plot: {plot}")


def print_workspace_figures(figures: dict, name: str) -> None:
    """The two tables (typing, fresh spots), what the index adds, and the goals."""
    print(f"\n{name}, decoder {figures['decoder']}: {figures['requests']} requests typing in a "
          f"{figures['document_lines']}-line document, {figures['open_documents']} open, "
          f"{figures['indexed_files']} of {figures['workspace_files']} workspace files indexed "
          f"(~{figures['index_memory_bytes'] / 2**20:.0f} MiB), scanned in "
          f"{figures['scan_s']:.1f} s")  # fmt: skip
    titles = {"typing": "typing", "fresh_spot": f"{figures['fresh_spots']} fresh spots"}
    for section, title in titles.items():
        print(f"\n{title}")
        print_table(figures[section], "time / index off (p50, p95)")
        adds = figures["index_adds_ms"][section]
        print(f"the index adds {adds['p50']:+.1f} ms at p50, {adds['p95']:+.1f} ms at p95 "
              f"(goal <= {INDEX_ADDS_P95_GOAL_MS:.0f} ms at p95; net of the model calls that "
              f"copies save: the index's own cost is benchmarks/project_index.py's)")  # fmt: skip
        print_goals(section, figures[section][WITH_INDEX])
    for path, sources in figures["typing_sources"].items():
        print(f"who answered while typing, {path}: {sources}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="model directory")
    parser.add_argument(
        "--distilgpt2-shaped",
        action="store_true",
        help="time a random-weight 6 x 768 GPT-2 with --model's tokenizer instead",
    )
    parser.add_argument(
        "--file", type=Path, default=REPO_ROOT / "examples" / "inventory.py", help="file to type"
    )
    parser.add_argument(
        "--requests", type=int, default=150, help="completion requests to send (at least)"
    )
    parser.add_argument(
        "--start", type=float, default=0.3, help="where typing starts, as a fraction of the file"
    )
    parser.add_argument(
        "--fresh-spots", type=int, default=30, help="statement starts in newly opened files"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help="CPU threads for every path (default: the server's, %(default)s)",
    )
    parser.add_argument(
        "--max-new-tokens",
        type=int,
        default=ServerSettings().max_new_tokens,
        help="longest suggestion for both paths (random weights never stop early: cap them at "
        "a trained model's typical suggestion length)",
    )
    parser.add_argument(
        "--use-suffix",
        action="store_true",
        help="the useSuffix setting for both paths: give a FIM model the code after the cursor",
    )
    parser.add_argument(
        "--llama-server",
        type=Path,
        help="llama-server binary: also replay with engine.kind = llamacpp on the exported model",
    )
    parser.add_argument(
        "--workspace",
        type=int,
        metavar="FILES",
        help="instead of the decoder rows: start the server on a workspace of this many "
        f"standard-library files ({len(stdlib_package_files())} here, copied again past that), "
        f"{OPEN_DOCUMENTS} open "
        f"documents, a {BIG_DOCUMENT_LINES:,}-line typed one; default settings vs index off",
    )
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "benchmarks" / "results", help="plot + JSON here"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not (args.model / "config.json").is_file():
        raise UserError(f"no model in {args.model}; train one with `python -m training.finetune`")
    if not args.file.is_file():
        raise UserError(f"no such file: {args.file}")
    torch.set_num_threads(max(args.threads, 1))
    model_dir = distilgpt2_shaped(args.model) if args.distilgpt2_shaped else args.model
    name = "distilgpt2-shaped" if args.distilgpt2_shaped else args.model.name
    if args.use_suffix:
        name += "-suffix"
    if args.threads > 1:
        name += f"-{args.threads}threads"
    print(f"{describe_cpu()}; {args.threads} thread(s)")
    text = args.file.read_text(encoding="utf-8")
    if args.workspace:
        workspace_run(args, model_dir, name, text)
        return
    start, end = typing_region(text, args.requests, args.start)

    # Greedy, so that both paths compute the same suggestions; the model's path alone (no copy
    # engine, nothing held back), so that every request is one the naive way also answers.
    # `--workspace` measures the default settings, copies included.
    settings = {
        "temperature": 0.0,
        "maxNewTokens": args.max_new_tokens,
        "useSuffix": args.use_suffix,
        "index": "off",
        "filter": "eager",
    }
    fresh = fresh_spots(args.fresh_spots)
    typing: dict[str, list[float]] = {}
    jumps: dict[str, list[float]] = {}
    statuses = {}
    for path, decoder in DECODERS.items():
        if decoder == "auto" and not installed("onnx"):
            print("no onnxruntime: the default row runs float32 (pip install onnxruntime)")
        requests, typing[path], jumps[path], statuses[path] = asyncio.run(
            replay(
                model_dir, text, start, end, args.threads, settings | {"decoder": decoder}, fresh
            )  # fmt: skip
        )
    status = statuses[SERVED]  # the cache figures below: the default decoder's
    naive_settings = ServerSettings(
        temperature=0.0, max_new_tokens=args.max_new_tokens, use_suffix=args.use_suffix
    )
    if args.llama_server:
        typing[LLAMACPP] = llama_replay(args, model_dir, text, start, end, settings)
    # One naive pass over both sets of cursor positions (the model loads once), then split.
    for path, values in naive(model_dir, requests + fresh, naive_settings).items():
        typing[path], jumps[path] = values[: len(requests)], values[len(requests) :]
    answered = max(status["answered"], 1)
    figures = {
        **run_figures(args, model_dir, requests, fresh),
        "max_new_tokens": args.max_new_tokens,
        "use_suffix": args.use_suffix,
        "typing": summary(typing),
        "fresh_spot": summary(jumps),
        "typing_through_hit_rate": status["typingThroughHits"] / answered,
        "lru_hit_rate": status["lruHits"] / answered,
        "kv_reuse_rate": status["kvReuseRate"],
        "mean_new_tokens_per_generation": status["meanNewTokens"],
    }
    print(f"\n{name}: {len(requests)} requests typing {args.file.name}, {args.threads} thread(s)")
    print_table(figures["typing"])
    print_naive_ratios(figures["typing"])
    print(
        f"\ncache hits: typing-through {figures['typing_through_hit_rate']:.0%}, "
        f"LRU {figures['lru_hit_rate']:.0%}; prompt tokens reused from the key/value cache: "
        f"{figures['kv_reuse_rate']:.0%}; tokens generated per model run: "
        f"{status['meanNewTokens']:.1f} (at most {args.max_new_tokens})"
    )
    print(f"\n{len(fresh)} fresh spots (a newly opened standard-library file, a statement start)")
    print_table(figures["fresh_spot"])
    print_naive_ratios(figures["fresh_spot"])
    args.out.mkdir(parents=True, exist_ok=True)
    indices = list(range(1, len(requests) + 1))
    plot = args.out / f"latency-{name}.png"
    save_line_plot(
        plot,
        {path: (indices, values) for path, values in typing.items()},
        title=f"Completion latency while typing ({name}, {args.threads} thread"
        f"{'s' if args.threads > 1 else ''})",
        xlabel="request during the typing session",
        ylabel="latency (ms)",
    )
    write_json(args.out / f"latency-{name}.json", figures)
    print(f"plot: {plot}")


if __name__ == "__main__":
    run_cli(main)
