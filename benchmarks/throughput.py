"""Training throughput: nanopilot's fine-tuning run against a plain PyTorch loop, same run.

    .venv/bin/python benchmarks/throughput.py                 # the shipped model's shape
    .venv/bin/python benchmarks/throughput.py --steps 30 --threads 2

Both train the same model (the shape of `models/default`, float32 master weights, fresh
weights) on the same packed blocks with AdamW and gradient clipping at 1.0:

- **plain loop**: forward, backward, clip, `optimizer.step()`, `zero_grad()` and nothing else,
  in float32 and, where the CPU computes bf16 natively, under bf16 autocast: the best of the two
  is the figure to reach;
- **nanopilot**: the Hugging Face `Trainer` exactly as `training.finetune` builds it (its CPU
  defaults, the dtype `choose_cpu_dtype` picks for this CPU, data collator, run clock).

The loops alternate (plain, nanopilot, plain) so a machine that gets busier mid-run shows up as a
gap between the two plain figures of a dtype. Reported: median seconds per step, tokens/s, model
FLOPs utilisation against a nominal peak of 16 float32 FLOPs per cycle per core (AVX2 FMA) and the
ratio nanopilot / the best plain loop (goal ≥ 0.90). The CPU's features head the output: compare
only within one run.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.errors import run_cli  # noqa: E402
from training.atomic import write_json  # noqa: E402
from training.cpu_features import describe_cpu, native_bf16  # noqa: E402

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "default"


def fresh_model(model_dir: Path):
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(model_dir)
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(config, dtype=torch.float32)


def random_blocks(vocab_size: int, count: int, block_size: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, vocab_size, (count, block_size), generator=generator)


def plain_loop(
    model, blocks: torch.Tensor, batch_size: int, steps: int, bf16: bool = False
) -> list[float]:
    """Seconds per step of the plainest correct training loop (bf16: forward under autocast)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    model.train()
    times = []
    for step in range(steps):
        batch = blocks[(step * batch_size) % len(blocks) :][:batch_size]
        started = time.perf_counter()
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        with autocast:
            loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - started)
    return times


def trainer_loop(model, blocks: torch.Tensor, batch_size: int, steps: int) -> list[float]:
    """Seconds per step of `training.finetune`'s Trainer (step begin to step end)."""
    from transformers import Trainer, TrainerCallback, default_data_collator

    from training.code_model.args import parse_arguments
    from training.code_model.packing import BlockDataset

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.times: list[float] = []

        def on_step_begin(self, args, state, control, **kwargs):
            self.started = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.times.append(time.perf_counter() - self.started)

    timer = StepTimer()
    with tempfile.TemporaryDirectory() as out:
        _, _, training_args = parse_arguments(
            ["--base_model", "scratch", "--output_dir", out, "--max_steps", str(steps),
             "--per_device_train_batch_size", str(batch_size), "--save_strategy", "no",
             "--eval_strategy", "no", "--disable_tqdm", "true", "--learning_rate", "1e-3"]
        )  # fmt: skip
        trainer = Trainer(
            model=model,
            args=training_args,
            train_dataset=BlockDataset(blocks),
            data_collator=default_data_collator,
            callbacks=[timer],
        )
        trainer.train()
    return timer.times


def summarise(name: str, times: list[float], tokens_per_step: int, flops_per_step: float) -> dict:
    median = statistics.median(times[2:] or times)  # the first steps warm up allocators
    peak = 16 * 2.5e9 * torch.get_num_threads()  # nominal: AVX2 FMA, 2.5 GHz
    return {
        "name": name,
        "median_step_s": median,
        "tokens_per_s": tokens_per_step / median,
        "mfu_percent": 100 * flops_per_step / median / peak,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="shape to train")
    parser.add_argument("--steps", type=int, default=20, help="steps per loop")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/throughput.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(describe_cpu())
    print(f"threads {torch.get_num_threads()}, batch {args.batch_size}")
    model = fresh_model(args.model)
    block_size = model.config.n_positions
    blocks = random_blocks(model.config.vocab_size, args.batch_size * args.steps, block_size)
    tokens_per_step = args.batch_size * block_size
    parameters = sum(p.numel() for p in model.parameters())
    flops_per_step = 6 * parameters * tokens_per_step  # forward + backward, attention left out
    dtypes = ["float32", "bf16"] if native_bf16() else ["float32"]

    def plain(dtype: str, which: str) -> dict:
        model = fresh_model(args.model)
        times = plain_loop(model, blocks, args.batch_size, args.steps, bf16=dtype == "bf16")
        return summarise(f"plain {dtype} ({which})", times, tokens_per_step, flops_per_step)

    rows = [plain(dtype, "1st") for dtype in dtypes]
    trainer_times = trainer_loop(fresh_model(args.model), blocks, args.batch_size, args.steps)
    rows.append(summarise("nanopilot Trainer", trainer_times, tokens_per_step, flops_per_step))
    rows += [plain(dtype, "2nd") for dtype in dtypes]
    for row in rows:
        print(
            f"{row['name']:<22} {row['median_step_s'] * 1000:8.0f} ms/step "
            f"{row['tokens_per_s']:8.0f} tokens/s  MFU {row['mfu_percent']:.1f} %"
        )
    plain_rate = {
        dtype: statistics.mean(
            r["tokens_per_s"] for r in rows if r["name"].startswith(f"plain {dtype}")
        )
        for dtype in dtypes
    }
    best_dtype = max(plain_rate, key=plain_rate.get)
    ratio = rows[len(dtypes)]["tokens_per_s"] / plain_rate[best_dtype]
    print(f"nanopilot / best plain loop ({best_dtype}): {ratio:.2f} (goal ≥ 0.90)")
    write_json(args.json, {"cpu": describe_cpu(), "threads": args.threads, "rows": rows,
                           "best_plain_dtype": best_dtype, "ratio": ratio})  # fmt: skip


if __name__ == "__main__":
    run_cli(main)
