"""A tiny, real code model for tests: byte-level BPE tokenizer + 2-layer GPT-2, trained in seconds.

Tests need a model that goes through exactly the loading code a real one does
(`AutoTokenizer` / `AutoModelForCausalLM` on a `save_pretrained` directory) and that completes
code *predictably*. `build_tiny_model` trains both on `FUNCTIONS`, eight small Python functions,
alone and as "files" of all eight in random order, until greedy decoding reproduces them: given
a function's first line (e.g. "def add(a, b):") at the start of a document or after one to a few
other corpus functions, plain `model.generate` writes the rest of that function
("\n    return a + b\n") and then eos. After all seven others it sometimes goes astray.

A prompt that ends in indentation ("def add(a, b):\n    ") is tokenised unlike the training text
("\n   " + " return"), so raw generation from it is unreliable; the server's engine heals that
boundary and completes it as `RELIABLE_COMPLETIONS` lists.

With `fim=True` the tokenizer also has the FIM tokens of `training/fim.py` and the model is trained
on prefix-suffix-middle examples of the same corpus too, so `<fim_prefix>P<fim_suffix>S<fim_middle>`
prompts work as well (the suffix barely matters at this size).

`tiny_model_dir` and `tiny_fim_model_dir` are session fixtures (imported by tests/conftest.py);
they build once per content of this file and cache the result under `.cache/tiny-models/`.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import tempfile
from pathlib import Path

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from server.fim import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX
from training.code_model.scratch import EOS_TOKEN as EOS
from training.code_model.scratch import train_tokenizer

FUNCTIONS = [
    "def add(a, b):\n    return a + b\n",
    "def subtract(a, b):\n    return a - b\n",
    "def multiply(a, b):\n    return a * b\n",
    'def greet(name):\n    return "Hello, " + name\n',
    "def is_even(n):\n    return n % 2 == 0\n",
    "def square(x):\n    return x * x\n",
    "def first(items):\n    return items[0]\n",
    "def total(values):\n    result = 0\n    for value in values:\n        result += value\n"
    "    return result\n",
]
CORPUS = "\n\n".join(FUNCTIONS)

RELIABLE_COMPLETIONS = {
    "def add(a, b):\n    ": "return a + b",
    "def greet(name):\n    ": 'return "Hello, " + name',
    "def is_even(n):\n    ": "return n % 2 == 0",
}

CACHE_ROOT = Path(__file__).resolve().parent.parent / ".cache" / "tiny-models"


def _fim_example(function: str, rng: random.Random) -> str:
    """Split one function into prefix-suffix-middle order at a random cursor.

    The middle runs to the end of the cursor's line, as the server asks for, or (one time in
    two) to a second random point.
    """
    i = rng.randrange(len(function))
    line_end = function.find("\n", i)
    j = line_end if rng.random() < 0.5 else rng.randrange(i, len(function) + 1)
    prefix, middle, suffix = function[:i], function[i:j], function[j:]
    return f"{FIM_PREFIX}{prefix}{FIM_SUFFIX}{suffix}{FIM_MIDDLE}{middle}{EOS}"


def _training_texts(fim: bool, rng: random.Random) -> list[str]:
    # Single functions, and whole "files" of them in random order, so that a function
    # completes the same whatever precedes it.
    texts = [function + EOS for function in FUNCTIONS]
    texts += ["\n".join(rng.sample(FUNCTIONS, len(FUNCTIONS))) + EOS for _ in range(2)]
    if fim:
        texts += [_fim_example(function, rng) for function in FUNCTIONS for _ in range(3)]
    return texts


def build_tiny_model(
    out_dir: Path,
    *,
    fim: bool = False,
    n_layer: int = 2,
    n_embd: int = 64,
    n_positions: int = 256,
    vocab_size: int = 400,
    steps: int = 300,
    seed: int = 0,
) -> Path:
    """Train the tokenizer and the model, save both to `out_dir` with `save_pretrained`.

    Trains on one thread: a model this small trains several times faster that way than on a
    busy multi-core machine.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _build(out_dir, fim, n_layer, n_embd, n_positions, vocab_size, steps, seed)
    finally:
        torch.set_num_threads(threads)


def _build(
    out_dir: Path,
    fim: bool,
    n_layer: int,
    n_embd: int,
    n_positions: int,
    vocab_size: int,
    steps: int,
    seed: int,
) -> Path:
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer = train_tokenizer([CORPUS] * 4, vocab_size, fim)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=4,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
    )
    model = GPT2LMHeadModel(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    model.train()
    for _ in range(steps):
        texts = _training_texts(fim, rng)
        batch = tokenizer(texts, padding=True, return_tensors="pt")
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        # Padding uses the eos id: keep the first eos of each text as a real label.
        lengths = batch["attention_mask"].sum(dim=1)
        labels[torch.arange(len(texts)), lengths - 1] = batch["input_ids"][
            torch.arange(len(texts)), lengths - 1
        ]
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def cached_tiny_model(*, fim: bool = False) -> Path:
    """Build once per content of this file and `fim`; reuse the directory across test runs."""
    source = Path(__file__).read_bytes() + (b"fim" if fim else b"plain")
    key = hashlib.sha256(source).hexdigest()[:16]
    target = CACHE_ROOT / f"{'fim' if fim else 'plain'}-{key}"
    if (target / "config.json").is_file():
        return target
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=CACHE_ROOT, prefix=".building-"))
    build_tiny_model(staging, fim=fim)
    try:
        os.replace(staging, target)
    except OSError:  # another process finished the same build first
        shutil.rmtree(staging, ignore_errors=True)
    return target


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    """A plain (left-to-right) tiny code model directory."""
    return cached_tiny_model(fim=False)


@pytest.fixture(scope="session")
def tiny_fim_model_dir() -> Path:
    """A tiny code model whose tokenizer has the FIM tokens and was trained on FIM examples."""
    return cached_tiny_model(fim=True)
