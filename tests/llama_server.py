"""A real llama.cpp `llama-server` for the engine tests: the binary `scripts/build-llama-server`
builds into .cache/llama-server/, the shipped default model exported to GGUF, and a process on
127.0.0.1 that tests can kill and start again on the same port."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT

BINARY = REPO_ROOT / ".cache" / "llama-server" / "bin" / "llama-server"
DEFAULT_MODEL = REPO_ROOT / "models" / "default"


def require_binary() -> Path:
    """The llama-server binary, or skip (fail under NANOPILOT_REQUIRE_E2E=1, as in CI)."""
    if BINARY.is_file():
        return BINARY
    message = f"{BINARY} is missing (bash scripts/build-llama-server builds it)"
    if os.environ.get("NANOPILOT_REQUIRE_E2E") == "1":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LlamaServer:
    def __init__(self, binary: Path, model: Path, log: Path, threads: int = 1) -> None:
        self.binary, self.model, self.log, self.threads = binary, model, log, threads
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> None:
        command = [
            str(self.binary), "-m", str(self.model), "--host", "127.0.0.1",
            "--port", str(self.port), "-c", "1024", "-np", "2",
            "-t", str(self.threads), "-tb", str(self.threads),
        ]  # fmt: skip
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"llama-server exited; see {self.log}"
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"llama-server did not become healthy; see {self.log}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        self.process = None
