"""The character trainer: LR schedule, weight-decay groups, when it checkpoints, time budget."""

from __future__ import annotations

import itertools
import os
import signal
from pathlib import Path

import pytest
import torch

from training.char_model import trainer as char_trainer
from training.char_model.checkpoint import load_checkpoint
from training.char_model.interrupt import ctrl_c_deferred
from training.char_model.model import GPTConfig, SimpleGPT
from training.char_model.tokenizer import CharTokenizer
from training.char_model.trainer import CharTrainer, TrainSettings, configure_optimizer, lr_at

TEXT = "the quick brown fox jumps over the lazy dog. " * 40


def tiny_trainer(out: Path, **settings) -> CharTrainer:
    tokenizer = CharTokenizer.from_text(TEXT)
    data = torch.tensor(tokenizer.encode(TEXT))
    config = GPTConfig(tokenizer.vocab_size, block_size=16, n_embd=16, n_head=2, n_layer=1)
    defaults = dict(batch_size=4, eval_iters=1, eval_interval=2, max_iters=6, dtype="float32")
    return CharTrainer(
        SimpleGPT(config),
        tokenizer,
        data[:1500],
        data[1500:],
        TrainSettings(**(defaults | settings)),
        torch.device("cpu"),
        out,
    )


def test_lr_warms_up_then_decays_to_a_tenth() -> None:
    settings = TrainSettings(lr=1e-3, warmup_iters=10, max_iters=100)
    warmup = [lr_at(i, i / 100, settings) for i in range(10)]
    assert warmup == sorted(warmup) and warmup[-1] == pytest.approx(1e-3)
    decay = [lr_at(i, i / 100, settings) for i in range(10, 101)]
    assert decay == sorted(decay, reverse=True)
    assert decay[-1] == pytest.approx(1e-4)


def test_weight_decay_only_on_linear_matrices() -> None:
    model = SimpleGPT(GPTConfig(vocab_size=7, block_size=4, n_embd=8, n_head=2, n_layer=2))
    decay, no_decay = configure_optimizer(model, lr=1e-3, weight_decay=0.1).param_groups
    named = {id(p): name for name, p in model.named_parameters()}
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    matrices = ("qkv.weight", "proj.weight", "net.0.weight", "net.2.weight")
    assert {named[id(p)] for p in decay["params"]} == {
        n for n in named.values() if n.endswith(matrices)
    }
    no_decay_names = {named[id(p)] for p in no_decay["params"]}
    assert {"tok_emb.weight", "pos_emb.weight", "ln_f.weight"} <= no_decay_names
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_checkpoint_only_when_validation_improves(tmp_path, monkeypatch) -> None:
    # Evaluations alternate train/val; val goes 3.0, 2.0, 2.5, 2.6 at iterations 0, 2, 4, 6.
    losses = itertools.chain.from_iterable((1.0, v) for v in (3.0, 2.0, 2.5, 2.6))
    monkeypatch.setattr(char_trainer, "estimate_loss", lambda *args: next(losses))
    saves = []
    trainer = tiny_trainer(tmp_path)
    real_save = trainer.save

    def recording_save(wall_s: float) -> None:
        saves.append(trainer.iteration)
        real_save(wall_s)

    monkeypatch.setattr(trainer, "save", recording_save)
    result = trainer.run()
    assert saves == [0, 2]
    assert result.history.best_iter == 2 and result.history.best_val_loss == 2.0
    assert result.history.iters == [0, 2, 4, 6]
    assert load_checkpoint(tmp_path / "ckpt.pt", ["iteration"])["iteration"] == 2


def test_time_budget_stops_training_and_evaluates_last(tmp_path) -> None:
    result = tiny_trainer(tmp_path, max_iters=10**7, eval_interval=10**6, max_minutes=0.01).run()
    assert 0 < result.iterations < 10**7
    assert result.history.iters == [0, result.iterations]


def test_ctrl_c_waits_for_the_deferred_block_to_finish() -> None:
    finished = []
    with pytest.raises(KeyboardInterrupt), ctrl_c_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        finished.append(True)
    assert finished == [True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
