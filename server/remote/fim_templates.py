"""Fill-in-the-middle prompt templates for remote engines that take one plain-text prompt.

OpenAI-compatible servers (vLLM, llama.cpp) reject a `suffix` field and Ollama's raw mode takes
the prompt as is, so the model family's FIM markers go into the prompt text, and the markers and
end tokens become stop strings (a model that writes one has finished the middle).

Without a suffix (`useSuffix` off, or nothing after the cursor) the prompt is the prefix alone,
as the local engine's (server/local/prompt.py): a FIM prompt with an empty suffix tells a model
that the file ends at the cursor, and nanopilot's own models then close the file instead of the
line.

Repository context (context.py) goes before the FIM prompt after the family's file separator
where the template names one (`file_sep`), else as comments at the start of the prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.remote.context import RepoContext

PLACEHOLDER = re.compile(r"\{(prefix|suffix)\}")


@dataclass(frozen=True)
class FimTemplate:
    pattern: str  # with {prefix} and (for FIM) {suffix}
    stop: tuple[str, ...] = ()
    file_sep: str | None = None  # the token before each file of a repository-level prompt

    def render(self, prefix: str, suffix: str, context: RepoContext | None = None) -> str:
        """The prompt; braces inside the code are left alone (no str.format)."""
        written = context.text(self.file_sep) if context else ""
        if not self.file_sep:
            prefix, written = written + prefix, ""
        if not suffix and "{suffix}" in self.pattern:
            return written + prefix
        values = {"prefix": prefix, "suffix": suffix}
        return written + PLACEHOLDER.sub(lambda match: values[match.group(1)], self.pattern)


_STARCODER = FimTemplate(
    "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
    ("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"),
)

NAMED: dict[str, FimTemplate] = {
    # StarCoder, SantaCoder and nanopilot's own models (server/fim.py).
    "starcoder": _STARCODER,
    "santacoder": _STARCODER,
    # StarCoder2: StarCoder's markers, and files of a repository after <file_sep>.
    "starcoder2": FimTemplate(_STARCODER.pattern, _STARCODER.stop, "<file_sep>"),
    "codellama": FimTemplate("<PRE> {prefix} <SUF>{suffix} <MID>", ("<EOT>", "<PRE>", "<SUF>")),
    "deepseek-coder": FimTemplate(
        "<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>",
        ("<｜end▁of▁sentence｜>", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", "<|EOT|>"),
    ),
    "qwen2.5-coder": FimTemplate(
        "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
        ("<|endoftext|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>"),
        "<|file_sep|>",
    ),
    "codestral": FimTemplate("[SUFFIX]{suffix}[PREFIX]{prefix}", ("</s>", "[PREFIX]", "[SUFFIX]")),
    # A left-to-right model: the code before the cursor only.
    "none": FimTemplate("{prefix}"),
}


def parse_template(value: str) -> FimTemplate:
    """A named template, or a custom pattern with `{prefix}` (and usually `{suffix}`).
    ValueError for anything else."""
    if value in NAMED:
        return NAMED[value]
    if "{prefix}" not in value:
        raise ValueError(f"must be one of {', '.join(NAMED)} or a pattern containing {{prefix}}")
    return FimTemplate(value)
