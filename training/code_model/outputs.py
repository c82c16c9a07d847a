"""What a finished run leaves beside its model: metrics JSON, loss plot and a model card."""

from __future__ import annotations

import math
import shlex
import sys
from pathlib import Path

from training.atomic import atomic_path, write_json
from training.plotting import save_line_plot

METRICS_FILE = "training_metrics.json"


def loss_history(log_history: list[dict]) -> dict[str, tuple[list[float], list[float]]]:
    """(steps, losses) for training and evaluation, from the Trainer's log history."""
    train = [(e["step"], e["loss"]) for e in log_history if "loss" in e]
    evals = [(e["step"], e["eval_loss"]) for e in log_history if "eval_loss" in e]
    return {
        "train": ([s for s, _ in train], [v for _, v in train]),
        "validation": ([s for s, _ in evals], [v for _, v in evals]),
    }


def perplexity(loss: float) -> float:
    return math.exp(min(loss, 50.0))


def command_line() -> str:
    return "python -m training.finetune " + shlex.join(sys.argv[1:])


def write_outputs(out_dir: Path, metrics: dict, log_history: list[dict], title: str) -> None:
    history = loss_history(log_history)
    write_json(out_dir / METRICS_FILE, {**metrics, "loss_history": history})
    save_line_plot(out_dir / "loss.png", history, title=title, xlabel="step")
    write_model_card(out_dir, metrics)


def write_model_card(out_dir: Path, metrics: dict) -> None:
    data = metrics["data"]
    kept = sum(data["documents_per_split"].values())
    unit = data["unit"]
    card = f"""# {out_dir.name}

A causal language model for Python code completion, trained by nanopilot's
`training.finetune` (fill-in-the-middle: {"yes" if metrics["fim_rate"] > 0 else "no"}).

| | |
|---|---|
| base model | {metrics["base_model"]} |
| parameters | {metrics["parameters"] / 1e6:.2f}M |
| context (block size) | {metrics["block_size"]} tokens |
| training | {metrics["steps"]} steps, {metrics["tokens_seen"] / 1e6:.1f}M tokens, \
{metrics["train_seconds"] / 60:.1f} min on {metrics["hardware"]} |
| validation loss | {metrics["eval_loss"]:.3f} (perplexity {metrics["eval_perplexity"]:.2f}) |
| data | {kept} {unit}s from {data["source"]} (train {data["documents_per_split"]["train"]}) |

Command:

```bash
{metrics["command"]}
```

Load it with `AutoModelForCausalLM.from_pretrained(DIR)` and `AutoTokenizer.from_pretrained(DIR)`,
or try it with `python -m training.generate --model DIR "def fib(n):"`.
"""
    with atomic_path(out_dir / "README.md") as tmp:
        tmp.write_text(card)
