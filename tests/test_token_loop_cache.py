"""The cache language model mixed into the token loop (server/local/token_loop.py `with_cache`)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from server.contract import CompletionRequest, GenerationSettings
from server.local.engine import CompletionEngine
from server.local.token_loop import with_cache

GREEDY = GenerationSettings(temperature=0.0, multiline="never")
ADD = "def add(a, b):\n    "
GUIDE = "return b * a"  # not what the tiny model writes: "return a + b"


@pytest.fixture(scope="module", params=["auto", "huggingface"])
def engine(tiny_model_dir, request) -> CompletionEngine:
    return CompletionEngine.load(tiny_model_dir, device="cpu", decoder=request.param)


def mixed(engine: CompletionEngine, prefix: str, cache_weight: float, guide: str = GUIDE):
    settings = dataclasses.replace(GREEDY, cache_weight=cache_weight)
    return engine.complete_sync(CompletionRequest(prefix, "", settings, candidates=(guide,)))


def test_the_mix_is_a_distribution_with_the_cache_share_on_the_copy_token():
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    probs = torch.exp(with_cache(logits, 2, 0.25))
    expected = 0.75 * torch.softmax(logits, dim=-1) + torch.tensor([0.0, 0.0, 0.25, 0.0])
    torch.testing.assert_close(probs, expected)


def test_all_weight_on_the_cache_follows_the_copy_then_the_model(engine):
    completion = mixed(engine, ADD, 1.0)
    assert completion.text.startswith(GUIDE)
    mid_word = mixed(engine, ADD + "ret", 1.0, "urn b * a")  # healed: "ret" is regenerated
    assert mid_word.text.startswith("urn b * a")


def test_no_weight_on_the_cache_is_the_plain_loop(engine):
    plain = engine.complete_sync(CompletionRequest(ADD, "", GREEDY))
    unmixed = mixed(engine, ADD, 0.0)
    assert (unmixed.text, unmixed.confidence, unmixed.log_prob) == (
        plain.text, plain.confidence, plain.log_prob,
    )  # fmt: skip


def test_a_generation_that_leaves_the_copy_is_the_model_alone(engine):
    """The copy's first token is the model's too; once the model writes something else
    (a small share for the cache), the rest is the model's."""
    plain = engine.complete_sync(CompletionRequest(ADD, "", GREEDY)).text
    assert mixed(engine, ADD, 0.01, "return a + zzz").text == plain
