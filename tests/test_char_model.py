"""SimpleGPT: shapes, causality, weight tying, generation and its sampling filters."""

from __future__ import annotations

import math

import pytest
import torch

from training.char_model.model import GPTConfig, SimpleGPT, filter_logits

TINY = GPTConfig(vocab_size=11, block_size=8, n_embd=32, n_head=4, n_layer=2, dropout=0.0)


@pytest.fixture
def model() -> SimpleGPT:
    torch.manual_seed(0)
    return SimpleGPT(TINY).eval()


def test_forward_shapes_and_initial_loss(model: SimpleGPT) -> None:
    idx, targets = torch.randint(TINY.vocab_size, (2, 3, TINY.block_size))
    logits, loss = model(idx, targets)
    assert logits.shape == (3, TINY.block_size, TINY.vocab_size)
    assert loss.shape == ()
    # Small initial weights give near-uniform predictions: loss close to ln(vocab_size).
    assert loss.item() == pytest.approx(math.log(TINY.vocab_size), abs=0.2)
    assert model(idx)[1] is None


def test_future_tokens_never_change_past_logits(model: SimpleGPT) -> None:
    torch.manual_seed(1)
    idx = torch.randint(TINY.vocab_size, (1, TINY.block_size))
    for t in range(TINY.block_size - 1):
        changed = idx.clone()
        changed[0, t + 1 :] = (changed[0, t + 1 :] + 1) % TINY.vocab_size
        before, after = model(idx)[0], model(changed)[0]
        torch.testing.assert_close(before[0, : t + 1], after[0, : t + 1])
        assert not torch.allclose(before[0, t + 1 :], after[0, t + 1 :])


def test_lm_head_is_tied_to_token_embedding(model: SimpleGPT) -> None:
    assert model.lm_head.weight is model.tok_emb.weight
    all_params = sum(p.numel() for p in model.parameters())  # counts the tied matrix once
    assert model.num_params(non_embedding=False) == all_params
    assert model.num_params() == all_params - TINY.block_size * TINY.n_embd


def test_config_rejects_heads_that_do_not_divide_width() -> None:
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(n_embd=30, n_head=4)


def test_forward_rejects_sequences_longer_than_block_size(model: SimpleGPT) -> None:
    with pytest.raises(ValueError, match="block_size"):
        model(torch.zeros(1, TINY.block_size + 1, dtype=torch.long))


def test_generate_appends_tokens_and_crops_context(model: SimpleGPT) -> None:
    long_prompt = torch.randint(TINY.vocab_size, (2, 3 * TINY.block_size))
    torch.manual_seed(5)
    out = model.generate(long_prompt, max_new_tokens=6)
    assert out.shape == (2, 3 * TINY.block_size + 6)
    assert torch.equal(out[:, : long_prompt.shape[1]], long_prompt)
    # Only the last block_size tokens matter: the cropped prompt samples the same tokens.
    torch.manual_seed(5)
    cropped = model.generate(long_prompt[:, -TINY.block_size :], max_new_tokens=6)
    assert torch.equal(out[:, -6:], cropped[:, -6:])


def test_generate_runs_in_eval_mode_without_gradients() -> None:
    torch.manual_seed(0)
    model = SimpleGPT(TINY).train()
    out = model.generate(torch.zeros(1, 1, dtype=torch.long), max_new_tokens=3)
    assert model.training  # restored afterwards
    assert not out.requires_grad


def test_top_k_one_and_tiny_top_p_are_greedy(model: SimpleGPT) -> None:
    idx = torch.zeros(1, 1, dtype=torch.long)
    greedy = idx
    for _ in range(5):
        next_token = model(greedy[:, -TINY.block_size :])[0][:, -1].argmax(-1, keepdim=True)
        greedy = torch.cat((greedy, next_token), dim=1)
    assert torch.equal(model.generate(idx, 5, top_k=1), greedy)
    assert torch.equal(model.generate(idx, 5, top_p=1e-6), greedy)


def test_filter_logits_top_k_keeps_the_k_largest() -> None:
    logits = torch.tensor([[0.1, 3.0, -1.0, 2.0, 0.5]])
    kept = filter_logits(logits, top_k=2, top_p=None).isfinite()
    assert kept.tolist() == [[False, True, False, True, False]]


def test_filter_logits_top_p_keeps_the_nucleus() -> None:
    probs = torch.tensor([[0.15, 0.5, 0.05, 0.3]])  # unsorted on purpose
    logits = probs.log()
    assert filter_logits(logits, None, top_p=0.75).isfinite().tolist() == [
        [False, True, False, True]
    ]
    assert filter_logits(logits, None, top_p=0.9).isfinite().tolist() == [[True, True, False, True]]
    assert filter_logits(logits, None, top_p=1.0).isfinite().all()


def test_generate_rejects_bad_sampling_settings(model: SimpleGPT) -> None:
    idx = torch.zeros(1, 1, dtype=torch.long)
    with pytest.raises(ValueError, match="temperature"):
        model.generate(idx, 1, temperature=0)
    with pytest.raises(ValueError, match="top_k"):
        model.generate(idx, 1, top_k=0)
    with pytest.raises(ValueError, match="top_p"):
        model.generate(idx, 1, top_p=1.5)
