"""The settings of `python -m training.finetune`: our dataclasses beside `TrainingArguments`.

`HfArgumentParser` turns every field into a flag, so all Trainer flags work unchanged
(`--per_device_train_batch_size`, `--gradient_accumulation_steps`, `--bf16`, ...). The
Trainer's own defaults suit a GPU server; `CPU_DEFAULTS` replaces the ones that do not suit a
CPU laptop (any flag given on the command line still wins).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers import HfArgumentParser, TrainingArguments

from training.corpus import first_error_line
from training.errors import UserError
from training.scratch import PRESETS

SCRATCH = "scratch"
SAVE_DTYPES = ("float32", "bfloat16", "float16")
# From scratch a tiny model wants a high learning rate; fine-tuning a pretrained one a low one.
SCRATCH_LEARNING_RATE = 1e-3
FINETUNE_LEARNING_RATE = 5e-5
LORA_LEARNING_RATE = 5e-4

CPU_DEFAULTS = {
    "output_dir": "runs/finetune",
    "per_device_train_batch_size": 8,
    "per_device_eval_batch_size": 8,
    "max_steps": 300,
    "lr_scheduler_type": "cosine",
    "warmup_steps": 0.05,
    "weight_decay": 0.1,
    "logging_steps": 10,
    "eval_strategy": "steps",
    "eval_steps": 100,
    "save_steps": 100,
    "save_total_limit": 3,
    "report_to": "none",
    "disable_tqdm": False,
}


@dataclass
class ModelArguments:
    base_model: str = field(
        default="distilgpt2",
        metadata={"help": "hub id or local directory to fine-tune, or 'scratch' (see presets)"},
    )
    scratch_preset: str = field(
        default="quick",
        metadata={"help": f"model size for --base_model scratch: {', '.join(PRESETS)}"},
    )
    lora: bool = field(default=False, metadata={"help": "train LoRA adapters (peft) only"})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank"})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling numerator"})
    lora_dropout: float = field(default=0.05, metadata={"help": "dropout on the LoRA input"})
    lora_target_modules: str = field(
        default="c_attn,c_proj,c_fc",
        metadata={"help": "comma-separated module names to adapt (GPT-2's Conv1D layers)"},
    )
    merge_lora: bool = field(
        default=True,
        metadata={"help": "merge LoRA into the weights when saving (no peft needed to serve)"},
    )
    save_dtype: str = field(
        default="float32",
        metadata={"help": f"dtype of the saved weights: {', '.join(SAVE_DTYPES)}"},
    )


@dataclass
class DataArguments:
    data: str | None = field(
        default=None,
        metadata={
            "help": "directory of .py files, .jsonl/.json/.parquet/.txt (field content or text), "
            "or hub data set name (default: the running Python's standard library)"
        },
    )
    max_files: int | None = field(default=None, metadata={"help": "use at most this many files"})
    block_size: int = field(
        default=0, metadata={"help": "tokens per training block (0: the model's context, ≤ 512)"}
    )
    fim_rate: float = field(
        default=0.5, metadata={"help": "share of functions turned into fill-in-the-middle examples"}
    )
    max_eval_blocks: int = field(
        default=64, metadata={"help": "validation blocks used for eval loss during training"}
    )
    resume: bool = field(
        default=False, metadata={"help": "continue from the last checkpoint in --output_dir"}
    )
    overwrite: bool = field(
        default=False, metadata={"help": "replace a model already in --output_dir"}
    )


def parse_arguments(
    argv: list[str] | None,
) -> tuple[ModelArguments, DataArguments, TrainingArguments]:
    parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments))
    parser.set_defaults(**CPU_DEFAULTS, use_cpu=not accelerator_available())
    try:
        model_args, data_args, training_args = parser.parse_args_into_dataclasses(args=argv)
    except ValueError as err:  # TrainingArguments rejects a combination of flags
        raise UserError(first_error_line(err)) from err
    if not 0.0 <= data_args.fim_rate <= 1.0:
        raise UserError(f"--fim_rate {data_args.fim_rate} is outside [0, 1]; try 0.5")
    if model_args.base_model == SCRATCH and model_args.scratch_preset not in PRESETS:
        raise UserError(
            f"--scratch_preset {model_args.scratch_preset!r} is unknown; "
            f"choose one of {', '.join(PRESETS)}"
        )
    if model_args.save_dtype not in SAVE_DTYPES:
        raise UserError(f"--save_dtype must be one of {', '.join(SAVE_DTYPES)}")
    if model_args.lora and model_args.base_model == SCRATCH:
        raise UserError("--lora adapts a pretrained model; drop --lora for --base_model scratch")
    if not learning_rate_given(argv):
        training_args.learning_rate = default_learning_rate(model_args)
    return model_args, data_args, training_args


def accelerator_available() -> bool:
    import torch

    return torch.cuda.is_available() or torch.backends.mps.is_available()


def learning_rate_given(argv: list[str] | None) -> bool:
    import sys

    args = sys.argv[1:] if argv is None else argv
    return any(arg.split("=")[0] == "--learning_rate" for arg in args)


def default_learning_rate(model_args: ModelArguments) -> float:
    if model_args.base_model == SCRATCH:
        return SCRATCH_LEARNING_RATE
    return LORA_LEARNING_RATE if model_args.lora else FINETUNE_LEARNING_RATE
