"""The VS Code extension end to end: real VS Code (code-server) in Chromium, real server.

The browser part lives in `editor-client/e2e/run.mjs` (playwright-core); this test prepares what it
needs and runs it: the toolchain (`editor-client/e2e/setup.sh`: Node 24 and code-server, cached in
`.cache/editor-e2e/`), the `.vsix` (rebuilt when a source is newer), and the tiny model of
`tests/tiny_model.py`, which completes `def add(a, b):` predictably at temperature 0. The server is
started by the extension with the interpreter running this test. A second test starts from a clean
state instead, as a new user: no interpreter configured, "Set up" accepted, the extension's own
environment with the wheel bundled in the .vsix, the packaged default model. Screenshots and, on
failure, the editor's logs go to `runs/editor-e2e/`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, require_tool

pytestmark = pytest.mark.e2e

CLIENT = REPO_ROOT / "editor-client"
VSIX = CLIENT / "dist" / "nanopilot.vsix"
ARTIFACTS = REPO_ROOT / "runs" / "editor-e2e"
# The .vsix holds the extension and the nanopilot wheel built from the checkout.
VSIX_INPUTS = [
    *(
        CLIENT / name
        for name in (
            "src",
            "scripts",
            "package.json",
            "package-lock.json",
            "tsconfig.json",
            ".vscodeignore",
            "README.md",
            "LICENSE",
        )
    ),
    *(REPO_ROOT / name for name in ("server", "training", "models", "examples")),
    REPO_ROOT / "pyproject.toml",
    REPO_ROOT / "setup.py",
]
E2E_TIMEOUT_S = 300
# Setting up installs torch and nanopilot's dependencies into a new virtual environment.
SETUP_TIMEOUT_S = 900


def _newest_mtime(paths: list[Path]) -> float:
    files = [p for path in paths for p in ([path] if path.is_file() else path.rglob("*"))]
    return max(p.stat().st_mtime for p in files if p.is_file() and "__pycache__" not in p.parts)


def _run(command: list[str], env: dict[str, str], timeout: float) -> str:
    result = subprocess.run(
        command, cwd=CLIENT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@pytest.fixture(scope="module")
def node_env() -> dict[str, str]:
    """The environment with the e2e toolchain's Node 24 first on PATH (set up if missing)."""
    require_tool("npm")
    tools = Path(_run(["bash", "e2e/setup.sh"], dict(os.environ), timeout=900).strip())
    path = f"{tools / 'node' / 'bin'}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path, "E2E_TOOLS": str(tools)}


@pytest.fixture(scope="module")
def vsix(node_env: dict[str, str]) -> Path:
    """The packaged extension, rebuilt when one of its sources is newer (CI builds it first)."""
    if not (CLIENT / "node_modules" / ".package-lock.json").is_file():
        _run(["npm", "ci", "--no-audit", "--no-fund"], node_env, timeout=600)
    if not VSIX.is_file() or VSIX.stat().st_mtime < _newest_mtime(VSIX_INPUTS):
        _run(["npm", "run", "build"], node_env, timeout=300)
        _run(["npm", "run", "package"], node_env, timeout=300)
    return VSIX


def _drive(node_env: dict[str, str], vsix: Path, options: list[str], timeout: float) -> str:
    """Run e2e/run.mjs with these options; its output, or the test fails with it."""
    tools = Path(node_env["E2E_TOOLS"])
    command = [
        "node",
        "e2e/run.mjs",
        "--code-server",
        str(tools / "code-server" / "node_modules" / ".bin" / "code-server"),
        "--chromium",
        require_tool("chromium"),
        "--vsix",
        str(vsix),
        "--out",
        str(ARTIFACTS),
        *options,
    ]
    # Its own session, so that a hung run can be stopped with everything it started.
    driver = subprocess.Popen(
        command,
        cwd=CLIENT,
        env=node_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = driver.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(driver.pid, signal.SIGKILL)
        output, _ = driver.communicate()
        pytest.fail(f"the editor test ran over {timeout} s:\n{output}")
    assert driver.returncode == 0, f"editor test failed (artifacts in {ARTIFACTS}):\n{output}"
    assert "passed" in output
    return output


def test_ghost_text_in_code_server(
    node_env: dict[str, str], vsix: Path, tiny_model_dir: Path
) -> None:
    options = ["--python", sys.executable, "--model", str(tiny_model_dir)]
    _drive(node_env, vsix, options, E2E_TIMEOUT_S)
    assert (ARTIFACTS / "ghost-text.png").is_file()


@pytest.mark.slow
@pytest.mark.timeout(SETUP_TIMEOUT_S + 120)
def test_set_up_from_a_clean_state(node_env: dict[str, str], vsix: Path) -> None:
    output = _drive(node_env, vsix, ["--scenario", "setup"], SETUP_TIMEOUT_S)
    print(output)  # the set-up and first-ghost-text times, for the record
    assert "ghost text after Set up" in output
    assert (ARTIFACTS / "setup-ghost-text.png").is_file()
