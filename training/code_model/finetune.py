"""Train a code model on Python functions: fine-tune a pretrained model, LoRA, or from scratch.

    python -m training.finetune --base_model scratch --bf16            # offline, ~5 minutes
    python -m training.finetune --base_model distilgpt2 --lora         # needs the hub once
    python -m training.finetune --help                                 # every Trainer flag too

The corpus (`training.corpus`) is tokenised, joined with EOS and packed into blocks; with
`--fim_rate` a share of the functions become fill-in-the-middle examples. The Hugging Face
`Trainer` does the loop (and multi-GPU: `accelerate launch -m training.finetune ...` or
`torchrun --standalone --nproc_per_node N -m training.finetune ...`). The output directory holds
the model (safetensors) and tokenizer for `from_pretrained`, `training_metrics.json`,
`loss.png`, a model card and `checkpoint-N/` directories that `--resume` continues from.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import shutil
import time
from pathlib import Path

import torch

from server.errors import UserError
from server.fim import fim_token_ids
from server.snippets import CONTEXT_FORMAT
from training.atomic import write_json
from training.code_model.args import SCRATCH, DataArguments, ModelArguments, parse_arguments
from training.code_model.base_model import add_fim_tokens, load_base_model
from training.code_model.corpus import Corpus, CorpusOptions, load_corpus
from training.code_model.outputs import command_line, perplexity, write_outputs
from training.code_model.packing import BlockDataset, pack_documents
from training.code_model.repo_context import RepoContext
from training.code_model.run_clock import RunClock
from training.code_model.time_budget import TimeBudget

RUN_CONFIG_FILE = "run_config.json"
MAX_BLOCK_SIZE = 512


def run_identity(model_args: ModelArguments, data_args: DataArguments) -> dict:
    """What makes two runs train the same model; `--resume` requires it to match."""
    identity = {
        "base_model": model_args.base_model,
        "lora": model_args.lora,
        "fim": data_args.fim_rate > 0,
        "data": data_args.data or "installed",
        "unit": data_args.unit,
    }
    if model_args.base_model == SCRATCH:
        identity["scratch_preset"] = model_args.scratch_preset
    return identity


def last_checkpoint(out_dir: Path) -> Path | None:
    checkpoints = [p for p in out_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    return max(checkpoints, key=lambda p: int(p.name.split("-")[-1]), default=None)


def prepare_output_dir(out_dir: Path, identity: dict, data_args: DataArguments) -> Path | None:
    """Check `--output_dir` against this run; return the checkpoint to resume from, if any."""
    config_file = out_dir / RUN_CONFIG_FILE
    holds_model = (out_dir / "config.json").is_file()
    checkpoint = last_checkpoint(out_dir)
    if data_args.resume:
        if checkpoint is None:
            raise UserError(f"--resume: {out_dir} holds no checkpoint-N; drop --resume")
        stored = read_identity(config_file)
        if stored != identity:
            raise UserError(
                f"--output_dir {out_dir} holds a different model ({stored}); "
                "choose another --output_dir"
            )
        return checkpoint
    if (holds_model or checkpoint) and not data_args.overwrite:
        raise UserError(
            f"--output_dir {out_dir} already holds a model ({read_identity(config_file)}); "
            "pass --resume to continue it, --overwrite to replace it, or choose another directory"
        )
    for old in out_dir.glob("checkpoint-*"):
        shutil.rmtree(old)
    return None


def read_identity(config_file: Path) -> dict | str:
    import json

    if not config_file.is_file():
        return "not trained by training.finetune"
    return json.loads(config_file.read_text())


def scratch_model_and_tokenizer(
    model_args: ModelArguments, data_args: DataArguments, corpus: Corpus, out_dir: Path, resuming
):
    """A new GPT-2 of the preset's size and a BPE trained on the train split (or the saved one)."""
    from transformers import AutoTokenizer

    from training.code_model.scratch import PRESETS, build_model, train_tokenizer

    preset = PRESETS[model_args.scratch_preset]
    if resuming:  # the tokenizer the checkpoint was trained with, not a new one
        tokenizer = AutoTokenizer.from_pretrained(out_dir)
    else:
        print(f"training a {preset.vocab_size}-token byte-level BPE on the train split")
        tokenizer = train_tokenizer(
            corpus.splits["train"], preset.vocab_size, data_args.fim_rate > 0
        )
        tokenizer.model_max_length = preset.n_positions
        tokenizer.save_pretrained(out_dir)
    return build_model(preset, tokenizer), tokenizer


