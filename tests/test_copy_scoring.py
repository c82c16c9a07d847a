"""server/local/scoring.py and the decoders' `extend`: the model's log-probability of a copy."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import AutoModelForCausalLM

from server.contract import CompletionRequest, GenerationSettings
from server.local.engine import CompletionEngine
from server.local.kv_cache import PrefixKVCache
from server.local.lean_gpt2 import LeanKVCache
from server.local.onnx_gpt2 import OnnxKVCache
from server.local.scoring import token_log_probs

GREEDY = GenerationSettings(temperature=0.0, multiline="never")
ADD = "def add(a, b):\n    "


@pytest.fixture(scope="module")
def tiny_model(tiny_model_dir):
    return AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()


@pytest.fixture(scope="module", params=["auto", "huggingface", "onnx"])
def engine(tiny_model_dir, request) -> CompletionEngine:
    return CompletionEngine.load(tiny_model_dir, device="cpu", decoder=request.param)


def full_run_log_probs(model, context: list[int], continuation: list[int]) -> torch.Tensor:
    ids = context + continuation
    with torch.inference_mode():
        logits = model(torch.tensor([ids])).logits[0, len(context) - 1 : -1]
    rows = torch.log_softmax(logits.float(), dim=-1)
    return rows[torch.arange(len(continuation)), torch.tensor(continuation)]


# The onnx decoder's context is run by its int8 step: near float32, not equal.
@pytest.mark.parametrize(("make", "tolerance"), [
    (LeanKVCache, 1e-4), (OnnxKVCache, 0.05), (PrefixKVCache, 1e-4),
])  # fmt: skip
def test_one_pass_over_the_cache_scores_as_a_full_run(tiny_model, make, tolerance):
    decoder = make(tiny_model, torch.device("cpu")) if make is PrefixKVCache else make(tiny_model)
    context, continuation = [5, 6, 7, 8, 9, 10], [11, 12, 13, 14]
    decoder.prefill([*context, 40, 41])  # a cache that holds more than the context: cropped
    scores = token_log_probs(decoder, context, continuation)
    expected = full_run_log_probs(tiny_model, context, continuation)
    torch.testing.assert_close(scores, expected, atol=tolerance, rtol=tolerance)
    assert decoder.ids == context + continuation[:-1]


def scored(engine: CompletionEngine, prefix: str, *candidates: str):
    return engine.complete_sync(CompletionRequest(prefix, "", GREEDY, candidates=candidates))


def test_what_greedy_decoding_writes_scores_higher_than_other_text(engine):
    completion = scored(engine, ADD, "return a + b", "zebra(quux) % 7")
    assert completion.text == "return a + b"
    greedy, other = completion.candidate_scores
    assert greedy > other
    # The suggestion's own score (from the token loop) is the same measure (int8 steps aside).
    assert math.isclose(greedy, completion.log_prob, abs_tol=0.1)


def test_a_candidate_is_scored_with_the_text_healing_backed_off(engine):
    """Mid-word: the prompt gave back "ret", the candidate is scored as "return ..." would be."""
    right, wrong = scored(engine, ADD + "ret", "urn a + b", "ry(b)").candidate_scores
    assert right > wrong


def test_scoring_leaves_the_suggestions_as_they_were(engine):
    plain = engine.complete_sync(CompletionRequest(ADD, "", GREEDY))
    assert plain.candidate_scores is None  # nothing asked, nothing scored
    scored(engine, ADD, "return a - b")
    again = engine.complete_sync(CompletionRequest(ADD, "", GREEDY))
    assert (again.text, again.confidence) == (plain.text, plain.confidence)


def test_a_candidate_scored_enough_spares_the_generation(engine):
    plain = scored(engine, ADD, "return a + b")
    (score,) = plain.candidate_scores
    spared = engine.complete_sync(
        CompletionRequest(ADD, "", GREEDY, candidates=("return a + b",), enough_score=score - 1)
    )
    assert (spared.text, spared.new_tokens) == ("", 0)
    assert spared.candidate_scores == pytest.approx(plain.candidate_scores, abs=1e-3)
    needed = engine.complete_sync(
        CompletionRequest(ADD, "", GREEDY, candidates=("return a + b",), enough_score=score + 1)
    )
    assert needed.text == plain.text and needed.new_tokens > 0
