"""Train SimpleGPT character by character on Alice in Wonderland, then sample from it.

python -m training.alice                        # train the `default` preset into runs/alice
python -m training.alice train --preset seed    # the seed's tiny model (a few minutes)
python -m training.alice sample --prompt "Alice"
"""

# ruff: noqa: E402 (the OpenMP setting below must come before torch is imported)
from __future__ import annotations

import os

# OpenMP threads that spin while they wait for each other make every torch op several times slower
# when the cores are shared with other work (13x measured for a tiny model on 2 busy cores);
# sleeping threads avoid that. libgomp reads this once, when torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

import torch

from training.alice_data import download_alice, read_text, split_train_val
from training.char_tokenizer import CharTokenizer
from training.char_trainer import (
    CKPT_NAME,
    DTYPE_CHOICES,
    METRICS_NAME,
    PLOT_NAME,
    CharTrainer,
    TrainSettings,
)
from training.checkpoint import load_checkpoint
from training.devices import DEVICE_CHOICES, resolve_device
from training.errors import UserError, run_cli
from training.model import GPTConfig, SimpleGPT

DEFAULT_OUT = Path("runs/alice")
CKPT_KEYS = ("model", "config", "vocab", "optimizer", "iteration", "history", "batch_rng", "wall_s")

# Each preset: (model options, training options). Command-line options override them.
PRESETS: dict[str, tuple[dict, dict]] = {
    # The seed project's tiny model, kept for comparison.
    "seed": (
        dict(block_size=32, n_embd=64, n_head=4, n_layer=4, dropout=0.1, bias=True),
        dict(batch_size=32, lr=3e-4, max_iters=5000, eval_interval=500, warmup_iters=100),
    ),
    # The best model we found for 10 minutes on 2 CPU cores with bf16 (see the README's
    # benchmark): a wider or deeper model learns more per step but takes too few of them.
    # Training stops at the time budget or at max_iters, whichever comes first.
    "default": (
        dict(block_size=128, n_embd=256, n_head=4, n_layer=4, dropout=0.2, bias=False),
        dict(
            batch_size=32,
            lr=1e-3,
            max_iters=5000,
            max_minutes=10,
            eval_interval=250,
            warmup_iters=100,
        ),
    ),
}
CONFIG_FIELDS = [f.name for f in fields(GPTConfig) if f.name != "vocab_size"]
SETTINGS_FIELDS = [f.name for f in fields(TrainSettings)]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training.alice",
        description="Train SimpleGPT on Alice in Wonderland, character by character (the "
        "default command), or sample text from a trained model.",
        epilog="examples:\n" + __doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="{train,sample}")

    train = commands.add_parser("train", help="train a model (the default command)")
    train.add_argument(
        "--text",
        type=Path,
        help="training text (UTF-8); default: Project Gutenberg eBook #11, downloaded once",
    )
    train.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="default",
        help="default: 4 layers x 256, block 128, 10 minutes; seed: the seed's 4 x 64, block 32",
    )
    train.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    train.add_argument("--resume", action="store_true", help="continue from OUT/ckpt.pt")
    train.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    model = train.add_argument_group("model (default: from the preset)")
    model.add_argument("--block-size", type=int, help="context length in characters")
    model.add_argument("--n-embd", type=int, help="embedding width")
    model.add_argument("--n-head", type=int, help="attention heads (must divide n_embd)")
    model.add_argument("--n-layer", type=int, help="transformer blocks")
    model.add_argument("--dropout", type=float)
    model.add_argument("--bias", action=argparse.BooleanOptionalAction, default=None)
    opt = train.add_argument_group("training (default: from the preset)")
    opt.add_argument("--batch-size", type=int)
    opt.add_argument("--lr", type=float, help="peak learning rate")
    opt.add_argument("--max-iters", type=int)
    opt.add_argument(
        "--max-minutes",
        type=float,
        help="stop after this wall-clock budget, 0 for none (the LR schedule follows it)",
    )
    opt.add_argument("--warmup-iters", type=int)
    opt.add_argument("--eval-interval", type=int, help="evaluate every N iterations")
    opt.add_argument("--eval-iters", type=int, help="batches per evaluation")
    opt.add_argument("--weight-decay", type=float)
    opt.add_argument("--grad-clip", type=float)
    opt.add_argument("--seed", type=int)
    opt.add_argument("--dtype", choices=DTYPE_CHOICES, help="auto: bfloat16 where native")

    sample = commands.add_parser("sample", help="print text generated by a trained model")
    sample.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory with ckpt.pt")
    sample.add_argument("--prompt", default="Alice")
    sample.add_argument("--max-new-tokens", type=int, default=500)
    sample.add_argument("--temperature", type=float, default=1.0)
    sample.add_argument("--top-k", type=int)
    sample.add_argument("--top-p", type=float)
    sample.add_argument("--seed", type=int, default=1337)
    sample.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """`train` is the default command: `python -m training.alice --text x` is `train --text x`."""
    if not argv or argv[0] not in ("train", "sample", "-h", "--help"):
        argv = ["train", *argv]
    return build_parser().parse_args(argv)


