"""Short real runs of `training.finetune` through each path, and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from server.errors import UserError
from server.fim import fim_token_ids
from training.code_model.finetune import main
from training.code_model.scratch import PRESETS, build_model, train_tokenizer

TINY_RUN = [
    "--max_files", "25", "--block_size", "64", "--max_steps", "4", "--per_device_train_batch_size",
    "2", "--logging_steps", "2", "--eval_steps", "2", "--save_steps", "2", "--max_eval_blocks", "4",
    "--learning_rate", "1e-3", "--disable_tqdm", "true",
]  # fmt: skip


def finetune(out_dir: Path, *extra: str) -> None:
    main(["--output_dir", str(out_dir), *TINY_RUN, *extra])


@pytest.fixture(scope="module")
def local_base_model(tmp_path_factory) -> Path:
    """A tiny GPT-2 saved with save_pretrained: the same loading path as a hub model."""
    directory = tmp_path_factory.mktemp("base")
    texts = ["def add(a, b):\n    return a + b\n", "class A:\n    def f(self):\n        pass\n"]
    tokenizer = train_tokenizer(texts * 20, vocab_size=400, fim=False, min_frequency=1)
    build_model(PRESETS["tiny"], tokenizer).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.mark.slow
def test_scratch_run_saves_a_loadable_fim_model_with_metrics(tmp_path):
    out = tmp_path / "scratch"
    finetune(out, "--base_model", "scratch", "--scratch_preset", "tiny", "--fim_rate", "0.5")
    model = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert set(fim_token_ids(tokenizer)) <= set(tokenizer.all_special_ids)
    assert tokenizer.model_max_length == model.config.n_positions
    assert model.config.n_layer == PRESETS["tiny"].n_layer
    assert (out / "model.safetensors").is_file()
    metrics = json.loads((out / "training_metrics.json").read_text())
    assert metrics["steps"] == 4
    assert metrics["tokens_seen"] == 4 * 2 * 64
    assert metrics["data"]["files"] == 25
    assert len(metrics["loss_history"]["train"][0]) == 2
    assert (out / "loss.png").stat().st_size > 0
    assert "python -m training.finetune" in (out / "README.md").read_text()
    assert (out / "checkpoint-4").is_dir()


@pytest.mark.slow
def test_resume_continues_from_the_last_checkpoint(tmp_path):
    out = tmp_path / "resumable"
    scratch = ("--base_model", "scratch", "--scratch_preset", "tiny", "--fim_rate", "0")
    finetune(out, *scratch)
    tokenizer_before = (out / "tokenizer.json").read_text()
    finetune(out, *scratch, "--max_steps", "6", "--resume")  # the last flag given wins
    metrics = json.loads((out / "training_metrics.json").read_text())
    assert metrics["steps"] == 6
    assert (out / "tokenizer.json").read_text() == tokenizer_before


@pytest.mark.slow
def test_local_base_model_gets_fim_tokens_and_resized_embeddings(tmp_path, local_base_model):
    out = tmp_path / "tuned"
    finetune(out, "--base_model", str(local_base_model), "--fim_rate", "0.5")
    tokenizer = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out)
    assert fim_token_ids(tokenizer) is not None
    assert set(fim_token_ids(tokenizer)) <= set(tokenizer.all_special_ids)  # the server stops
    assert model.get_input_embeddings().weight.shape[0] == len(tokenizer)


@pytest.mark.slow
def test_lora_is_merged_and_reloads_without_peft(tmp_path, local_base_model):
    out = tmp_path / "lora"
    finetune(out, "--base_model", str(local_base_model), "--lora", "--lora_r", "4",
             "--fim_rate", "0", "--learning_rate", "1e-2")  # fmt: skip
    assert not (out / "adapter_config.json").exists()
    tuned = AutoModelForCausalLM.from_pretrained(out)
    base = AutoModelForCausalLM.from_pretrained(local_base_model)
    assert not any("lora" in name for name in tuned.state_dict())
    changed = [
        name
        for name, weight in base.state_dict().items()
        if not torch.allclose(weight, tuned.state_dict()[name])
    ]
    assert changed and all(part in name for name in changed for part in ["h."])


def test_fim_rate_outside_unit_interval_is_refused(tmp_path):
    with pytest.raises(UserError, match=r"--fim_rate 1.5 is outside \[0, 1\]"):
        finetune(tmp_path / "x", "--base_model", "scratch", "--fim_rate", "1.5")


def test_output_dir_holding_a_different_model_is_refused(tmp_path, local_base_model):
    with pytest.raises(UserError, match="already holds a model"):
        finetune(local_base_model, "--base_model", "scratch")
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint-2").mkdir()
    (out / "run_config.json").write_text(json.dumps({"base_model": "distilgpt2"}))
    with pytest.raises(UserError, match="holds a different model"):
        finetune(out, "--base_model", "scratch", "--resume")


def test_base_model_directory_without_tokenizer_is_refused(tmp_path, local_base_model):
    bare = tmp_path / "bare"
    AutoModelForCausalLM.from_pretrained(local_base_model).save_pretrained(bare)
    with pytest.raises(UserError, match="has no tokenizer"):
        finetune(tmp_path / "out", "--base_model", str(bare), "--max_files", "3")


def test_lora_on_scratch_is_refused(tmp_path):
    with pytest.raises(UserError, match="--lora adapts a pretrained model"):
        finetune(tmp_path / "out", "--base_model", "scratch", "--lora")


def test_unreachable_hub_names_the_offline_alternative(tmp_path, monkeypatch):
    monkeypatch.setattr("training.code_model.base_model.hub_reachable", lambda: False)
    with pytest.raises(UserError, match="hub is unreachable.*--base_model scratch"):
        finetune(tmp_path / "out", "--base_model", "nanopilot-test/no-such-model")


def test_data_without_validation_tokens_fails_before_training(tmp_path, local_base_model):
    data = tmp_path / "one_file"
    data.mkdir()
    (data / "only.py").write_text("def add(a, b):\n    total = a + b\n    return total\n" * 40)
    with pytest.raises(UserError, match="validation split holds fewer than"):
        finetune(tmp_path / "out", "--base_model", str(local_base_model), "--data", str(data))
    assert not (tmp_path / "out" / "model.safetensors").exists()


def test_bf16_follows_the_cpu_and_a_forced_emulated_bf16_warns(monkeypatch, capsys):
    from training.code_model.args import parse_arguments

    monkeypatch.setattr("training.code_model.args.native_bf16", lambda: False)
    _, _, args = parse_arguments(["--base_model", "scratch"])
    assert not args.bf16
    _, _, args = parse_arguments(["--base_model", "scratch", "--bf16"])
    assert args.bf16 and "~20x slower" in capsys.readouterr().err
    monkeypatch.setattr("training.code_model.args.native_bf16", lambda: True)
    _, _, args = parse_arguments(["--base_model", "scratch"])
    assert args.bf16


@pytest.mark.parametrize("native", [True, False])
def test_the_trainer_computes_in_the_dtype_chosen_for_the_cpu(monkeypatch, tmp_path, native):
    """The Trainer's forward runs under bf16 autocast exactly when the CPU has native bf16 (the
    choice made after TrainingArguments.__post_init__ once left the Trainer in float32)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer

    from training.code_model.args import parse_arguments

    monkeypatch.setattr("training.code_model.args.native_bf16", lambda: native)
    argv = ["--base_model", "scratch", "--output_dir", str(tmp_path), "--eval_strategy", "no"]
    _, _, args = parse_arguments(argv)
    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=32))
    trainer = Trainer(model=model, args=args)
    seen = []
    model.lm_head.register_forward_hook(lambda *_: seen.append(torch.is_autocast_enabled("cpu")))
    prepared = trainer.accelerator.prepare_model(model)
    prepared(input_ids=torch.zeros(1, 4, dtype=torch.long))
    assert seen == [native]


def test_time_budget_schedule_warms_up_decays_and_ends_at_its_floor():
    from training.code_model.time_budget import time_schedule

    assert time_schedule(0.0, warmup=0.1) == 0.0
    assert time_schedule(0.05, warmup=0.1) == pytest.approx(0.5)
    assert time_schedule(0.1, warmup=0.1) == pytest.approx(1.0)
    middle = time_schedule(0.55, warmup=0.1, min_ratio=0.1)
    assert middle == pytest.approx(0.55)
    assert time_schedule(1.0, warmup=0.1, min_ratio=0.1) == pytest.approx(0.1)
    assert time_schedule(2.0, warmup=0.1, min_ratio=0.1) == pytest.approx(0.1)


@pytest.mark.slow
def test_time_budget_stops_the_run_and_saves(tmp_path, local_base_model):
    out = tmp_path / "timed"
    finetune(out, "--base_model", str(local_base_model), "--max_steps", "100000",
             "--max_train_minutes", "0.05", "--fim_rate", "0")  # fmt: skip
    metrics = json.loads((out / "training_metrics.json").read_text())
    assert 0 < metrics["steps"] < 100000
    assert (out / "model.safetensors").is_file()
