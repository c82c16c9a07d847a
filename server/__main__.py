"""`python -m server`: start the nanopilot language server (stdio by default).

stdout carries the protocol and nothing else: logs go to stderr or --log-file, and anything a
library prints is sent to stderr too.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from nanopilot_models import DEFAULT_MODEL
from server.local.options import DECODERS, DEFAULT_THREADS, DEVICE_CHOICES


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m server",
        description="nanopilot: ghost-text code completion over the Language Server Protocol.",
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=DEFAULT_MODEL,
        help="model directory saved by `python -m training.finetune` (default: the model that "
        "ships with nanopilot, %(default)s); the nanopilot.model setting overrides it",
    )
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (default)")
    transport.add_argument("--tcp", action="store_true", help="listen on --host:--port instead")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default: %(default)s)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default: %(default)s)")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="torch device")
    parser.add_argument(
        "--decoder",
        choices=DECODERS,
        default="auto",
        help="what runs the model (default: %(default)s: onnx, int8 on ONNX Runtime, for GPT-2 "
        "on the CPU, else huggingface; lean: float32, about 3x slower a token; the decoder "
        "setting overrides it)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help="CPU threads for the model (default: %(default)s, the CPU count up to 2: a second "
        "thread halves a fresh spot's prompt pass; a token's step gains nothing from more)",
    )
    parser.add_argument("--log-file", type=Path, help="write logs here instead of stderr")
    parser.add_argument("--verbose", action="store_true", help="log every LSP message (pygls)")
    return parser.parse_args(argv)


def configure_logging(log_file: Path | None, verbose: bool) -> None:
    handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler(sys.stderr)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[handler],
    )
    logging.getLogger("pygls").setLevel(logging.DEBUG if verbose else logging.WARNING)
    # httpx logs every request to a remote engine at INFO: one line per keystroke.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose else logging.WARNING)


def protocol_stdout():
    """A private handle on stdout for the protocol; fd 1 and sys.stdout then point to stderr."""
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return protocol


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    configure_logging(args.log_file, args.verbose)
    # Heavy imports after argument parsing, so that --help is instant.
    import torch
    import transformers

    from server.lsp import build_server
    from server.settings import ServerSettings

    torch.set_num_threads(max(args.threads, 1))
    transformers.utils.logging.disable_progress_bar()
    server = build_server(args.model, ServerSettings(device=args.device, decoder=args.decoder))
    if args.tcp:
        server.start_tcp(args.host, args.port)
    else:
        server.start_io(sys.stdin.buffer, protocol_stdout())


if __name__ == "__main__":
    main()