def pretrained_model_and_tokenizer(model_args: ModelArguments, data_args: DataArguments):
    """The base model, with FIM tokens when `--fim_rate` > 0 and LoRA adapters with `--lora`."""
    model, tokenizer = load_base_model(model_args.base_model)
    if data_args.fim_rate > 0:
        add_fim_tokens(model, tokenizer)
    if model_args.lora:
        fim_ids = fim_token_ids(tokenizer)
        model = add_lora(model, model_args, list(fim_ids) if fim_ids else None)
    return model, tokenizer


def add_lora(model, model_args: ModelArguments, new_token_ids: list[int] | None = None):
    """Wrap `model` in LoRA adapters; only they (and the rows of `new_token_ids`) are trained."""
    from peft import LoraConfig, get_peft_model
    from transformers.pytorch_utils import Conv1D

    targets = [name.strip() for name in model_args.lora_target_modules.split(",") if name.strip()]
    config = LoraConfig(
        r=model_args.lora_r,
        lora_alpha=model_args.lora_alpha,
        lora_dropout=model_args.lora_dropout,
        target_modules=targets,
        # GPT-2's Conv1D stores weights as (in, out), the transpose of nn.Linear.
        fan_in_fan_out=any(isinstance(m, Conv1D) for m in model.modules()),
        trainable_token_indices=new_token_ids,
        task_type="CAUSAL_LM",
    )
    try:
        model = get_peft_model(model, config)
    except ValueError as err:
        raise UserError(f"--lora_target_modules {model_args.lora_target_modules}: {err}") from err
    model.print_trainable_parameters()
    return model


def context_length(model) -> int:
    config = model.config
    return getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", 1024)


def build_datasets(
    corpus: Corpus, tokenizer, block_size: int, data_args: DataArguments, training_args
) -> tuple[BlockDataset, BlockDataset]:
    """Packed training blocks (enough FIM-refreshed passes for max_steps) and validation blocks.

    Checked before training starts: an empty validation set would only fail after the run.
    """
    seed, rate, mode = training_args.seed, data_args.fim_rate, data_args.fim_mode
    context = repo_contexts(corpus, data_args.repo_context_chars)
    train = pack_documents(
        corpus.splits["train"], tokenizer, block_size, fim_rate=rate, seed=seed, fim_mode=mode,
        context=context["train"],
    )  # fmt: skip
    if len(train) == 0:
        raise UserError(
            f"the training split holds fewer than {block_size} tokens; give --data more code "
            "or a smaller --block_size"
        )
    blocks_needed = training_args.max_steps * training_args.train_batch_size
    blocks_needed *= training_args.gradient_accumulation_steps * training_args.world_size
    passes = max(1, math.ceil(blocks_needed / len(train))) if training_args.max_steps > 0 else 1
    if passes > 1:  # fresh FIM cuts and a fresh order every pass
        train = pack_documents(
            corpus.splits["train"], tokenizer, block_size, fim_rate=rate, seed=seed,
            passes=passes, fim_mode=mode, context=context["train"],
        )  # fmt: skip
    validation = pack_documents(
        corpus.splits["validation"], tokenizer, block_size, fim_rate=rate, seed=seed,
        fim_mode=mode, context=context["validation"],
    )  # fmt: skip
    validation.blocks = validation.blocks[: data_args.max_eval_blocks]
    if len(validation) == 0:
        raise UserError(
            f"the validation split holds fewer than {block_size} tokens "
            f"({corpus.summary.documents_per_split['validation']} documents); give --data more "
            "files or packages, or a smaller --block_size"
        )
    print(
        f"tokens: train {len(train) * block_size / passes / 1e6:.2f}M per pass × {passes} passes "
        f"= {len(train)} blocks of {block_size}; validation {validation.blocks.numel()} tokens"
    )
    return train, validation


def repo_contexts(corpus: Corpus, max_chars: int) -> dict[str, RepoContext | None]:
    """Per split, the retriever of its own files (validation never sees training files)."""
    return {
        split: RepoContext(corpus.files[split], max_chars) if max_chars > 0 else None
        for split in ("train", "validation")
    }


def mark_context_trained(model, data_args: DataArguments) -> None:
    """Record in the saved config that this model reads `server.snippets` context (an older
    model, or one trained without it, gets none from the server)."""
    if data_args.repo_context_chars > 0:
        model.config.repo_context = CONTEXT_FORMAT
        model.config.repo_context_chars = data_args.repo_context_chars


def time_budget(data_args: DataArguments, training_args) -> list[TimeBudget]:
    if data_args.max_train_minutes <= 0:
        return []
    warmup = training_args.warmup_steps if 0 < training_args.warmup_steps < 1 else 0.03
    return [TimeBudget(data_args.max_train_minutes, training_args.learning_rate, warmup)]


