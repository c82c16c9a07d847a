"""The wheel as a user installs it: built from the checkout, installed into a fresh virtual
environment outside it, run from another directory. It must carry its default model and its
example, so the demo and the language server give real suggestions with nothing else around.

torch goes in first, pinned as in scripts/setup (the local CPU wheel; a bare `pip install torch`
would pull a multi-GB CUDA build), then the wheel with its dependencies from the package registry.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from server.demo import DEFAULT_POSITIONS
from tests.conftest import REPO_ROOT
from tests.test_lsp import ADD, GREEDY, end_of, inline, open_document, start_server, status

TORCH = "torch==2.13.0"
INSTALL_TIMEOUT_S = 900
# The first test also builds and installs (pip, several minutes on a busy 2-core machine).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(4 * INSTALL_TIMEOUT_S)]


def _run(command: list[str], cwd: Path, timeout: float = INSTALL_TIMEOUT_S) -> str:
    """Run outside the checkout, without the test's PYTHONPATH (it would import the checkout).
    The timeout only catches a hang: on a busy 2-core machine a first import of torch can take
    minutes."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", str(REPO_ROOT), "--no-deps", "-w", "dist"], root)
    (built,) = (root / "dist").glob("nanopilot-*.whl")
    return built


def test_wheel_carries_every_package_and_the_model_and_nothing_stale(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("server", "training", "training/char_model", "training/code_model"):
        assert f"{package}/__init__.py" in names
    assert "nanopilot_models/default/model.safetensors" in names
    assert "nanopilot_examples/inventory.py" in names
    # A module moved or deleted since an earlier build in the checkout must not ship.
    modules = [name for name in names if name.startswith(("server/", "training/"))]
    assert [name for name in modules if not (REPO_ROOT / name).is_file()] == []


@pytest.fixture(scope="module")
def installed(wheel: Path) -> tuple[Path, Path]:
    """(venv, an unrelated working directory): the wheel installed as a user would."""
    root = wheel.parent.parent
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], root)
    # --no-compile: byte-compiling all of torch is most of the install's CPU time; imports compile
    # what they need.
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile"]
    _run([*pip, TORCH], root)
    _run([*pip, str(wheel)], root)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return venv, elsewhere


@pytest.mark.parametrize("command", [["python", "-m", "server.demo"], ["nanopilot-demo"]])
def test_demo_runs_from_any_directory_on_the_packaged_model(installed, command):
    venv, elsewhere = installed
    out = _run([str(venv / "bin" / command[0]), *command[1:]], elsewhere)
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    assert f"model {site_packages / 'nanopilot_models' / 'default'} (fill-in-the-middle)" in out
    suggestions = [line for line in out.splitlines() if line.strip().startswith("suggestion")]
    assert len(suggestions) == len(DEFAULT_POSITIONS)
    assert any("(none)" not in line for line in suggestions), out


@pytest.mark.parametrize("module", ["training.finetune", "training.alice", "server"])
def test_commands_answer_help(installed, module):
    venv, elsewhere = installed
    assert "usage:" in _run([str(venv / "bin" / "python"), "-m", module, "--help"], elsewhere)


@pytest.mark.asyncio(loop_scope="function")
async def test_console_script_serves_ghost_text_from_the_packaged_model(installed):
    venv, elsewhere = installed
    client = await start_server(
        None,
        init_options=GREEDY,
        command=(str(venv / "bin" / "nanopilot-server"),),
        cwd=elsewhere,
    )
    try:
        assert (await status(client))["model"].startswith(str(venv))
        open_document(client, ADD)
        items = await inline(client, end_of(ADD))
        assert items and items[0].insert_text.strip(), items
    finally:
        await client.shutdown_session()
