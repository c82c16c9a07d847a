"""Benchmark SimpleGPT on Alice: honest val loss in a fixed wall-clock budget, and training speed
against Hugging Face's GPT2LMHeadModel of the same shape.

    .venv/bin/python benchmarks/alice.py                 # 10 minutes of training + ~1 min speed
    .venv/bin/python benchmarks/alice.py --minutes 2 --steps 5

1. Throughput: SimpleGPT and GPT2LMHeadModel with the `default` preset's shape (biases on, since
   GPT-2 has them), the same batches, autocast dtype and AdamW, take timed training steps in
   turn (forward, backward, clip, step); medians and their ratio are reported.
2. Quality: `python -m training.alice --preset default --max-minutes M` runs as a user would run
   it; the best validation loss on the held-out last 10 % of the book is reported in nats/char.
"""

from __future__ import annotations

import training  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)

# isort: split
import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from server.errors import run_cli
from server.local.devices import resolve_device
from training.char_model import cli as alice
from training.char_model.data import read_text
from training.char_model.model import GPTConfig, SimpleGPT
from training.char_model.tokenizer import CharTokenizer
from training.char_model.trainer import autocast_dtype, configure_optimizer, get_batch, train_step
from training.plotting import save_line_plot

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TEXT = REPO.parent / "shared" / "data" / "alice.txt"


def hf_gpt2(config: GPTConfig) -> torch.nn.Module:
    """GPT2LMHeadModel with SimpleGPT's shape: ReLU MLP of width 4C, same dropout, tied head."""
    from transformers import GPT2Config, GPT2LMHeadModel

    hf_config = GPT2Config(
        vocab_size=config.vocab_size,
        n_positions=config.block_size,
        n_embd=config.n_embd,
        n_layer=config.n_layer,
        n_head=config.n_head,
        n_inner=4 * config.n_embd,
        activation_function="relu",
        resid_pdrop=config.dropout,
        embd_pdrop=config.dropout,
        attn_pdrop=config.dropout,
        bos_token_id=0,
        eos_token_id=0,
        use_cache=False,
    )
    hf_config._attn_implementation = "sdpa"  # the same fused attention kernel as SimpleGPT
    return GPT2LMHeadModel(hf_config)


def measure_throughput(
    config: GPTConfig, data: torch.Tensor, batch_size: int, steps: int, device: torch.device
) -> dict[str, list[float]]:
    """Seconds per training step for each model, the models taking turns on the same batches."""
    torch.manual_seed(0)
    simple = SimpleGPT(config).to(device)
    hf = hf_gpt2(config).to(device)
    contenders = {
        "SimpleGPT": (simple, lambda x, y: simple(x, y)[1]),
        "HF GPT2LMHeadModel": (
            hf,
            lambda x, y: F.cross_entropy(hf(input_ids=x).logits.flatten(0, 1).float(), y.flatten()),
        ),
    }
    optimizers = {name: configure_optimizer(m, 1e-3, 0.1) for name, (m, _) in contenders.items()}
    amp = autocast_dtype(device)
    generator = torch.Generator().manual_seed(0)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for step in range(steps + 2):  # the first two steps of each are warm-up, not timed
        x, y = (t.to(device) for t in get_batch(data, config.block_size, batch_size, generator))
        for name, (_, loss_fn) in contenders.items():
            start = time.perf_counter()
            train_step(loss_fn, optimizers[name], x, y, amp, grad_clip=1.0)
            if device.type == "cuda":
                torch.cuda.synchronize()
            if step >= 2:
                times[name].append(time.perf_counter() - start)
    for name, (model, _) in contenders.items():
        params = sum(p.numel() for p in model.parameters())
        print(f"{name}: {params:,} parameters")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per model")
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "benchmark-alice")
    parser.add_argument("--images", type=Path, default=REPO / "docs" / "images")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    model_opts, train_opts = alice.PRESETS[alice.default_preset()]

    text = read_text(args.text)
    tokenizer = CharTokenizer.from_text(text)
    data = torch.tensor(tokenizer.encode(text))
    config = GPTConfig(vocab_size=tokenizer.vocab_size, **{**model_opts, "bias": True})
    load_start = os.getloadavg()[0]  # other work on the machine slows both measurements
    print(f"threads {torch.get_num_threads()}, device {device}, autocast {autocast_dtype(device)}")
    times = measure_throughput(config, data, train_opts["batch_size"], args.steps, device)
    tokens = train_opts["batch_size"] * config.block_size  # per step
    medians = {name: statistics.median(ts) for name, ts in times.items()}

    shutil.rmtree(args.out, ignore_errors=True)  # the benchmark's own run directory
    status = alice.main(
        ["train", "--preset", "default", "--text", str(args.text), "--out", str(args.out),
         "--max-minutes", str(args.minutes), "--device", args.device]
    )  # fmt: skip
    metrics = json.loads((args.out / alice.METRICS_NAME).read_text())

    args.images.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.out / alice.PLOT_NAME, args.images / "alice_loss.png")
    save_line_plot(
        args.images / "alice_throughput.png",
        {name: (range(1, len(ts) + 1), [t * 1000 for t in ts]) for name, ts in times.items()},
        title=f"Training step time, {config.n_layer} layers x "
        f"{config.n_embd}, batch {train_opts['batch_size']} x {config.block_size}",
        xlabel="timed step (models alternate)",
        ylabel="ms per step",
    )
    simple_s, hf_s = medians["SimpleGPT"], medians["HF GPT2LMHeadModel"]
    rows = [
        ("SimpleGPT step, median", f"{simple_s * 1000:.0f} ms", f"{tokens / simple_s:,.0f} tok/s"),
        ("HF GPT2LMHeadModel step, median", f"{hf_s * 1000:.0f} ms", f"{tokens / hf_s:,.0f} tok/s"),
        ("speed ratio SimpleGPT / HF", f"{hf_s / simple_s:.2f}x", "goal >= 1.00x"),
        ("`default` best val loss", f"{metrics['best_val_loss']:.3f} nats/char", "goal <= 1.40"),
        ("iterations, wall time", str(metrics["iterations"]), f"{metrics['wall_s'] / 60:.1f} min"),
        (
            "training throughput",
            f"{metrics['tokens_per_s']:,.0f} tok/s",
            f"autocast {metrics['autocast']}",
        ),
        (
            "load average, start / end",
            f"{load_start:.1f} / {os.getloadavg()[0]:.1f}",
            f"{os.cpu_count()} cores",
        ),
    ]
    print("\n| measure | value | note |\n| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nplots: {args.images / 'alice_loss.png'}, {args.images / 'alice_throughput.png'}")
    return status


if __name__ == "__main__":
    run_cli(main)
