"""The lean GPT-2 decoder computes what the Hugging Face forward computes: the same logits, the
same greedy tokens, with cache reuse and cropping, on the tiny test model and the shipped one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from nanopilot_models import DEFAULT_MODEL
from server.contract import CompletionRequest, GenerationSettings
from server.errors import UserError
from server.local.decoders import decoder_for
from server.local.engine import CompletionEngine
from server.local.kv_cache import PrefixKVCache
from server.local.lean_gpt2 import LeanKVCache, supports
from server.local.saved_model import load_saved_model

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tiny_model(tiny_model_dir):
    return AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()


def full_run_logits(model, ids: list[int]) -> torch.Tensor:
    with torch.inference_mode():
        return model(torch.tensor([ids])).logits[0, -1]


def test_logits_match_a_full_run_after_reuse_and_cropping(tiny_model):
    cache = LeanKVCache(tiny_model)
    first, second = [5, 6, 7, 8, 9, 10], [5, 6, 7, 20, 21]
    torch.testing.assert_close(cache.prefill(first)[0], full_run_logits(tiny_model, first))
    torch.testing.assert_close(cache.step(11), full_run_logits(tiny_model, [*first, 11]))
    logits, reused = cache.prefill(second)
    assert reused == 3 and cache.ids == second
    torch.testing.assert_close(logits, full_run_logits(tiny_model, second), atol=1e-4, rtol=1e-4)


def test_greedy_tokens_equal_the_hugging_face_paths_on_the_shipped_model():
    model, tokenizer = load_saved_model(DEFAULT_MODEL, CPU)
    prompt = tokenizer(Path(__file__).read_text())["input_ids"][:300]
    generated = {}
    for cache in (PrefixKVCache(model, CPU), LeanKVCache(model)):
        logits, _ = cache.prefill(prompt)
        tokens = []
        for _ in range(40):
            tokens.append(int(logits.argmax()))
            logits = cache.step(tokens[-1])
        generated[type(cache).__name__] = tokens
    assert generated["LeanKVCache"] == generated["PrefixKVCache"]


def test_the_engine_runs_gpt2_lean_on_the_cpu_and_completes_the_same(tiny_model_dir):
    lean = CompletionEngine.load(tiny_model_dir, device="cpu", decoder="lean")
    assert lean.decoder == "lean" and lean.describe().decoder == "lean"
    hf = CompletionEngine.load(tiny_model_dir, device="cpu", decoder="huggingface")
    assert hf.decoder == "huggingface"
    greedy = GenerationSettings(temperature=0.0, max_new_tokens=24)
    for prefix in ["def add(a, b):\n    ", "def total(values):\n    result = 0\n", "def gr"]:
        request = CompletionRequest(prefix, "", greedy)
        assert lean.complete_sync(request).text == hf.complete_sync(request).text


def test_other_models_and_devices_keep_the_hugging_face_path(tiny_model):
    assert supports(tiny_model, CPU)
    assert isinstance(decoder_for(tiny_model, torch.device("cuda")), PrefixKVCache)
    tiny_model.config.scale_attn_by_inverse_layer_idx = True  # an option the lean pass lacks
    try:
        assert isinstance(decoder_for(tiny_model, CPU), PrefixKVCache)
    finally:
        tiny_model.config.scale_attn_by_inverse_layer_idx = False


def test_the_decoder_choice_is_followed_or_refused(tiny_model):
    assert isinstance(decoder_for(tiny_model, CPU, "huggingface"), PrefixKVCache)
    assert isinstance(decoder_for(tiny_model, CPU, "lean"), LeanKVCache)
    with pytest.raises(UserError, match="the lean decoder runs GPT-2 models on the CPU only"):
        decoder_for(tiny_model, torch.device("cuda"), "lean")


def test_a_prompt_past_the_context_is_refused_and_the_cache_reset(tiny_model):
    cache = LeanKVCache(tiny_model)
    cache.prefill([5, 6, 7])
    with pytest.raises(ValueError, match="exceed the model's context"):
        cache.prefill([5, 6, 7] + [8] * tiny_model.config.n_positions)
    assert cache.ids == []
