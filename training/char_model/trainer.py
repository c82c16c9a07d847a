"""The training loop for SimpleGPT on a character-encoded text.

AdamW with weight decay on the matrices only, linear warmup then cosine decay to lr/10, gradient
clipping, bf16 autocast where the hardware has it, a periodic evaluation on both splits with the
same windows every time, and a checkpoint written (atomically) only when validation improves.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
from tqdm import tqdm

from training.atomic import write_json
from training.char_model.checkpoint import save_checkpoint
from training.char_model.interrupt import ctrl_c_deferred
from training.char_model.model import SimpleGPT
from training.char_model.tokenizer import CharTokenizer
from training.cpu_features import native_bf16
from training.plotting import save_line_plot

CKPT_NAME = "ckpt.pt"
METRICS_NAME = "metrics.json"
PLOT_NAME = "loss.png"
DTYPE_CHOICES = ("auto", "float32", "bfloat16")


@dataclass(frozen=True)
class TrainSettings:
    batch_size: int = 64
    lr: float = field(default=1e-3, metadata={"help": "peak learning rate"})
    max_iters: int = 5000
    # A wall-clock budget (0: none); the LR schedule then follows time.
    max_minutes: float = field(
        default=0.0,
        metadata={
            "help": "stop after this wall-clock budget, 0 for none (the LR schedule follows it)"
        },
    )
    warmup_iters: int = 100
    eval_interval: int = field(default=250, metadata={"help": "evaluate every N iterations"})
    eval_iters: int = field(default=20, metadata={"help": "batches per evaluation"})
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    seed: int = 1337
    dtype: str = field(
        default="auto",
        metadata={"help": "auto: bfloat16 where native", "choices": DTYPE_CHOICES},
    )

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_iters", "eval_interval", "eval_iters"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.max_minutes < 0:
            raise ValueError(f"max_minutes must be 0 (no limit) or more, got {self.max_minutes}")
        if self.warmup_iters < 0 or self.weight_decay < 0 or self.grad_clip <= 0:
            raise ValueError("warmup_iters and weight_decay must be >= 0, grad_clip > 0")
        if self.dtype not in DTYPE_CHOICES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPE_CHOICES)}, got {self.dtype}")


@dataclass
class History:
    """Losses measured at each evaluation, plus where training stands."""

    iters: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_val_loss: float = math.inf
    best_iter: int = -1


@dataclass
class TrainResult:
    history: History
    iterations: int
    interrupted: bool
    tokens_per_s: float
    wall_s: float


def autocast_dtype(device: torch.device, name: str = "auto") -> torch.dtype | None:
    """The dtype to autocast to, or None for plain float32.

    `auto` picks bfloat16 where the hardware computes it natively (recent x86 CPUs, Ampere+ GPUs);
    there it is several times faster than float32 for these small matrices.
    """
    if name == "float32":
        return None
    if name == "bfloat16":
        return torch.bfloat16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    if device.type == "cpu" and native_bf16():
        return torch.bfloat16
    return None


def autocast(device: torch.device, amp_dtype: torch.dtype | None) -> torch.autocast:
    """Autocast to `amp_dtype` on `device`, or a no-op context for plain float32."""
    return torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=bool(amp_dtype))


def configure_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW that decays the matrices of Linear layers, not biases, LayerNorms or embeddings."""
    no_decay = {
        id(p)
        for m in model.modules()
        if isinstance(m, (nn.Embedding, nn.LayerNorm))
        for p in m.parameters()
    }
    params = list(model.parameters())  # shared (tied) parameters appear once
    decay = [p for p in params if p.dim() >= 2 and id(p) not in no_decay]
    decay_ids = {id(p) for p in decay}
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": [p for p in params if id(p) not in decay_ids], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))


def lr_at(iteration: int, progress: float, settings: TrainSettings) -> float:
    """Linear warmup over `warmup_iters`, then cosine decay to lr/10 as `progress` goes 0 -> 1."""
    if iteration < settings.warmup_iters:
        return settings.lr * (iteration + 1) / settings.warmup_iters
    min_lr = settings.lr / 10
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
    return min_lr + cosine * (settings.lr - min_lr)


