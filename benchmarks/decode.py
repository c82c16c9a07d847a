"""Per-token decode and prompt prefill: each decoder against the Hugging Face forward.

The decoders (server/local/decoders.py: Hugging Face forward, lean float32, int8 ONNX Runtime when
onnxruntime is installed) run the same model with the same prompt in the same process, one
after the other, several rounds; medians are reported with their ratio to the first. Prefill is
a cold 512-token prompt (a jump to a fresh spot in a file); decode is one token on top of it
(greedy, as the engine runs it).

    python benchmarks/decode.py                      # the shipped default model, 1 thread
    python benchmarks/decode.py --model DIR --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from nanopilot_models import DEFAULT_MODEL  # noqa: E402
from server.errors import run_cli  # noqa: E402
from server.local.decoders import decoder_for, installed  # noqa: E402
from server.local.saved_model import load_saved_model  # noqa: E402
from training.atomic import write_json  # noqa: E402
from training.cpu_features import describe_cpu  # noqa: E402

PATHS = {  # row -> the decoder setting
    "Hugging Face forward + DynamicCache (before)": "huggingface",
    "lean GPT-2, float32, pre-allocated cache (default)": "lean",
    "int8 ONNX Runtime step (prompts: lean)": "onnx",
}
CPU = torch.device("cpu")


def measure(cache, prompt: list[int], tokens: int) -> tuple[float, list[float]]:
    """(cold prefill ms, per-token decode ms) for one round."""
    cache.reset()
    started = time.perf_counter()
    logits, _ = cache.prefill(prompt)
    prefill = (time.perf_counter() - started) * 1000
    decode = []
    for _ in range(tokens):
        token = int(logits.argmax())
        started = time.perf_counter()
        logits = cache.step(token)
        decode.append((time.perf_counter() - started) * 1000)
    return prefill, decode


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--prompt_tokens", type=int, default=512)
    parser.add_argument("--new_tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "benchmarks/results/decode.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    model, tokenizer = load_saved_model(args.model, CPU)
    source = (REPO_ROOT / "server" / "local" / "engine.py").read_text() * 4
    room = model.config.n_positions - args.new_tokens
    prompt = tokenizer(source)["input_ids"][: min(args.prompt_tokens, room)]
    caches = {name: decoder_for(model, CPU, d) for name, d in PATHS.items() if installed(d)}
    if len(caches) < len(PATHS):
        print('no onnxruntime: the int8 ONNX row is left out (pip install "nanopilot[onnx]")')
    rounds: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in caches}
    for _ in range(args.rounds):  # interleaved, so a noisy moment hits both paths
        for name, cache in caches.items():
            prefill, decode = measure(cache, prompt, args.new_tokens)
            rounds[name][0].append(prefill)
            rounds[name][1].extend(decode)
    print(f"{describe_cpu()}; {args.threads} thread(s); {args.model}; {len(prompt)}-token prompt")
    results = {}
    for name, (prefills, decodes) in rounds.items():
        results[name] = {
            "prefill_ms": statistics.median(prefills),
            "decode_ms_per_token": statistics.median(decodes),
        }
    before = next(iter(results.values()))
    print(f"| path | prefill {len(prompt)} tokens, ms | decode, ms/token | faster than the "
          f"first (prefill, decode) |\n|---|---|---|---|")  # fmt: skip
    speedup = {}
    for name, row in results.items():
        speedup[name] = {key: before[key] / row[key] for key in row}
        print(f"| {name} | {row['prefill_ms']:.1f} | {row['decode_ms_per_token']:.2f} | "
              f"{speedup[name]['prefill_ms']:.1f}x, "
              f"{speedup[name]['decode_ms_per_token']:.1f}x |")  # fmt: skip
    write_json(args.json, {"cpu": describe_cpu(), "threads": args.threads,
                           "prompt_tokens": len(prompt), "results": results,
                           "speedup": speedup})  # fmt: skip
    print(f"wrote {args.json}")


if __name__ == "__main__":
    run_cli(main)
