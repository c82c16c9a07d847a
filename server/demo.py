"""`python -m server.demo`: the suggestions the server would show, with their latencies.

Each position is FILE:LINE:COL (1-based, as editors show them). The demo pretends the user is
typing there: the rest of that line is not written yet, and is shown as "in file" next to the
suggestion. Suggestions go through the server's own code path (settings -> the choice between a
copy from the open file and the model -> post-processing), without its answer caches, and each
says where it came from. Without positions it runs a few in the example file that ships with
nanopilot (examples/inventory.py in the checkout).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from nanopilot_examples import INVENTORY
from nanopilot_models import DEFAULT_MODEL
from server.errors import UserError, run_cli
from server.local.options import DECODERS, DEFAULT_THREADS, DEVICE_CHOICES
from server.postprocess.context import line_prefix

DEFAULT_POSITIONS = [
    f"{INVENTORY}:{spot}" for spot in ("17:16", "25:19", "34:26", "40:5", "48:37", "56:11")
]

CONNECT = """\
Connect an editor (the server speaks LSP over stdio: `python -m server --stdio`):
  VS Code  install the extension's .vsix and accept "Set up" (see docs/editors.md)
  Neovim   vim.lsp.start_client({cmd = {"python", "-m", "server"}}) and use <C-x><C-o>
  Status   workspace/executeCommand nanopilot.status (latency p50/p95, cache hits)"""


@dataclass(frozen=True)
class Spot:
    label: str
    uri: str
    prefix: str
    suffix: str
    rest_of_line: str

    @property
    def document(self) -> str:
        """The file as the editor holds it: the rest of the cursor's line not typed yet."""
        return self.prefix + self.suffix


def parse_spot(text: str) -> Spot:
    """FILE:LINE:COL -> the text before the cursor and after the cursor's line."""
    try:
        file, line, column = text.rsplit(":", 2)
        line_number, column_number = int(line), int(column)
    except ValueError:
        raise UserError(
            f"bad position {text!r}; write FILE:LINE:COL, e.g. example.py:3:5"
        ) from None
    path = Path(file)
    if not path.is_file():
        raise UserError(f"no such file: {path}")
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    if not 1 <= line_number <= len(lines):
        raise UserError(f"{text}: the file has {len(lines)} lines")
    current = lines[line_number - 1]
    if not 1 <= column_number <= len(current) + 1:
        raise UserError(f"{text}: line {line_number} has {len(current)} characters")
    before = "\n".join(lines[: line_number - 1] + [current[: column_number - 1]])
    after = "\n".join(["", *lines[line_number:]])
    return Spot(text, path.resolve().as_uri(), before, after, current[column_number - 1 :])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m server.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "positions", nargs="*", help="FILE:LINE:COL (default: spots in inventory.py)"
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="model directory")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="cpu", help="torch device")
    parser.add_argument("--decoder", choices=DECODERS, default="auto", help="see docs/server.md")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    parser.add_argument("--multiline", choices=("auto", "always", "never"), default="auto")
    parser.add_argument(
        "--threads", type=int, default=DEFAULT_THREADS, help="CPU threads (default: %(default)s)"
    )
    return parser.parse_args(argv)


def show(text: str) -> str:
    """One line, with newlines visible."""
    return "|" + text.replace("\n", "⏎") + "|"


def origin(source: str, last: dict) -> str:
    """Who wrote a suggestion (server/choice.py's log of it), as the demo prints it."""
    if source.startswith("copy") and last["copy"]:
        return f"copied from {last['copy']['from'].rsplit('/', 1)[-1]}"
    if source == "nothing" and last["declined_model_text"]:
        declined = show(last["declined_model_text"])
        return f"nothing shown: the model's {declined} is not likely enough"
    return {"model": "the model", "nothing": "nothing shown"}.get(source, source)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    spots = [parse_spot(position) for position in args.positions or DEFAULT_POSITIONS]
    import asyncio

    import torch
    import transformers

    from server.choice import THRESHOLDS, ChoiceLog, ChoosingEngine
    from server.contract import CompletionRequest
    from server.local.engine import CompletionEngine
    from server.project import ProjectIndex
    from server.retrieval import Retriever
    from server.settings import ServerSettings, apply_settings

    torch.set_num_threads(max(args.threads, 1))
    transformers.utils.logging.disable_progress_bar()
    settings, problems = apply_settings(
        ServerSettings(), {"temperature": args.temperature, "multiline": args.multiline}
    )
    if problems:
        raise UserError(problems[0])
    print(f"loading {args.model} ...", file=sys.stderr)
    engine = CompletionEngine.load(args.model, device=args.device, decoder=args.decoder)
    kind = "fill-in-the-middle" if engine.is_fim else "left-to-right"
    print(f"model {args.model} ({kind}) on {engine.device}, {engine.decoder} decoder\n")
    engine.complete_sync(CompletionRequest(spots[0].prefix, spots[0].suffix))  # warm-up
    for spot in spots:
        index = ProjectIndex(scan_thread=False)  # the file open in the editor, as typed so far
        index.open(spot.uri, spot.document, "python")
        log = ChoiceLog()
        chooser = ChoosingEngine(index, engine, settings.index, THRESHOLDS[settings.filter],
                                 log, Retriever(index))  # fmt: skip
        request = CompletionRequest(spot.prefix, spot.suffix, settings.generation, uri=spot.uri)
        result = asyncio.run(chooser.complete(request))
        typed = line_prefix(spot.prefix)
        label = spot.label.removeprefix(f"{INVENTORY.parent}/")
        print(f"{label}  {result.seconds * 1000:.1f} ms, {origin(result.source, log.last)}")
        print(f"  typed       {show(typed)}")
        print(f"  suggestion  {show(result.text) if result.text else '(none)'}")
        print(f"  in file     {show(spot.rest_of_line)}\n")
    print("(latencies without the server's caches; the first request warmed the model up)")
    print(CONNECT)


def cli() -> None:
    """The console script `nanopilot-demo` (pipx puts console scripts, not modules, on PATH)."""
    run_cli(main)


if __name__ == "__main__":
    cli()
