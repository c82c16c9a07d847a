"""Repository context in the local model's prompt: a model trained for it (its config says so)
gets it as in training, an old model gets none; healing and key/value reuse keep working."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from server.contract import CompletionRequest, GenerationSettings
from server.fim import fim_token_ids
from server.local.engine import CompletionEngine
from server.snippets import CONTEXT_FORMAT, Snippet, format_context

TRAINED_CHARS = 120
SNIPPETS = (
    Snippet("pkg/far.py", "def square(x):\n    return x * x\n"),
    Snippet("pkg/near.py", "def add(a, b):\n    return a + b\n"),
)
PREFIX = "def total(values):\n    result = 0\n    for value in values:\n        "
SETTINGS = GenerationSettings(temperature=0.0, multiline="never")
FIM_SETTINGS = dataclasses.replace(SETTINGS, use_suffix=True)


def context_trained(model_dir: Path, target: Path) -> Path:
    """A copy of `model_dir` whose config says it was trained with repository context."""
    shutil.copytree(model_dir, target)
    config = json.loads((target / "config.json").read_text())
    config.update(repo_context=CONTEXT_FORMAT, repo_context_chars=TRAINED_CHARS)
    (target / "config.json").write_text(json.dumps(config))
    return target


@pytest.fixture(scope="module")
def old(tiny_model_dir) -> CompletionEngine:
    return CompletionEngine.load(tiny_model_dir, device="cpu")


@pytest.fixture(scope="module")
def trained(tiny_model_dir, tmp_path_factory) -> CompletionEngine:
    target = tmp_path_factory.mktemp("context") / "model"
    return CompletionEngine.load(context_trained(tiny_model_dir, target), device="cpu")


@pytest.fixture(scope="module")
def trained_fim(tiny_fim_model_dir, tmp_path_factory) -> CompletionEngine:
    target = tmp_path_factory.mktemp("context-fim") / "model"
    return CompletionEngine.load(context_trained(tiny_fim_model_dir, target), device="cpu")


def decoded(engine: CompletionEngine, ids: list[int]) -> str:
    return AutoTokenizer.from_pretrained(engine.model_dir).decode(ids)


def test_an_old_model_gets_no_context(old):
    assert not old.describe().context
    with_snippets = old.prompt_for(PREFIX, "", SETTINGS, snippets=SNIPPETS, path="pkg/this.py")
    assert with_snippets == old.prompt_for(PREFIX, "", SETTINGS)


def test_a_context_trained_model_reads_the_snippets_before_the_prefix(trained):
    assert trained.describe().context
    prompt = trained.prompt_for(
        PREFIX, "", SETTINGS, heal=False, snippets=SNIPPETS, path="pkg/this.py"
    )
    assert decoded(trained, prompt.ids) == (
        "# Path: pkg/far.py\ndef square(x):\n    return x * x\n"
        "# Path: pkg/near.py\ndef add(a, b):\n    return a + b\n"
        "# Path: pkg/this.py\n" + PREFIX
    )
    healed = trained.prompt_for(PREFIX, "", SETTINGS, snippets=SNIPPETS, path="pkg/this.py")
    assert healed.healed and PREFIX.endswith(healed.healed)  # token healing still backs off


def test_the_context_fills_what_the_model_was_trained_with_most_similar_first(trained):
    long = Snippet("pkg/long.py", "x = 1\n" * (TRAINED_CHARS // 6 + 1))  # over the trained size
    context = trained.context_for((*SNIPPETS, long), "pkg/this.py", SETTINGS)
    assert context == format_context(SNIPPETS, "pkg/this.py")
    most_similar_only = Snippet("pkg/big.py", "y = 2\n" * 15)  # leaves 30: no more fits
    context = trained.context_for((*SNIPPETS, most_similar_only), "pkg/this.py", SETTINGS)
    assert context == format_context((most_similar_only,), "pkg/this.py")
    none = dataclasses.replace(SETTINGS, context_share=0.0)
    assert trained.context_for(SNIPPETS, "pkg/this.py", none) == ""


def test_a_long_prefix_after_the_context_starts_at_a_line_and_fits_the_window(trained):
    prefix = "".join(f"value_{n} = compute({n})\n" for n in range(300)) + "result = "
    prompt = trained.prompt_for(prefix, "", SETTINGS, heal=False, snippets=SNIPPETS, path="a.py")
    text = decoded(trained, prompt.ids)
    context = format_context(SNIPPETS, "a.py")
    assert text.startswith(context) and prefix.endswith(text[len(context) :])
    assert prefix[-len(text) + len(context) - 1] == "\n"  # the kept prefix starts at a line start
    assert len(prompt.ids) <= trained._room(SETTINGS)


def test_fim_puts_the_context_inside_the_prefix(trained_fim):
    fim = fim_token_ids(AutoTokenizer.from_pretrained(trained_fim.model_dir))
    prompt = trained_fim.prompt_for(
        PREFIX, "\nprint(1)\n", FIM_SETTINGS, heal=False, snippets=SNIPPETS, path="b.py"
    )
    assert prompt.ids[0] == fim.prefix and prompt.ids[-1] == fim.middle
    inside = decoded(trained_fim, prompt.ids[1 : prompt.ids.index(fim.suffix)])
    assert inside == format_context(SNIPPETS, "b.py") + PREFIX


def test_typing_reuses_the_context_in_the_key_value_cache(trained):
    def request(prefix: str) -> CompletionRequest:
        return CompletionRequest(prefix, "", SETTINGS, snippets=SNIPPETS, path="pkg/this.py")

    first = trained.complete_sync(request(PREFIX + "res"))
    second = trained.complete_sync(request(PREFIX + "resu"))
    context_tokens = len(trained._encode(format_context(SNIPPETS, "pkg/this.py")))
    assert first.prompt_tokens > context_tokens
    assert second.reused_tokens >= context_tokens
