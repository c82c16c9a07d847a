"""The `nanopilot` settings: defaults, validation, and the generation settings they give.

Settings arrive from `initializationOptions`, `workspace/configuration` and
`workspace/didChangeConfiguration`, either as `{"nanopilot": {...}}` or flat. Each value is checked
alone: a bad one is reported and the previous value kept, the good ones still apply.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.choice import FILTERS
from server.contract import GenerationSettings
from server.local.options import DECODERS, DEVICE_CHOICES
from server.project import SETTINGS as INDEX_SCOPES
from server.remote.settings import EngineSettings, parse_engine

SECTION = "nanopilot"
MULTILINE_MODES = ("auto", "always", "never")


# The generation settings' defaults are the ones served (one set, in server/contract.py).
_SERVED = GenerationSettings()


@dataclass(frozen=True)
class ServerSettings:
    model: str | None = None  # None: the --model directory (or the shipped default)
    temperature: float = _SERVED.temperature
    top_p: float = _SERVED.top_p
    max_new_tokens: int = _SERVED.max_new_tokens
    multiline: str = _SERVED.multiline
    enable: bool = True
    device: str = "auto"
    decoder: str = "auto"  # local/decoders.py: auto (lean float32), onnx (int8), huggingface
    context_tokens: int | None = _SERVED.context_tokens  # None: the engine's default
    use_suffix: bool = _SERVED.use_suffix  # why it is off: GenerationSettings.use_suffix
    engine: EngineSettings = EngineSettings()  # which engine generates (local: the model above)
    # Where the copy engine looks (server/project/): off, file, tabs (open documents), workspace
    index: str = "workspace"
    # How sure a suggestion must be to be shown (server/choice.py): conservative, balanced, eager
    filter: str = "balanced"
    # Repository context in the prompt (server/retrieval.py), and the share of the prompt budget
    # it may take (GenerationSettings.context_share)
    context: bool = True
    context_share: float = _SERVED.context_share

    @property
    def generation(self) -> GenerationSettings:
        """What the engine needs from these settings (the line mode is decided per request)."""
        return GenerationSettings(
            temperature=self.temperature,
            top_p=self.top_p,
            max_new_tokens=self.max_new_tokens,
            multiline=self.multiline,
            context_tokens=self.context_tokens,
            use_suffix=self.use_suffix,
            context_share=self.context_share,
        )


def _number(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number from {low} to {high}")
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}")
        return float(value)

    return check


def _integer(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return value

    return check


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices and not (
            choices == DEVICE_CHOICES and isinstance(value, str) and value.startswith("cuda:")
        ):
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _model(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("must be a directory path")
    return value


# Setting name (as editors spell it) -> (field, validator)
FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "model": ("model", _model),
    "temperature": ("temperature", _number(0.0, 2.0)),
    "topP": ("top_p", _number(0.01, 1.0)),
    "maxNewTokens": ("max_new_tokens", _integer(1, 512)),
    "multiline": ("multiline", _choice(MULTILINE_MODES)),
    "enable": ("enable", _boolean),
    "device": ("device", _choice(DEVICE_CHOICES)),
    "decoder": ("decoder", _choice(DECODERS)),
    "contextTokens": ("context_tokens", _integer(16, 32768)),
    "useSuffix": ("use_suffix", _boolean),
    "engine": ("engine", parse_engine),
    "index": ("index", _choice(INDEX_SCOPES)),
    "filter": ("filter", _choice(FILTERS)),
    "context": ("context", _boolean),
    "contextShare": ("context_share", _number(0.0, 0.9)),
}


def section_of(raw: Any) -> dict[str, Any]:
    """The nanopilot settings in `{"nanopilot": {...}}` or flat form; {} for anything else."""
    if not isinstance(raw, dict):
        return {}
    nested = raw.get(SECTION)
    return nested if isinstance(nested, dict) else raw


def apply_settings(current: ServerSettings, raw: Any) -> tuple[ServerSettings, list[str]]:
    """`current` updated with the valid values in `raw`, and one problem line per bad value."""
    changes: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in section_of(raw).items():
        if name not in FIELDS:
            continue
        field, check = FIELDS[name]
        try:
            changes[field] = check(value)
        except ValueError as err:
            kept = getattr(current, field)
            problems.append(f"nanopilot.{name} = {value!r} {err}; keeping {kept!r}")
    return dataclasses.replace(current, **changes), problems
