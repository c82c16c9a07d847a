"""Load a model directory saved by `training.finetune` (`save_pretrained`): one loader for the
server's engine, `training.generate` and `training.evaluate`, with one-line errors that say which
command creates a model."""

from __future__ import annotations

import threading
from pathlib import Path

import torch

from server.errors import UserError

CREATE_HINT = (
    "train one with `python -m training.finetune` (see docs/training.md) or pass --model DIR "
    "with a directory saved by it"
)

# `from_pretrained` builds models under a process-wide "meta device" context: two loads at once in
# two threads (the server switching models while one still loads) can see each other's context.
_LOAD_LOCK = threading.Lock()


def load_saved_model(model_dir: str | Path, device: torch.device | str = "cpu"):
    """(model in eval mode on `device`, tokenizer); a UserError for a missing or unreadable dir.

    Only local files are read (never the hub), and float32 on the CPU, where bf16 is slower
    for small models."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir, device = Path(model_dir), torch.device(device)
    if not (model_dir / "config.json").is_file():
        raise UserError(f"no saved model there: {model_dir} has no config.json; {CREATE_HINT}")
    with _LOAD_LOCK:
        try:
            tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(
                model_dir,
                local_files_only=True,
                dtype=torch.float32 if device.type == "cpu" else "auto",
            )
        except Exception as err:  # any unreadable file: the message names what is wrong
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise UserError(
                f"cannot load the model in {model_dir}: {reason}; {CREATE_HINT}"
            ) from err
    return model.to(device).eval(), tokenizer
