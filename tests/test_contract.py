"""The engine contract: torch-free, and the shared rules every engine applies the same way."""

from __future__ import annotations

import subprocess
import sys

from server.contract import CompletionRequest, GenerationSettings, stop_rule
from server.prompt_budget import coarse_cut, cut_prefix, prompt_suffix, prompt_tokens, suffix_share

LIGHT_MODULES = ["server.contract", "server.settings", "server.answer_cache", "server.remote.kinds"]


def test_the_contract_and_what_builds_on_it_import_without_torch():
    """The settings, the answer cache and the remote engines need no model dependencies (in a
    fresh interpreter: this one has imported torch long ago)."""
    imports = "; ".join(f"import {module}" for module in LIGHT_MODULES)
    check = f"import sys; {imports}; print(sorted({{'torch', 'transformers'}} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_request_decides_the_line_mode_once():
    block = CompletionRequest("def f():", "", GenerationSettings(multiline="auto"))
    assert block.edit_context().multiline
    assert not block.cancelled() and block.uri is None
    mid_line = CompletionRequest("x = f(", ")\n", GenerationSettings(multiline="always"))
    assert not mid_line.edit_context().multiline


def test_stop_rule_fires_at_the_end_of_the_line_or_block():
    line = stop_rule(CompletionRequest("x = ", "", GenerationSettings()).edit_context())
    assert not line("1 + ") and line("1 + 2\n")
    block = stop_rule(CompletionRequest("def f():", "", GenerationSettings()).edit_context())
    assert not block("\n    return 1\n") and block("\n    return 1\nx = 2")


def test_one_budget_rule_for_every_engine():
    settings = GenerationSettings(context_tokens=100)
    assert prompt_tokens(settings, 256) == 100
    assert prompt_tokens(GenerationSettings(), 256) == 256
    assert prompt_tokens(GenerationSettings(), 256, room=50) == 50
    assert prompt_tokens(GenerationSettings(), 256, room=-3) == 4  # never an empty prompt
    assert suffix_share(400) == 64 and suffix_share(100) == 25 and suffix_share(-1) == 0
    assert suffix_share(1000, cap=None) == 250
    assert prompt_suffix("rest", GenerationSettings()) == ""
    assert prompt_suffix("rest", GenerationSettings(use_suffix=True)) == "rest"


def test_the_prefix_is_cut_coarsely_at_a_line_start():
    prefix = "".join(f"line {n}\n" for n in range(100)) + "x = "
    cut = cut_prefix(prefix, 200)
    assert len(cut) <= 200 and prefix.endswith(cut) and cut.startswith("line ")
    assert cut_prefix(prefix + "1", 200) == cut + "1"  # typing keeps the prompt's start
    assert coarse_cut(90, 100) == 0
