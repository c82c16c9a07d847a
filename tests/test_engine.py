"""The completion engine on the tiny real models: prompts, healing, key/value reuse, errors."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from server.contract import Cancelled, Completion, CompletionRequest, GenerationSettings
from server.errors import UserError
from server.fim import fim_token_ids
from server.local.engine import CompletionEngine
from server.local.healing import HealingIndex
from server.local.kv_cache import PrefixKVCache
from server.local.token_loop import TokenGenerator, nucleus, repeated_tail, restrict, sample_token
from server.prompt_budget import MAX_SUFFIX_TOKENS, coarse_cut
from tests.tiny_model import FUNCTIONS, RELIABLE_COMPLETIONS

ADD = "def add(a, b):\n    "

# What the server serves (GenerationSettings' defaults), greedy; then one line, with the suffix.
SERVED = GenerationSettings(temperature=0.0)
GREEDY = dataclasses.replace(SERVED, multiline="never", use_suffix=True)


@pytest.fixture(scope="module", params=["auto", "huggingface", "onnx"])
def decoder(request) -> str:
    """Every engine test runs on each decoder: the lean GPT-2 pass, the Hugging Face one and the
    int8 ONNX Runtime step."""
    return request.param


@pytest.fixture(scope="module")
def engine(tiny_model_dir, decoder) -> CompletionEngine:
    return CompletionEngine.load(tiny_model_dir, device="cpu", decoder=decoder)


@pytest.fixture(scope="module")
def fim_engine(tiny_fim_model_dir, decoder) -> CompletionEngine:
    return CompletionEngine.load(tiny_fim_model_dir, device="cpu", decoder=decoder)


def detailed(
    engine: CompletionEngine, prefix: str, suffix: str, settings: GenerationSettings = GREEDY
) -> Completion:
    return engine.complete_sync(CompletionRequest(prefix, suffix, settings))


def suggest(
    engine: CompletionEngine, prefix: str, suffix: str, settings: GenerationSettings = GREEDY
) -> str:
    return detailed(engine, prefix, suffix, settings).text


@pytest.mark.parametrize(("prefix", "expected"), RELIABLE_COMPLETIONS.items())
def test_completes_the_line_after_indentation(engine, prefix, expected):
    assert not engine.is_fim
    assert suggest(engine, prefix, "\n", GREEDY) == expected


@pytest.mark.parametrize(("prefix", "expected"), RELIABLE_COMPLETIONS.items())
def test_fim_model_completes_with_the_suffix(fim_engine, prefix, expected):
    assert fim_engine.is_fim
    assert suggest(fim_engine, prefix, "\n", GREEDY) == expected


def test_multiline_completes_a_block_and_stops_at_its_end(engine):
    total = FUNCTIONS[-1]
    signature = total.split("\n")[0]
    block = dataclasses.replace(SERVED, max_new_tokens=64)  # auto: a block after `def ...:`
    assert suggest(engine, signature, "", block) == total[len(signature) :].rstrip()
    single = suggest(engine, signature, "", GREEDY)
    assert single == "\n    result = 0"


def test_without_healing_the_indentation_boundary_misleads_the_model(engine, tiny_model_dir):
    """Why healing exists: plain generation from a prompt ending in indentation goes wrong."""
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    prefix = "def add(a, b):\n    "
    ids = tokenizer(prefix, return_tensors="pt").input_ids
    raw = tokenizer.decode(
        model.generate(ids, max_new_tokens=6, do_sample=False)[0, ids.shape[1] :]
    )
    assert not raw.startswith("return a + b")
    assert suggest(engine, prefix, "", GREEDY) == "return a + b"


def test_reusing_the_kv_cache_gives_the_same_answers(engine, tiny_model_dir, decoder):
    fresh = CompletionEngine.load(tiny_model_dir, device="cpu", decoder=decoder)
    text = FUNCTIONS[-1]
    first = detailed(engine, text[:30], "", GREEDY)
    second = detailed(engine, text[:33], "", GREEDY)
    assert second.reused_tokens > 0
    assert first.prompt_tokens > 0
    assert second.text == suggest(fresh, text[:33], "", GREEDY)


def test_kv_cache_logits_match_a_full_run(tiny_model_dir):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    cache = PrefixKVCache(model, torch.device("cpu"))
    first = [5, 6, 7, 8, 9, 10]
    second = [5, 6, 7, 20, 21]
    cache.prefill(first)
    cache.step(11)
    logits, reused = cache.prefill(second)
    assert reused == 3
    assert cache.ids == second
    with torch.inference_mode():
        expected = model(torch.tensor([second])).logits[0, -1]
    torch.testing.assert_close(logits, expected, atol=1e-4, rtol=1e-4)


def test_identical_prompt_reruns_only_its_last_token(engine):
    detailed(engine, "def square(x):", "", GREEDY)
    again = detailed(engine, "def square(x):", "", GREEDY)
    assert again.reused_tokens == again.prompt_tokens - 1


def test_back_off_removes_split_indentation(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    texts = [tokenizer.decode([i]) for i in range(len(tokenizer))]
    index = HealingIndex(texts, frozenset(tokenizer.all_special_ids))
    kept, removed = index.back_off(tokenizer("def add(a, b):\n    ").input_ids)
    assert removed == "\n    "
    assert tokenizer.decode(kept) == "def add(a, b):"
    allowed = {texts[i] for i in index.allowed("\n    ")}
    assert "\n   " in allowed  # a proper start of the removed text
    assert all(t.startswith("\n    ") or "\n    ".startswith(t) for t in allowed)


def test_back_off_joins_a_word_split_across_tokens(engine):
    assert suggest(engine, "def add(a, b):\n    ret", "\n", GREEDY) == "urn a + b"
    assert suggest(engine, "def add(a, b):\n    return a", "\n", GREEDY) == " + b"


def test_back_off_keeps_multibyte_text_and_special_tokens():
    index = HealingIndex(["<eos>", "x", " é", "  ", " re", "t", " ret"], frozenset({0}))
    assert index.back_off([1, 2]) == ([1, 2], "")
    assert index.back_off([0]) == ([0], "")
    assert index.back_off([1, 3]) == ([1], "  ")
    assert index.back_off([1, 4, 5]) == ([1], " ret")
    assert index.back_off([4, 1]) == ([4], "x")


def test_coarse_cut_changes_rarely_while_typing():
    assert coarse_cut(90, 100) == 0
    cuts = {coarse_cut(length, 100) for length in range(101, 125)}
    assert cuts == {25}
    assert all(length - coarse_cut(length, 100) <= 100 for length in range(0, 1000))


def test_long_document_prompt_fits_the_budget(engine):
    prefix = "\n".join(FUNCTIONS) * 3000 + "def add(a, b):\n    "  # about 1 MB
    assert len(prefix) > 1_000_000
    settings = GenerationSettings(temperature=0.0, context_tokens=64)
    result = detailed(engine, prefix, "", settings)
    assert 0 < result.prompt_tokens <= 64
    assert result.text.startswith("return")


def test_special_token_names_in_the_document_are_plain_text(fim_engine, tiny_fim_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_fim_model_dir)
    document = "s = '<fim_middle><|endoftext|>'\n"
    prompt = fim_engine.prompt_for(document, "", GREEDY, heal=False)
    assert not set(prompt.ids) & set(tokenizer.all_special_ids)
    assert tokenizer.decode(prompt.ids) == document
    healed = fim_engine.prompt_for(document, "", GREEDY)
    assert not set(healed.ids) & set(tokenizer.all_special_ids)
    assert tokenizer.decode(healed.ids) + healed.healed == document
    assert detailed(fim_engine, document, "", GREEDY).prompt_tokens == len(healed.ids)


def test_sampling_with_temperature(engine):
    """A nucleus of one token is greedy; otherwise the same seed gives the same suggestion."""
    nucleus_of_one = dataclasses.replace(GREEDY, temperature=0.8, top_p=1e-6)
    assert suggest(engine, ADD, "", nucleus_of_one) == suggest(engine, ADD, "", GREEDY)
    settings = GenerationSettings(temperature=0.8, top_p=0.9, multiline="always")
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        runs.append([suggest(engine, "def total(values):\n", "", settings) for _ in range(3)])
    assert runs[0] == runs[1]


def test_sample_token_respects_top_p_and_restrict():
    logits = torch.tensor([0.0, 5.0, 1.0, 4.9])
    assert sample_token(logits, 0.0, 1.0) == 1
    generator = torch.Generator().manual_seed(0)
    assert {sample_token(logits, 1.0, 0.01, generator) for _ in range(20)} == {1}
    assert sample_token(restrict(logits, (2, 3)), 0.0, 1.0) == 3


@pytest.mark.parametrize(("spread", "top_p"), [(8.0, 0.95), (0.01, 0.95), (3.0, 1.0)])
def test_sampling_draws_from_the_whole_nucleus_and_only_from_it(spread, top_p):
    """The top-k shortcut and the fallback to the whole vocabulary (a flat distribution whose
    nucleus holds thousands of tokens) sample the nucleus with its probabilities."""
    logits = torch.randn(500, generator=torch.Generator().manual_seed(1)) * spread
    expected = torch.softmax(nucleus(logits[None] / 0.7, top_p), dim=-1)[0]
    generator = torch.Generator().manual_seed(0)
    draws = torch.tensor([sample_token(logits, 0.7, top_p, generator) for _ in range(4000)])
    frequencies = torch.bincount(draws, minlength=500) / len(draws)
    assert set(draws.tolist()) <= set(expected.nonzero().flatten().tolist())
    assert (frequencies - expected).abs().max() < 0.03


def test_a_first_token_below_min_confidence_ends_the_generation(engine):
    sure = engine.complete_sync(CompletionRequest(ADD, "", GREEDY))
    assert sure.text == "return a + b" and sure.confidence is not None
    unsure = engine.complete_sync(CompletionRequest(ADD, "", GREEDY, min_confidence=1.01))
    assert unsure.text == "" and unsure.new_tokens < sure.new_tokens
    assert unsure.confidence == pytest.approx(sure.confidence, abs=1e-3)  # cache reuse: not bitwise


def test_cancelled_generation_raises(engine):
    with pytest.raises(Cancelled):
        engine.complete_sync(CompletionRequest("def add(a, b):", "", GREEDY, lambda: True))
    assert suggest(engine, ADD, "", GREEDY) == "return a + b"


def test_complete_runs_in_the_worker_thread_and_gives_the_same(engine):
    request = CompletionRequest(ADD, "", GREEDY)

    async def both() -> tuple[Completion, Completion]:
        return await engine.complete(request), await engine.complete(request)

    first, second = asyncio.run(both())
    assert first.text == second.text == engine.complete_sync(request).text == "return a + b"
    assert second.reused_tokens == second.prompt_tokens - 1


def test_missing_model_dir_says_how_to_create_one(tmp_path):
    with pytest.raises(UserError, match="training.finetune"):
        CompletionEngine.load(tmp_path / "nothing", device="cpu")


def test_corrupt_model_dir_is_a_user_error(tmp_path, tiny_model_dir):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="cannot load the model"):
        CompletionEngine.load(tmp_path, device="cpu")
    broken = tmp_path / "broken"
    broken.mkdir()
    for item in tiny_model_dir.iterdir():
        (broken / item.name).write_bytes(item.read_bytes())
    (broken / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(UserError, match="cannot load the model"):
        CompletionEngine.load(broken, device="cpu")


def test_fim_prompt_layout_and_suffix_cap(fim_engine, tiny_fim_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_fim_model_dir)
    fim = fim_token_ids(tokenizer)
    suffix = "\n".join(FUNCTIONS) * 20
    prompt = fim_engine.prompt_for("def add(a, b):\n    ", suffix, GREEDY)
    assert prompt.ids[0] == fim.prefix and prompt.ids[-1] == fim.middle
    between = prompt.ids.index(fim.suffix)
    assert 0 < len(prompt.ids) - between - 2 <= MAX_SUFFIX_TOKENS
    kept_suffix = tokenizer.decode(prompt.ids[between + 1 : -1])
    assert suffix.startswith(kept_suffix)
    assert prompt.healed == "\n    "
    plain = fim_engine.prompt_for("def add(a, b):\n    ", "", GREEDY, heal=False)
    assert plain.healed == "" and not set(plain.ids) & {fim.prefix, fim.suffix, fim.middle}
    assert tokenizer.decode(plain.ids) == "def add(a, b):\n    "  # no suffix: plain continuation
    no_suffix = GenerationSettings(temperature=0.0, use_suffix=False)
    without = fim_engine.prompt_for("def add(a, b):\n    ", suffix, no_suffix, heal=False)
    assert without == plain  # the suffix left out of the prompt: the same plain prompt


def test_repeated_tail_finds_loops():
    assert repeated_tail([1, 2, 3, 4]) == 0
    assert repeated_tail([9, 5, 5, 5]) == 2
    assert repeated_tail([9, 1, 2, 1, 2, 1, 2]) == 4
    assert repeated_tail([1, 2, 1, 2]) == 0  # twice is not a loop yet


def test_nucleus_keeps_the_smallest_set_that_reaches_top_p():
    logits = torch.tensor([[0.15, 0.5, 0.05, 0.3]]).log()  # unsorted on purpose
    assert nucleus(logits, 0.75).isfinite().tolist() == [[False, True, False, True]]
    assert nucleus(logits, 0.9).isfinite().tolist() == [[True, True, False, True]]
    assert nucleus(logits, 1.0).isfinite().all()


def test_no_comment_is_started_at_a_line_start_unless_allowed():
    texts = ["a", "#", "  # x", "\n    #", "return", " "]
    generator = TokenGenerator(None, None, texts, None, frozenset())  # type: ignore[arg-type]
    logits = torch.tensor([0.0, 9.0, 8.0, 7.0, 1.0, 0.5])
    masked = generator._without_comments(logits)
    assert masked.argmax().item() == 4  # "return": the best token that starts no comment
    assert torch.isinf(masked[[1, 2, 3]]).all()
    only_comments = torch.tensor([float("-inf"), 1.0, 2.0, 3.0, float("-inf"), float("-inf")])
    assert torch.equal(generator._without_comments(only_comments), only_comments)
