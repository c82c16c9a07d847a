"""Shared test helpers: repository paths and the rule for external tools.

Editor end-to-end tests need programs that a developer's machine may lack (nvim, chromium, node).
They skip with a reason when a tool is missing, unless NANOPILOT_REQUIRE_E2E=1 (set by .ci/run),
where a missing tool is a failure: CI must never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import server  # noqa: F401  (sets the OpenMP wait policy before any test imports torch)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
ALICE_TEXT = SHARED_DATA / "alice.txt"


def require_tool(name: str) -> str:
    """Return the path of executable `name`, or skip (fail under NANOPILOT_REQUIRE_E2E=1)."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name!r} is not installed (bash .ci/run installs it)"
    if os.environ.get("NANOPILOT_REQUIRE_E2E") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def alice_text_path() -> Path:
    if not ALICE_TEXT.is_file():
        pytest.fail(f"{ALICE_TEXT} is missing: tests expect ../shared/data/alice.txt")
    return ALICE_TEXT


# Session fixtures `tiny_model_dir` / `tiny_fim_model_dir`: a real tiny code model, built once.
from tests.tiny_model import tiny_fim_model_dir, tiny_model_dir  # noqa: E402, F401


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory) -> Path:
    """The onnx decoder's exports (and any other user cache) go to a test directory, not ~/.cache;
    servers the tests start inherit it."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        yield cache
