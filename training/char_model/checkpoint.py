"""Save and load training checkpoints: atomically, and with one clear line when a file is bad."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from server.errors import UserError
from training.atomic import atomic_path


def save_checkpoint(target: Path, payload: dict[str, Any]) -> None:
    """Write `payload` with torch.save to a temporary file, then rename it over `target`."""
    with atomic_path(target) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: Path, required_keys: Iterable[str]) -> dict[str, Any]:
    """Load a checkpoint onto the CPU; a missing, corrupt or foreign file is a UserError."""
    if not path.is_file():
        raise UserError(f"no checkpoint at {path}; train a model into that directory first")
    try:
        # weights_only: a checkpoint holds tensors, numbers, strings, lists and dicts; never
        # run arbitrary pickled code from a file.
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a damaged file
        raise UserError(
            f"{path} is not a readable checkpoint ({type(err).__name__}); delete it and train again"
        ) from None
    missing = [key for key in required_keys if not isinstance(payload, dict) or key not in payload]
    if missing:
        raise UserError(
            f"{path} is not a checkpoint of this kind (missing {', '.join(missing)}); "
            "delete it and train again"
        )
    return payload
