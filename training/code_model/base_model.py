"""Load the model to fine-tune: a hub id or a local `save_pretrained` directory.

Both go through `AutoModelForCausalLM` / `AutoTokenizer`, so a directory a test builds and saves
takes exactly the path `distilgpt2` takes. Offline, a hub id fails in one line that names the
alternative that needs no download: `--base_model scratch`.
"""

from __future__ import annotations

from pathlib import Path

import torch

from server.errors import UserError
from server.fim import FIM_TOKENS, fim_token_ids
from training.code_model.corpus import first_error_line
from training.code_model.hub import hub_reachable

TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "tokenizer.model")


def load_base_model(name: str):
    """(model, tokenizer) from a hub id or local directory; a UserError says what is missing."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(name)
    if path.is_dir() and not any((path / file).is_file() for file in TOKENIZER_FILES):
        raise UserError(
            f"--base_model {name}: the directory has no tokenizer ({', '.join(TOKENIZER_FILES)}); "
            "save one there with tokenizer.save_pretrained(DIR)"
        )
    if not path.is_dir() and name.startswith((".", "/", "~")):
        raise UserError(f"--base_model {name}: no such directory")
    # A local copy (a directory, or the hub cache) first; the network only when it is up.
    local_only = path.is_dir() or not hub_reachable()
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=local_only)
        # float32 master weights whatever dtype the model was saved in (models/default is bf16):
        # mixed precision, where the hardware has it, comes from autocast, not from the weights.
        model = AutoModelForCausalLM.from_pretrained(
            name, local_files_only=local_only, dtype=torch.float32
        )
    except (OSError, ValueError) as err:
        offline = local_only and not path.is_dir()
        reason = "no local copy and the hub is unreachable" if offline else first_error_line(err)
        raise UserError(
            f"--base_model {name}: could not load it ({reason}); "
            "offline, train a model from scratch with --base_model scratch"
        ) from err
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def add_fim_tokens(model, tokenizer) -> None:
    """Teach an existing tokenizer the FIM tokens and give the model embeddings for them."""
    if fim_token_ids(tokenizer) is None:
        # Special: never split, and the server stops when the model writes one.
        tokenizer.add_special_tokens({"additional_special_tokens": list(FIM_TOKENS)})
        model.resize_token_embeddings(len(tokenizer))
