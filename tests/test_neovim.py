"""Neovim 0.7 (Debian's) talks to the server through its built-in LSP client.

0.7 has no inline completion, so this checks what it has: `textDocument/completion` returns the
tiny model's suggestion as an item, and Neovim turns it into the word its omnifunc would insert.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT, require_tool

SCRIPT = REPO_ROOT / "tests" / "neovim" / "completion.lua"

pytestmark = pytest.mark.e2e


def test_neovim_gets_the_models_completion(tmp_path, tiny_model_dir):
    nvim = require_tool("nvim")
    source = tmp_path / "example.py"
    source.write_text("def add(a, b):\n    \n")
    result_file = tmp_path / "result.json"
    env = {
        **os.environ,
        "NANOPILOT_SERVER_CMD": json.dumps(
            [sys.executable, "-m", "server", "--model", str(tiny_model_dir)]
        ),
        "NANOPILOT_FILE": str(source),
        "NANOPILOT_LINE": "1",
        "NANOPILOT_COL": "4",
        "NANOPILOT_RESULT": str(result_file),
    }
    completed = subprocess.run(
        [nvim, "--headless", "--clean", "-n", "-i", "NONE", "-c", f"luafile {SCRIPT}"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result_file.is_file(), f"nvim wrote no result: {completed.stderr[-2000:]}"
    result = json.loads(result_file.read_text())
    assert "error" not in result, result["error"]
    assert {"label": "return a + b", "newText": "return a + b"} in result["items"]
    assert "return a + b" in result["words"]
    assert completed.returncode == 0
