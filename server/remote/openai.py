"""OpenAI-compatible `/v1/completions` (vLLM, TGI, LM Studio, llama.cpp, hosted APIs).

The FIM template goes inside `prompt` (vLLM and llama.cpp reject a `suffix` field), with the
template's markers and end tokens as `stop`.
"""

from __future__ import annotations

import httpx

from server.contract import GenerationSettings
from server.remote.context import RepoContext
from server.remote.engine import Piece, Request
from server.remote.fim_templates import parse_template
from server.remote.http import EngineFault
from server.remote.settings import EngineSettings

MAX_STOP = 4  # OpenAI's own limit; the first stops are the end token and the FIM markers


class OpenAIWire:
    def __init__(self, settings: EngineSettings) -> None:
        self._template = parse_template(settings.fim_template or "starcoder")
        self._model = settings.model

    async def request(
        self,
        client: httpx.AsyncClient,
        prefix: str,
        suffix: str,
        settings: GenerationSettings,
        context: RepoContext,
    ) -> Request:
        body = {
            "prompt": self._template.render(prefix, suffix, context),
            "max_tokens": settings.max_new_tokens,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "stream": True,
        }
        if self._model:
            body["model"] = self._model
        if self._template.stop:
            body["stop"] = list(self._template.stop[:MAX_STOP])
        return Request("/v1/completions", body, "sse")

    def piece(self, event: dict) -> Piece:
        choices = event.get("choices")
        usage = event.get("usage") or {}
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
        if not choices:  # a usage-only event
            return Piece(prompt_tokens=usage.get("prompt_tokens"), reused_tokens=cached)
        choice = choices[0]
        text = choice.get("text", "") if isinstance(choice, dict) else None
        if not isinstance(text, str):
            raise EngineFault("malformed answer: choices[0].text is not text")
        return Piece(
            text=text,
            done=choice.get("finish_reason") is not None,
            prompt_tokens=usage.get("prompt_tokens"),
            reused_tokens=cached,
        )

    def retry_after(self, fault: EngineFault) -> bool:
        return False
