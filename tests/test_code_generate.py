"""`generate_code` and `python -m training.generate` on the tiny saved test models."""

from __future__ import annotations

import pytest

from server.errors import UserError
from server.local.saved_model import load_saved_model
from training.code_model.generate import generate_code, main


def test_greedy_generation_continues_a_memorised_function(tiny_model_dir):
    model, tokenizer = load_saved_model(tiny_model_dir)
    text = generate_code(model, tokenizer, "def add(a, b):", temperature=0, max_new_tokens=8)
    assert text.startswith("\n    return a + b")


def test_sampling_returns_new_text_only(tiny_model_dir):
    model, tokenizer = load_saved_model(tiny_model_dir)
    text = generate_code(model, tokenizer, "def square(x):", max_new_tokens=5)
    assert not text.startswith("def square")
    assert len(tokenizer(text)["input_ids"]) <= 5


def test_cli_prints_prompt_and_continuation(tiny_fim_model_dir, capsys):
    main(["--model", str(tiny_fim_model_dir), "def add(a, b):", "--temperature", "0",
          "--max_new_tokens", "8"])  # fmt: skip
    assert capsys.readouterr().out.startswith("def add(a, b):\n    return a + b")
    main(["--model", str(tiny_fim_model_dir), "def add(a, b):\\n    return ", "--suffix",
          "\\n", "--temperature", "0", "--max_new_tokens", "6"])  # fmt: skip
    assert capsys.readouterr().out.strip()


def test_suffix_needs_a_fim_model(tiny_model_dir):
    with pytest.raises(UserError, match="not trained for fill-in-the-middle"):
        main(["--model", str(tiny_model_dir), "x = ", "--suffix", "\\n"])


def test_missing_model_directory_is_one_line(tmp_path):
    with pytest.raises(UserError, match="no saved model there"):
        main(["--model", str(tmp_path), "def f():"])
