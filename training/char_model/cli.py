"""Train SimpleGPT character by character on Alice in Wonderland, then sample from it.

python -m training.alice                        # train the `default` preset into runs/alice
python -m training.alice train --preset seed    # the seed's tiny model (a few minutes)
python -m training.alice sample --prompt "Alice"
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from server.devices import DEVICE_CHOICES, resolve_device
from server.errors import UserError
from training.char_model.checkpoint import load_checkpoint
from training.char_model.data import download_alice, read_text, split_train_val
from training.char_model.model import GPTConfig, SimpleGPT
from training.char_model.tokenizer import CharTokenizer
from training.char_model.trainer import (
    CKPT_NAME,
    METRICS_NAME,
    PLOT_NAME,
    CharTrainer,
    TrainSettings,
)
from training.cpu_features import native_bf16
from training.dataclass_cli import add_dataclass_options, from_args, given

DEFAULT_OUT = Path("runs/alice")
CKPT_KEYS = ("model", "config", "vocab", "optimizer", "iteration", "history", "batch_rng", "wall_s")

# Each preset: (model options, training options). Command-line options override them.
PRESETS: dict[str, tuple[dict, dict]] = {
    # `default` is one of the two below, by what the CPU computes natively (`default_preset`).
    # The seed project's tiny model, kept for comparison.
    "seed": (
        dict(block_size=32, n_embd=64, n_head=4, n_layer=4, dropout=0.1, bias=True),
        dict(batch_size=32, lr=3e-4, max_iters=5000, eval_interval=500, warmup_iters=100),
    ),
    # The best model we found for 10 minutes on 2 CPU cores with bf16 (see the Alice benchmark in
    # docs/benchmarks.md): a wider or deeper model learns more per step but takes too few of them.
    # Training stops at the time budget or at max_iters, whichever comes first.
    "default-bf16": (
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
    # Without native bf16 a step costs ~3x more: a model a quarter the size takes ~4x the steps
    # in the same 10 minutes, and on 150k characters more steps beat more width.
    "default-fp32": (
        dict(block_size=128, n_embd=128, n_head=4, n_layer=4, dropout=0.2, bias=False),
        dict(
            batch_size=32,
            lr=2e-3,
            max_iters=20000,
            max_minutes=10,
            eval_interval=250,
            warmup_iters=100,
        ),
    ),
}


def default_preset() -> str:
    """The preset `default` stands for on this machine (training.cpu_features.native_bf16)."""
    return "default-bf16" if native_bf16() else "default-fp32"


@dataclass(frozen=True)
class SampleSettings:
    """What `sample` generates; SimpleGPT.generate checks temperature, top_k and top_p."""

    prompt: str = "Alice"
    max_new_tokens: int = 500
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    seed: int = 1337

    def __post_init__(self) -> None:
        if self.max_new_tokens < 0:
            raise ValueError("--max-new-tokens must be 0 or more")


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
        choices=["default", *sorted(PRESETS)],
        default="default",
        help="default: 10 minutes, sized to the CPU: 4 x 256 where bf16 is native (default-bf16), "
        "4 x 128 elsewhere (default-fp32); seed: the seed's 4 x 64, block 32",
    )
    train.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    train.add_argument("--resume", action="store_true", help="continue from OUT/ckpt.pt")
    train.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    model = train.add_argument_group("model (default: from the preset)")
    add_dataclass_options(model, GPTConfig, skip=("vocab_size",), preset=True)
    opt = train.add_argument_group("training (default: from the preset)")
    add_dataclass_options(opt, TrainSettings, preset=True)

    sample = commands.add_parser("sample", help="print text generated by a trained model")
    sample.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory with ckpt.pt")
    add_dataclass_options(sample, SampleSettings)
    sample.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """`train` is the default command: `python -m training.alice --text x` is `train --text x`."""
    if not argv or argv[0] not in ("train", "sample", "-h", "--help"):
        argv = ["train", *argv]
    return build_parser().parse_args(argv)


def resolve_options(args: argparse.Namespace, vocab_size: int) -> tuple[GPTConfig, TrainSettings]:
    """The preset's values, overridden by every option given on the command line."""
    name = default_preset() if args.preset == "default" else args.preset
    model_opts, train_opts = PRESETS[name]
    with invalid_options_are_user_errors():
        config = GPTConfig(**{**model_opts, **given(args, GPTConfig), "vocab_size": vocab_size})
        return config, TrainSettings(**{**train_opts, **given(args, TrainSettings)})


@contextmanager
def invalid_options_are_user_errors() -> Iterator[None]:
    """The dataclasses' `__post_init__` checks (and SimpleGPT.generate's) as one-line errors."""
    try:
        yield
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
    with invalid_options_are_user_errors():
        settings = from_args(args, SampleSettings)
    device = resolve_device(args.device)
    model, tokenizer = load_model(args.out, device)
    try:
        prompt = tokenizer.encode(settings.prompt or "\n")
    except ValueError as err:
        raise UserError(f"--prompt: {err}") from None
    torch.manual_seed(settings.seed)
    idx = torch.tensor([prompt], dtype=torch.long, device=device)
    with invalid_options_are_user_errors():
        out = model.generate(
            idx, settings.max_new_tokens, settings.temperature, settings.top_k, settings.top_p
        )
    print(tokenizer.decode(out[0].tolist()))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return train(args) if args.command == "train" else sample(args)
