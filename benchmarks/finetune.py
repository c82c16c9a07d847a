"""Benchmark the code-model pipeline: quality against training time, and full vs LoRA speed.

    .venv/bin/python benchmarks/finetune.py --run runs/default          # ~10 min on 2 cores
    .venv/bin/python benchmarks/finetune.py --run runs/default --every 3 --cases 100

1. Quality against training time: every `--every`-th checkpoint of a `training.finetune` run is
   scored on the held-out test split (line completion through the server's engine, perplexity),
   at the training seconds its `run_clock.json` records. Baseline in the same table: always
   suggesting the most common line of the training split (the "learned the shape, not the
   content" floor).
2. Throughput: full fine-tuning vs LoRA (r=16 on c_attn, c_proj, c_fc) of a distilGPT2-shaped
   model (6 layers × 768, 50257 tokens; random weights, saved and loaded with from_pretrained as
   a hub model would be), the same batches, bf16 autocast on CPU. Median step times, tokens/s
   and the LoRA/full ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch

from server.errors import UserError, run_cli
from training.code_model.args import ModelArguments
from training.code_model.corpus import CorpusOptions, load_corpus
from training.code_model.evaluate import completion_scores, perplexity_scores
from training.code_model.finetune import add_lora, last_checkpoint
from training.code_model.line_completion import LineCase, build_cases, edit_similarity, exact_match
from training.code_model.run_clock import read_clock
from training.plotting import save_line_plot

REPO = Path(__file__).resolve().parent.parent


def checkpoints(run_dir: Path, every: int) -> list[Path]:
    found = sorted(run_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    if not found:
        raise UserError(f"--run {run_dir}: no checkpoint-N directories; train with --save_steps")
    chosen = found[every - 1 :: every]
    return chosen if chosen and chosen[-1] == last_checkpoint(run_dir) else [*chosen, found[-1]]


def constant_baseline(train: list[str], cases: list[LineCase]) -> dict:
    """Scores of always suggesting the training split's most common line."""
    counts = Counter(line.strip() for function in train for line in function.split("\n")[1:])
    counts.pop("", None)
    line = counts.most_common(1)[0][0]
    return {
        "suggestion": line,
        "exact_match": 100.0 * sum(exact_match(line, c.target) for c in cases) / len(cases),
        "edit_similarity": sum(edit_similarity(line, c.target) for c in cases) / len(cases),
    }


def quality_against_time(args) -> list[dict]:
    corpus = load_corpus(args.data, CorpusOptions())
    cases = build_cases(corpus.splits["test"], args.cases, seed=0)
    baseline = constant_baseline(corpus.splits["train"], cases)
    rows = []
    for checkpoint in checkpoints(args.run, args.every):
        clock = read_clock(checkpoint)
        row = {"checkpoint": checkpoint.name, "minutes": clock["train_seconds"] / 60}
        row["tokens_seen"] = clock.get("tokens_seen", 0)
        row |= perplexity_scores(checkpoint, corpus.splits["test"], args.perplexity_functions)
        scores = completion_scores(checkpoint, cases, 48, use_suffix=True, device="cpu")
        rows.append(row | {k: v for k, v in scores.items() if k != "examples"})
        print(
            f"{checkpoint.name:>16} {row['minutes']:7.1f} min {row['tokens_seen'] / 1e6:6.1f}M tok"
            f"  ppl {row['perplexity']:7.2f}  EM {rows[-1]['exact_match']:5.1f}"
            f"  ES {rows[-1]['edit_similarity']:5.1f}",
            flush=True,
        )
    print(
        f"{'baseline':>16} constant suggestion {baseline['suggestion']!r}: "
        f"EM {baseline['exact_match']:.1f}  ES {baseline['edit_similarity']:.1f}"
    )
    minutes = [r["minutes"] for r in rows]
    save_line_plot(
        args.images / "finetune_quality_vs_time.png",
        {
            "edit similarity": (minutes, [r["edit_similarity"] for r in rows]),
            "exact match %": (minutes, [r["exact_match"] for r in rows]),
            "baseline edit similarity": (
                [minutes[0], minutes[-1]],
                [baseline["edit_similarity"]] * 2,
            ),
        },
        title=f"{args.run.name}: held-out line completion ({len(cases)} cases)",
        xlabel="training minutes",
        ylabel="score",
    )
    return rows + [{"checkpoint": "baseline", **baseline}]


def distilgpt2_shaped(directory: Path) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(n_layer=6, n_embd=768, n_head=12, vocab_size=50257, n_positions=1024)
    GPT2LMHeadModel(config).save_pretrained(directory)


def median_step_seconds(model, batch: torch.Tensor, steps: int) -> float:
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4)
    times = []
    for step in range(steps + 1):  # the first step warms up allocators and kernels
        started = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def full_vs_lora(args) -> list[dict]:
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    batch = torch.randint(0, 50257, (args.batch_size, args.block_size))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        distilgpt2_shaped(Path(tmp))
        for mode in ("full", "lora"):
            model = AutoModelForCausalLM.from_pretrained(tmp, dtype=torch.float32)
            if mode == "lora":
                model = add_lora(model, ModelArguments(lora=True))
            trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
            seconds = median_step_seconds(model.train(), batch, args.steps)
            rows.append(
                {
                    "mode": mode,
                    "trainable_parameters": trainable,
                    "median_step_seconds": seconds,
                    "tokens_per_second": batch.numel() / seconds,
                }
            )
    full, lora = rows
    print(f"\n{'mode':<6} {'trainable':>12} {'median step':>12} {'tokens/s':>9}")
    for row in rows:
        print(
            f"{row['mode']:<6} {row['trainable_parameters'] / 1e6:>11.2f}M "
            f"{row['median_step_seconds']:>11.2f}s {row['tokens_per_second']:>9.0f}"
        )
    print(f"LoRA / full tokens/s: {lora['tokens_per_second'] / full['tokens_per_second']:.2f}×")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="a training.finetune output directory")
    parser.add_argument("--data", default=None, help="the run's --data (default: stdlib)")
    parser.add_argument("--every", type=int, default=1, help="score every N-th checkpoint")
    parser.add_argument("--cases", type=int, default=200, help="line-completion cases")
    parser.add_argument("--perplexity_functions", type=int, default=150)
    parser.add_argument("--steps", type=int, default=4, help="timed steps per mode")
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--block_size", type=int, default=256)
    parser.add_argument("--skip_throughput", action="store_true")
    parser.add_argument("--images", type=Path, default=REPO / "docs" / "images")
    parser.add_argument("--json", type=Path, default=REPO / "runs" / "benchmark_finetune.json")
    args = parser.parse_args(argv)
    args.images.mkdir(parents=True, exist_ok=True)
    results = {}
    if args.run:
        results["quality_against_time"] = quality_against_time(args)
    if not args.skip_throughput:
        results["full_vs_lora"] = full_vs_lora(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.json} and {args.images}/finetune_quality_vs_time.png")


if __name__ == "__main__":
    run_cli(main)
