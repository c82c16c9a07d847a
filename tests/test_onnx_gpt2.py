"""The int8 ONNX Runtime decoder: exported once per model, close to the float32 logits, the same
cache behaviour (reuse, cropping, several tokens at once), and clear errors where it cannot run.
The engine's own tests run on it too (test_engine.py's `decoder` fixture)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from server.errors import UserError
from server.local import onnx_gpt2
from server.local.decoders import decoder_for
from server.local.engine import CompletionEngine
from server.local.lean_gpt2 import LeanKVCache
from server.local.onnx_gpt2 import OnnxKVCache

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tiny_model(tiny_model_dir):
    return AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()


@pytest.fixture(scope="module")
def onnx_cache(tiny_model) -> OnnxKVCache:
    return OnnxKVCache(tiny_model)


def assert_near(int8: torch.Tensor, float32: torch.Tensor) -> None:
    """int8 matrices move the next-token distribution by a little and keep its top token."""
    distance = (torch.softmax(int8, -1) - torch.softmax(float32, -1)).abs().sum() / 2
    assert distance < 0.05
    assert int(int8.argmax()) == int(float32.argmax())


def test_logits_stay_near_float32_through_reuse_and_cropping(tiny_model, onnx_cache):
    lean = LeanKVCache(tiny_model)
    first, second = [5, 6, 7, 8, 9, 10], [5, 6, 7, 20, 21]
    assert_near(onnx_cache.prefill(first)[0], lean.prefill(first)[0])
    assert_near(onnx_cache.step(11), lean.step(11))
    logits, reused = onnx_cache.prefill(second)  # cropped back to [5, 6, 7], then two more
    assert reused == 3 and onnx_cache.ids == second
    assert_near(logits, lean.prefill(second)[0])
    assert_near(onnx_cache.step(12), lean.step(12))  # stale positions 5..6 are masked


def test_a_long_prompt_runs_the_float32_pass_into_the_same_cache(tiny_model, onnx_cache):
    lean = LeanKVCache(tiny_model)
    prompt = [(7 * i) % 200 + 5 for i in range(onnx_gpt2.LEAN_PROMPT_TOKENS + 10)]
    onnx_cache.reset()
    torch.testing.assert_close(onnx_cache.prefill(prompt)[0], lean.prefill(prompt)[0])
    assert_near(onnx_cache.step(42), lean.step(42))  # the int8 step reads what lean wrote


def export_of(model) -> Path:
    return onnx_gpt2.cache_dir() / f"gpt2-{onnx_gpt2.weights_key(model)}-int8.onnx"


def test_the_export_is_made_once_per_model_and_kept(tiny_model, onnx_cache, monkeypatch):
    assert export_of(tiny_model).is_file(), "the first load writes the export to the cache"

    def no_export(*args):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_gpt2, "export_int8", no_export)
    OnnxKVCache(tiny_model)  # the same weights: the kept file is used


def test_a_damaged_export_in_the_cache_is_made_again(tiny_model, onnx_cache):
    export = export_of(tiny_model)
    export.write_bytes(b"not an onnx model")
    cache = OnnxKVCache(tiny_model)
    assert_near(cache.prefill([5, 6, 7])[0], LeanKVCache(tiny_model).prefill([5, 6, 7])[0])
    assert export.stat().st_size > 1000


def test_a_prompt_past_the_context_is_refused(tiny_model, onnx_cache):
    onnx_cache.reset()
    with pytest.raises(ValueError, match="exceed the model's context"):
        onnx_cache.prefill([5] * (tiny_model.config.n_positions + 1))


def test_without_onnxruntime_the_error_says_what_to_install(tiny_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` fails
    with pytest.raises(UserError, match=r"pip install onnxruntime"):
        decoder_for(tiny_model, CPU, "onnx")


def test_auto_runs_onnx_and_falls_back_to_float32_without_it(tiny_model, monkeypatch):
    assert isinstance(decoder_for(tiny_model, CPU, "auto"), OnnxKVCache)
    monkeypatch.setattr("server.local.decoders.installed", lambda choice: False)
    decoder = decoder_for(tiny_model, CPU, "auto")
    assert isinstance(decoder, LeanKVCache) and not isinstance(decoder, OnnxKVCache)


def test_the_decoder_setting_is_checked(tiny_model, tiny_model_dir):
    assert isinstance(decoder_for(tiny_model, CPU, "onnx"), OnnxKVCache)
    assert isinstance(decoder_for(tiny_model, CPU, "lean"), LeanKVCache)
    with pytest.raises(UserError, match="runs GPT-2 models on the CPU only"):
        decoder_for(tiny_model, torch.device("cuda"), "onnx")
    engine = CompletionEngine.load(tiny_model_dir, device="cpu", decoder="onnx")
    assert engine.decoder == "onnx"
