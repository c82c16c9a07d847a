"""Ollama's `/api/generate` in raw mode: the templated FIM prompt as is, newline-delimited JSON."""

from __future__ import annotations

import httpx

from server.contract import GenerationSettings
from server.remote.context import RepoContext
from server.remote.engine import Piece, Request
from server.remote.fim_templates import parse_template
from server.remote.http import EngineFault
from server.remote.settings import EngineSettings


class OllamaWire:
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
        options = {
            "num_predict": settings.max_new_tokens,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
        }
        if self._template.stop:
            options["stop"] = list(self._template.stop)
        body = {
            "model": self._model,
            "prompt": self._template.render(prefix, suffix, context),
            "raw": True,
            "stream": True,
            "options": options,
        }
        return Request("/api/generate", body, "ndjson")

    def piece(self, event: dict) -> Piece:
        text = event.get("response", "")
        if not isinstance(text, str):
            raise EngineFault("malformed answer: response is not text")
        return Piece(
            text=text,
            done=bool(event.get("done")),
            prompt_tokens=event.get("prompt_eval_count"),
        )

    def retry_after(self, fault: EngineFault) -> bool:
        return False
