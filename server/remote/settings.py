"""The `nanopilot.engine` setting: which engine generates, where it is, and how to prompt it.

One object, checked as a whole: `{"kind": "llamacpp", "url": "http://gpu-box:8080"}`. The API key
is never a setting: `apiKeyEnv` names the environment variable that holds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from server.remote.fim_templates import parse_template

ENGINE_KINDS = ("local", "llamacpp", "openai", "ollama")
DEFAULT_URLS = {
    "llamacpp": "http://127.0.0.1:8080",
    "openai": "http://127.0.0.1:8000",
    "ollama": "http://127.0.0.1:11434",
}
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TIMEOUT_MS = (100, 600_000)


@dataclass(frozen=True)
class EngineSettings:
    kind: str = "local"
    url: str = ""  # "" : the kind's usual local address (DEFAULT_URLS)
    model: str = ""  # for servers that host several models (OpenAI-compatible, Ollama)
    api_key_env: str = ""  # name of the environment variable holding the bearer key
    fim_template: str = ""  # "" : llama.cpp's /infill; "starcoder" for the text-prompt engines
    timeout_ms: int = 5000  # the longest one suggestion may take, connecting included

    @property
    def base_url(self) -> str:
        return self.url or DEFAULT_URLS.get(self.kind, "")


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value


def _url(value: Any) -> str:
    url = _text("url", value).rstrip("/")
    parts = urlsplit(url)
    if url and (parts.scheme not in ("http", "https") or not parts.hostname):
        raise ValueError("url must look like http://host:port")
    return url


def _env_name(value: Any) -> str:
    name = _text("apiKeyEnv", value)
    if name and not ENV_NAME.fullmatch(name):
        raise ValueError("apiKeyEnv must be the name of an environment variable, not the key")
    return name


def _template(value: Any) -> str:
    template = _text("fimTemplate", value)
    if template:
        parse_template(template)
    return template


def _kind(value: Any) -> str:
    if value not in ENGINE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(ENGINE_KINDS)}")
    return value


def _timeout(value: Any) -> int:
    low, high = TIMEOUT_MS
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"timeoutMs must be a whole number from {low} to {high}")
    return value


# Key as editors spell it -> (field, check)
_KEYS = {
    "kind": ("kind", _kind),
    "url": ("url", _url),
    "model": ("model", lambda value: _text("model", value)),
    "apiKeyEnv": ("api_key_env", _env_name),
    "fimTemplate": ("fim_template", _template),
    "timeoutMs": ("timeout_ms", _timeout),
}


def parse_engine(value: Any) -> EngineSettings:
    """EngineSettings from the editor's object (missing keys take their defaults).
    ValueError naming the first bad key."""
    if not isinstance(value, dict):
        raise ValueError(
            'must be an object such as {"kind": "llamacpp", "url": "http://host:8080"}'
        )
    fields: dict[str, Any] = {}
    for key, item in value.items():
        if key not in _KEYS:
            raise ValueError(f"has an unknown key {key!r} (known: {', '.join(_KEYS)})")
        field, check = _KEYS[key]
        fields[field] = check(item)
    return EngineSettings(**fields)