def resolve_options(args: argparse.Namespace, vocab_size: int) -> tuple[GPTConfig, TrainSettings]:
    """The preset's values, overridden by every option given on the command line."""
    model_opts, train_opts = (dict(d) for d in PRESETS[args.preset])
    for name in CONFIG_FIELDS:
        if getattr(args, name) is not None:
            model_opts[name] = getattr(args, name)
    for name in SETTINGS_FIELDS:
        if getattr(args, name) is not None:
            train_opts[name] = getattr(args, name)
    try:
        return GPTConfig(vocab_size=vocab_size, **model_opts), TrainSettings(**train_opts)
    except ValueError as err:
        raise UserError(f"{err} (see --help)") from None


def check_resume(checkpoint: dict, config: GPTConfig, ckpt_path: Path) -> None:
    saved = checkpoint["config"]
    differences = [
        f"{name}={saved.get(name)} (now {value})"
        for name, value in config.to_dict().items()
        if saved.get(name) != value and name != "vocab_size"
    ]
    if differences:
        raise UserError(
            f"--resume: {ckpt_path} was trained with {', '.join(differences)}; "
            "pass the same model options (and --preset) or use a new --out"
        )


def train(args: argparse.Namespace) -> int:
    text = read_text(args.text if args.text is not None else download_alice())
    ckpt_path = args.out / CKPT_NAME
    checkpoint = load_checkpoint(ckpt_path, CKPT_KEYS) if args.resume else None
    if checkpoint is None and ckpt_path.exists():
        raise UserError(
            f"{ckpt_path} already exists; pass --resume to continue it, or choose another --out"
        )
    tokenizer = CharTokenizer(checkpoint["vocab"]) if checkpoint else CharTokenizer.from_text(text)
    try:
        data = torch.tensor(tokenizer.encode(text), dtype=torch.long)
    except ValueError as err:
        raise UserError(f"--resume: the text does not match the checkpoint ({err})") from None
    config, settings = resolve_options(args, tokenizer.vocab_size)
    if checkpoint:
        check_resume(checkpoint, config, ckpt_path)
    train_data, val_data = split_train_val(data)
    if len(val_data) < config.block_size + 1:
        raise UserError(
            f"the text has {len(text):,} characters, too few for block_size {config.block_size}: "
            f"the validation part (the last 10 %) needs at least {config.block_size + 1}; "
            "use a longer text or a smaller --block-size"
        )

    device = resolve_device(args.device)
    torch.manual_seed(settings.seed)
    model = SimpleGPT(config)
    trainer = CharTrainer(model, tokenizer, train_data, val_data, settings, device, args.out)
    if checkpoint:
        with unusable_checkpoint_is_user_error(ckpt_path):
            trainer.restore(checkpoint)
        print(f"resuming from iteration {trainer.iteration} of {ckpt_path}")
    print(
        f"SimpleGPT: {model.num_params() / 1e6:.2f} M parameters, {config.n_layer} layers x "
        f"{config.n_embd}, block {config.block_size}; {len(train_data):,} train / "
        f"{len(val_data):,} val characters, vocab {tokenizer.vocab_size}; device {device}"
    )
    result = trainer.run()
    h = result.history
    print(
        f"best val loss {h.best_val_loss:.4f} nats/char at iteration {h.best_iter} "
        f"({result.tokens_per_s:,.0f} tokens/s, {result.wall_s / 60:.1f} min); wrote "
        f"{ckpt_path}, {args.out / METRICS_NAME}, {args.out / PLOT_NAME}"
    )
    if result.interrupted:
        print(f"interrupted at iteration {result.iterations}; the best checkpoint is kept")
        return 130
    return 0


@contextmanager
def unusable_checkpoint_is_user_error(path: Path) -> Iterator[None]:
    """A checkpoint that loads but does not fit this code (edited, or from another version)."""
    try:
        yield
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise UserError(
            f"{path} does not fit this version of SimpleGPT ({type(err).__name__}); "
            "train again into a new --out"
        ) from None


def load_model(out_dir: Path, device: torch.device) -> tuple[SimpleGPT, CharTokenizer]:
    path = out_dir / CKPT_NAME
    checkpoint = load_checkpoint(path, CKPT_KEYS)
    with unusable_checkpoint_is_user_error(path):
        model = SimpleGPT(GPTConfig(**checkpoint["config"]))
        model.load_state_dict(checkpoint["model"])
        tokenizer = CharTokenizer(checkpoint["vocab"])
    return model.to(device), tokenizer


def sample(args: argparse.Namespace) -> int:
    if args.max_new_tokens < 0:
        raise UserError("--max-new-tokens must be 0 or more")
    device = resolve_device(args.device)
    model, tokenizer = load_model(args.out, device)
    try:
        prompt = tokenizer.encode(args.prompt or "\n")
    except ValueError as err:
        raise UserError(f"--prompt: {err}") from None
    torch.manual_seed(args.seed)
    idx = torch.tensor([prompt], dtype=torch.long, device=device)
    try:
        out = model.generate(idx, args.max_new_tokens, args.temperature, args.top_k, args.top_p)
    except ValueError as err:
        raise UserError(f"{err} (see --help)") from None
    print(tokenizer.decode(out[0].tolist()))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return train(args) if args.command == "train" else sample(args)


if __name__ == "__main__":
    run_cli(main)
