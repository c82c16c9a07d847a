"""The remote engine for each `nanopilot.engine.kind` other than `local`."""

from __future__ import annotations

from server.remote.engine import RemoteEngine, api_key
from server.remote.http import make_client
from server.remote.llamacpp import LlamaCppWire
from server.remote.ollama import OllamaWire
from server.remote.openai import OpenAIWire
from server.remote.settings import EngineSettings

WIRES = {"llamacpp": LlamaCppWire, "openai": OpenAIWire, "ollama": OllamaWire}


def remote_engine(settings: EngineSettings) -> RemoteEngine:
    """The engine for a remote `kind`. UserError when its API key variable is unset."""
    client = make_client(settings.base_url, settings.timeout_ms / 1000, api_key(settings))
    return RemoteEngine(settings, WIRES[settings.kind](settings), client)
