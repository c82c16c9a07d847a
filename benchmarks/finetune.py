"""Benchmark the code-model pipeline: quality against training time, and full vs LoRA speed.

    .venv/bin/python benchmarks/finetune.py --run runs/stage2 --start runs/previous --every 2

1. Quality against training time: every `--every`-th checkpoint of a `training.finetune` run (and
   the model it started from, at minute 0) is scored as `training.evaluate` scores: editor cases
   from whole held-out files at both cursor kinds, through the server's engine, at the training
   seconds its `run_clock.json` records. Baseline in the same table and plot: the constant line
   that is commonest in the training files (the "learned the shape, not the content" floor).
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
from pathlib import Path

import torch

from server.errors import UserError, run_cli
from training.code_model.args import ModelArguments
from training.code_model.evaluate import (
    baseline_row,
    completion_scores,
    editor_cases,
    perplexity_scores,
)
from training.code_model.evaluate import parse_args as parse_evaluate_args
from training.code_model.finetune import add_lora, last_checkpoint
from training.code_model.run_clock import read_clock
from training.plotting import save_line_plot

REPO = Path(__file__).resolve().parent.parent


def checkpoints(run_dir: Path, every: int) -> list[Path]:
    found = sorted(run_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    if not found:
        raise UserError(f"--run {run_dir}: no checkpoint-N directories; train with --save_steps")
    chosen = found[every - 1 :: every]
    return chosen if chosen and chosen[-1] == last_checkpoint(run_dir) else [*chosen, found[-1]]


def quality_against_time(args) -> list[dict]:
    """Every chosen checkpoint of `--run` (and `--start`, at minute 0) on the editor cases."""
    eval_args = parse_evaluate_args(
        [
            "--model",
            "unused",
            "--cases",
            str(args.cases),
            *(["--data", args.data] if args.data else []),
        ]
    )
    cases, sources, train_sample = editor_cases(eval_args)
    baseline = baseline_row(train_sample, cases, eval_args.seed)
    rows = []
    models = [(args.start, 0.0, 0)] if args.start else []
    for checkpoint in checkpoints(args.run, args.every):
        clock = read_clock(checkpoint)
        models.append((checkpoint, clock["train_seconds"] / 60, clock.get("tokens_seen", 0)))
    for model_dir, minutes, tokens in models:
        row = {"checkpoint": model_dir.name, "minutes": minutes, "tokens_seen": tokens}
        row |= perplexity_scores(model_dir, sources, args.perplexity_files)
        row |= completion_scores(model_dir, cases, eval_args)
        rows.append(row)
        print(
            f"{model_dir.name:>18} {minutes:7.1f} min {tokens / 1e6:6.1f}M tok  ppl "
            f"{row['perplexity']:7.2f}  statement ES {row['statement']['edit_similarity']:5.1f}"
            f"  midline ES {row['midline']['edit_similarity']:5.1f}",
            flush=True,
        )
    minutes = [r["minutes"] for r in rows]
    ends = [minutes[0], minutes[-1]]
    save_line_plot(
        args.images / "finetune_quality_vs_time.png",
        {
            "statement ES": (minutes, [r["statement"]["edit_similarity"] for r in rows]),
            "mid-line ES": (minutes, [r["midline"]["edit_similarity"] for r in rows]),
            "statement EM %": (minutes, [r["statement"]["exact_match"] for r in rows]),
            "constant baseline, statement ES": (
                ends,
                [baseline["statement"]["edit_similarity"]] * 2,
            ),
            "constant baseline, mid-line ES": (ends, [baseline["midline"]["edit_similarity"]] * 2),
        },
        title=f"{args.run.name}: held-out packages, {len(cases['statement'])} cases each",
        xlabel="training minutes (this stage)",
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
    parser.add_argument("--run", type=Path, help="a directory of checkpoint-N model directories")
    parser.add_argument("--start", type=Path, help="the model the run started from (minute 0)")
    parser.add_argument("--data", default=None, help="the run's --data (default: evaluate's)")
    parser.add_argument("--every", type=int, default=1, help="score every N-th checkpoint")
    parser.add_argument("--cases", type=int, default=200, help="line-completion cases")
    parser.add_argument("--perplexity_files", type=int, default=100)
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