def release_memory() -> None:
    """Free the training state before saving, so the merged copy fits beside the model."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def hardware_name(training_args) -> str:
    if training_args.use_cpu or not torch.cuda.is_available():
        return f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()})"
    return torch.cuda.get_device_name()


def save_final_model(model, tokenizer, model_args: ModelArguments, out_dir: Path):
    """Save the model as it ships (LoRA merged, `--save_dtype`) and return that model."""
    if model_args.lora and model_args.merge_lora:
        model = model.merge_and_unload()  # plain weights: serving needs no peft
    model = model.to(getattr(torch, model_args.save_dtype))
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return model


def validation_loss(model, validation: BlockDataset, batch_size: int) -> float:
    """Mean next-token loss of `model` (as saved, computed in float32) on the validation blocks."""
    model = model.float().eval()
    device = next(model.parameters()).device
    losses = []
    with torch.no_grad():
        for start in range(0, len(validation), batch_size):
            blocks = validation.blocks[start : start + batch_size].to(device)
            losses.append(model(input_ids=blocks, labels=blocks).loss.item() * len(blocks))
    return sum(losses) / len(validation)


def main(argv: list[str] | None = None) -> None:
    from transformers import Trainer, default_data_collator

    # Read by CUDA's caching allocator at its first allocation: fewer out-of-memory errors
    # from fragmentation when block shapes vary (ignored on CPU).
    os.environ.setdefault("PYTORCH_CUDA_ALLOC_CONF", "expandable_segments:True")
    model_args, data_args, training_args = parse_arguments(argv)
    out_dir = Path(training_args.output_dir)
    identity = run_identity(model_args, data_args)
    resume_from = prepare_output_dir(out_dir, identity, data_args)
    if model_args.base_model != SCRATCH:  # a missing base model fails before the corpus work
        model, tokenizer = pretrained_model_and_tokenizer(model_args, data_args)
    corpus = load_corpus(
        data_args.data, CorpusOptions(unit=data_args.unit, max_files=data_args.max_files)
    )
    print("\n".join(corpus.summary.lines()))
    if model_args.base_model == SCRATCH:
        model, tokenizer = scratch_model_and_tokenizer(
            model_args, data_args, corpus, out_dir, resume_from is not None
        )
    block_size = data_args.block_size or min(context_length(model), MAX_BLOCK_SIZE)
    if block_size > context_length(model):
        raise UserError(f"--block_size {block_size} exceeds the model's context")
    train, validation = build_datasets(corpus, tokenizer, block_size, data_args, training_args)
    mark_context_trained(model, data_args)  # before training: every checkpoint says so too
    parameters = sum(p.numel() for p in model.parameters())
    print(f"model: {parameters / 1e6:.2f}M parameters, block size {block_size}")
    tokens_per_step = block_size * training_args.train_batch_size * training_args.world_size
    tokens_per_step *= training_args.gradient_accumulation_steps
    write_json(out_dir / RUN_CONFIG_FILE, identity)  # from here on, checkpoints belong to it
    clock = RunClock(resume_from, tokens_per_step)
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train,
        eval_dataset=validation,
        data_collator=default_data_collator,
        processing_class=tokenizer,  # saved into every checkpoint, so each one loads alone
        callbacks=[clock, *time_budget(data_args, training_args)],
    )
    started = time.monotonic()
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    if not trainer.is_world_process_zero():
        return  # with torchrun / accelerate, one process writes the outputs
    # The finished model is saved before anything else can fail.
    step, log_history = trainer.state.global_step, trainer.state.log_history
    saved = save_final_model(trainer.model, tokenizer, model_args, out_dir)
    del trainer
    release_memory()
    eval_loss = validation_loss(saved, validation, training_args.per_device_eval_batch_size)
    metrics = {
        "base_model": model_args.base_model,
        "scratch_preset": model_args.scratch_preset if model_args.base_model == SCRATCH else None,
        "lora": model_args.lora,
        "fim_rate": data_args.fim_rate,
        "fim_mode": data_args.fim_mode,
        "repo_context_chars": data_args.repo_context_chars,
        "unit": data_args.unit,
        "parameters": parameters,
        "block_size": block_size,
        "steps": step,
        "tokens_seen": step * tokens_per_step,
        "train_seconds": round(clock.train_seconds, 1),
        "wall_seconds_this_run": round(time.monotonic() - started, 1),
        "eval_loss": eval_loss,
        "eval_perplexity": perplexity(eval_loss),
        "hardware": hardware_name(training_args),
        "command": command_line(),
        "data": corpus.summary.as_dict(),
        "clock": clock.history,
    }
    write_outputs(out_dir, metrics, log_history, title=f"{out_dir.name}: loss")
    print(
        f"saved {out_dir}: validation loss {eval_loss:.3f} (perplexity {perplexity(eval_loss):.2f})"
        f", {metrics['tokens_seen'] / 1e6:.1f}M tokens in {clock.train_seconds / 60:.1f} min"
    )