def get_batch(
    data: torch.Tensor, block_size: int, batch_size: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows of `data`: inputs x and, shifted by one character, targets y."""
    windows = data.unfold(0, block_size + 1, 1)  # a view: (num_windows, block_size + 1)
    rows = windows[torch.randint(len(windows), (batch_size,), generator=generator)]
    return rows[:, :-1], rows[:, 1:]


def train_step(
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    amp_dtype: torch.dtype | None,
    grad_clip: float,
) -> float:
    """One optimisation step; returns the loss. Shared with the benchmark's HF comparison."""
    with autocast(x.device, amp_dtype):
        loss = loss_fn(x, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    params = [p for group in optimizer.param_groups for p in group["params"]]
    torch.nn.utils.clip_grad_norm_(params, grad_clip)
    optimizer.step()
    return loss.item()


@torch.no_grad()
def estimate_loss(
    model: SimpleGPT,
    data: torch.Tensor,
    settings: TrainSettings,
    device: torch.device,
    amp_dtype: torch.dtype | None,
) -> float:
    """Mean loss over `eval_iters` batches; the same windows at every evaluation (fixed seed)."""
    generator = torch.Generator().manual_seed(settings.seed)
    model.eval()
    losses = []
    for _ in range(settings.eval_iters):
        x, y = get_batch(data, model.config.block_size, settings.batch_size, generator)
        with autocast(device, amp_dtype):
            _, loss = model(x.to(device), y.to(device))
        losses.append(loss.item())
    model.train()
    return sum(losses) / len(losses)


class CharTrainer:
    """Trains `model` on `train_data`, evaluating on `val_data`, writing into `out_dir`."""

    def __init__(
        self,
        model: SimpleGPT,
        tokenizer: CharTokenizer,
        train_data: torch.Tensor,
        val_data: torch.Tensor,
        settings: TrainSettings,
        device: torch.device,
        out_dir: Path,
    ) -> None:
        self.model = model.to(device)
        self.tokenizer = tokenizer
        self.train_data, self.val_data = train_data, val_data
        self.settings = settings
        self.device = device
        self.out_dir = out_dir
        self.amp_dtype = autocast_dtype(device, settings.dtype)
        self.optimizer = configure_optimizer(model, settings.lr, settings.weight_decay)
        self.batch_rng = torch.Generator().manual_seed(settings.seed)
        self.history = History()
        self.iteration = 0
        self.previous_wall_s = 0.0  # time spent before a resume

    def restore(self, checkpoint: dict[str, Any]) -> None:
        """Continue from a checkpoint written by `save`."""
        self.model.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.batch_rng.set_state(checkpoint["batch_rng"])
        self.history = History(**checkpoint["history"])
        self.iteration = checkpoint["iteration"]
        self.previous_wall_s = checkpoint["wall_s"]

    def save(self, wall_s: float) -> None:
        save_checkpoint(
            self.out_dir / CKPT_NAME,
            {
                "model": self.model.state_dict(),
                "config": self.model.config.to_dict(),
                "vocab": self.tokenizer.to_list(),
                "optimizer": self.optimizer.state_dict(),
                "iteration": self.iteration,
                "history": asdict(self.history),
                "batch_rng": self.batch_rng.get_state(),
                "settings": asdict(self.settings),
                "wall_s": wall_s,
            },
        )

    def run(self) -> TrainResult:
        """Train until max_iters (or the time budget); Ctrl-C stops early and keeps the best."""
        s = self.settings
        block_size = self.model.config.block_size
        start = time.perf_counter()
        budget_s = s.max_minutes * 60 if s.max_minutes else math.inf
        first_iteration = self.iteration
        train_s, tokens = 0.0, 0
        interrupted = False

        def wall_s() -> float:
            return self.previous_wall_s + time.perf_counter() - start

        def progress() -> float:
            return max(self.iteration / s.max_iters, wall_s() / budget_s)

        bar = tqdm(total=s.max_iters, initial=self.iteration, desc="train", unit="it")
        try:
            while True:
                done = progress() >= 1.0
                resumed_here = self.iteration == first_iteration and first_iteration > 0
                if (self.iteration % s.eval_interval == 0 or done) and not resumed_here:
                    self._evaluate(wall_s())
                if done:
                    break
                for group in self.optimizer.param_groups:
                    group["lr"] = lr_at(self.iteration, progress(), s)
                x, y = get_batch(self.train_data, block_size, s.batch_size, self.batch_rng)
                step_start = time.perf_counter()
                loss = train_step(
                    lambda x, y: self.model(x, y)[1],
                    self.optimizer,
                    x.to(self.device),
                    y.to(self.device),
                    self.amp_dtype,
                    s.grad_clip,
                )
                train_s += time.perf_counter() - step_start
                tokens += x.numel()
                self.iteration += 1
                bar.update()
                bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{tokens / train_s:,.0f}")
        except KeyboardInterrupt:
            interrupted = True
        finally:
            bar.close()
        result = TrainResult(
            history=self.history,
            iterations=self.iteration,
            interrupted=interrupted,
            tokens_per_s=tokens / train_s if train_s else 0.0,
            wall_s=wall_s(),
        )
        self._write_report(result)
        return result

    def _evaluate(self, wall_s: float) -> None:
        h = self.history
        train_loss, val_loss = (
            estimate_loss(self.model, data, self.settings, self.device, self.amp_dtype)
            for data in (self.train_data, self.val_data)
        )
        h.iters.append(self.iteration)
        h.train_loss.append(train_loss)
        h.val_loss.append(val_loss)
        tqdm.write(f"iter {self.iteration}: train loss {train_loss:.4f}, val loss {val_loss:.4f}")
        if val_loss < h.best_val_loss:
            with ctrl_c_deferred():
                h.best_val_loss, h.best_iter = val_loss, self.iteration
                self.save(wall_s)

    def _write_report(self, result: TrainResult) -> None:
        h = result.history
        write_json(
            self.out_dir / METRICS_NAME,
            {
                "best_val_loss": h.best_val_loss,
                "best_iter": h.best_iter,
                "val_loss": [
                    {"iter": i, "loss": v} for i, v in zip(h.iters, h.val_loss, strict=True)
                ],
                "train_loss": [
                    {"iter": i, "loss": v} for i, v in zip(h.iters, h.train_loss, strict=True)
                ],
                "tokens_per_s": result.tokens_per_s,
                "params": self.model.num_params(),
                "wall_s": result.wall_s,
                "iterations": result.iterations,
                "interrupted": result.interrupted,
                "config": self.model.config.to_dict(),
                "settings": asdict(self.settings),
                "device": str(self.device),
                "autocast": str(self.amp_dtype).removeprefix("torch.") if self.amp_dtype else None,
            },
        )
        save_line_plot(
            self.out_dir / PLOT_NAME,
            {"train": (h.iters, h.train_loss), "val": (h.iters, h.val_loss)},
            title=f"SimpleGPT on Alice: best val {h.best_val_loss:.3f} nats/char",
            ylabel="cross-entropy (nats/char)",
        )
