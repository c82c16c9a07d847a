"""The settings of `python -m training.finetune`: our dataclasses beside `TrainingArguments`.

`HfArgumentParser` turns every field into a flag, so all Trainer flags work unchanged
(`--per_device_train_batch_size`, `--gradient_accumulation_steps`, `--bf16`, ...). The
Trainer's own defaults suit a GPU server; `CPU_DEFAULTS` replaces the ones that do not suit a
CPU laptop (any flag given on the command line still wins).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers import HfArgumentParser, TrainingArguments

from server.errors import UserError, warn
from training.code_model.corpus import UNITS, first_error_line
from training.code_model.fim import FIM_MODES
from training.code_model.scratch import PRESETS
from training.cpu_features import native_bf16

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
    unit: str = field(
        default="file",
        metadata={
            "help": f"training document: {' or '.join(UNITS)} (functions with their class "
            "header, the project's original unit)"
        },
    )
    fim_rate: float = field(
        default=0.5, metadata={"help": "share of documents turned into fill-in-the-middle examples"}
    )
    fim_mode: str = field(
        default="line",
        metadata={
            "help": "where FIM cuts: line (from a cursor in a line to its end or a few "
            "lines on, as the editor asks) or char (two random characters)"
        },
    )
    repo_context_chars: int = field(
        default=0,
        metadata={
            "help": "repository context before each window: up to this many characters of "
            "snippets from the same package and file (0: none; the server then gives none); "
            "try 600"
        },
    )
    max_eval_blocks: int = field(
        default=64, metadata={"help": "validation blocks used for eval loss during training"}
    )
    max_train_minutes: float = field(
        default=0.0,
        metadata={
            "help": "wall-clock budget: cosine learning rate over this time, then stop "
            "(0: by --max_steps, which still caps the run)"
        },
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
    if data_args.unit not in UNITS:
        raise UserError(f"--unit {data_args.unit!r} is unknown; choose one of {', '.join(UNITS)}")
    if data_args.repo_context_chars < 0:
        raise UserError(f"--repo_context_chars {data_args.repo_context_chars} is negative; try 600")
    if data_args.fim_mode not in FIM_MODES:
        raise UserError(f"--fim_mode {data_args.fim_mode!r}: choose one of {', '.join(FIM_MODES)}")
    if not flag_given(argv, "--learning_rate"):
        training_args.learning_rate = default_learning_rate(model_args)
    choose_cpu_dtype(training_args, bf16_given=flag_given(argv, "--bf16"))
    # The time budget sets the rate (training.code_model.time_budget).
    if data_args.max_train_minutes > 0:
        training_args.lr_scheduler_type = "constant"
    return model_args, data_args, training_args


def choose_cpu_dtype(training_args: TrainingArguments, bf16_given: bool) -> None:
    """On a CPU, bf16 autocast where the CPU computes bf16 natively, float32 elsewhere.

    Emulated bf16 makes each step ~20x slower: a forced `--bf16` there runs, with a warning.
    The weights themselves stay float32 (master weights) whatever dtype a base model was saved in.
    """
    if not training_args.use_cpu:
        return
    if not bf16_given:
        training_args.bf16 = native_bf16()
    elif training_args.bf16 and not native_bf16():
        warn(
            "--bf16 on a CPU without native bf16 (no avx512_bf16 / amx_bf16): each step will be "
            "~20x slower than float32; drop --bf16 to let the run choose"
        )
    # TrainingArguments turns `bf16` into `mixed_precision` once, in __post_init__, and the
    # Trainer's accelerator reads only the latter: a `bf16` set afterwards alone trains float32.
    training_args.mixed_precision = "bf16" if training_args.bf16 else "no"


def accelerator_available() -> bool:
    import torch

    return torch.cuda.is_available() or torch.backends.mps.is_available()


def flag_given(argv: list[str] | None, flag: str) -> bool:
    import sys

    args = sys.argv[1:] if argv is None else argv
    return any(arg.split("=")[0] == flag for arg in args)


def default_learning_rate(model_args: ModelArguments) -> float:
    if model_args.base_model == SCRATCH:
        return SCRATCH_LEARNING_RATE
    return LORA_LEARNING_RATE if model_args.lora else FINETUNE_LEARNING_RATE
